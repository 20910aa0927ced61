"""ember.nn: modules, parameters, layers, losses, init and the functional interface (torch.nn)."""

from . import functional, init, parallel, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Parameter

__all__ = ["functional", "init", "utils", "Parameter", "parallel", "DataParallel"] + list(_modules_all)

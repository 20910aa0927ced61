"""ember.nn: modules, parameters, layers, losses, init and the functional interface (torch.nn)."""

from . import functional, init, parallel, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__all__ = ["functional", "init", "utils", "Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "parallel",
           "DataParallel"] + list(_modules_all)

from .. import _namespace  # noqa: E402

# dir() and tab completion list the public API only; ops helpers imported by the modules stay reachable by name
_namespace.tidy(__name__)
_namespace.tidy(f"{__name__}.functional", hide=("node_class", "record", "where_np", "autocast_op"))
for _m in ("init", "utils", "utils.rnn", "utils.parametrize", "utils.parametrizations"):
    _namespace.tidy(f"{__name__}.{_m}", hide=("node_class", "record"))
del _m

from .. import _docs  # noqa: E402

_docs.attach(functional, "nn_functional")  # help() text of the functions whose code has none
_docs.attach(init, "nn_init")

"""ember.optim: optimizers and learning-rate schedulers (torch.optim)."""

from . import lr_scheduler
from ._algos import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from .asgd import ASGD
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rprop import Rprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS", "Rprop", "ASGD",
           "lr_scheduler", "swa_utils"]

from .. import _namespace  # noqa: E402
from . import swa_utils  # noqa: E402  (torch.optim.swa_utils)

for _m in ("", ".lr_scheduler", ".swa_utils"):  # dir() and tab completion list the public API only
    _namespace.tidy(__name__ + _m)
del _m

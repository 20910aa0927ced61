"""ember.optim: optimizers and learning-rate schedulers (torch.optim)."""

from . import lr_scheduler
from ._algos import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from .lbfgs import LBFGS
from .optimizer import Optimizer

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS",
           "lr_scheduler", "swa_utils"]

from . import swa_utils  # noqa: E402  (torch.optim.swa_utils)

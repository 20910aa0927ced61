"""ember.nn: modules, parameters, losses and the functional interface (torch.nn)."""

from . import functional
from .modules import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Module, MSELoss, NLLLoss
from .parameter import Parameter

__all__ = ["functional", "Module", "Parameter", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss"]

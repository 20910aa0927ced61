"""torch.optim.adadelta, where torch keeps Adadelta (ember implements it in optim/_algos.py)."""

from ._algos import Adadelta

__all__ = ["Adadelta"]

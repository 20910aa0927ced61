"""torch.optim.sgd, where torch keeps SGD (ember implements it in optim/_algos.py)."""

from ._algos import SGD

__all__ = ["SGD"]

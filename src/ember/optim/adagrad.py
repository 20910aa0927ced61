"""torch.optim.adagrad, where torch keeps Adagrad (ember implements it in optim/_algos.py)."""

from ._algos import Adagrad

__all__ = ["Adagrad"]

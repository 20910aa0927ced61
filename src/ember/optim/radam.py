"""torch.optim.radam, where torch keeps RAdam (ember implements it in optim/_algos.py)."""

from ._algos import RAdam

__all__ = ["RAdam"]

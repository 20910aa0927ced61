"""torch.optim.nadam, where torch keeps NAdam (ember implements it in optim/_algos.py)."""

from ._algos import NAdam

__all__ = ["NAdam"]

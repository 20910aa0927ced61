"""torch.optim.adamw, where torch keeps AdamW (ember implements it in optim/_algos.py)."""

from ._algos import AdamW

__all__ = ["AdamW"]

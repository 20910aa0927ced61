"""torch.optim.adamax, where torch keeps Adamax (ember implements it in optim/_algos.py)."""

from ._algos import Adamax

__all__ = ["Adamax"]

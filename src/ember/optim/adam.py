"""torch.optim.adam, where torch keeps Adam (ember implements it in optim/_algos.py)."""

from ._algos import Adam

__all__ = ["Adam"]

"""torch.optim.rmsprop, where torch keeps RMSprop (ember implements it in optim/_algos.py)."""

from ._algos import RMSprop

__all__ = ["RMSprop"]

"""torch.nn.modules.batchnorm, where torch keeps the batch norms (ember implements them in normalization.py)."""

from .normalization import BatchNorm1d, BatchNorm2d, _NormBase

__all__ = ["BatchNorm1d", "BatchNorm2d", "_NormBase"]

"""``ember.nn.parallel``: torch's data-parallel wrappers, as a CPU-only torch answers them."""

from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]

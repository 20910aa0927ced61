"""``ember.nn.parallel``: torch's data-parallel wrappers: ``DataParallel`` as a CPU-only torch answers
it, and ``DistributedDataParallel`` across processes on ember.distributed."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]

"""Datasets, samplers, DataLoader and collation (torch.utils.data)."""

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "Dataset", "IterableDataset", "TensorDataset",
           "Subset", "ConcatDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "WeightedRandomSampler", "ChainDataset", "StackDataset",
           "get_worker_info", "DistributedSampler"]


def get_worker_info() -> None:
    """Information about the DataLoader worker process running this code; ``None`` in the main process,
    where ember's DataLoader loads every batch (its ``num_workers`` runs no separate processes)."""
    return None


from ... import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""``DistributedSampler``: each rank's share of a dataset's indices, split exactly as torch splits them.

Every rank draws the same permutation (a generator seeded with ``seed + epoch``), pads it by
repeating its start until it divides evenly (or with ``drop_last`` cuts the tail), then takes every
``num_replicas``-th index from position ``rank``. Call ``set_epoch`` before each epoch for a new
order; without it every epoch repeats the first one's.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

from .sampler import Sampler


class DistributedSampler(Sampler):
    """Restricts loading to this rank's share of ``dataset``: pass it as a DataLoader's ``sampler``.

    ``num_replicas`` and ``rank`` default to the default process group's world size and rank.
    ``shuffle``: a new permutation per epoch (seeded with ``seed + epoch``). ``drop_last``: drop the
    tail so every rank gets the same number of samples, instead of padding with repeated indices.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # the largest even split: every rank gets the same count and no index repeats
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            from ... import random as _random
            from ...ops.creation import randperm

            g = _random.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices: list[int] = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            missing = self.total_size - len(indices)
            if missing <= len(indices):
                indices += indices[:missing]
            else:
                indices += (indices * math.ceil(missing / len(indices)))[:missing]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        shard = indices[self.rank:self.total_size:self.num_replicas]
        assert len(shard) == self.num_samples
        return iter(shard)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which seeds the shuffle: call it before each epoch so each gets a new order."""
        self.epoch = epoch

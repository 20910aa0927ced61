"""Samplers: which indices a DataLoader visits, in which order, in which batches."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np


class Sampler:
    """The base of samplers: an iterable of dataset indices (or batches of them) for ``DataLoader``."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1 in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _seed_draw(generator: Any) -> int:
    """torch's ``torch.empty((), dtype=torch.int64).random_(generator=g).item()``."""
    from ... import random as _random

    g = _random.default_generator if generator is None else generator
    return int(np.asarray(g.random_((), np.dtype(np.int64))).item())


class RandomSampler(Sampler):
    """A random permutation each epoch (or draws with replacement), with torch's generator semantics."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: Any = None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        from ... import random as _random

        n = len(self.data_source)
        if self.generator is None:
            generator = _random.Generator()
            generator.manual_seed(_seed_draw(None))
        else:
            generator = self.generator
        i64 = np.dtype(np.int64)
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from np.asarray(generator.randint(0, n, (32,), i64)).tolist()
            yield from np.asarray(generator.randint(0, n, (self.num_samples % 32,), i64)).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from np.asarray(generator.randperm(n, i64)).tolist()
            yield from np.asarray(generator.randperm(n, i64)).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, drawn anew on each pass (from ``generator`` when given)."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ... import random as _random

        g = _random.default_generator if self.generator is None else self.generator
        for i in np.asarray(g.randperm(len(self.indices), np.dtype(np.int64))).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with replacement by
    default), drawn as torch draws them: the same seed gives the same indices.

    >>> _ = ember.manual_seed(0)
    >>> list(ember.utils.data.WeightedRandomSampler([0.1, 0.9], 5))
    [1, 1, 1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        from ..._dtype import float64
        from ...ops.creation import as_tensor

        w = as_tensor(weights, dtype=float64)
        if w.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ...ops.random_ops import multinomial

        yield from multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; ``drop_last`` drops a final short batch.

    >>> list(ember.utils.data.BatchSampler(range(5), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size

"""DataLoader and default collation (single process: workers run in the main process)."""

from __future__ import annotations

import collections.abc
from typing import Any, Callable, Iterator

import numpy as np

from ..._tensor import Tensor, _new
from .dataset import IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _seed_draw


def default_convert(data: Any) -> Any:
    """Turn the NumPy arrays in ``data`` (and in its mappings, namedtuples and sequences) into tensors, without batching."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USO":
        return _new(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        return converted if isinstance(data, dict) else type(data)(converted)  # type: ignore[call-arg]
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]
    return data


def _int_rows(idx: Any, n: int) -> np.ndarray | None:
    """A batch's indices as an int64 array when they are plain in-range integers, else None."""
    if not isinstance(idx, list) or not idx or not all(type(i) is int for i in idx):
        return None
    rows = np.asarray(idx, dtype=np.int64)
    return rows if rows.min() >= -n and rows.max() < n else None


def default_collate(batch: collections.abc.Sequence) -> Any:
    """Stack tensors / arrays / numbers of a batch; recurse through dicts, named tuples and sequences."""
    from ...ops.shape import stack

    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                            f"found {elem.dtype}")
        return stack([_new(np.asarray(b)) for b in batch], 0)
    if isinstance(elem, np.generic):
        return _new(np.asarray(batch))
    if isinstance(elem, bool):
        return _new(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return _new(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _new(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            return type(elem)([default_collate(samples) for samples in transposed])  # type: ignore[call-arg]
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(elem)}")


class DataLoader:
    """Batches of a dataset: ``batch_size``, ``shuffle`` (with ``generator``), ``drop_last``, ``collate_fn``.

    >>> ds = ember.utils.data.TensorDataset(ember.arange(10.).reshape(5, 2), ember.arange(5))
    >>> [y for _, y in ember.utils.data.DataLoader(ds, batch_size=2)]
    [tensor([0, 1]), tensor([2, 3]), tensor([4])]
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0, collate_fn: Callable | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context: Any = None, generator: Any = None,
                 *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        is_iterable = isinstance(dataset, IterableDataset)
        self._is_iterable = is_iterable
        if is_iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None and not is_iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if batch_size is not None or batch_sampler is not None else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._is_iterable and self.batch_size is not None)

    def __iter__(self) -> "_SingleProcessDataLoaderIter":
        return _SingleProcessDataLoaderIter(self)

    def _batches(self) -> Iterator:
        """One epoch's batches, as a generator (the iterator object below counts and sizes them)."""
        if self._is_iterable:
            _seed_draw(self.generator)
            return self._iter_iterable()
        index_iter = iter(self.batch_sampler if self.batch_sampler is not None else self.sampler)
        _seed_draw(self.generator)  # torch draws the workers' base seed when an epoch's iterator is made
        return self._iter_map(index_iter)

    def _iter_map(self, index_iter: Iterator) -> Iterator:
        ds = self.dataset
        # a TensorDataset batched by default_collate is its tensors' rows at the batch's indices:
        # one gather per tensor instead of a row per sample and a stack (the same tensors)
        gather = (type(ds) is TensorDataset and self.collate_fn is default_collate and self.batch_sampler is not None
                  and not any(t.requires_grad for t in ds.tensors))
        for idx in index_iter:
            if gather:
                rows = _int_rows(idx, len(ds))
                if rows is not None:
                    yield [_new(t._data[rows]) for t in ds.tensors]
                    continue
            if self.batch_sampler is not None:
                if hasattr(ds, "__getitems__"):
                    data = ds.__getitems__(idx)
                else:
                    data = [ds[i] for i in idx]
                yield self.collate_fn(data)
            else:
                yield self.collate_fn(ds[idx])

    def _iter_iterable(self) -> Iterator:
        if self.batch_size is None:
            for x in self.dataset:
                yield self.collate_fn(x)
            return
        batch = []
        for x in self.dataset:
            batch.append(x)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                from math import ceil

                n = n // self.batch_size if self.drop_last else ceil(n / self.batch_size)
            return n
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


class _SingleProcessDataLoaderIter:
    """What ``iter(DataLoader)`` returns, as torch names it: ``next()`` gives the next batch (StopIteration at
    the epoch's end), ``len()`` the number of batches (TypeError for an IterableDataset, whose batches are not
    counted in advance), ``_num_yielded`` the batches given so far."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = None if loader._is_iterable else (
            loader.batch_sampler if loader._auto_collation else loader.sampler)
        self._num_workers = loader.num_workers
        self._collate_fn = loader.collate_fn
        self._num_yielded = 0
        self._next = loader._batches().__next__  # bound once: the loop pays one extra call per batch

    def __iter__(self) -> "_SingleProcessDataLoaderIter":
        return self

    def __next__(self) -> Any:
        data = self._next()
        self._num_yielded += 1
        return data

    def __len__(self) -> int:
        if self._index_sampler is None:
            raise TypeError("object of type '_InfiniteConstantSampler' has no len()")
        return len(self._index_sampler)

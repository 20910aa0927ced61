"""``PackedSequence``, the batch of variable-length sequences that recurrent layers take: it lives
below ``nn.modules`` (the RNN layers test for it) and ``nn.utils.rnn``, which packs and unpacks it,
re-exports it under torch's name."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .._tensor import Tensor, _new


def _dtype(name: str) -> Any:
    from .. import _dtype as dtypes

    return getattr(dtypes, name)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=p.dtype)
    return _new(inv)


_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])  # type: ignore[name-match]  # torch's name


class PackedSequence(_PackedSequenceBase):
    """The valid steps of a batch of variable-length sequences, time step by time step.

    ``data`` holds the rows, ``batch_sizes[t]`` how many sequences are still running at step t,
    ``sorted_indices`` the batch order used (longest first; None when the batch came sorted) and
    ``unsorted_indices`` its inverse. Build one with ``pack_padded_sequence`` or ``pack_sequence``.
    """

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)) as torch's own callers write it
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(...)``; the index tensors follow only a change of device. Returns ``self`` when
        nothing changes, as torch does."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Move to CUDA (fails where ember has no CUDA, as ``Tensor.cuda`` does)."""
        return self.to(*args, device="cuda", **kwargs)

    def cpu(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Move to the CPU (``self`` when already there)."""
        return self.to(*args, device="cpu", **kwargs)

    def double(self) -> PackedSequence:
        """``data`` as float64."""
        return self.to(dtype=_dtype("float64"))

    def float(self) -> PackedSequence:
        """``data`` as float32."""
        return self.to(dtype=_dtype("float32"))

    def half(self) -> PackedSequence:
        """``data`` as float16."""
        return self.to(dtype=_dtype("float16"))

    def long(self) -> PackedSequence:
        """``data`` as int64."""
        return self.to(dtype=_dtype("int64"))

    def int(self) -> PackedSequence:
        """``data`` as int32."""
        return self.to(dtype=_dtype("int32"))

    def short(self) -> PackedSequence:
        """``data`` as int16."""
        return self.to(dtype=_dtype("int16"))

    def char(self) -> PackedSequence:
        """``data`` as int8."""
        return self.to(dtype=_dtype("int8"))

    def byte(self) -> PackedSequence:
        """``data`` as uint8."""
        return self.to(dtype=_dtype("uint8"))

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` lives on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether ``data`` is in pinned memory (never, on ember's CPU)."""
        pinned = getattr(self.data, "is_pinned", None)
        return bool(pinned()) if pinned is not None else False


PackedSequence.__module__ = "ember.nn.utils.rnn"  # where torch users find it (reprs, pickles)

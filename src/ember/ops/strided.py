"""Views at explicit strides over a tensor's storage: ``storage_offset``, ``as_strided`` and its
copy, scatter and in-place spellings.

ember's storage is the NumPy buffer at the root of an array's ``base`` chain: a view made by any
op (slicing, transpose, expand, reshape) points into it, so offsets and strides read as torch's do.
``as_strided`` can reach any element of that buffer (the bounds are checked, as torch checks them)
and may make elements overlap; its derivative scatter-adds the gradient into a storage-shaped
buffer and reads the input's elements back out of it, so overlapping outputs sum and an
overlapping input shares its gradient (torch's ``as_strided_backward``).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _new
from ._core import node_class
from .views import _view_of


def _root(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (``as_strided`` leaves a non-array holder in the chain)."""
    while True:
        b = a.base
        if isinstance(b, np.ndarray):
            a = b
        elif b is not None and isinstance(getattr(b, "base", None), np.ndarray):
            a = b.base
        else:
            return a


def _geometry(a: np.ndarray) -> tuple[np.ndarray, int]:
    """``a``'s storage (its root) and its offset in elements of ``a``'s dtype."""
    root = _root(a)
    start = root.__array_interface__["data"][0]
    return root, (a.__array_interface__["data"][0] - start) // a.itemsize


def storage_offset(input: Tensor) -> int:
    """Where the tensor's first element sits in its storage, counted in elements."""
    return _geometry(input._data)[1]


def _positions(size: Sequence[int], stride: Sequence[int], offset: int) -> np.ndarray:
    """The storage position of every element of the (size, stride, offset) view, in row-major order."""
    pos = np.full(tuple(size), offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        pos = pos + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return pos.reshape(-1)


def _as_strided_derivative(n: Any, g: Tensor) -> tuple:
    out_pos, in_pos, share, length = n.attrs
    store = g.new_zeros(length).index_add(0, _new(out_pos), g.reshape(-1))
    grad = store[_new(in_pos)]
    if share is not None:  # (an input element read more than once shares its storage's gradient)
        grad = grad / _new(share)
    return (grad.reshape(n._in_meta[0][0]),)


AsStridedBackward0 = node_class(
    "as_strided", _as_strided_derivative,
    "grad scatter-added into storage positions, read back at self's positions (shared where self overlaps)")


def _check(size: Sequence, stride: Sequence) -> tuple[tuple, tuple]:
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: {list(size)}")
    return size, stride


def _strided_array(input: Tensor, size: tuple, stride: tuple, offset: int) -> np.ndarray:
    a = input._data
    root, _ = _geometry(a)
    item = a.itemsize
    numel = math.prod(size)
    need = 0 if numel == 0 else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need * item > root.nbytes or offset < 0:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {item} requiring a storage size of {need * item} are out of bounds for storage of "
                           f"size {root.nbytes}")
    flat = root.reshape(-1).view(np.uint8) if root.flags.c_contiguous else None
    if flat is None:
        raise NotImplementedError("ember does not implement torch.as_strided over a storage NumPy does not hold in "
                                  "one piece")
    return np.lib.stride_tricks.as_strided(flat[offset * item:].view(a.dtype), shape=size,
                                           strides=tuple(s * item for s in stride),
                                           writeable=bool(a.flags.writeable))


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
    """A view of ``input``'s storage with the given sizes and strides, starting ``storage_offset`` elements in
    (``input``'s own offset by default)."""
    size, stride = _check(size, stride)
    a = input._data
    _, own = _geometry(a)
    offset = own if storage_offset is None else int(storage_offset)
    arr = _strided_array(input, size, stride, offset)
    attrs = None
    if input._rg:
        in_pos = _positions(a.shape, [s // a.itemsize for s in a.strides], own)
        out_pos = _positions(size, stride, offset)
        length = int(max(in_pos.max(initial=-1), out_pos.max(initial=-1))) + 1
        counts = np.bincount(in_pos, minlength=length)
        share = counts[in_pos].astype(a.dtype) if (counts > 1).any() else None
        attrs = (out_pos, in_pos, share, length)
    return _view_of(input, arr, AsStridedBackward0, attrs)


def as_strided_copy(input: Tensor, size: Sequence[int], stride: Sequence[int],
                    storage_offset: int | None = None) -> Tensor:
    """``as_strided`` followed by a copy: the same values in memory of their own."""
    return as_strided(input, size, stride, storage_offset).clone()


def as_strided_scatter(input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: int | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` written into the elements ``input.as_strided(size, stride, offset)``
    would view."""
    out = input.clone(memory_format=None)
    view = as_strided(out, size, stride, storage_offset)
    if tuple(src.shape) != tuple(view.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(view.shape)}")
    view.copy_(src)
    return out


def as_strided_(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
    """Give ``input`` itself new sizes and strides over its storage."""
    if input._rg:
        raise NotImplementedError("ember does not implement torch.Tensor.as_strided_ on a tensor that requires grad")
    size, stride = _check(size, stride)
    offset = storage_offset if storage_offset is not None else _geometry(input._data)[1]
    input._data = _strided_array(input, size, stride, int(offset))
    return input

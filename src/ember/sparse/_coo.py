"""Building sparse COO tensors and converting them: sparse_coo_tensor, to_sparse, to_dense, coalesce.

Every sparse result's values come from its inputs' values through an op recorded here or through
ordinary dense ops (``values * 2``), so gradients flow through the values (see ``_sparse_tensor``).
Two value-space ops carry the derivatives: *scatter* (each value added into row ``idx[k]`` of a
zero array: to_dense, coalesce, sums over sparse dims) and *gather* (the rows at ``idx``:
to_sparse). Each is the other's derivative; the node classes differ only in the name torch prints.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._device import check as _check_device
from .._sparse_tensor import SparseCooTensor, make
from .._tensor import Tensor, _new
from ..ops._core import add_rows, node_class, record
from ..ops.creation import tensor as _tensor


# ----------------------------------------------------------------------------- value-space ops
def scatter_rows(v: Any, idx: np.ndarray, n: int, shape: tuple, cls: Any = None) -> Any:
    """``zeros((n, *v.shape[1:]))`` with ``v[k]`` added into row ``idx[k]``, reshaped to ``shape``.
    On arrays (a plain backward) or Tensors (recorded as ``cls``, ToDenseBackward0 by default)."""
    if isinstance(v, np.ndarray):
        return add_rows(n, idx, v).reshape(shape)
    return record(cls or ToDenseBackward0, add_rows(n, idx, v._data).reshape(shape), (v,),
                  attrs=(idx, n, v._data.shape[1:]))


def _scatter_grad(node: Any, g: Any) -> Any:
    idx, n, dense = node.attrs
    return g.reshape((n,) + dense)[idx]


def _gather_grad(node: Any, g: Any) -> Any:
    idx, n, shape = node.attrs
    return scatter_rows(g, idx, n, shape)


def _alias_grad(node: Any, g: Any) -> Any:
    return g


ToDenseBackward0 = node_class("to_dense", _scatter_grad, "grad at each value's place", on_arrays=True)
CoalesceBackward0 = node_class("coalesce", _scatter_grad, "grad at each value's place", on_arrays=True)
SumBackward1 = node_class("sum", _scatter_grad, "grad at each value's place", suffix=1, on_arrays=True)
SparseSumBackward0 = node_class("_sparse_sum", _scatter_grad, "grad at each value's place", on_arrays=True)
ToSparseBackward0 = node_class("to_sparse", _gather_grad, "grad scattered back to dense", on_arrays=True)
ToSparseBackward1 = node_class("to_sparse", _gather_grad, "grad scattered back to dense", suffix=1, on_arrays=True)
# ops that pass the values through unchanged (new indices, or none)
ValuesBackward0 = node_class("values", _alias_grad, "grad", on_arrays=True)
SparseCooTensorWithDimsAndTensorsBackward0 = node_class(
    "sparse_coo_tensor_with_dims_and_tensors", _alias_grad, "grad (the values)", on_arrays=True)
TBackward0 = node_class("t", _alias_grad, "grad (the values; indices swapped)", on_arrays=True)
TransposeBackward0 = node_class("transpose", _alias_grad, "grad (the values; indices swapped)", on_arrays=True)


def alias(v: Tensor, cls: Any) -> Tensor:
    """``v``'s array as a new Tensor, recorded as ``cls`` (identity derivative) when ``v`` requires grad."""
    return record(cls, v._data, (v,))


# ----------------------------------------------------------------------------- indices
def linear_index(ind: np.ndarray, sizes: tuple) -> np.ndarray:
    """Row-major position of each column of ``ind`` in a tensor of shape ``sizes``."""
    if not sizes:
        return np.zeros(ind.shape[1], np.int64)
    return np.ravel_multi_index(tuple(ind), sizes).astype(np.int64, copy=False)


def unravel(lin: np.ndarray, sizes: tuple) -> np.ndarray:
    if not sizes:
        return np.zeros((0, lin.size), np.int64)
    return np.array(np.unravel_index(lin, sizes), dtype=np.int64).reshape(len(sizes), lin.size)


# ----------------------------------------------------------------------------- construction
class _Inferred:
    """The default ``size``: the smallest that holds the indices (torch refuses an explicit None)."""

    def __repr__(self) -> str:
        return "<inferred from indices>"


_INFERRED: Any = _Inferred()


def sparse_coo_tensor(indices: Any, values: Any, size: Any = _INFERRED, *, dtype: Any = None, device: Any = None,
                      pin_memory: bool = False, requires_grad: bool = False, check_invariants: Any = None,
                      is_coalesced: bool | None = None) -> Tensor:
    """A sparse COO tensor with nonzero ``values`` at ``indices`` (shape ``(sparse_dim, nnz)``).

    ``size`` defaults to the smallest that holds the indices. Repeated indices are allowed (their
    values add up); ``is_coalesced=True`` promises there are none. Unlike torch (unless
    ``check_invariants``), indices outside ``size`` are always refused."""
    if size is None:
        got = ", ".join(type(a).__name__ for a in (indices, values, size))
        raise TypeError(f"sparse_coo_tensor() received an invalid combination of arguments - got ({got}), but expected "
                        "one of:\n * (object indices, object values, *, dtype, device, pin_memory, requires_grad, "
                        "check_invariants, is_coalesced)\n * (object indices, object values, tuple of ints size, *, ...)")
    _check_device(device)
    ind = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if ind.dtype.kind not in "iuf" or ind.ndim != 2:
        raise RuntimeError(f"indices must be an int64 tensor of shape (sparse_dim, nnz), but got: {list(ind.shape)}"
                           if ind.ndim != 2 else f"indices must be an int64 tensor, but got {ind.dtype}")
    ind = ind.astype(np.int64)  # (a copy: the tensor owns its indices)
    vals = values if isinstance(values, Tensor) else _tensor(values)
    if isinstance(vals, SparseCooTensor):
        raise TypeError("values must be a dense tensor")
    if dtype is not None:
        vals = vals.to(dtype)
    if vals.dim() == 0:
        raise RuntimeError("values must be a tensor of shape (nnz, *dense_shape), but got a 0-d tensor")
    if ind.shape[1] != vals.shape[0]:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {ind.shape[1]}, "
                           f"nnz from values: {vals.shape[0]}")
    sd, dense = ind.shape[0], tuple(vals.shape[1:])
    if size is _INFERRED:
        shape = tuple(int(m) + 1 for m in ind.max(axis=1)) if ind.shape[1] else (0,) * sd
        shape += dense
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sd + len(dense):
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(shape)}, "
                               f"sparse_dim = {sd}, dense_dim = {len(dense)}")
        if shape[sd:] != dense:
            raise RuntimeError(f"values has incorrect size, expected {list(shape[:sd]) + [vals.shape[0]]}, "
                               f"got {list(vals.shape)}")
    check_indices(ind, shape)
    if requires_grad:
        if not vals.is_floating_point() and not vals.is_complex():
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        v = _new(vals._data).requires_grad_()
    elif vals.requires_grad:
        v = alias(vals, SparseCooTensorWithDimsAndTensorsBackward0)
    else:
        v = _new(vals._data)  # (its own Tensor: requires_grad_() on the result must not touch ``values``)
    return make(ind, v, shape, bool(is_coalesced) or ind.shape[1] < 2)


def check_indices(ind: np.ndarray, shape: tuple) -> None:
    """torch's invariant checks: every index inside ``shape``."""
    if not ind.size:
        return
    lo, hi = ind.min(axis=1), ind.max(axis=1)
    for d in range(ind.shape[0]):
        if lo[d] < 0:
            raise RuntimeError(f"found negative index {lo[d]} for dim {d}")
        if hi[d] >= shape[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {shape[d]} but found "
                               f"index {hi[d]}")


# ----------------------------------------------------------------------------- conversions
def to_sparse(self: Tensor, sparse_dim: int | None = None, *, layout: Any = None, blocksize: Any = None,
              dense_dim: Any = None) -> Tensor:
    """This tensor as sparse COO: the places whose value (or dense slice) is nonzero, and their values."""
    from .._layout import sparse_coo

    if layout is not None and layout is not sparse_coo:
        raise NotImplementedError(f"ember does not implement Tensor.to_sparse(layout={layout!r})")
    if isinstance(self, SparseCooTensor):
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise NotImplementedError("ember does not implement changing the sparse_dim of a sparse tensor")
        return self
    x = self._data
    sd = x.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 <= sd <= x.ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{x.ndim}] range, but {sd} is given")
    sizes, dense = x.shape[:sd], x.shape[sd:]
    p = math.prod(sizes)
    nz = np.flatnonzero((x.reshape(p, -1) != 0).any(axis=1)) if x.size else np.zeros(0, np.int64)
    cls = ToSparseBackward1 if sparse_dim is None else ToSparseBackward0
    v = record(cls, x.reshape((p,) + dense)[nz], (self,), attrs=(nz, p, x.shape))
    return make(unravel(nz, sizes), v, x.shape, True)


def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """A dense copy: each value added at its place (repeated places add up)."""
    if not isinstance(self, SparseCooTensor):
        return self if dtype is None else self.to(dtype)
    sd = self.sparse_dim()
    v = self._v if dtype is None else self._v.to(dtype)
    sizes = self._shape[:sd]
    return scatter_rows(v, linear_index(self._ind, sizes), math.prod(sizes), self._shape, ToDenseBackward0)


def coalesce(self: SparseCooTensor) -> SparseCooTensor:
    """The same tensor with sorted, distinct indices (repeated places' values summed)."""
    if self._coal:
        return self
    sizes = self._shape[:self.sparse_dim()]
    uniq, inv = np.unique(linear_index(self._ind, sizes), return_inverse=True)
    v = scatter_rows(self._v, inv.reshape(-1), uniq.size, (uniq.size,) + tuple(self._v.shape[1:]), CoalesceBackward0)
    return make(unravel(uniq, sizes), v, self._shape, True)


def values(self: SparseCooTensor) -> Tensor:
    """The values of a coalesced tensor, shape ``(nnz, *dense_shape)``; differentiable."""
    if not self._coal:
        raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
    return alias(self._v, ValuesBackward0)


def transpose(self: SparseCooTensor, dim0: int, dim1: int) -> SparseCooTensor:
    """Swap two sparse dimensions (the indices' rows); the result is not coalesced."""
    return _swapped(self, dim0, dim1, TransposeBackward0)


def t(self: SparseCooTensor) -> SparseCooTensor:
    """The transpose of a sparse matrix (or the tensor itself for fewer than 2 dims)."""
    if self.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got "
                           f"{self.sparse_dim()} sparse and {self.dense_dim()} dense dimensions")
    return self if self.dim() < 2 else _swapped(self, 0, 1, TBackward0)


def _swapped(self: SparseCooTensor, dim0: int, dim1: int, cls: Any) -> SparseCooTensor:
    n, sd = self.dim(), self.sparse_dim()
    d0, d1 = self._wrap_dim(dim0, n), self._wrap_dim(dim1, n)
    if d0 >= sd or d1 >= sd:
        raise NotImplementedError("ember does not implement transpose of a sparse tensor's dense dimensions")
    order = list(range(n))
    order[d0], order[d1] = d1, d0
    return make(self._ind[order[:sd]], alias(self._v, cls), tuple(self._shape[k] for k in order),
                self._coal and d0 == d1)


def to(self: SparseCooTensor, *args: Any, **kwargs: Any) -> SparseCooTensor:
    """Convert the values' dtype (the device must be the CPU); ``self`` when nothing changes."""
    v = self._v.to(*args, **kwargs)
    return self if v is self._v else make(self._ind, v, self._shape, self._coal)


def clone(self: SparseCooTensor, *, memory_format: Any = None) -> SparseCooTensor:
    return make(self._ind.copy(), self._v.clone(), self._shape, self._coal)


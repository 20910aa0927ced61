"""Arithmetic on sparse COO tensors: add/sub, mul/div, neg, sum and the sparse x dense products.

The dense ops (``ember.add``, ``ember.mm`` ...) hand a call with a sparse operand to the function
of the same name here (through ``_sparse_tensor.IMPL``), so ``dense + sparse``, ``torch.mm(S, D)``
and ``S @ D`` all arrive here. Results follow torch: dense + sparse is dense, sparse + sparse and
sparse * x are sparse, sparse @ dense is dense.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype
from .._sparse_tensor import IMPL, SparseCooTensor, make
from .._tensor import Tensor, _new
from ..ops._core import _c, add_rows, is_scalar, node_class, record, result_dtype, wrap_dims
from ..ops.pointwise import add as _dense_add
from ..ops.pointwise import sub as _dense_sub
from ._coo import SparseSumBackward0, SumBackward1, coalesce, linear_index, scatter_rows, to_dense, unravel


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise NotImplementedError(f"ember does not implement {name}(out=...) for sparse tensors")


def _sparse_sizes(s: SparseCooTensor) -> tuple:
    return s._shape[:s.sparse_dim()]


# ----------------------------------------------------------------------------- add / sub
def _merge_grad(n: Any, g: Any) -> tuple:
    ra, rb, alpha = n.attrs
    gb = None
    if n.needs[1]:
        gb = g[rb] if alpha == 1 else (-g[rb] if alpha == -1 else g[rb] * alpha)
    return (g[ra] if n.needs[0] else None), gb


AddBackward0 = node_class("add", _merge_grad, "grad at each operand's entries (times alpha)", on_arrays=True)
SubBackward0 = node_class("sub", _merge_grad, "grad at each operand's entries (times -alpha)", on_arrays=True)


def _merge(la: np.ndarray, lb: np.ndarray) -> tuple:
    """torch's merge of two entry lists (by linear index): the output's places, and the output slot
    each entry of ``a`` and of ``b`` lands in. A place in both, at the merge front, gets one slot."""
    if (la.size < 2 or (np.diff(la) > 0).all()) and (lb.size < 2 or (np.diff(lb) > 0).all()):
        places = np.union1d(la, lb)
        return places, np.searchsorted(places, la), np.searchsorted(places, lb)
    # uncoalesced: torch walks both lists once, as they are (the same loop, in Python)
    out: list[int] = []
    ra, rb = np.empty(la.size, np.int64), np.empty(lb.size, np.int64)
    i = j = 0
    while i < la.size or j < lb.size:
        cmp = -1 if i >= la.size else 1 if j >= lb.size else int(la[i] < lb[j]) - int(la[i] > lb[j])
        if cmp >= 0:
            ra[i] = len(out)
            out.append(int(la[i]))
            i += 1
        if cmp <= 0:
            rb[j] = len(out) - 1 if cmp == 0 else len(out)
            if cmp < 0:
                out.append(int(lb[j]))
            j += 1
    return np.asarray(out, np.int64), ra, rb


def _add_sparse(a: SparseCooTensor, b: SparseCooTensor, alpha: Any, cls: Any) -> SparseCooTensor:
    if a._shape != b._shape:
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but {list(a._shape)} != "
                           f"{list(b._shape)}")
    if a.sparse_dim() != b.sparse_dim():
        raise NotImplementedError("ember does not implement adding sparse tensors of different sparse_dim")
    sizes = _sparse_sizes(a)
    places, ra, rb = _merge(linear_index(a._ind, sizes), linear_index(b._ind, sizes))
    rt = result_dtype(a._v, b._v).np
    va, vb = a._v._data, b._v._data
    out = np.zeros((places.size,) + va.shape[1:], rt)
    out[ra] += va
    out[rb] += vb if alpha == 1 else vb * alpha
    v = record(cls, out, (a._v, b._v), attrs=(ra, rb, alpha))
    return make(unravel(places, sizes), v, a._shape, a._coal and b._coal)


def _add(input: Any, other: Any, alpha: Any, name: str) -> Tensor:
    if isinstance(input, SparseCooTensor) and isinstance(other, SparseCooTensor):
        return _add_sparse(input, other, alpha if name == "add" else -alpha,
                           AddBackward0 if name == "add" else SubBackward0)
    if isinstance(input, SparseCooTensor) or not isinstance(input, Tensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if tuple(input.shape) != other._shape:
        raise RuntimeError(f"{name}: expected 'self' and 'other' to have same size, but self has size "
                           f"{list(input.shape)} while other has size {list(other._shape)} (FYI: dense-sparse "
                           "addition does not currently support broadcasting)")
    dense_op = _dense_add if name == "add" else _dense_sub
    return dense_op(input, to_dense(other), alpha=alpha)


def add(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """``input + alpha * other`` where one operand is sparse: dense + sparse is dense, sparse + sparse sparse."""
    _no_out(out, "add")
    return _add(input, other, alpha, "add")


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """``input - alpha * other`` where one operand is sparse (as ``add``)."""
    _no_out(out, "sub")
    return _add(input, other, alpha, "sub")


# ----------------------------------------------------------------------------- mul / div / neg
def _scalar_like(x: Any) -> bool:
    return is_scalar(x) or (isinstance(x, Tensor) and not isinstance(x, SparseCooTensor) and x.dim() == 0)


def mul(input: Any, other: Any, *, out: Any = None) -> SparseCooTensor:
    """The product with a number, a dense tensor of the same shape or another sparse tensor: sparse."""
    _no_out(out, "mul")
    if not isinstance(input, SparseCooTensor):
        input, other = other, input  # (the product commutes; torch's result is sparse either way)
    s: SparseCooTensor = input
    if _scalar_like(other):
        return make(s._ind, s._v * other, s._shape, s._coal)
    if not isinstance(other, Tensor):
        raise TypeError(f"mul(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
    if tuple(other.shape) != s._shape:
        raise RuntimeError(f"mul: expected 'self' and 'other' to have same size, but {list(s._shape)} != "
                           f"{list(other.shape)} (ember's sparse mul does not broadcast)")
    sizes = _sparse_sizes(s)
    lin = linear_index(s._ind, sizes)
    if not isinstance(other, SparseCooTensor):  # the dense factor read at each entry's place
        d = other.reshape((math.prod(sizes),) + tuple(s._v.shape[1:]))
        return make(s._ind, s._v * d[lin], s._shape, s._coal)
    # sparse * sparse, as torch: two coalesced tensors give the places both hold; otherwise the
    # uncoalesced one (self if both are) keeps its entries, each times the other's value at its place (or 0)
    pat, oc = (s, other) if not s._coal or other._coal else (other, s)
    oc = coalesce(oc)
    lin = linear_index(pat._ind, sizes)
    lo = linear_index(oc._ind, sizes)
    pos = np.minimum(np.searchsorted(lo, lin), max(lo.size - 1, 0))
    held = (lo[pos] == lin) if lo.size else np.zeros(lin.size, bool)
    if s._coal and other._coal:
        keep = np.flatnonzero(held)
        return make(s._ind[:, keep], s._v[keep] * oc._v[pos[keep]], s._shape, True)
    if not lo.size:
        return make(pat._ind, pat._v * 0, s._shape, pat._coal)
    from ..ops.indexing import where

    mask = _new(held.reshape((-1,) + (1,) * (pat._v.dim() - 1)))
    return make(pat._ind, pat._v * where(mask, oc._v[pos], 0), s._shape, pat._coal)


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> SparseCooTensor:
    """A sparse tensor divided by a number or a 0-d dense tensor."""
    _no_out(out, "div")
    if not isinstance(input, SparseCooTensor):
        raise NotImplementedError("ember does not implement div with a sparse divisor (torch neither: the "
                                  "result would be dense and mostly inf)")
    if not _scalar_like(other):
        shape = list(other.shape) if isinstance(other, Tensor) else type(other).__name__
        raise RuntimeError(f"Sparse division requires a scalar or zero-dim dense tensor divisor (got shape {shape} "
                           "for divisor)")
    return make(input._ind, input._v.div(other, rounding_mode=rounding_mode), input._shape, input._coal)


def neg(input: SparseCooTensor, *, out: Any = None) -> SparseCooTensor:
    """``-input``, entry by entry."""
    _no_out(out, "neg")
    return make(input._ind, -input._v, input._shape, input._coal)


# pointwise functions with f(0) = 0 keep a sparse tensor sparse; torch applies them to the coalesced values
_ZERO_PRESERVING = frozenset({"abs", "asin", "asinh", "atan", "atanh", "deg2rad", "erf", "erfinv", "expm1", "frac",
                              "log1p", "rad2deg", "relu", "sin", "sinh", "sqrt", "tan", "tanh"})


def unary(op: Any, name: str, input: SparseCooTensor, out: Any = None) -> SparseCooTensor:
    """The dense pointwise ``op`` (named ``name``) on a sparse tensor's coalesced values, when ``op(0) == 0``."""
    _no_out(out, name)
    if name not in _ZERO_PRESERVING:
        raise NotImplementedError(f"ember does not implement {name} for sparse tensors ({name}(0) is not 0, so the "
                                  "result would be dense); convert with .to_dense() first")
    c = coalesce(input)
    return make(c._ind, op(c._v), c._shape, True)


# ----------------------------------------------------------------------------- sums
def _reduce(s: SparseCooTensor, dim: Any, keepdim: bool, dtype: Any, cls: Any) -> Tensor:
    """Sum over ``dim``: dense dims within the values, sparse dims by merging the entries that then
    share a place. Sparse unless every sparse dim is summed away."""
    n, sd = s.dim(), s.sparse_dim()
    dims = wrap_dims(dim, n)
    v = s._v if dtype is None else s._v.to(dtype)
    if dtype is None and (v.dtype.category < 2):  # integers and bools sum in int64, as dense sums do
        v = v.to(_dtype.int64)
    vdims = tuple(d - sd + 1 for d in dims if d >= sd)
    if vdims:
        v = v.sum(vdims, keepdim=keepdim)
    gone = [d for d in dims if d < sd]
    keep = [d for d in range(sd) if d not in gone]
    shape = tuple(1 if d in dims else m for d, m in enumerate(s._shape)) if keepdim else \
        tuple(m for d, m in enumerate(s._shape) if d not in dims)
    if not gone:
        return make(s._ind, v, shape, s._coal)
    dense = tuple(v.shape[1:])
    if not keep and not keepdim:  # every sparse dim summed: a dense result
        return scatter_rows(v, np.zeros(s._nnz(), np.int64), 1, dense, cls)
    sizes = tuple(s._shape[d] for d in keep)
    places, inv = np.unique(linear_index(s._ind[keep], sizes), return_inverse=True)
    nv = scatter_rows(v, inv.reshape(-1), places.size, (places.size,) + dense, cls)
    kept = unravel(places, sizes)
    if keepdim:  # the summed dims stay, of size 1: index 0 on each
        full = np.zeros((sd, places.size), np.int64)
        full[keep] = kept
        kept = full
    return make(kept, nv, shape, True)


def sum(input: SparseCooTensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,  # noqa: A001
        out: Any = None) -> Tensor:
    """The sum of all entries (a dense scalar), or over ``dim`` (sparse, as torch)."""
    _no_out(out, "sum")
    if dim is None:
        v = input._v if dtype is None else input._v.to(dtype)
        return v.sum()
    return _reduce(input, dim, keepdim, dtype, SumBackward1)


def sparse_sum(input: SparseCooTensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """``torch.sparse.sum``: the sum of all entries, or over ``dim`` (dense once every sparse dim is summed)."""
    if not isinstance(input, SparseCooTensor):
        raise RuntimeError("torch.sparse.sum expects a sparse tensor")  # (torch's message names the backend)
    if dim is None:
        return sum(input, dtype=dtype)
    return _reduce(input, dim, False, dtype, SparseSumBackward0)


# ----------------------------------------------------------------------------- sparse x dense products
def _spmm_np(attrs: tuple, v: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``S @ d`` (or ``d @ S`` when ``right``) for S = (rows, cols, values v) of shape (nr, nc)."""
    rows, cols, nr, nc, right = attrs[:5]
    if right:
        return np.ascontiguousarray(add_rows(nc, cols, v[:, None] * d.T[rows]).T)
    return add_rows(nr, rows, v[:, None] * d[cols])


def spmm_values(attrs: tuple, v: Any, d: Any) -> Any:
    """The product on arrays (a plain backward) or Tensors (recorded, so it differentiates again)."""
    if isinstance(d, np.ndarray):
        return _spmm_np(attrs, v, d)
    return _addmm(None, v, d, attrs[:5] + (0, 1), MmBackward0)


def _addmm_grad(n: Any, g: Any) -> tuple:
    rows, cols, nr, nc, right, beta, alpha = n.attrs
    v, d = n.saved
    gc = gv = gd = None
    if n.needs[0]:
        gc = g if beta == 1 else g * beta
    if n.needs[1]:
        gv = (g[:, cols] * _c(d)[:, rows]).sum(0) if right else (g[rows] * _c(d)[cols]).sum(-1)
        gv = gv if alpha == 1 else gv * alpha
    if n.needs[2]:  # the transposed matrix times grad: the same product again
        gd = spmm_values((cols, rows, nc, nr, right), _c(v), g)
        gd = gd if alpha == 1 else gd * alpha
    return gc, gv, gd


MmBackward0 = node_class("mm", _addmm_grad, "S^T @ grad (dense), grad @ dense^T at S's entries (values)",
                         on_arrays=True)
SparseAddmmBackward0 = node_class(
    "_sparse_addmm", _addmm_grad, "beta * grad, alpha * S^T @ grad, alpha * grad @ dense^T at S's entries",
    on_arrays=True)


def _addmm(c: Tensor | None, v: Tensor, d: Tensor, attrs: tuple, cls: Any) -> Tensor:
    beta, alpha = attrs[5], attrs[6]
    res = _spmm_np(attrs, v._data, d._data)
    if alpha != 1:
        res = res * alpha
    if c is not None and beta != 0:  # (beta 0 ignores c, NaN and inf included, as torch)
        res = (c._data if beta == 1 else c._data * beta) + res
    return record(cls, res, (c, v, d), (v, d), attrs=attrs)


def _scalar_name(t: Tensor) -> str:
    return _dtype.LEGACY_NAMES[t.dtype.name]


def sparse_addmm(input: Tensor | None, mat1: Tensor, mat2: Tensor, beta: Any, alpha: Any, cls: Any) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``, one of mat1, mat2 a sparse matrix and the other dense."""
    right = isinstance(mat2, SparseCooTensor)
    s, d = (mat2, mat1) if right else (mat1, mat2)
    if isinstance(d, SparseCooTensor) or not isinstance(d, Tensor):
        raise NotImplementedError("ember does not implement the product of two sparse tensors")
    if s.sparse_dim() != 2 or s.dense_dim() != 0:
        raise RuntimeError(f"mm: expected a 2-D sparse matrix with no dense dimensions, but got sparse_dim "
                           f"{s.sparse_dim()} and dense_dim {s.dense_dim()}")
    if d.dim() != 2:
        raise RuntimeError(f"mm: expected a 2-D dense matrix, but got a {d.dim()}-D tensor")
    if d.dtype is not s.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(s)} but found {_scalar_name(d)}")
    nr, nc = s._shape
    if not right and d.shape[0] != nc:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {nc}, got {d.shape[0]}")
    if right and d.shape[1] != nr:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {nr}, got {d.shape[1]}")  # (torch: S^T @ d^T)
    out_shape = (d.shape[0], nc) if right else (nr, d.shape[1])
    if input is not None:
        try:
            np.broadcast_shapes(tuple(input.shape), out_shape)
        except ValueError:
            raise RuntimeError(f"addmm: the input of shape {list(input.shape)} does not broadcast to the product's "
                               f"{list(out_shape)}") from None
    s = coalesce(s)  # type: ignore[arg-type]  # (torch sums repeated entries before multiplying)
    return _addmm(input, s._v, d, (s._ind[0], s._ind[1], nr, nc, right, beta, alpha), cls)


def mm(input: Tensor, mat2: Tensor, *, out: Any = None) -> Tensor:
    """The product of a sparse and a dense matrix (either order): dense."""
    _no_out(out, "mm")
    return sparse_addmm(None, input, mat2, 0, 1, MmBackward0)


def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """``torch.spmm``: a sparse matrix times a dense one (the same as ``torch.mm``)."""
    return mm(input, mat2)


def matmul(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """``@`` with a sparse operand: the matrix product of two 2-D operands (``mm``)."""
    _no_out(out, "matmul")
    if input.dim() != 2 or other.dim() != 2:
        raise NotImplementedError(f"ember does not implement matmul of a sparse tensor with {input.dim()}-D and "
                                  f"{other.dim()}-D operands (only sparse @ dense matrices)")
    return mm(input, other)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` with a sparse mat1 or mat2: dense."""
    _no_out(out, "addmm")
    if isinstance(input, SparseCooTensor):
        raise NotImplementedError("ember does not implement addmm with a sparse input")
    return sparse_addmm(input, mat1, mat2, beta, alpha, SparseAddmmBackward0)


IMPL.update(add=add, sub=sub, mul=mul, div=div, neg=neg, unary=unary, mm=mm, matmul=matmul, sum=sum, addmm=addmm)

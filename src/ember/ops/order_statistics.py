"""Order statistics along a dimension: max/min with indices, median, kthvalue, mode, aminmax, topk and sort's relatives, each with its derivative."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import node_class, not_implemented_node, record, wrap_dim
from ._strides import contiguous, preserved
from .pointwise import not_implemented
from .reduction import (
    _RT,
    _even_split,
    _index_backward,
)


# --------------------------------------------------------------------------- order statistics
def _stable_order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    rev = np.flip(x, axis)
    a = np.argsort(rev, axis=axis, kind="stable")
    return (n - 1 - np.flip(a, axis)).astype(np.int64)


def _select_value(input: Tensor, cls: type, name: str, idx: np.ndarray, d: int, keepdim: bool) -> tuple:
    x = input._data
    xd = x if x.ndim else x.reshape(1)
    dd = d if x.ndim else 0
    vals = np.take_along_axis(xd, np.expand_dims(idx, dd), axis=dd)
    if not keepdim or not x.ndim:
        vals = vals.reshape(idx.shape)
    else:
        idx = np.expand_dims(idx, d)
    v = record(cls, vals, (input,), attrs=(d, idx, keepdim or not x.ndim) if x.ndim else (0, idx.reshape(()), True))
    return _RT[name](v, _new(contiguous(idx.astype(np.int64))))


MedianBackward0 = node_class("median", lambda n, g: _even_split(g, n.saved[0]._data, n.result._data),
                             "grad split evenly over the elements equal to the median", layout="contiguous")
NanmedianBackward0 = node_class("nanmedian", lambda n, g: _even_split(g, n.saved[0]._data, n.result._data),
                                "grad split evenly over the elements equal to the median", layout="contiguous")
MedianBackward1 = node_class("median", _index_backward, "grad placed at the median's index", suffix=1, layout="contiguous")
NanmedianBackward1 = node_class("nanmedian", _index_backward, "grad placed at the median's index", suffix=1, layout="contiguous")
ModeBackward0 = node_class("mode", _index_backward, "grad placed at the mode's index", layout="contiguous")
KthvalueBackward0 = node_class("kthvalue", _index_backward, "grad placed at the k-th value's index", layout="contiguous")


def _median(input: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    x = input._data
    name = "nanmedian" if ignore_nan else "median"
    if dim is None:
        if x.size == 0:  # NaN, or for integers (no NaN) torch's NaN cast: the type's minimum
            empty = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else (True if x.dtype.kind == "b" else np.nan)
            return record(NanmedianBackward0 if ignore_nan else MedianBackward0, np.asarray(empty, x.dtype), (input,),
                          (input,), save_result=True)
        if x.dtype == np.bool_:
            raise not_implemented("median_cpu", x.dtype)
        f = x.ravel()
        if ignore_nan:
            f = f[~np.isnan(f)] if x.dtype.kind == "f" else f
            r = np.sort(f)[(f.size - 1) // 2] if f.size else np.asarray(np.nan, x.dtype)
        elif x.dtype.kind == "f" and np.isnan(f).any():
            r = np.asarray(np.nan, x.dtype)
        else:
            r = np.sort(f)[(f.size - 1) // 2]
        return record(NanmedianBackward0 if ignore_nan else MedianBackward0, np.asarray(r, x.dtype), (input,), (input,),
                      save_result=True)
    d = wrap_dim(dim, x.ndim)
    xd = x if x.ndim else x.reshape(1)
    dd = d if x.ndim else 0
    if xd.shape[dd] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if x.dtype == np.bool_:
        raise not_implemented("median_out", x.dtype)
    order = _stable_order(xd, dd, False)
    if ignore_nan and x.dtype.kind == "f":
        cnt = (~np.isnan(xd)).sum(axis=dd, keepdims=True)
        pos = np.maximum((cnt - 1) // 2, 0)
    else:
        pos = np.full([1 if i == dd else s for i, s in enumerate(xd.shape)], (xd.shape[dd] - 1) // 2)
        if x.dtype.kind == "f":
            nanpos = np.argmax(np.isnan(xd), axis=dd)
            has = np.isnan(xd).any(axis=dd)
            idx = np.take_along_axis(order, pos, axis=dd).squeeze(dd)
            idx = np.where(has, nanpos, idx)
            cls = MedianBackward1
            return _select_value(input, cls, name, idx if x.ndim else idx.reshape(()), d, keepdim)
    idx = np.take_along_axis(order, pos, axis=dd).squeeze(dd)
    cls = NanmedianBackward1 if ignore_nan else MedianBackward1
    return _select_value(input, cls, name, idx if x.ndim else idx.reshape(()), d, keepdim)


def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median of all elements, or (values, indices) along ``dim``; NaN propagates."""
    return _median(input, dim, keepdim, False)


def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """median ignoring NaN."""
    return _median(input, dim, keepdim, True)


def _gt_nan(a: Any, b: Any) -> bool:
    return a > b or (a != a and b == b)


def _quickselect(row: list, k: int) -> int:
    """The index torch's CPU kthvalue returns: a quickselect with a median-of-three pivot, whose
    choice among equal values was matched to torch 2.13 over ~60k tie-heavy rows (NaN largest)."""
    v, ix = row, list(range(len(row)))

    def sw(i: int, j: int) -> None:
        v[i], v[j] = v[j], v[i]
        ix[i], ix[j] = ix[j], ix[i]

    lo, hi = 0, len(v) - 1
    while hi > lo:
        if hi == lo + 1:
            if _gt_nan(v[lo], v[hi]):
                sw(lo, hi)
            break
        sw(lo + (hi - lo) // 2, lo + 1)
        if _gt_nan(v[lo + 1], v[hi]):
            sw(lo + 1, hi)
        if _gt_nan(v[lo], v[hi]):
            sw(lo, hi)
        if _gt_nan(v[lo + 1], v[lo]):
            sw(lo + 1, lo)
        i, j, piv = lo + 1, hi, v[lo]
        while True:
            i += 1
            while _gt_nan(piv, v[i]):
                i += 1
            j -= 1
            while _gt_nan(v[j], piv):
                j -= 1
            if j < i:
                break
            sw(i, j)
        sw(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return ix[k]


def _quickselect_ties(x: np.ndarray, axis: int, k: int, idx: np.ndarray) -> np.ndarray:
    """Replace ``idx`` (any index of the k-th value) by torch's choice in rows where that value repeats."""
    xm = np.moveaxis(x, axis, -1)
    val = np.take_along_axis(xm, idx[..., None], -1)
    same = (xm == val) | (np.isnan(xm) & np.isnan(val)) if xm.dtype.kind in "fc" else xm == val
    rows = np.flatnonzero(same.sum(-1) > 1)
    if not rows.size:
        return idx
    flat, out = xm.reshape(-1, xm.shape[-1]), idx.copy().reshape(-1)
    for r in rows:
        out[r] = _quickselect(flat[r].tolist(), k)
    return out.reshape(idx.shape)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> tuple:
    """The k-th smallest element along ``dim`` (1-based) and its index."""
    x = input._data
    d = wrap_dim(dim, x.ndim)
    xd = x if x.ndim else x.reshape(1)
    dd = d if x.ndim else 0
    n = xd.shape[dd]
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if x.dtype == np.bool_:
        raise not_implemented("kthvalue_cpu", x.dtype)
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    order = _stable_order(xd, dd, False)
    idx = _quickselect_ties(xd, dd, k - 1, np.take(order, k - 1, axis=dd))
    return _select_value(input, KthvalueBackward0, "kthvalue", idx if x.ndim else idx.reshape(()), d, keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> tuple:
    """The most frequent value along ``dim`` (the smallest at ties) and the last index where it occurs."""
    x = input._data
    d = wrap_dim(dim, x.ndim)
    xd = x if x.ndim else x.reshape(1)
    dd = d if x.ndim else 0
    if xd.shape[dd] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    xm = np.moveaxis(xd, dd, -1)
    flat = xm.reshape(-1, xm.shape[-1])
    out_idx = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        v = vals[np.argmax(counts)]
        out_idx[r] = np.nonzero(row == v)[0][-1] if not (isinstance(v, float) and np.isnan(v)) else np.nonzero(np.isnan(row))[0][-1]
    idx = out_idx.reshape(xm.shape[:-1])
    return _select_value(input, ModeBackward0, "mode", idx if x.ndim else idx.reshape(()), d, keepdim)


def _perm_back(n: Any, g: Tensor) -> Tensor:
    from .indexing import ScatterAddBackward0, _scatter_add_np

    if n._in_meta[0][0] == ():
        return g.reshape(())
    d, idx = n.attrs
    return record(ScatterAddBackward0, _scatter_add_np(n._in_meta[0][0], d, idx, g._data, g._data.dtype),
                  (g,), attrs=(d, _new(idx)))


SortBackward0 = node_class("sort", _perm_back, "grad scattered back through the permutation", layout="preserved")
TopkBackward0 = node_class("topk", _perm_back, "grad scattered to the selected indices")


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> tuple:
    """(values, indices) sorted along ``dim``; ember's sort is always stable; NaN sorts as the largest."""
    x = input._data
    if x.ndim == 0:
        v = record(SortBackward0, x.copy(), (input,), attrs=(0, np.zeros((), np.int64)))
        return _RT["sort"](v, _new(np.zeros((), np.int64)))
    d = wrap_dim(dim, x.ndim)
    idx = _stable_order(x, d, descending)
    vals = np.take_along_axis(x, idx, axis=d)
    v = record(SortBackward0, vals, (input,), attrs=(d, idx))
    return _RT["sort"](v, _new(preserved(idx.astype(np.int64), x)))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    x = input._data
    if x.ndim == 0:
        return _new(np.zeros((), np.int64))
    return _new(preserved(_stable_order(x, wrap_dim(dim, x.ndim), descending).astype(np.int64), x))


def msort(input: Tensor) -> Tensor:
    return sort(input, 0)[0]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices."""
    x = input._data
    xd = x if x.ndim else x.reshape(1)
    d = wrap_dim(dim, x.ndim)
    dd = d if x.ndim else 0
    if not 0 <= k <= xd.shape[dd]:
        raise RuntimeError("selected index k out of range")
    if x.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    order = _stable_order(xd, dd, largest)
    idx = np.take(order, np.arange(k), axis=dd)
    if not x.ndim:
        idx = idx.reshape(())
    vals = np.take_along_axis(xd, idx.reshape(idx.shape or (1,)), axis=dd).reshape(idx.shape)
    v = record(TopkBackward0, vals, (input,), attrs=(d if x.ndim else 0, idx))
    return _RT["topk"](v, _new(idx.astype(np.int64)))


_UniqueBackward = not_implemented_node("_unique2", "the derivative for '_unique2' is not implemented.", RuntimeError)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None) -> Any:
    """The distinct elements (sorted), optionally with the inverse indices and the counts."""
    x = input._data
    if dim is None:
        # every NaN is distinct, as in torch (NumPy merges them by default)
        vals, inv, cnt = np.unique(x.ravel(), return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(x.shape)
    else:
        d = wrap_dim(dim, x.ndim)
        if x.size == 0 and builtins.any(n == 0 for i, n in enumerate(x.shape) if i != d):
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
        vals, inv, cnt = np.unique(x, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = record(_UniqueBackward, np.ascontiguousarray(vals), (input,))
    res = (out,)
    if return_inverse:
        res += (_new(inv.astype(np.int64)),)
    if return_counts:
        res += (_new(cnt.astype(np.int64)),)
    return res[0] if len(res) == 1 else res

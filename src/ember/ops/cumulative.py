"""Cumulative ops along a dimension: cumsum, cumprod, cummax, cummin, each with its derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from ._core import _c, node_class, record, wrap_dim
from .reduction import (
    _RT,
    _bf16_acc,
    _sum_dtype,
)

# --------------------------------------------------------------------------- cumulative
CumsumBackward0 = node_class("cumsum", lambda n, g: g.flip(n.attrs).cumsum(n.attrs).flip(n.attrs),
                             "reversed cumsum of grad", layout="contiguous")


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``; integer and bool inputs accumulate in int64."""
    x = input._data
    d = wrap_dim(dim, x.ndim)
    npd = _sum_dtype(x, dtype, input)
    if _dtype.is_bfloat16(npd):  # (a float32 running sum, each prefix rounded once, as torch)
        res = np.cumsum(_bf16_acc(x), axis=d).astype(npd) if x.ndim else x.astype(npd)
    else:
        res = np.cumsum(x, axis=d, dtype=npd) if x.ndim else x.astype(npd)
    return record(CumsumBackward0, np.asarray(res), (input,), attrs=d)


def _cumprod_grad(n: Any, g: Tensor) -> Tensor:
    from .indexing import where

    x, d = n.saved[0], n.attrs
    xd = x._data
    if xd.size <= 1 or (xd.ndim and xd.shape[d] == 1):  # (grad itself, with no graph, as torch)
        return g
    if not (xd == 0).any():
        return (g * _c(n.result)).flip(d).cumsum(d).flip(d) / _c(x)
    # zeros: d result_j / d x_i = prod_{k <= j, k != i} x_k, built from a row per i with x_i := 1
    xm = x.movedim(d, -1)
    gm = g.movedim(d, -1)
    k = xd.shape[d]
    from .creation import eye

    rows = where(eye(k, dtype=_dtype.bool_), 1.0, xm.unsqueeze(-2).expand(xm.shape[:-1] + (k, k))).to(x.dtype)
    c = rows.cumprod(-1)  # [..., i, j]
    tri = np.triu(np.ones((k, k), dtype=bool))
    # a NaN or infinite grad_j adds nothing where its product is 0 (torch's backward sums over the run
    # before the first zero and the one after it only): there it is multiplied as nan_to_num(grad_j),
    # which is grad_j itself for the derivative in c (0 * NaN would give NaN, a select of c no derivative)
    gj = gm.unsqueeze(-2).expand(c.shape)
    gj = where(_new(tri & (c._data != 0)), gj, gj.nan_to_num(0.0, 0.0, 0.0))
    gi = (where(_new(tri), _c(c), 0.0) * gj).sum(-1)
    return gi.movedim(-1, d)


CumprodBackward0 = node_class("cumprod", _cumprod_grad, "sum over j >= i of grad_j * prod_{k <= j, k != i} self_k", layout="contiguous")


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``."""
    x = input._data
    d = wrap_dim(dim, x.ndim)
    npd = _sum_dtype(x, dtype, input)
    res = np.cumprod(x, axis=d, dtype=npd) if x.ndim else x.astype(npd)
    return record(CumprodBackward0, np.asarray(res), (input,), (input,), save_result=True, attrs=d)


def _cum_ext(input: Tensor, dim: int, is_max: bool) -> tuple:
    x = input._data
    if x.size == 0 and isinstance(dim, int):  # torch returns empty results before checking the dim
        return _cum_out(input, x.copy(), np.zeros(x.shape, np.int64), 0, is_max)
    d = wrap_dim(dim, x.ndim)
    if x.ndim == 0:
        return _cum_out(input, x.copy(), np.zeros((), np.int64), 0, is_max)
    xm = np.moveaxis(x, d, -1)
    n = xm.shape[-1]
    idx = np.zeros(xm.shape, np.int64)
    vals = np.empty_like(xm)
    if n:
        cur_v = xm[..., 0].copy()
        cur_i = np.zeros(xm.shape[:-1], np.int64)
        for j in range(n):
            v = xm[..., j]
            with np.errstate(invalid="ignore"):
                take = ((v >= cur_v) if is_max else (v <= cur_v)) | (np.isnan(v) if xm.dtype.kind == "f" else False)
            cur_v = np.where(take, v, cur_v)
            cur_i = np.where(take, j, cur_i)
            vals[..., j], idx[..., j] = cur_v, cur_i
    return _cum_out(input, np.moveaxis(vals, -1, d), np.moveaxis(idx, -1, d), d, is_max)


def _scatter_back(n: Any, g: Tensor) -> Tensor:
    from .indexing import ScatterAddBackward0, _scatter_add_np

    if n._in_meta[0][0] == ():
        return g.reshape(())
    if n.saved[0].numel() == 0:  # (torch returns self itself: its gradient is part of the graph)
        return n.saved[0]
    d, idx = n.attrs
    return record(ScatterAddBackward0, _scatter_add_np(n._in_meta[0][0], d, idx, g._data, g._data.dtype),
                  (g,), attrs=(d, _new(idx)))


CummaxBackward0 = node_class("cummax", _scatter_back, "grad scatter-added at the indices")
CumminBackward0 = node_class("cummin", _scatter_back, "grad scatter-added at the indices")


def _cum_out(input: Tensor, vals: np.ndarray, idx: np.ndarray, d: int, is_max: bool) -> tuple:
    # .copy() keeps a 0-d result 0-d (np.ascontiguousarray returns at least one dimension)
    idx = idx.copy()
    v = record(CummaxBackward0 if is_max else CumminBackward0, vals.copy(), (input,), (input,), attrs=(d, idx))  # (as torch)
    return _RT["cummax" if is_max else "cummin"](v, _new(idx.copy()))


def cummax(input: Tensor, dim: int) -> tuple:
    """Running maximum along ``dim`` and the index where it was attained (the last one at ties)."""
    return _cum_ext(input, dim, True)


def cummin(input: Tensor, dim: int) -> tuple:
    return _cum_ext(input, dim, False)

"""``cdist``: pairwise p-norm distances between two sets of row vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ._core import node_class, not_implemented_node, record
from .reduction import _LEGACY_NAMES

CdistBackwardBackward0 = not_implemented_node("cdist_backward", "the derivative for '_cdist_backward' is not implemented.")


def _cdist_grads(n: Any, g: Tensor) -> tuple:
    x1, x2 = n.saved
    p = n.attrs
    a, b, d, gd = x1._data, x2._data, n.result._data, g._data
    diff = a[..., :, None, :] - b[..., None, :, :]
    dd = d[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 0:
            dx = np.zeros_like(diff)
        elif p == 1:
            dx = np.sign(diff)
        elif p == 2:
            dx = np.where(dd == 0, 0.0, diff / dd)
        elif np.isinf(p):
            dx = np.sign(diff) * (np.abs(diff) == dd)
        else:
            dx = np.where((dd == 0) | (diff == 0), 0.0, np.sign(diff) * (np.abs(diff) / dd) ** (p - 1))
    w = gd[..., None] * dx  # (..., P, R, M)
    g1 = record(CdistBackwardBackward0, w.sum(-2), (g, x1, x2)) if n.needs[0] else None
    g2 = record(CdistBackwardBackward0, -w.sum(-3), (g, x2, x1)) if n.needs[1] else None
    return g1, g2


CdistBackward0 = node_class("cdist", _cdist_grads, "_cdist_backward(grad, x1, x2, p, result) and its transpose")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each pair of rows of ``x1`` (..., P, M) and ``x2`` (..., R, M)."""
    a, b = x1._data, x2._data
    for name, arr in (("X1", a), ("X2", b)):
        if arr.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {arr.ndim}D")
    for name, arr in (("X1", a), ("X2", b)):
        if arr.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_LEGACY_NAMES[arr.dtype.name]}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_LEGACY_NAMES[a.dtype.name]} but found {_LEGACY_NAMES[b.dtype.name]}")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        out = (diff != 0).sum(-1).astype(a.dtype)
    elif p == 1:
        out = diff.sum(-1)
    elif p == 2:
        out = np.sqrt((diff * diff).sum(-1))
    elif np.isinf(p):
        out = diff.max(-1, initial=0)
    else:
        out = (diff ** p).sum(-1) ** (1.0 / p)
    out = out.astype(a.dtype, copy=False)
    return record(CdistBackward0, out, (x1, x2), saved=(x1, x2), save_result=True, attrs=float(p))

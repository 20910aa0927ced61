"""Cumulative ops written apart from the reductions: ``logcumsumexp``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods, node_class, record, wrap_dim
from ._forward import result
from .reduction import _LEGACY_NAMES


def _logcumsumexp_grad(n: Any, g: Tensor) -> Tensor:
    # d out_j / d x_i = exp(x_i - out_j) for j >= i; the sum over j is done in log space, the
    # positive and negative parts of grad separately, so nothing overflows
    from .indexing import where
    from .pointwise import exp, log
    from .shape import flip

    (x,) = n.saved
    d = n.attrs
    if x._data.ndim == 0 or x._data.size == 0:  # (torch returns grad itself for these)
        return g
    out = n.result
    parts = []
    # torch's formula: log|grad| where this part of grad is, the dtype's lowest finite value elsewhere
    # (NaN and inf gradients and results then propagate as in torch)
    lowest = float(np.finfo(g._data.dtype).min) if g._data.dtype.kind == "f" else float(np.finfo(np.float32).min)
    for mask, mag in ((g._data > 0, g), (g._data < 0, -g)):
        m = _new(mask)
        lg = where(m, log(where(m, mag, 1.0)), lowest) - out
        parts.append(exp(x + flip(logcumsumexp(flip(lg, (d,)), d), (d,))))
    pos, neg = parts
    return pos - neg


def _logcumsumexp_jvp(n: Any, ts: list) -> Tensor:
    # tangent_i = sum over j <= i of t_j * exp(self_j - result_i), in log space as the gradient is
    from .indexing import where
    from .pointwise import exp, log

    (x,), t, d = n.saved, ts[0], n.attrs
    if x._data.ndim == 0:
        return t
    r = result(n)
    parts = []
    for sign in (1.0, -1.0):
        m = (t * sign) > 0
        lg = where(m, log(where(m, t * sign, 1.0)), float("-inf"))
        parts.append(exp(logcumsumexp(x + lg, d) - r) * sign)
    # (where the result is -inf, so is every term: the tangent is 0 there, not exp(-inf + inf))
    return where(r.eq(float("-inf")), 0.0, parts[0] + parts[1])


LogcumsumexpBackward0 = node_class("logcumsumexp", _logcumsumexp_grad,
                                   "sum over j >= i of grad_j * exp(self_i - result_j), in log space",
                                   jvp=_logcumsumexp_jvp, layout="contiguous")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, computed stably."""
    x = input._data
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{_LEGACY_NAMES[x.dtype.name]}\'')
    d = wrap_dim(dim, x.ndim)
    out = np.logaddexp.accumulate(x, axis=d) if x.ndim else x.copy()
    return record(LogcumsumexpBackward0, out, (input,), saved=(input,), save_result=True, attrs=d)


attach_methods(logcumsumexp=logcumsumexp)

"""Cumulative ops written apart from the reductions: ``logcumsumexp``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods, node_class, record, wrap_dim
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


LogcumsumexpBackward0 = node_class("logcumsumexp", _logcumsumexp_grad,
                                   "sum over j >= i of grad_j * exp(self_i - result_j), in log space")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, computed stably."""
    x = input._data
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{_LEGACY_NAMES[x.dtype.name]}\'')
    d = wrap_dim(dim, x.ndim)
    out = np.logaddexp.accumulate(x, axis=d) if x.ndim else x.copy()
    return record(LogcumsumexpBackward0, out, (input,), saved=(input,), save_result=True, attrs=d)


attach_methods(logcumsumexp=logcumsumexp)

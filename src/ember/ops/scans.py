"""Cumulative ops written apart from the reductions: ``logcumsumexp``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods, node_class, record, wrap_dim, zeros_grad
from .reduction import _LEGACY_NAMES


def _logcumsumexp_grad(n: Any, g: Tensor) -> Tensor:
    # d out_j / d x_i = exp(x_i - out_j) for j >= i; the sum over j is done in log space, the
    # positive and negative parts of grad separately, so nothing overflows
    from .indexing import where
    from .pointwise import exp, log
    from .shape import flip

    (x,) = n.saved
    d = n.attrs
    if x._data.ndim == 0:
        return g
    out = n.result
    parts = []
    for mask, mag in ((g._data > 0, g), (g._data < 0, -g)):
        if not mask.any():
            parts.append(None)
            continue
        m = _new(mask)
        # -inf (not log(0) - result) where this part of grad is 0: no inf - inf anywhere, to any order
        lg = where(m, log(where(m, mag, 1.0)) - out, float("-inf"))
        parts.append(exp(x + flip(logcumsumexp(flip(lg, (d,)), d), (d,))))
    pos, neg = parts
    if neg is None:
        return pos if pos is not None else zeros_grad(g)  # (a NaN grad counts in neither part, as in torch)
    return -neg if pos is None else pos - neg


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

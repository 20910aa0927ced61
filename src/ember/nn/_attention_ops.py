"""The arithmetic of F.scaled_dot_product_attention (``_attention.py`` checks the arguments and
chooses): the fused kernel as one node, and the safe softmax of the math composition.

Each is an op on its own, which ember.compile calls again at replay (``generic.NN_OPS``): the
safe softmax branches on the values (rows whose every key is masked), the fused kernel computes
on arrays. Their arguments are tensors and numbers, never an array made from the values (the
fused node keeps the mask, not the bias made from it), so a replay computes from the call's own mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..ops._core import node_class, record


def _mask_bias(mask: np.ndarray, dt: Any) -> np.ndarray:
    """A boolean mask (True = attend) as an additive 0 / -inf bias."""
    return np.where(mask, 0.0, -np.inf).astype(dt)


def safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the keys, 0 on rows where every score is -inf (rather than NaN)."""
    from ..ops.reduction import softmax

    dead = np.all(np.isneginf(scores._data), -1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    dead_t = _new(dead)
    # the dead rows are softmaxed as zeros (finite, so their zero gradient stays finite) and then zeroed
    return softmax(scores.masked_fill(dead_t, 0.0), -1).masked_fill(dead_t, 0.0)


def repeat_heads(t: Tensor, groups: int) -> Tensor:
    return t if groups == 1 else t.repeat_interleave(groups, dim=-3)


def _sum_heads(g: Tensor, groups: int) -> Tensor:
    if groups == 1:
        return g
    s = g.shape
    return g.reshape(*s[:-3], s[-3] // groups, groups, s[-2], s[-1]).sum(-3)


def _probs(q: Tensor, k: Tensor, bias: np.ndarray | None, scale: float) -> Tensor:
    scores = q.matmul(k.transpose(-2, -1)) * scale
    if bias is not None:
        scores = scores + _new(bias)
    return safe_softmax(scores)


def bias_of(mask: Tensor | None, causal: bool, L: int, S: int, dt: Any) -> np.ndarray | None:
    """The additive bias of the scores: from ``is_causal``, a boolean mask or a float one (None: none)."""
    if causal:
        return _mask_bias(np.tril(np.ones((L, S), bool)), dt)
    if mask is None:
        return None
    return _mask_bias(mask._data, dt) if mask._data.dtype == np.bool_ else mask._data


def _flash_grad(n: Any, g: Tensor) -> tuple:
    q, k, v, mask = n.saved
    causal, scale, groups = n.attrs
    bias = bias_of(mask, causal, q.shape[-2], k.shape[-2], q._data.dtype)
    kk, vv = repeat_heads(k, groups), repeat_heads(v, groups)
    p = _probs(q, kk, bias, scale)
    dp = g.matmul(vv.transpose(-2, -1))
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    need_q, need_k, need_v = n.needs
    return (ds.matmul(kk) * scale if need_q else None,
            _sum_heads(ds.transpose(-2, -1).matmul(q), groups) * scale if need_k else None,
            _sum_heads(p.transpose(-2, -1).matmul(g), groups) if need_v else None)


ScaledDotProductFlashAttentionForCpuBackward0 = node_class(
    "scaled_dot_product_flash_attention_for_cpu", _flash_grad,
    "P = softmax(S); dV = P^T g; dS = P * (g V^T - rowsum(P * g V^T)); dQ = dS K scale; dK = dS^T Q scale")


def _np_softmax_safe(s: np.ndarray) -> np.ndarray:
    m = s.max(-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(s - np.where(dead, 0.0, m))
    tot = e.sum(-1, keepdims=True)
    return np.where(dead, 0.0, e / np.where(dead, 1.0, tot)).astype(s.dtype, copy=False)


def fused(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool, scale: float, groups: int) -> Tensor:
    """torch's fused CPU kernel: one node, which keeps the mask rather than the bias made from it."""
    qa = q._data
    bias = bias_of(mask, causal, qa.shape[-2], k.shape[-2], qa.dtype)
    ka = np.repeat(k._data, groups, axis=-3) if groups > 1 else k._data
    va = np.repeat(v._data, groups, axis=-3) if groups > 1 else v._data
    s = qa @ np.swapaxes(ka, -1, -2)
    s *= qa.dtype.type(scale)
    if bias is not None:
        s = s + bias
    out = _np_softmax_safe(s) @ va
    return record(ScaledDotProductFlashAttentionForCpuBackward0, out.astype(qa.dtype, copy=False), (q, k, v),
                  saved=(q, k, v, mask), attrs=(causal, scale, groups))

"""F.scaled_dot_product_attention: softmax(q k^T * scale + mask) v.

torch on the CPU runs one of two implementations and its graph shows which:
- the fused kernel (``ScaledDotProductFlashAttentionForCpuBackward0``) for 4-D inputs of one head
  size with equal batch and head dimensions (or grouped heads), no dropout and a mask that needs no
  gradient. Here that is one node: the forward on NumPy arrays, the derivative written once in
  ember ops (so, unlike torch's, it differentiates again);
- otherwise the "math" composition of ordinary ops (matmul, softmax, dropout), whose nodes are the
  ordinary ones. Dropout draws its mask as ``F.dropout`` on the attention weights, torch's stream.

Both give 0 (and a zero gradient) on a query row whose every key is masked, as torch's safe softmax does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._autocast import autocast_op
from .._tensor import Tensor, _new
from ..ops._core import node_class, record
from ._dropout import dropout

_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _cpp(t: Tensor) -> str:
    name = str(t.dtype).split(".")[-1]
    return _CPP_NAMES.get(name, name)


def _check_broadcast(a: tuple, b: tuple) -> None:
    """torch's error for a mask that does not broadcast against the scores (..., L, S)."""
    n = max(len(a), len(b))
    for i in range(n):
        x = a[i - n + len(a)] if i - n + len(a) >= 0 else 1
        y = b[i - n + len(b)] if i - n + len(b) >= 0 else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")


def _mask_bias(mask: np.ndarray, dt: Any) -> np.ndarray:
    """A boolean mask (True = attend) as an additive 0 / -inf bias."""
    return np.where(mask, 0.0, -np.inf).astype(dt)


def _safe_softmax(scores: Tensor) -> Tensor:
    """softmax over the keys, 0 on rows where every score is -inf (rather than NaN)."""
    from ..ops.reduction import softmax

    dead = np.all(np.isneginf(scores._data), -1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    dead_t = _new(dead)
    # the dead rows are softmaxed as zeros (finite, so their zero gradient stays finite) and then zeroed
    return softmax(scores.masked_fill(dead_t, 0.0), -1).masked_fill(dead_t, 0.0)


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
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
    return _safe_softmax(scores)


def _flash_grad(n: Any, g: Tensor) -> tuple:
    q, k, v = n.saved
    bias, scale, groups = n.attrs
    kk, vv = _repeat_heads(k, groups), _repeat_heads(v, groups)
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


def _fused(q: Tensor, k: Tensor, v: Tensor, bias: np.ndarray | None, scale: float, groups: int) -> Tensor:
    qa = q._data
    ka = np.repeat(k._data, groups, axis=-3) if groups > 1 else k._data
    va = np.repeat(v._data, groups, axis=-3) if groups > 1 else v._data
    s = qa @ np.swapaxes(ka, -1, -2)
    s *= qa.dtype.type(scale)
    if bias is not None:
        s = s + bias
    out = _np_softmax_safe(s) @ va
    return record(ScaledDotProductFlashAttentionForCpuBackward0, out.astype(qa.dtype, copy=False), (q, k, v),
                  saved=(q, k, v), attrs=(bias, scale, groups))


def _math(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, bias: np.ndarray | None, dropout_p: float,
          scale: float, groups: int) -> Tensor:
    k, v = _repeat_heads(k, groups), _repeat_heads(v, groups)
    root = math.sqrt(scale)  # torch scales q and k by sqrt(scale) each, which keeps q k^T in range
    scores = (q * root).matmul((k * root).transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    elif bias is not None:
        scores = scores + _new(bias)
    attn = _safe_softmax(scores)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(v)


@autocast_op("lower")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention of ``query`` (..., L, E) over ``key`` (..., S, E) and ``value`` (..., S, Ev).

    ``attn_mask``: boolean (True = may attend) or float (added to the scores), broadcast to (..., L, S);
    ``is_causal``: query i attends to keys 0..i (top-left aligned); ``scale`` defaults to 1/sqrt(E);
    ``dropout_p``: dropout on the attention weights; ``enable_gqa``: key and value may have fewer
    heads (dim -3), each shared by a group of query heads."""
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_cpp(query)} key.dtype: {_cpp(key)} and value.dtype: {_cpp(value)} instead.")
    if attn_mask is not None and attn_mask.dtype != query.dtype and attn_mask._data.dtype != np.bool_:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_cpp(attn_mask)} and  query.dtype: {_cpp(query)} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    qs, ks, vs = query.shape, key.shape, value.shape
    if len(qs) >= 3 and len(ks) >= 3 and qs[-1] != ks[-1]:
        nb = math.prod(qs[:-2])
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{nb}, {qs[-1]}] "
                           f"but got: [{nb}, {ks[-1]}].")
    groups = 1
    if enable_gqa and len(qs) >= 3 and len(ks) >= 3:
        if qs[-3] % ks[-3] or qs[-3] % vs[-3] or ks[-3] != vs[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
        groups = qs[-3] // ks[-3]
    scale = 1.0 / math.sqrt(qs[-1]) if scale is None else float(scale)
    dt = query._data.dtype
    L, S = qs[-2], ks[-2]
    bias = None
    float_mask = None
    if is_causal:
        bias = _mask_bias(np.tril(np.ones((L, S), bool)), dt)
    elif attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            bias = _mask_bias(attn_mask._data, dt)
        elif attn_mask.requires_grad:
            float_mask = attn_mask
        else:
            bias = attn_mask._data
    mask_dim = attn_mask.dim() if attn_mask is not None else 2
    if mask_dim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(mask_dim, 1)}, "
                         f"{max(mask_dim, 1) - 1}], but got -2)")
    if bias is not None or float_mask is not None:
        _check_broadcast(qs[:-2] + (L, S), (bias if bias is not None else float_mask._data).shape)  # type: ignore[union-attr]
    fused = (dropout_p == 0.0 and float_mask is None and mask_dim in (2, 4) and len(qs) == 4 and len(ks) == 4 and len(vs) == 4
             and qs[-1] == ks[-1] == vs[-1] and qs[0] == ks[0] == vs[0] and ks[1] == vs[1]
             and qs[1] == ks[1] * groups)
    if fused:
        return _fused(query, key, value, bias, scale, groups)
    return _math(query, key, value, float_mask, bias, dropout_p, scale, groups)

"""F.scaled_dot_product_attention: softmax(q k^T * scale + mask) v.

torch on the CPU runs one of two implementations and its graph shows which:
- the fused kernel (``ScaledDotProductFlashAttentionForCpuBackward0``) for 4-D inputs of one head
  size with equal batch and head dimensions (or grouped heads), no dropout and a mask that needs no
  gradient. Here that is one node (``_attention_ops.fused``): the forward on NumPy arrays, the
  derivative written once in ember ops (so, unlike torch's, it differentiates again);
- otherwise the "math" composition of ordinary ops (matmul, softmax, dropout), whose nodes are the
  ordinary ones. Dropout draws its mask as ``F.dropout`` on the attention weights, torch's stream.
  The mask becomes a bias by ops too, so that ember.compile traces this path op by op.

Both give 0 (and a zero gradient) on a query row whose every key is masked, as torch's safe softmax does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._autocast import autocast_op
from .._dtype import bool_
from .._tensor import Tensor
from ..ops.creation import ones, zeros
from . import _attention_ops as ops
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


def additive(mask: Tensor, dtype: Any, masked: bool) -> Tensor:
    """A mask as the bias added to the scores, made by ops (which ember.compile traces): a float
    mask as it is, in ``dtype``; a boolean one -inf where it is ``masked`` (True: nn.MultiheadAttention's
    masks; False: scaled_dot_product_attention's, True where a query may attend) and 0 elsewhere."""
    if mask.dtype != bool_:
        return mask.to(dtype)
    return zeros(mask.shape, dtype=dtype).masked_fill(mask if masked else ~mask, -math.inf)


def _math(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal: bool, dropout_p: float, scale: float,
          groups: int) -> Tensor:
    k, v = ops.repeat_heads(k, groups), ops.repeat_heads(v, groups)
    root = math.sqrt(scale)  # torch scales q and k by sqrt(scale) each, which keeps q k^T in range
    scores = (q * root).matmul((k * root).transpose(-2, -1))
    if causal:
        mask = ones(scores.shape[-2], k.shape[-2], dtype=bool_).tril()
    if mask is not None:
        scores = scores + additive(mask, q.dtype, masked=False)
    attn = ops.safe_softmax(scores)
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
    L, S = qs[-2], ks[-2]
    float_mask = attn_mask is not None and attn_mask._data.dtype != np.bool_ and attn_mask.requires_grad
    mask_dim = attn_mask.dim() if attn_mask is not None else 2
    if mask_dim < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(mask_dim, 1)}, "
                         f"{max(mask_dim, 1) - 1}], but got -2)")
    if attn_mask is not None:
        _check_broadcast(qs[:-2] + (L, S), attn_mask.shape)
    fused = (dropout_p == 0.0 and not float_mask and mask_dim in (2, 4) and len(qs) == 4 and len(ks) == 4 and len(vs) == 4
             and qs[-1] == ks[-1] == vs[-1] and qs[0] == ks[0] == vs[0] and ks[1] == vs[1]
             and qs[1] == ks[1] * groups)
    if fused:
        return ops.fused(query, key, value, attn_mask, is_causal, scale, groups)
    return _math(query, key, value, attn_mask, is_causal, dropout_p, scale, groups)

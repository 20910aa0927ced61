"""Vector norms along a dimension and what is built on them: normalize, pairwise_distance, cosine_similarity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._dtype import LEGACY_NAMES
from .._tensor import Tensor
from ..ops import _grad_math as _gm
from ..ops import reduction as _red
from ..ops._core import node_class, record
from ..ops._core import wrap_dim as _wrap_dim


def _vector_norm(x: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    return _norm_op(x, p, dim, keepdim)


def _norm_grad(n: Any, g: Any) -> Any:
    p, dim, keepdim = n.attrs
    x = n.saved[0]
    rk = _gm.unsqueeze_dims(n.result, (dim,), keepdim)
    gk = _gm.unsqueeze_dims(g, (dim,), keepdim)
    if p == 2:
        d = x / rk
    elif p == 1:
        d = _gm.sign(x)
    elif p == math.inf:
        hit = _gm.abs(x) == rk
        d = _gm.sign(x) * hit / _gm.clamp(_gm.sum(hit, dim, True), 1, None)
    else:
        d = x * _gm.abs(x) ** (p - 2) / rk ** (p - 1)
    return _gm.astype_like(gk * _gm.where(rk == 0, 0.0, d), g)


NormBackward1 = node_class("norm", _norm_grad, "grad * self * |self|^(p-2) / result^(p-1)", suffix=1,
                           on_arrays=True, layout="contiguous")


def _norm_op(input: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    x = input._data
    if x.dtype.kind in "biu":  # (torch's vector_norm, behind normalize and the distances)
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{LEGACY_NAMES[x.dtype.name]}")
    d = _wrap_dim(dim, x.ndim)
    if p == 2:
        r = np.sqrt((x * x).sum(axis=d, keepdims=keepdim))
    elif p == 1:
        r = np.abs(x).sum(axis=d, keepdims=keepdim)
    elif p == math.inf:
        r = np.abs(x).max(axis=d, keepdims=keepdim)
    elif p == 0:
        r = (x != 0).sum(axis=d, keepdims=keepdim)
    else:
        r = (np.abs(x) ** p).sum(axis=d, keepdims=keepdim) ** (1.0 / p)
    return record(NormBackward1, np.asarray(r, x.dtype), (input,), (input,), save_result=True, attrs=(p, d, keepdim))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    denom = _norm_op(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    nd = max(x1.dim(), x2.dim())
    return _norm_op(x1 - x2 + eps, p, nd - 1 if nd else 0, keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim``, after broadcasting them together.

    As torch computes it: each input divided by its own norm (clamped to eps without recording,
    so the gradient flows as if unclamped), then the product summed."""
    from ..autograd.grad_mode import no_grad
    from ..ops._core import result_dtype
    from ..ops.shape import broadcast_tensors

    dt = result_dtype(x1, x2)
    if not dt.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_red._LEGACY_NAMES[dt.name]}")
    x1, x2 = broadcast_tensors(x1.to(dt), x2.to(dt))
    n1 = _red.vector_norm(x1, 2, dim, keepdim=True).clone()
    n2 = _red.vector_norm(x2, 2, dim, keepdim=True).clone()
    with no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between every pair of rows i < j of an (N, M) input, as a vector of
    N (N - 1) / 2 entries in row-major order of the pairs (``cdist``'s upper triangle).

    >>> ember.nn.functional.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]]))
    tensor([ 5., 10.,  5.])
    """
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    i, j = np.triu_indices(input.shape[0], 1)
    return _red.vector_norm(input[i] - input[j], p, dim=1)

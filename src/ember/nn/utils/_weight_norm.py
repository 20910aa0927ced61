"""The weight-norm kernel both weight_norm APIs use: ``w = v * g / ||v||`` with the norm over all
dimensions but ``dim`` (torch's ``_weight_norm`` and ``norm_except_dim``).

For ``dim`` 0 or the last dimension torch runs a fused op (node ``WeightNormInterfaceBackward0``);
otherwise it composes ordinary ops. ember does the same, so grad_fn names match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...ops._core import node_class, record


def _other_dims(ndim: int, dim: int) -> tuple:
    return tuple(d for d in range(ndim) if d != dim % ndim)


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dimension but ``dim`` (kept, size 1); ``dim=-1``: the whole norm."""
    if dim == -1:
        return v.norm(pow)
    return v.norm(pow, dim=_other_dims(v.dim(), dim), keepdim=True)


def _interface_grads(n: Any, grad: Tensor) -> tuple:
    # w = v * g / r with r = ||v|| over the other dims:
    # dg = sum(grad * v) / r;  dv = (g / r) * grad - v * g * sum(grad * v) / r^3
    v, g = n.saved
    dims = _other_dims(v.dim(), n.attrs)
    r = v.norm(2, dim=dims, keepdim=True)
    gk = g.reshape(r.shape)
    s = (grad * v).sum(dims, keepdim=True)
    grad_v = grad * (gk / r) - v * (gk * s / r.pow(3)) if n.needs[0] else None
    grad_g = (s / r).reshape(g.shape) if n.needs[1] else None
    return grad_v, grad_g


WeightNormInterfaceBackward0 = node_class(
    "weight_norm_interface", _interface_grads,
    "grad * g / ||v|| - v * g * sum(grad * v) / ||v||^3, sum(grad * v) / ||v||")


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """``v * (g / norm_except_dim(v, 2, dim))``: fused for dim 0 or the last dimension, as in torch."""
    if dim == 0 or dim == v.dim() - 1:
        vd = v._data
        r = np.sqrt(np.sum(vd * vd, axis=_other_dims(vd.ndim, dim), keepdims=True))
        out = vd * (g._data.reshape(r.shape) / r)
        return record(WeightNormInterfaceBackward0, out.astype(vd.dtype, copy=False), (v, g), (v, g), attrs=dim)
    return v * (g / norm_except_dim(v, 2, dim))

"""Root-mean-square normalisation (``F.rms_norm``), written as torch's CPU composite of ops, so its
gradients to any order come from those ops. Its graph is torch's but for one name: torch's
``+ eps`` records the Scalar overload ``AddBackward1``, ember's ``AddBackward0``."""

from __future__ import annotations

from typing import Any

from .. import _dtype
from .._finfo import finfo
from .._tensor import Tensor


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing ``normalized_shape`` dimensions, times ``weight``.

    ``eps`` defaults to the machine epsilon of ``input``'s dtype; float16 and bfloat16 inputs are
    normalised in float32 and rounded back once, as in torch.

    >>> ember.nn.functional.rms_norm(ember.tensor([[3.0, 4.0]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    if not isinstance(normalized_shape, (list, tuple)):
        raise TypeError("rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    ns = tuple(normalized_shape)
    shape = tuple(input.shape)
    if len(ns) > len(shape):
        raise ValueError(f"Input tensor must have at least {len(ns)} dimensions, but got {len(shape)}")
    if shape[len(shape) - len(ns):] != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{', '.join(str(s) for s in ns)}], but got input of size{list(shape)}")
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {list(ns)}")
    low = input.dtype in (_dtype.float16, _dtype.bfloat16)
    x = input.float() if low else input
    if eps is None:
        eps = finfo(x.dtype).eps  # (of the dtype it computes in: float32 for float16 input)
    dims = list(range(-len(ns), 0))
    out = x * (x.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return (out.to(input.dtype) if low else out).contiguous()  # (torch's last step: a clone unless contiguous)

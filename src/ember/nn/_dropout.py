"""Dropout in all its forms (dropout, dropout1d/2d/3d, alpha dropout), drawing torch's masks from ember's generator."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor, _new


# ============================================================================ dropout
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(shape: tuple, p: float, npdtype: Any) -> np.ndarray:
    from .. import random as _random

    noise = _random.default_generator.bernoulli(1 - p, shape, npdtype)
    noise = np.asarray(noise, npdtype)
    noise /= npdtype.type(1 - p)
    return noise


def _dropout_impl(input: Tensor, p: float, training: bool, inplace: bool, shape: tuple | None) -> Tensor:
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    x = input._data
    if p == 1:
        noise = np.zeros((), x.dtype)
    elif shape is None and not x.flags.c_contiguous and x.ndim > 1:
        # torch fills the mask of a permuted (dense) input in memory order: draw it in that order
        order = sorted(range(x.ndim), key=lambda d: -x.strides[d])
        if np.transpose(x, order).flags.c_contiguous:
            noise = _noise(tuple(x.shape[d] for d in order), p, x.dtype).transpose(np.argsort(order))
        else:
            noise = _noise(x.shape, p, x.dtype)
    else:
        noise = _noise(x.shape if shape is None else shape, p, x.dtype)
    if inplace:
        return input.mul_(_new(noise))
    return input * _new(noise)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (training only)."""
    return _dropout_impl(input, p, training, inplace, None)


def _feature_shape(input: Tensor, batched_dim: int) -> tuple:
    s = input.shape
    if input.dim() == batched_dim:
        return (s[0], s[1]) + (1,) * (len(s) - 2)
    return (s[0],) + (1,) * (len(s) - 1)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _dropout_impl(input, p, training, inplace, _feature_shape(input, 3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels (dim 1) with probability ``p``; like torch, every input is read as (N, C, ...)."""
    nd = input.dim()
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use dropout "
                      "instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
                      stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    if nd < 2 and training and p > 0:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    # torch has no unbatched case here: a 2-D input is (N, C), so its mask is elementwise, and a
    # 3-D input is (N, C, L) (the mask draws N*C numbers, not C)
    return _dropout_impl(input, p, training, inplace, _feature_shape(input, nd) if nd >= 2 else None)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    return _dropout_impl(input, p, training, inplace, _feature_shape(input, 5))


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    _check_p(p)
    if p == 0 or not training:
        return input
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    from .. import random as _random

    keep = np.asarray(_random.default_generator.bernoulli(1 - p, tuple(input.shape), input._data.dtype),
                      input._data.dtype)
    b = ((keep - 1) * (alpha * a) + alpha * a * p).astype(keep.dtype)
    return input * _new((keep * a).astype(keep.dtype)) + _new(b)

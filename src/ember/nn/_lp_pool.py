"""Power-average pooling (``F.lp_pool1d/2d/3d``): the p-norm of each window, written as torch
composes it (average pooling of x^p, scaled by the window size, to the power 1/p), so its
gradients come from those ops."""

from __future__ import annotations

import math
from typing import Any

from .._tensor import Tensor
from ..ops.pointwise import relu
from ..ops.pooling import avg_pool1d, avg_pool2d, avg_pool3d


def _lp(pool: Any, nd: int, input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool) -> Tensor:
    k = (kernel_size,) * nd if isinstance(kernel_size, int) else tuple(kernel_size)
    out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each window of (N, C, L) input (``stride`` defaults to the window)."""
    return _lp(avg_pool1d, 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each window of (N, C, H, W) input.

    >>> ember.nn.functional.lp_pool2d(ember.full((1, 1, 2, 2), 3.0), 2, 2)
    tensor([[[[6.]]]])
    """
    return _lp(avg_pool2d, 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Tensor:
    """The ``norm_type``-norm of each window of (N, C, D, H, W) input."""
    return _lp(avg_pool3d, 3, input, norm_type, kernel_size, stride, ceil_mode)

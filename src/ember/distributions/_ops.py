"""The ember functions the distributions are written with, gathered from the layers below the
package (the op table, autograd, linalg, special, random), so that ``ember.distributions`` does
not import the top-level ``ember`` module, which sits a layer above it."""

from __future__ import annotations

from .. import autograd, linalg, special
from .._dtype import bool_ as bool  # noqa: A004
from .._dtype import float32, float64, get_default_dtype
from .._dtype import int64 as long
from .._finfo import finfo
from .._layout import contiguous_format
from .._tensor import Size, Tensor
from ..autograd import enable_grad, no_grad
from ..ops import (  # noqa: A004
    abs,
    all,
    arange,
    as_tensor,
    atan,
    atanh,
    bernoulli,
    broadcast_shapes,
    broadcast_tensors,
    cat,
    cholesky_inverse,
    clamp,
    digamma,
    empty,
    erf,
    erfinv,
    exp,
    expm1,
    eye,
    flip,
    full,
    full_like,
    gather,
    isclose,
    lgamma,
    linspace,
    log,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    matmul,
    multinomial,
    normal,
    ones_like,
    poisson,
    rand,
    rsqrt,
    sigmoid,
    softmax,
    stack,
    sum,
    tan,
    tensor,
    transpose,
    where,
    xlogy,
    zeros_like,
)
from ..random import default_generator

__all__ = ["autograd", "linalg", "special", "bool", "float32", "float64", "get_default_dtype", "long", "finfo",
           "contiguous_format", "Size", "Tensor", "enable_grad", "no_grad", "default_generator",
           "abs", "all", "arange", "as_tensor", "atan", "atanh", "bernoulli", "broadcast_shapes", "broadcast_tensors",
           "cat", "cholesky_inverse", "clamp", "digamma", "empty", "erf", "erfinv", "exp", "expm1", "eye", "flip",
           "full", "full_like", "gather", "isclose", "lgamma", "linspace", "log", "log1p", "log_softmax", "logit",
           "logsumexp", "matmul", "multinomial", "normal", "ones_like", "poisson", "rand", "rsqrt", "sigmoid",
           "softmax", "stack", "sum", "tan", "tensor", "transpose", "where", "xlogy", "zeros_like"]

"""Finite differences and the trapezoid rule: diff, trapezoid / trapz, cumulative_trapezoid.

All three are compositions of differentiable ops, as in torch (so their nodes are the ones torch
shows: SubBackward0 for diff, MulBackward1 / DivBackward1 for trapezoid, CumsumBackward0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._core import wrap_dim
from .special_functions import div_scalar, mul_scalar


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The n-th forward difference along ``dim`` (after concatenating ``prepend`` and ``append``)."""
    from .pointwise import logical_xor
    from .shape import cat

    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input._data.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        size = x._data.shape[d]
        if size == 0:
            break
        hi, lo = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = logical_xor(hi, lo) if x._data.dtype.kind == "b" else hi - lo
    return x


def _float(y: Tensor) -> Tensor:
    return y if y._data.dtype.kind in "fc" else y.to(_dtype.get_default_dtype())


def _check_y(y: Tensor, name: str, dim: int) -> None:
    if y._data.dtype == np.bool_:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    if y._data.ndim == 0:
        if name == "trapezoid":
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")


def _x_spacing(x: Tensor, y: Tensor, d: int) -> Tensor:
    """The spacings of sample points ``x`` along ``d``, shaped to broadcast against ``y``'s pairs."""
    if x._data.ndim == 1 and y._data.ndim > 1:
        dx = diff(x)
        shape = [1] * y._data.ndim
        shape[d] = dx._data.shape[0]
        return dx.reshape(shape)
    return diff(x, dim=d if x._data.ndim == y._data.ndim else -1)


def _check_x(x: Tensor, y: Tensor, d: int, name: str) -> None:
    n = x._data.shape[0] if x._data.ndim == 1 else x._data.shape[d if x._data.ndim == y._data.ndim else -1]
    if n != y._data.shape[d]:
        raise RuntimeError(f"{name}: There must be one `x` value for each sample point")


def trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The integral of ``y`` along ``dim`` by the trapezoid rule (samples at ``x``, or spaced ``dx``)."""
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx")
    _check_y(y, "trapezoid", dim)
    y = _float(y)
    d = wrap_dim(dim, y._data.ndim)
    size = y._data.shape[d]
    if size == 0:  # torch gives plain zeros here, outside the graph
        from .creation import zeros

        return zeros(y.sum(d).shape, dtype=y.dtype)
    if isinstance(x, Tensor):
        _check_x(x, y, d, "trapezoid")
        pairs = y.narrow(d, 1, size - 1) + y.narrow(d, 0, size - 1)
        return div_scalar((_x_spacing(_float(x), y, d) * pairs).sum(d), 2.0)
    h = float(dx if dx is not None else (x if x is not None else 1.0))
    return mul_scalar(y.sum(d) - (y.select(d, 0) + y.select(d, size - 1)) * 0.5, h)


def trapz(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The older name of trapezoid."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The running trapezoid-rule integral of ``y`` along ``dim`` (one value fewer than ``y``)."""
    if x is not None and dx is not None:
        raise RuntimeError("cumulative_trapezoid: received both x and dx")
    _check_y(y, "cumulative_trapezoid", dim)
    y = _float(y)
    d = wrap_dim(dim, y._data.ndim)
    size = y._data.shape[d]
    if size == 0:
        return y.cumsum(d)
    pairs = y.narrow(d, 1, size - 1) + y.narrow(d, 0, size - 1)
    if isinstance(x, Tensor):
        _check_x(x, y, d, "cumulative_trapezoid")
        return div_scalar((_x_spacing(_float(x), y, d) * pairs).cumsum(d), 2.0)
    h = float(dx if dx is not None else (x if x is not None else 1.0))
    return (pairs * (h / 2.0)).cumsum(d)

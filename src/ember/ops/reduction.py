"""Reductions: sum, mean, max/min (values and indices), amax/amin, logsumexp, softmax, log_softmax."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from ._core import node_class, record, wrap_dim, wrap_dims


def _unsqueeze_to(g: Tensor, dims: tuple, keepdim: bool) -> Tensor:
    # bring a reduced gradient back to rank: re-insert the reduced dims (in increasing order)
    if keepdim:
        return g
    for d in sorted(dims):
        g = g.unsqueeze(d)
    return g


def _dims_arg(dim: Any, nd: int) -> tuple:
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(nd))
    return wrap_dims(dim, nd)


SumBackward0 = node_class("sum", lambda n, g: g.expand(n._in_meta[0][0]), "grad expanded to self's shape")
SumBackward1 = node_class(
    "sum", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]).expand(n._in_meta[0][0]),
    "grad expanded along the summed dims", suffix=1)


def _sum_dtype(x: np.ndarray, dtype: Any) -> np.dtype:
    if dtype is not None:
        return dtype.np
    return np.dtype(np.int64) if x.dtype.kind in "iub" else x.dtype


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum of all elements, or over ``dim`` (int or tuple)."""
    x = input._data
    npd = _sum_dtype(x, dtype)
    if dim is None and not keepdim:
        return record(SumBackward0, np.asarray(x.sum(dtype=npd)), (input,))
    dims = _dims_arg(dim, x.ndim)
    res = x.sum(axis=dims, dtype=npd, keepdims=keepdim)
    return record(SumBackward1, np.asarray(res), (input,), attrs=(dims, keepdim))


MeanBackward0 = node_class("mean", lambda n, g: g.expand(n._in_meta[0][0]) / n.attrs, "grad / numel, expanded")
MeanBackward1 = node_class(
    "mean", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]).expand(n._in_meta[0][0]) / n.attrs[2],
    "grad / count, expanded along the averaged dims", suffix=1)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of all elements, or over ``dim``; floating (or complex) inputs only, as in torch."""
    x = input._data
    if dtype is not None:
        x = x.astype(dtype.np)
    elif x.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {_LEGACY_NAMES[input.dtype.name]}")
    if dim is None and not keepdim:
        res = np.asarray(x.mean(dtype=x.dtype)) if x.size else np.asarray(np.nan, x.dtype)
        return record(MeanBackward0, res, (input,), attrs=x.size)
    dims = _dims_arg(dim, x.ndim)
    count = 1
    for d in dims:
        count *= x.shape[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        res = np.asarray(x.sum(axis=dims, keepdims=keepdim, dtype=x.dtype) / x.dtype.type(count) if count else
                         np.full(np.sum(x, axis=dims, keepdims=keepdim).shape, np.nan, x.dtype))
    return record(MeanBackward1, res.astype(x.dtype, copy=False), (input,), attrs=(dims, keepdim, count))


_LEGACY_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half"}


class _ReturnType(tuple):
    """A named pair like ``torch.return_types.max(values=..., indices=...)``."""

    _name = ""
    _fields = ("values", "indices")

    def __new__(cls, values: Tensor, indices: Tensor) -> "_ReturnType":
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"{_dtype.PREFIX[0]}.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _return_type(name: str) -> type:
    return type(name, (_ReturnType,), {"_name": name, "__slots__": ()})


return_types = collections.namedtuple("return_types", "max min")(_return_type("max"), _return_type("min"))


def _even_split(x: np.ndarray, r: np.ndarray) -> Tensor:
    # torch spreads the gradient of a full max/min evenly over all elements equal to it
    m = (x == r) | (np.isnan(x) & np.isnan(r))
    return _new((m / m.sum()).astype(x.dtype))


def _tie_share(x: np.ndarray, r: np.ndarray, dims: tuple, keepdim: bool) -> Tensor:
    rr = r if keepdim else np.expand_dims(r, tuple(sorted(dims)))
    m = x == rr
    return _new((m / m.sum(axis=dims, keepdims=True)).astype(x.dtype))


MaxBackward1 = node_class("max", lambda n, g: g * _even_split(n.saved[0]._data, n.result._data),
                          "grad split evenly over the maximal elements", suffix=1)
MinBackward1 = node_class("min", lambda n, g: g * _even_split(n.saved[0]._data, n.result._data),
                          "grad split evenly over the minimal elements", suffix=1)
AmaxBackward0 = node_class(
    "amax", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]) * _tie_share(n.saved[0]._data, n.result._data, *n.attrs),
    "grad split evenly over the maximal elements")
AminBackward0 = node_class(
    "amin", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]) * _tie_share(n.saved[0]._data, n.result._data, *n.attrs),
    "grad split evenly over the minimal elements")


def _index_backward(n: Any, g: Tensor) -> Tensor:
    from .indexing import ScatterAddBackward0, _scatter_add_np

    d, idx, keepdim = n.attrs
    gi = g if keepdim else g.unsqueeze(d)
    ii = idx if keepdim else np.expand_dims(idx, d)
    return record(ScatterAddBackward0, _scatter_add_np(n._in_meta[0][0], d, ii, gi._data, gi._data.dtype),
                  (gi,), attrs=(d, _new(ii)))


MaxBackward0 = node_class("max", _index_backward, "grad placed at the argmax")
MinBackward0 = node_class("min", _index_backward, "grad placed at the argmin")


def _minmax(input: Tensor, dim: Any, keepdim: bool, other: Any, is_max: bool) -> Any:
    x = input._data
    name = "max" if is_max else "min"
    if isinstance(dim, Tensor) and other is None:
        other, dim = dim, None
    if other is not None:
        from .pointwise import maximum, minimum

        return (maximum if is_max else minimum)(input, other)
    if dim is None:
        if x.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        r = np.asarray(x.max() if is_max else x.min())
        return record(MaxBackward1 if is_max else MinBackward1, r, (input,), (input,), save_result=True)
    d = wrap_dim(dim, x.ndim)
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    xd = x if x.ndim else x.reshape(1)
    idx = np.argmax(xd, axis=d if x.ndim else 0) if is_max else np.argmin(xd, axis=d if x.ndim else 0)
    idx = np.asarray(idx)
    vals = np.take_along_axis(xd, np.expand_dims(idx, d if x.ndim else 0), axis=d if x.ndim else 0)
    if not keepdim or not x.ndim:
        vals = vals.reshape(idx.shape)
    else:
        idx = np.expand_dims(idx, d)
    ret = return_types.max if is_max else return_types.min
    v = record(MaxBackward0 if is_max else MinBackward0, vals, (input,),
               attrs=(d, idx, keepdim or not x.ndim) if x.ndim else (0, idx.reshape(()), True))
    return ret(v, _new(idx.astype(np.int64)))


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    """The maximum; with ``dim``, a (values, indices) pair; with a tensor, the elementwise maximum."""
    return _minmax(input, dim, keepdim, other, True)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:  # noqa: A001
    return _minmax(input, dim, keepdim, other, False)


def _amaxmin(input: Tensor, dim: Any, keepdim: bool, is_max: bool) -> Tensor:
    x = input._data
    dims = _dims_arg(dim, x.ndim)
    if x.size == 0:
        raise IndexError(f"{'amax' if is_max else 'amin'}(): Expected reduction dim to have non-zero size.")
    r = np.asarray(x.max(axis=dims, keepdims=keepdim) if is_max else x.min(axis=dims, keepdims=keepdim))
    return record(AmaxBackward0 if is_max else AminBackward0, r, (input,), (input,), save_result=True,
                  attrs=(dims, keepdim))


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amaxmin(input, dim, keepdim, True)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amaxmin(input, dim, keepdim, False)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    if dim is None:
        r = np.asarray(np.argmax(x))
        return _new(r.reshape((1,) * x.ndim) if keepdim else r)
    d = wrap_dim(dim, x.ndim)
    return _new(np.asarray(np.argmax(x, axis=d, keepdims=keepdim)).astype(np.int64))


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    if dim is None:
        r = np.asarray(np.argmin(x))
        return _new(r.reshape((1,) * x.ndim) if keepdim else r)
    d = wrap_dim(dim, x.ndim)
    return _new(np.asarray(np.argmin(x, axis=d, keepdims=keepdim)).astype(np.int64))


LogsumexpBackward0 = node_class(
    "logsumexp", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]) * (
        n.saved[0] - _unsqueeze_to(n.result, n.attrs[0], n.attrs[1])).exp(),
    "grad * exp(self - result)")


def _float_input(x: np.ndarray) -> np.ndarray:
    return x if x.dtype.kind in "fc" else x.astype(_dtype.get_default_dtype().np)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably (the max is subtracted first)."""
    x = _float_input(input._data)
    dims = _dims_arg(dim, x.ndim)
    if x.size == 0:
        res = np.log(np.sum(np.exp(x), axis=dims, keepdims=keepdim))
    else:
        m = np.max(x, axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):
            res = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            res = res.reshape(tuple(s for i, s in enumerate(x.shape) if i not in dims))
    return record(LogsumexpBackward0, np.asarray(res, dtype=x.dtype), (input,), (input,), save_result=True,
                  attrs=(dims, keepdim))


SoftmaxBackward0 = node_class(
    "_softmax", lambda n, g: n.result * (g - (g * n.result).sum(n.attrs, keepdim=True)),
    "result * (grad - sum(grad * result, dim))")
LogSoftmaxBackward0 = node_class(
    "_log_softmax", lambda n, g: g - n.result.exp() * g.sum(n.attrs, keepdim=True),
    "grad - exp(result) * sum(grad, dim)")


def _softmax_input(input: Tensor, dim: Any, dtype: Any) -> tuple:
    x = input._data
    if dtype is not None:
        x = x.astype(dtype.np)
    elif x.dtype.kind not in "fc":
        raise RuntimeError(f'"softmax_lastdim_kernel_impl" not implemented for \'{_LEGACY_NAMES[input.dtype.name]}\'')
    return x, wrap_dim(dim, x.ndim)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable for large inputs."""
    x, d = _softmax_input(input, dim, dtype)
    if x.ndim == 0:
        return record(SoftmaxBackward0, np.ones_like(x), (input,), save_result=True, attrs=d)
    e = np.exp(x - np.max(x, axis=d, keepdims=True)) if x.size else x.copy()
    e /= np.sum(e, axis=d, keepdims=True)
    return record(SoftmaxBackward0, e, (input,), save_result=True, attrs=d)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable for large inputs."""
    x, d = _softmax_input(input, dim, dtype)
    if x.ndim == 0:
        return record(LogSoftmaxBackward0, np.zeros_like(x), (input,), save_result=True, attrs=d)
    if x.size:
        s = x - np.max(x, axis=d, keepdims=True)
        s -= np.log(np.sum(np.exp(s), axis=d, keepdims=True))
    else:
        s = x.copy()
    return record(LogSoftmaxBackward0, s, (input,), save_result=True, attrs=d)


def _all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    return _new(np.asarray(np.all(x, axis=None if dim is None else _dims_arg(dim, x.ndim), keepdims=keepdim)))


def _any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    return _new(np.asarray(np.any(x, axis=None if dim is None else _dims_arg(dim, x.ndim), keepdims=keepdim)))

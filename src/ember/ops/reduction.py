"""Reductions: sum, mean, max/min (values and indices), amax/amin, logsumexp, softmax, log_softmax."""

from __future__ import annotations

import builtins
import collections
from typing import Any

import numpy as np

from .. import _dtype
from .._autocast import autocast_op
from .._sparse_tensor import IMPL as _SPARSE
from .._sparse_tensor import SparseCooTensor as _Sparse
from .._tensor import Tensor, _new
from . import _float32 as _f32
from . import _grad_math as gm
from ._core import _c, _state, node_class, record, require_tensors, wrap_dim, wrap_dims
from ._forward import result, with_tangents
from ._strides import contiguous
from .out import minmax_out, out_call, reduction_out
from .value_index_pairs import _return_type


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
    dims = wrap_dims(dim, nd)
    return dims if nd else ()  # a 0-dim tensor reduces over nothing (dim 0 / -1 are accepted)


SumBackward0 = node_class("sum", lambda n, g: g.expand(n._in_meta[0][0]), "grad expanded to self's shape",
                          jvp=lambda n, ts: ts[0].sum())
SumBackward1 = node_class(
    "sum", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]).expand(n._in_meta[0][0]),
    "grad expanded along the summed dims", suffix=1, jvp=lambda n, ts: ts[0].sum(n.attrs[0], n.attrs[1]), layout="contiguous")


def _sum_dtype(x: np.ndarray, dtype: Any, input: Tensor | None = None) -> np.dtype:
    if dtype is not None:
        if dtype.np.kind in "biu" and input is not None and input._rg and _state.enabled:
            raise RuntimeError(f"Autograd not support dtype: {_LEGACY_NAMES[dtype.name]}")  # (an integer sum of a graph)
        return dtype.np
    return np.dtype(np.int64) if x.dtype.kind in "iub" else x.dtype


def _bf16_acc(x: np.ndarray) -> np.ndarray:
    # torch accumulates bfloat16 reductions in float32 and rounds the result once
    return x.astype(np.float32) if _dtype.is_bfloat16(x.dtype) else x


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None) -> Tensor:  # noqa: A001
    """Sum of all elements, or over ``dim`` (int or tuple)."""
    if type(input) is _Sparse:  # (ember.sparse computes it)
        return _SPARSE["sum"](input, dim, keepdim, dtype=dtype, out=out)
    if out is not None:
        return reduction_out(sum, "sum", input, dim, keepdim, dtype, out)
    x = input._data
    npd = _sum_dtype(x, dtype, input)
    acc = npd
    if _dtype.is_bfloat16(npd):
        x = _bf16_acc(x)
        acc = x.dtype
    if dim is None and not keepdim:
        return record(SumBackward0, np.asarray(x.sum(dtype=acc)).astype(npd, copy=False), (input,))
    dims = _dims_arg(dim, x.ndim)
    res = x.sum(axis=dims, dtype=acc, keepdims=keepdim)
    return record(SumBackward1, np.asarray(res).astype(npd, copy=False), (input,), attrs=(dims, keepdim))


MeanBackward0 = node_class("mean", lambda n, g: gm.expand(g, n._in_meta[0][0]) / n.attrs, "grad / numel, expanded",
                           on_arrays=True, jvp=lambda n, ts: ts[0].sum() / n.attrs)
MeanBackward1 = node_class(
    "mean", lambda n, g: gm.expand(gm.unsqueeze_dims(g, n.attrs[0], n.attrs[1]), n._in_meta[0][0]) / n.attrs[2],
    "grad / count, expanded along the averaged dims", suffix=1, on_arrays=True,
    jvp=lambda n, ts: ts[0].sum(n.attrs[0], n.attrs[1]) / n.attrs[2], layout="contiguous")


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, out: Any = None) -> Tensor:
    """Mean of all elements, or over ``dim``; floating (or complex) inputs only, as in torch."""
    if out is not None:
        return reduction_out(mean, "mean", input, dim, keepdim, dtype, out)
    x = input._data
    out_dt = x.dtype if dtype is None else dtype.np
    if dtype is not None:
        x = x.astype(dtype.np)
    if _dtype.is_bfloat16(x.dtype):
        x = x.astype(np.float32)  # (float32 accumulation, rounded once, as torch)
    elif dtype is None and x.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {_LEGACY_NAMES[input.dtype.name]}")
    if dim is None and not keepdim:
        res = np.asarray(x.mean(dtype=x.dtype)) if x.size else np.asarray(np.nan, x.dtype)
        return record(MeanBackward0, res.astype(out_dt, copy=False), (input,), attrs=x.size)
    dims = _dims_arg(dim, x.ndim)
    count = 1
    for d in dims:
        count *= x.shape[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        res = np.asarray(x.sum(axis=dims, keepdims=keepdim, dtype=x.dtype) / x.dtype.type(count) if count else
                         np.full(np.sum(x, axis=dims, keepdims=keepdim).shape, np.nan, x.dtype))
    return record(MeanBackward1, res.astype(out_dt, copy=False), (input,), attrs=(dims, keepdim, count))


_LEGACY_NAMES = _dtype.LEGACY_NAMES


def _even_split(g: Tensor, x: np.ndarray, r: np.ndarray) -> Tensor:
    # torch spreads the gradient of a full max/min evenly over all elements equal to it, and
    # selects 0 elsewhere (an inf gradient gives 0 there, not NaN)
    from ._core import select_grad

    m = (x == r) | (np.isnan(x) & np.isnan(r))
    return select_grad(g, m, float(1 / m.sum()))


def _tie_share(x: np.ndarray, r: np.ndarray, dims: tuple, keepdim: bool) -> Tensor:
    rr = r if keepdim else np.expand_dims(r, tuple(sorted(dims)))
    m = x == rr
    return _new((m / m.sum(axis=dims, keepdims=True)).astype(x.dtype))


MaxBackward1 = node_class("max", lambda n, g: _even_split(g, n.saved[0]._data, n.result._data),
                          "grad split evenly over the maximal elements", suffix=1)
MinBackward1 = node_class("min", lambda n, g: _even_split(g, n.saved[0]._data, n.result._data),
                          "grad split evenly over the minimal elements", suffix=1)
AmaxBackward0 = node_class(
    "amax", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]) * _tie_share(n.saved[0]._data, n.result._data, *n.attrs),
    "grad split evenly over the maximal elements", layout="contiguous")
AminBackward0 = node_class(
    "amin", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]) * _tie_share(n.saved[0]._data, n.result._data, *n.attrs),
    "grad split evenly over the minimal elements", layout="contiguous")


def _index_backward(n: Any, g: Tensor) -> Tensor:
    from .indexing import ScatterAddBackward0, _scatter_add_np

    d, idx, keepdim = n.attrs
    if n._in_meta[0][0] == ():
        return g.reshape(())
    gi = g if keepdim else g.unsqueeze(d)
    ii = idx if keepdim else np.expand_dims(idx, d)
    return record(ScatterAddBackward0, _scatter_add_np(n._in_meta[0][0], d, ii, gi._data, gi._data.dtype),
                  (gi,), attrs=(d, _new(ii)))


MaxBackward0 = node_class("max", _index_backward, "grad placed at the argmax", layout="contiguous")
MinBackward0 = node_class("min", _index_backward, "grad placed at the argmin", layout="contiguous")


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
    return ret(v, _new(contiguous(idx.astype(np.int64))))


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None, out: Any = None) -> Any:  # noqa: A001
    """The maximum; with ``dim``, a (values, indices) pair; with a tensor, the elementwise maximum."""
    if out is not None:
        return minmax_out(max, "max", input, dim, keepdim, other, out)
    return _minmax(input, dim, keepdim, other, True)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None, out: Any = None) -> Any:  # noqa: A001
    """The minimum; with ``dim``, a (values, indices) pair; with a tensor, the elementwise minimum."""
    if out is not None:
        return minmax_out(min, "min", input, dim, keepdim, other, out)
    return _minmax(input, dim, keepdim, other, False)


def _amaxmin(input: Tensor, dim: Any, keepdim: bool, is_max: bool) -> Tensor:
    x = input._data
    dims = _dims_arg(dim, x.ndim)
    if x.size == 0:
        _empty_reduction_check("amax" if is_max else "amin", x, dim, dims)
    r = np.asarray(x.max(axis=dims, keepdims=keepdim) if is_max else x.min(axis=dims, keepdims=keepdim))
    return record(AmaxBackward0 if is_max else AminBackward0, r, (input,), (input,), save_result=True,
                  attrs=(dims, keepdim))


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amaxmin(input, dim, keepdim, True)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _amaxmin(input, dim, keepdim, False)


def _empty_reduction_check(name: str, x: np.ndarray, dim: Any, dims: tuple) -> None:
    """torch's errors for reducing an empty tensor: every dim (none given) or an empty one."""
    if dim is None or dim == () or dim == []:
        if name in ("argmax", "argmin"):
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    if builtins.any(x.shape[d] == 0 for d in dims):
        d = next(d for d in dims if x.shape[d] == 0)
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError("argmax(): does not support bool input")
    if x.size == 0:
        _empty_reduction_check("argmax", x, dim, _dims_arg(dim, x.ndim))
    if dim is None:
        r = np.asarray(np.argmax(x))
        return _new(r.reshape((1,) * x.ndim) if keepdim else r)
    d = wrap_dim(dim, x.ndim)
    return _new(contiguous(np.asarray(np.argmax(x, axis=d, keepdims=keepdim)).astype(np.int64)))


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError("argmin(): does not support bool input")
    if x.size == 0:
        _empty_reduction_check("argmin", x, dim, _dims_arg(dim, x.ndim))
    if dim is None:
        r = np.asarray(np.argmin(x))
        return _new(r.reshape((1,) * x.ndim) if keepdim else r)
    d = wrap_dim(dim, x.ndim)
    return _new(contiguous(np.asarray(np.argmin(x, axis=d, keepdims=keepdim)).astype(np.int64)))


LogsumexpBackward0 = node_class(
    "logsumexp", lambda n, g: _unsqueeze_to(g, n.attrs[0], n.attrs[1]) * _c((
        n.saved[0] - _unsqueeze_to(n.result, n.attrs[0], n.attrs[1])).exp()),
    "grad * exp(self - result).conj()", layout="contiguous")


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


def _softmax_grad(n: Any, g: Any) -> Any:
    y = n.result
    return y * (g - gm.sum(g * y, n.attrs, keepdim=True))


def _softmax_jvp(n: Any, ts: list) -> Any:
    y = result(n)
    return y * (ts[0] - (ts[0] * y).sum(n.attrs, keepdim=True))


SoftmaxBackward0 = node_class("_softmax", _softmax_grad, "result * (grad - sum(grad * result, dim))", on_arrays=True,
                              jvp=_softmax_jvp, layout="contiguous")
LogSoftmaxBackward0 = node_class(
    "_log_softmax", lambda n, g: g - gm.exp(n.result) * gm.sum(g, n.attrs, keepdim=True),
    "grad - exp(result) * sum(grad, dim)", on_arrays=True,
    jvp=lambda n, ts: ts[0] - (ts[0] * result(n).exp()).sum(n.attrs, keepdim=True),  # (with dtype= the engine casts the gradient)
    layout="contiguous")


def _softmax_input(input: Tensor, dim: Any, dtype: Any, log: bool = False) -> tuple:
    x = input._data
    if dtype is not None:
        x = x.astype(dtype.np)
    elif x.dtype.kind not in "fc" and not _dtype.is_bfloat16(x.dtype) and x.size:  # (torch runs no kernel on nothing)
        d = wrap_dim(dim, x.ndim)
        kernel = ("log_" if log else "") + ("softmax_lastdim" if d >= x.ndim - 1 else "softmax") + "_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_LEGACY_NAMES[input.dtype.name]}\'')
    return x, wrap_dim(dim, x.ndim)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable for large inputs."""
    x, d = _softmax_input(input, dim, dtype)
    if x.ndim == 0:  # (1, or NaN for a non-finite x, as torch's x - max gives)
        return record(SoftmaxBackward0, _f32.softmax(x.reshape(1), 0).reshape(()), (input,), save_result=True, attrs=d)
    e = _f32.softmax(x, d) if x.size else x.copy()
    return record(SoftmaxBackward0, e, (input,), save_result=True, attrs=d)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable for large inputs."""
    x, d = _softmax_input(input, dim, dtype, log=True)
    if x.ndim == 0:
        return record(LogSoftmaxBackward0, _f32.log_softmax(x.reshape(1), 0).reshape(()), (input,), save_result=True,
                      attrs=d)
    if x.size:
        s = _f32.log_softmax(x, d)
    else:
        s = x.copy()
    return record(LogSoftmaxBackward0, s, (input,), save_result=True, attrs=d)


def _all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    return _new(contiguous(np.asarray(np.all(x, axis=None if dim is None else _dims_arg(dim, x.ndim), keepdims=keepdim))))


def _any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    x = input._data
    return _new(contiguous(np.asarray(np.any(x, axis=None if dim is None else _dims_arg(dim, x.ndim), keepdims=keepdim))))


# =========================================================================== more reductions
def _named(name: str, fields: tuple) -> type:
    def __new__(cls, *vals):  # noqa: N807
        return tuple.__new__(cls, vals)

    props = {f: property(lambda self, i=i: self[i]) for i, f in enumerate(fields)}

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"{_dtype.PREFIX[0]}.return_types.{name}(\n{body})"

    return type(name, (tuple,), {"__new__": __new__, "__repr__": __repr__, "_fields": fields, "__slots__": (),
                                 "__module__": "ember.return_types",
                                 **props})


_VI = ("values", "indices")
_RT = {n: _named(n, _VI) for n in ("median", "nanmedian", "mode", "kthvalue", "topk", "sort", "cummax", "cummin")}
_RT["aminmax"] = _named("aminmax", ("min", "max"))
_RT["histogram"] = _named("histogram", ("hist", "bin_edges"))

# ``torch.return_types``: the named tuples above, reachable by name (isinstance checks, pattern use)
return_types = collections.namedtuple("return_types", ("max", "min", *_RT))(
    _return_type("max"), _return_type("min"), *_RT.values())


def _check_float(input: Tensor, name: str) -> np.ndarray:
    x = input._data
    if x.dtype.kind not in "fc" and not _dtype.is_bfloat16(x.dtype):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_LEGACY_NAMES[input.dtype.name]}")
    return x


def _expand_back(g: Tensor, n: Any) -> Tensor:
    dims, keepdim = n.attrs[0], n.attrs[1]
    return _unsqueeze_to(g, dims, keepdim).expand(n._in_meta[0][0])


# --------------------------------------------------------------------------- prod
def _prod_grad(x: Tensor, g: Tensor, result: Tensor, dims: tuple | None, keepdim: bool) -> Tensor:
    """d prod / d x_i = product of the other elements; exact also where x has zeros."""
    xd = x._data
    if xd.ndim == 0:  # the product of one element: the other elements' product is empty, 1
        return g.reshape(())
    if dims is None:
        gr, rr = g.reshape((1,) * xd.ndim), result.reshape((1,) * xd.ndim)
        flat_dim = None
    else:
        gr, rr = _unsqueeze_to(g, dims, keepdim), _unsqueeze_to(result, dims, keepdim)
        flat_dim = dims[0]
    if not (xd == 0).any():
        return gr * _c(rr / x)
    if flat_dim is not None and xd.shape[flat_dim] == 1:  # (torch's, with zeros: grad itself, no graph through self)
        return gr
    # with zeros: product of the others, built as prod over a matrix with x_i replaced by 1
    from .creation import eye
    from .indexing import where

    if flat_dim is None:
        xm = x.reshape(-1)
        n = xm._data.shape[0]
        m = where(eye(n, dtype=_dtype.bool_), 1.0, xm.unsqueeze(0).expand(n, n))
        return gr * _c(m.to(x.dtype).prod(1).reshape(xd.shape))
    xm = x.movedim(flat_dim, -1)
    n = xd.shape[flat_dim]
    m = where(eye(n, dtype=_dtype.bool_), 1.0, xm.unsqueeze(-2).expand(xm.shape[:-1] + (n, n)))
    others = m.to(x.dtype).prod(-1).movedim(-1, flat_dim)
    return gr * _c(others)


ProdBackward0 = node_class("prod", lambda n, g: _prod_grad(n.saved[0], g, n.result, None, False),
                           "grad * product of the other elements")
ProdBackward1 = node_class("prod", lambda n, g: _prod_grad(n.saved[0], g, n.result, (n.attrs[0],), n.attrs[1]),
                           "grad * product of the other elements along dim", suffix=1, layout="contiguous")


@autocast_op("fp32")
def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product of all elements, or along one ``dim``."""
    x = input._data
    npd = _sum_dtype(x, dtype, input)
    if dtype is not None:
        x = x.astype(npd)
    if dim is None:
        return record(ProdBackward0, np.asarray(x.prod(dtype=npd)), (input,), (input,), save_result=True)
    d = wrap_dim(dim, x.ndim)
    res = np.asarray(x.prod(axis=d if x.ndim else None, dtype=npd, keepdims=keepdim and x.ndim > 0))
    return record(ProdBackward1, res, (input,), (input,), save_result=True, attrs=(d, keepdim or x.ndim == 0))


# --------------------------------------------------------------------------- var / std
def _var_args(dim: Any, unbiased: Any, keepdim: bool, correction: Any) -> tuple:
    if isinstance(dim, bool):  # var(x, True): the old (input, unbiased) overload
        dim, unbiased = None, dim
    if correction is not None and unbiased is not None:
        raise RuntimeError("var(): cannot specify both unbiased and correction")
    c = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    return dim, float(c), keepdim


def _var_np(x: np.ndarray, dims: tuple, c: float, keepdim: bool, name: str = "var") -> tuple:
    n = 1
    for d in dims:
        n *= x.shape[d]
    with np.errstate(all="ignore"):
        m = x.mean(axis=dims, keepdims=True) if n else np.full([1 if i in dims else s for i, s in enumerate(x.shape)], np.nan, x.dtype)
        dev = x - m
        ss = (dev * np.conj(dev)).real.sum(axis=dims, keepdims=keepdim)
        denom = n - c if n > c else 0
        v = np.asarray(ss / denom if denom else ss * np.inf if n else np.full(ss.shape, np.nan)).astype(x.dtype.type(0).real.dtype)
        if denom == 0 and n:
            v = np.where(ss == 0, np.nan, v).astype(v.dtype)
        if n and x.size and x.dtype.kind == "f":  # equal values have exactly zero spread (as torch computes; inf - inf is NaN)
            hi = x.max(axis=dims, keepdims=keepdim)
            const = (hi == x.min(axis=dims, keepdims=keepdim)) & np.isfinite(hi)
            if const.any():
                v = np.where(const & (denom > 0), 0, v).astype(v.dtype)
    if n - c <= 0:
        import warnings

        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel).", UserWarning, stacklevel=4)
    mean_ = m if keepdim else m.reshape(v.shape)
    return v, mean_, n


def _var_grad(n: Any, g: Tensor) -> Tensor:
    x = n.saved[0]
    dims, keepdim, c, cnt, whole = n.attrs
    if (whole or x.dim() == 0) and cnt - c <= 0:
        from .indexing import where

        # torch, over the whole tensor without degrees of freedom: 2 / 0 times (self - mean), written
        # as NaN where self == mean and inf elsewhere (with a dim it divides by N - correction itself)
        return g * where(x == x.mean(), float("nan"), float("inf"))
    with np.errstate(divide="ignore"):  # no degrees of freedom: inf, hence NaN or inf, as in torch
        k = float(np.true_divide(2.0, cnt - c))
    return k * _unsqueeze_to(g, dims, keepdim) * (x - x.mean(dims, keepdim=True))


def _std_grad(n: Any, g: Tensor, result: Tensor) -> Tensor:
    from .indexing import where

    x = n.saved[0]
    dims, keepdim, c, cnt, _ = n.attrs
    r = _unsqueeze_to(result, dims, keepdim)
    gd = _unsqueeze_to(g, dims, keepdim)
    # torch's: var's gradient for grad / (2 * result), that zeroed where the std is 0 (so the
    # derivative in grad there is 0 / 0, NaN, as torch's double backward has it)
    gv = where(_new(r._data == 0), 0.0, gd / (r * 2.0))
    with np.errstate(divide="ignore"):
        k = float(np.true_divide(2.0, cnt - c))
    return gv * (x - x.mean(dims, keepdim=True)) * k


VarBackward0 = node_class("var", _var_grad, "grad * 2 * (self - mean) / (N - correction)", layout="contiguous")
StdBackward0 = node_class("std", lambda n, g: _std_grad(n, g, n.result),
                          "grad * (self - mean) / ((N - correction) * result)", layout="contiguous")


def _var_std(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, name: str) -> tuple:
    x = input._data
    bf16 = _dtype.is_bfloat16(x.dtype)
    if x.dtype.kind not in "fc" and not bf16:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dim, c, keepdim = _var_args(dim, unbiased, keepdim, correction)
    dims = _dims_arg(dim, x.ndim)
    v, m, cnt = _var_np(_bf16_acc(x), dims, c, keepdim, name)
    if bf16:
        v, m = np.asarray(v).astype(x.dtype), np.asarray(m).astype(x.dtype)
    return v, m, (dims, keepdim, c, cnt, dim is None)


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` means 0)."""
    v, _, attrs = _var_std(input, dim, unbiased, keepdim, correction, "var")
    return record(VarBackward0, v, (input,), (input,), attrs=attrs)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Standard deviation over ``dim`` (see ``var``)."""
    v, _, attrs = _var_std(input, dim, unbiased, keepdim, correction, "std")
    return record(StdBackward0, np.sqrt(v), (input,), (input,), save_result=True, attrs=attrs)


def _mean_grad(n: Any, g: Tensor) -> Tensor:
    dims, keepdim, _, cnt = n.attrs[:4]
    return _unsqueeze_to(g, dims, keepdim).expand(n._in_meta[0][0]) / cnt


def _pair_grad(n: Any, gs: list, first: Any) -> Tensor:
    out = None
    if gs[0] is not None:
        out = first(n, gs[0])
    if gs[1] is not None:
        gm = _mean_grad(n, gs[1])
        out = gm if out is None else out + gm
    return out


def _std_result(n: Any) -> Tensor:
    arr, vc, ver = n._result
    from ..autograd import grad_mode as _gm

    return with_tangents(_new(arr, n if _gm._state.enabled else None, vc))


VarMeanBackward0 = node_class("var_mean", lambda n, gs: _pair_grad(n, gs, _var_grad),
                              "var's and mean's gradients, summed", n_outputs=2)
StdMeanBackward0 = node_class("std_mean", lambda n, gs: _pair_grad(n, gs, lambda n_, g: _std_grad(n_, g, _std_result(n_))),
                              "std's and mean's gradients, summed", n_outputs=2)


def _two_outputs(cls: type, a: np.ndarray, b: np.ndarray, input: Tensor, saved: tuple, attrs: Any,
                 save_first: bool = False) -> tuple:
    from ._core import _fw, _propagate, attach, needs_grad

    ta, tb = _new(contiguous(np.asarray(a))), _new(contiguous(np.asarray(b)))
    if needs_grad(input):
        node = attach(ta, cls, (input,), saved, save_result=save_first, attrs=attrs)
        node.n_outputs = 2
        tb._grad_fn, tb._rg, tb._out_nr = node, True, 1
    if _fw.on:
        _propagate(cls, (ta, tb), (input,), saved, attrs)
    return ta, tb


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """(var, mean) in one pass."""
    v, m, attrs = _var_std(input, dim, unbiased, keepdim, correction, "var_mean")
    return _two_outputs(VarMeanBackward0, v, m.astype(input._data.dtype), input, (input,), attrs)


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """(std, mean) in one pass."""
    v, m, attrs = _var_std(input, dim, unbiased, keepdim, correction, "std_mean")
    return _two_outputs(StdMeanBackward0, np.sqrt(v), m.astype(input._data.dtype), input, (input,), attrs,
                        save_first=True)


# --------------------------------------------------------------------------- norms
def _vnorm_grad(n: Any, g: Tensor) -> Tensor:
    dims, keepdim, p = n.attrs
    return _vnorm_grad_of(n.saved[0], n.result, dims, keepdim, p, g)


def _vnorm_grad_of(x: Tensor, result: Tensor, dims: tuple, keepdim: bool, p: float, g: Tensor) -> Tensor:
    """The gradient of vector_norm(x, p, dims, keepdim) = ``result`` for the incoming ``g``."""
    from .elementary import (
        sgn,
    )
    from .indexing import where

    gd = _unsqueeze_to(g, dims, keepdim)
    r = _unsqueeze_to(result, dims, keepdim)
    if p == 0:
        from ._core import zeros_grad

        return zeros_grad(x)  # (x * 0 would turn an inf element's gradient into NaN)
    if p == 1:
        return gd * sgn(x)
    if p == float("inf") or p == float("-inf"):
        m = np.abs(x._data) == r._data
        cnt = m.sum(axis=dims, keepdims=True)
        return gd * sgn(x) * _new((m / np.maximum(cnt, 1)).astype(x._data.dtype))
    # torch's norm_backward, factor by factor (its second derivative, NaN or 0 at a zero norm, follows
    # from where each mask sits): the mask applies to the norm's factor, not to grad
    zero = _new(r._data == 0)
    if p == 2:
        return gd * where(zero, 0.0, x / r)
    if p < 1:
        scaled = sgn(x) * where(_new(x._data == 0), 0.0, x.abs().pow(p - 1))
        return scaled * gd * r.pow(1 - p)
    scaled = sgn(x) * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
    return scaled * where(zero, 0.0, gd / r.pow(p - 1))


LinalgVectorNormBackward0 = node_class("linalg_vector_norm", _vnorm_grad,
                                       "grad * self * |self|^(p-2) / result^(p-1)", layout="contiguous")


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """The vector p-norm of ``x`` over ``dim`` (all elements by default); ord may be inf, -inf or 0."""
    a = _check_float(x, "linalg.vector_norm")
    if dtype is not None:
        a = a.astype(dtype.np)
        x = x.to(dtype)
    dims = _dims_arg(dim, a.ndim)
    p = float(ord)
    ab = np.abs(a)
    if a.size == 0 and (p < 0 or p == float("inf")):  # (a max or min over nothing)
        if dim is None:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                               "operation does not have an identity")
        for d in dims:
            if a.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on the dimension {d}because this "
                                   "dimension is empty and the operation does not have an identity")
    out_dt = ab.dtype  # (real for a complex input)
    if ab.dtype == np.float16 or _dtype.is_bfloat16(ab.dtype):
        ab = ab.astype(np.float32)  # (torch accumulates half-precision norms in float32)
    with np.errstate(all="ignore"):
        if p == float("inf"):
            r = ab.max(axis=dims, keepdims=keepdim, initial=0.0)
        elif p == float("-inf"):
            r = ab.min(axis=dims, keepdims=keepdim)
        elif p == 0:
            r = (ab != 0).sum(axis=dims, keepdims=keepdim).astype(ab.dtype)
        elif p == 1:
            r = ab.sum(axis=dims, keepdims=keepdim)
        elif p == 2:
            r = np.sqrt((ab * ab).sum(axis=dims, keepdims=keepdim))
        else:
            r = (ab ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
    r = np.asarray(r, dtype=out_dt)
    return record(LinalgVectorNormBackward0, r, (x,), (x,), save_result=True, attrs=(dims, keepdim, p))


def _dist_grad(n: Any, g: Tensor) -> tuple:
    a, b = n.saved
    gd = _vnorm_grad_of(a - b, n.result, n.attrs[0], False, n.attrs[1], g)
    return (gd.sum_to_size(tuple(a.shape)) if n.needs[0] else None,
            (-gd).sum_to_size(tuple(b.shape)) if n.needs[1] else None)


DistBackward0 = node_class("dist", _dist_grad, "the p-norm's gradient at input - other, and its negative")


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other (broadcast), over all elements."""
    require_tensors("dist", input, other)
    from .pointwise import sub

    d = sub(input.detach(), other.detach())
    r = vector_norm(d, p)._data
    return record(DistBackward0, r, (input, other), (input, other), save_result=True,
                  attrs=(tuple(range(d._data.ndim)), float(p)))


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Any = None, dtype: Any = None) -> Tensor:
    """torch.norm: the Frobenius / vector p-norm, or 'nuc' for the nuclear norm of matrices."""
    if out is not None:
        return out_call(norm, "linalg_vector_norm", (input, p, dim, keepdim), {"dtype": dtype}, out, "exact")
    if isinstance(p, str):
        if p == "fro":
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            from .linalg import matrix_norm

            return matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"norm(): unsupported norm type {p}")
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


# --------------------------------------------------------------------------- boolean reductions
def _bool_reduce(input: Tensor, dim: Any, keepdim: bool, fn: Any) -> Tensor:
    x = input._data
    axis = None if dim is None else _dims_arg(dim, x.ndim)
    r = np.asarray(fn(x, axis=axis, keepdims=keepdim))
    return _new(contiguous(r.astype(np.uint8) if x.dtype == np.uint8 else r))


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element (along ``dim``) is nonzero."""
    return _bool_reduce(input, dim, keepdim, np.all)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _bool_reduce(input, dim, keepdim, np.any)


_all, _any = all, any


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    x = input._data
    axis = None if dim is None else _dims_arg(dim, x.ndim)
    return _new(contiguous(np.asarray(np.count_nonzero(x, axis=axis), dtype=np.int64)))


NansumBackward0 = node_class("nansum", lambda n, g: _expand_back(g, n) * _new(~np.isnan(n.attrs[2])),
                             "grad where self is not nan", layout="contiguous")


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum treating NaN as zero."""
    x = input._data
    npd = _sum_dtype(x, dtype, input)
    dims = _dims_arg(dim, x.ndim)
    res = np.asarray(np.nansum(x, axis=dims, keepdims=keepdim, dtype=npd))
    return record(NansumBackward0, res, (input,), (input,),  # (saved, as torch: an in-place change is caught)
                  attrs=(dims, keepdim, x if x.dtype.kind == "f" else np.zeros(x.shape)))


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of the non-NaN elements."""
    _check_float(input, "nanmean")
    cnt = count_nonzero(_new(~np.isnan(input._data)), dim)
    if keepdim:
        cnt = _new(np.asarray(np.count_nonzero(~np.isnan(input._data), axis=_dims_arg(dim, input._data.ndim), keepdims=True)))
    return nansum(input, dim, keepdim, dtype=dtype) / cnt


def _aminmax_jvp(n: Any, ts: list) -> tuple:
    # each output's tangent: the input's tangent at its extreme elements (ties share it evenly)
    x = n.saved[0]._data
    dims, keepdim, _ = n.attrs
    return tuple((ts[0] * _tie_share(x, r, dims, keepdim)).sum(dims, keepdim)
                 for r in (x.min(axis=dims, keepdims=keepdim), x.max(axis=dims, keepdims=keepdim)))


AminmaxBackward0 = node_class(
    "aminmax", lambda n, gs: _aminmax_grad(n, gs), "grad split over the minimal and the maximal elements", n_outputs=2,
    jvp=_aminmax_jvp)


def _aminmax_grad(n: Any, gs: list) -> Tensor:
    x = n.saved[0]._data
    dims, keepdim, outs = n.attrs
    mn, mx = n.output_array(outs[0], 0), n.output_array(outs[1], 1)  # (both checked for in-place changes)
    out = None
    for g, r in zip(gs, (mn, mx)):
        if g is None:
            continue
        part = _unsqueeze_to(g, dims, keepdim) * _tie_share(x, r, dims, keepdim)
        out = part if out is None else out + part
    return out


def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False) -> tuple:
    """(amin, amax) in one call."""
    x = input._data
    if x.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity.")
    dims = _dims_arg(dim, x.ndim)
    mn, mx = x.min(axis=dims, keepdims=keepdim), x.max(axis=dims, keepdims=keepdim)
    outs: list = []
    a, b = _two_outputs(AminmaxBackward0, mn, mx, input, (input,), (dims, keepdim, outs))
    outs.extend((t._data, t._vc, t._vc[0]) for t in (a, b))
    return _RT["aminmax"](a, b)

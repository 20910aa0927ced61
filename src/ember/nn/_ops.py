"""The differentiable primitives behind nn layers: each a NumPy forward plus a backward node.

The heavy array ops (convolution, pooling, normalisation, embedding) and the activations compute
their gradients with NumPy on the saved arrays. Under ``create_graph=True`` (grad mode on inside
the backward) every one of them switches to a gradient that is itself recorded: ember
convolutions, nodes whose derivative is the op's adjoint (pooling, pads, embedding), derivative
formulas in ember ops (activations, smooth L1), or the op recomputed in ember ops and
differentiated (group norm), so that second derivatives are right.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._autocast import autocast_op
from .._dtype import is_bfloat16
from .._tensor import Tensor, _new
from ..autograd import grad_mode as _grad_mode
from ..ops import _float32 as _f32
from ..ops._core import _c as _conj
from ..ops._core import add_rows as _add_rows
from ..ops._core import check_broadcast, check_tensor_args, node_class, record, result_dtype, where_np
from ..ops._core import select_grad as _select_grad
from ..ops._erf import erf as erf_np
from ..ops.indexing import where as _where

# the convolutions live in _conv.py (every spatial rank); re-exported here for nn.functional
from ._conv import _col2im, _pair, _windows, conv1d, conv2d, conv_transpose2d  # noqa: F401

# the poolings live in _pool.py (every spatial rank); re-exported here for nn.functional
from ._pool import (  # noqa: F401
    _adaptive_matrix,
    _scatter_flat,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)


def _c(arr: Any, like: np.ndarray) -> np.ndarray:
    return np.asarray(arr, dtype=like.dtype)


def _const(arr: np.ndarray) -> Tensor:
    return _new(np.asarray(arr))


# ============================================================================ activations
def _elementwise(name: str, fwd: Any, dfn: Any, formula: str, suffix: int = 0, dfn_ops: Any = None,
                 keep: Any = None) -> Any:
    """An activation whose gradient is ``grad * dfn(x, *params)`` (a NumPy derivative).

    A ``dfn`` that returns a bool mask means "grad where the mask holds, else 0", and ``keep(x,
    *params)`` restricts any derivative the same way: torch selects there rather than multiplies,
    so an inf gradient where the activation is flat gives 0, not NaN.
    ``dfn_ops(x, *params)``: the same derivative in ember ops on the input tensor, used under
    ``create_graph=True`` so that second derivatives see how it depends on x. Without it the
    derivative is a constant there, which is exact only for piecewise-linear activations."""
    def local_grad(n: Any) -> np.ndarray:  # d output / d input, in the input's dtype (or a bool mask)
        x = n.saved[0]._data
        d = dfn(x, *n.attrs)
        return d if getattr(d, "dtype", None) == np.bool_ else _c(d, x)

    def derivative(n: Any, g: Tensor) -> Tensor:
        if dfn_ops is not None and _grad_mode._state.enabled:
            d = dfn_ops(n.saved[0], *n.attrs)
        else:
            d = local_grad(n)
            if d.dtype == np.bool_:
                return _select_grad(g, d)
            d = _const(d)
        if keep is not None:
            return _select_grad(g, keep(n.saved[0]._data, *n.attrs), d)
        return g * d

    def fast(n: Any, g: Tensor) -> Tensor:  # the same, on arrays (no graph is being built)
        d = local_grad(n)
        if d.dtype == np.bool_:
            return _select_grad(g, d)
        r = g._data * d
        if keep is not None:
            r = where_np(keep(n.saved[0]._data, *n.attrs), r, r.dtype.type(0))
        return _new(r)

    cls = node_class(name, derivative, formula, suffix, fast=fast,
                     fast_any_meta=True)  # (the gradient has the input's shape and dtype)

    def op(input: Tensor, *params: Any) -> Tensor:
        x = input._data
        if x.dtype.kind != "f" and not is_bfloat16(x.dtype):
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{input.dtype.name.capitalize()}\'')
        with np.errstate(over="ignore", invalid="ignore"):
            res = _c(fwd(x, *params), x)
        return record(cls, res, (input,), (input,), attrs=params)

    op.__name__ = name
    return op, cls


_SQRT2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _gelu_f(x: np.ndarray, approximate: str) -> np.ndarray:
    return _f32.gelu_tanh(x) if approximate == "tanh" else _f32.gelu(x)


def _gelu_d(x: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        inner = _SQRT_2_PI * (x + 0.044715 * (x * x * x))
        t = np.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
    cdf = 0.5 * (1 + erf_np(x / _SQRT2))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return cdf + x * pdf


def _sigm(x: np.ndarray) -> np.ndarray:
    # exp(-x) overflows harmlessly to inf (ember's floating-point warnings are silenced)
    t = np.exp(-x, out=np.empty(x.shape, x.dtype))  # (an array even for 0-d x: the steps below write into it)
    t += 1
    return np.reciprocal(t, out=t)


def _silu_d(x: np.ndarray) -> np.ndarray:
    s = _sigm(x)
    return s * (1 + x * (1 - s))


def _softplus_np(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

leaky_relu, LeakyReluBackward0 = _elementwise(
    "leaky_relu", lambda x, s: where_np(x > 0, x, x * s), lambda x, s: where_np(x > 0, x.dtype.type(1), x.dtype.type(s)),
    "grad * (self > 0 ? 1 : negative_slope)")
elu, EluBackward0 = _elementwise(
    "elu", lambda x, a, sc, isc: where_np(x > 0, x * sc, a * sc * np.expm1(x * isc)),
    lambda x, a, sc, isc: where_np(x <= 0, a * sc * isc * np.exp(x * isc), sc),  # (NaN: torch's scale)
    "grad * (self > 0 ? scale : alpha * scale * input_scale * exp(self * input_scale))",
    dfn_ops=lambda x, a, sc, isc: _where(x <= 0, a * sc * isc * (x * isc).exp(), sc))


def _gelu_d_ops(x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        t = (_SQRT_2_PI * (x + 0.044715 * (x * x * x))).tanh()
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + (x / _SQRT2).erf()) + x * (-0.5 * x * x).exp() / math.sqrt(2 * math.pi)


gelu, GeluBackward0 = _elementwise("gelu", _gelu_f, _gelu_d, "grad * (Phi(self) + self * phi(self))",
                                   dfn_ops=_gelu_d_ops)
silu, SiluBackward0 = _elementwise(
    "silu", _f32.silu, _silu_d, "grad * sigmoid(self) * (1 + self * (1 - sigmoid(self)))",
    dfn_ops=lambda x: x.sigmoid() * (1 + x * (1 - x.sigmoid())))


def _mish_d_ops(x: Tensor) -> Tensor:
    from .functional import softplus

    t = softplus(x).tanh()
    return t + x * x.sigmoid() * (1 - t * t)


mish, MishBackward0 = _elementwise(
    "mish", lambda x: x * np.tanh(_softplus_np(x)),
    lambda x: np.tanh(_softplus_np(x)) + x * _sigm(x) * (1 - np.tanh(_softplus_np(x)) ** 2),
    "grad * (tanh(softplus(self)) + self * sigmoid(self) * (1 - tanh(softplus(self))^2))", dfn_ops=_mish_d_ops)
hardtanh, HardtanhBackward0 = _elementwise(
    "hardtanh", lambda x, lo, hi: np.clip(x, lo, hi), lambda x, lo, hi: (x > lo) & (x < hi),
    "grad * (min_val < self < max_val)")
hardsigmoid, HardsigmoidBackward0 = _elementwise(
    "hardsigmoid", lambda x: np.clip(x + 3, 0, 6) / 6, lambda x: x.dtype.type(1 / 6),
    "grad / 6 where -3 < self < 3", keep=lambda x: (x > -3) & (x < 3))
hardswish, HardswishBackward0 = _elementwise(
    "hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6,
    lambda x: where_np(x <= -3, 0.0, where_np(x < 3, x / 3 + 0.5, 1.0)),  # (torch's boundaries)
    "grad * (self < -3 ? 0 : self <= 3 ? self / 3 + 0.5 : 1)",
    dfn_ops=lambda x: _where(x <= -3, 0.0, _where(x < 3, x / 3 + 0.5, 1.0)), keep=lambda x: x > -3)
log_sigmoid, LogSigmoidBackward0 = _elementwise(
    "log_sigmoid", _f32.log_sigmoid, lambda x: _sigm(-x),
    "grad * sigmoid(-self)", dfn_ops=lambda x: (-x).sigmoid())
threshold, ThresholdBackward0 = _elementwise(
    "threshold", lambda x, th, v: where_np(x <= th, v, x), lambda x, th, v: ~(x <= th),  # (NaN passes, as in torch)
    "grad * (self > threshold)")
softshrink, SoftshrinkBackward0 = _elementwise(
    "softshrink", lambda x, lam: where_np(x > lam, x - lam, where_np(x < -lam, x + lam, x - x)),  # (NaN passes)
    lambda x, lam: (x > lam) | (x < -lam), "grad * (|self| > lambd)")
hardshrink, HardshrinkBackward0 = _elementwise(
    "hardshrink", lambda x, lam: where_np((x >= -lam) & (x <= lam), 0, x),  # (NaN passes, as in torch)
    lambda x, lam: (x > lam) | (x < -lam), "grad * (|self| > lambd)")


def _prelu_grads_recorded(n: Any, g: Tensor) -> tuple:
    """create_graph: the same gradients in ember ops (linear in grad; the weight's depends on x)."""
    xt, wt = n.saved
    pos = xt > 0
    gx = gw = None
    if n.needs[0]:
        gx = _where(pos, g, g * wt.reshape(n.attrs))
    if n.needs[1]:
        contrib = _where(pos, 0.0, g * xt)
        if wt.numel() == 1:
            gw = contrib.sum().reshape(tuple(wt.shape))
        else:
            gw = contrib.sum(tuple(i for i in range(xt.dim()) if i != 1)).reshape(tuple(wt.shape))
    return gx, gw


def _prelu_grads(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _prelu_grads_recorded(n, g)
    x, w = n.saved[0]._data, n.saved[1]._data
    gd = g._data
    wb = w.reshape(n.attrs)
    gx = gw = None
    if n.needs[0]:
        gx = _new(where_np(x > 0, gd, gd * wb).astype(x.dtype))
    if n.needs[1]:
        contrib = where_np(x > 0, 0, gd * x)
        if w.size == 1:
            gw = _new(np.asarray(contrib.sum(), x.dtype).reshape(w.shape))
        else:
            axes = tuple(i for i in range(x.ndim) if i != 1)
            gw = _new(contrib.sum(axis=axes).astype(x.dtype).reshape(w.shape))
    return gx, gw


PreluKernelBackward0 = node_class("_prelu_kernel", _prelu_grads, "grad * (self > 0 ? 1 : weight), grad * self * (self <= 0)")


@autocast_op("lower")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    x, w = input._data, weight._data
    if w.size != 1:
        if x.ndim < 2 or x.shape[1] != w.size:
            ch = x.shape[1] if x.ndim >= 2 else 1
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{w.size} and channel size = {ch}.")
        shape = [1] * x.ndim
        shape[1] = w.size
    else:
        shape = [1] * x.ndim
    wb = w.reshape(shape)
    return record(PreluKernelBackward0, where_np(x > 0, x, x * wb).astype(x.dtype), (input, weight),
                  (input, weight), attrs=tuple(shape))


# ============================================================================ linear
def _linear_fast(n: Any, g: Tensor) -> tuple:
    x, w = n.saved
    gd = g._data
    if gd.dtype.kind == "c":  # the formula conjugates
        return n.derivative(g)
    return (g if n.needs[0] else None, _new(gd @ w._data) if n.needs[1] else None,
            _new(gd.T @ x._data) if n.needs[2] else None)


AddmmBackward0 = node_class(
    "addmm", lambda n, g: (g if n.needs[0] else None,
                           g.mm(_conj(n.saved[1])) if n.needs[1] else None,
                           g.t().mm(_conj(n.saved[0])) if n.needs[2] else None),
    "grad, grad @ weight.conj(), grad^T @ input.conj()", fast=_linear_fast,
    fast_any_meta=True)  # (the bias gradient is summed to the bias's shape by the engine)


@autocast_op("lower")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor) and (bias is None or isinstance(bias, Tensor))):
        check_tensor_args("linear", input=input, weight=weight, bias=bias)  # (raises torch's TypeError)
        arg, pos = ("input", 1) if input is None else ("weight", 2)  # None passes that check: it is optional
        raise TypeError(f"linear(): argument '{arg}' (position {pos}) must be Tensor, not NoneType")
    x, w = input._data, weight._data
    if x.ndim == 2 and bias is not None and w.ndim == 2:
        if x.shape[1] != w.shape[1]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} and "
                               f"{w.shape[1]}x{w.shape[0]})")
        if x.dtype != w.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dn(x)} and {_dn(w)}")
        out = x @ w.T
        out += bias._data
        if out.dtype != x.dtype:  # (bfloat16: NumPy multiplies in float32; torch rounds the sum once)
            out = out.astype(x.dtype)
        return record(AddmmBackward0, out, (bias, input, weight), (input, weight))
    if x.ndim >= 1 and w.ndim == 2 and x.shape[-1] != w.shape[1]:
        lead = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{x.shape[-1]} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    out = input.matmul(weight.t())
    return out + bias if bias is not None else out


def _dn(x: np.ndarray) -> str:
    from .. import _dtype
    from ..ops.reduction import _LEGACY_NAMES

    return _LEGACY_NAMES[_dtype._FROM_NP[x.dtype].name]


# ============================================================================ embedding
def _embedding_grads(n: Any, g: Tensor) -> Tensor:
    idx, num, padding_idx, scale = n.attrs
    if _grad_mode._state.enabled:  # create_graph: a scatter whose derivative is the row gather again
        return _embedding_scatter(g, n.attrs)
    D = g._data.shape[-1]
    flat = idx.ravel()
    gd = g._data.reshape(-1, D)
    if scale:
        counts = np.bincount(flat, minlength=num)
        gd = gd / counts[flat][:, None]
    out = _add_rows(num, flat, gd)
    if padding_idx is not None and padding_idx >= 0:
        out[padding_idx] = 0
    return _new(out)


def _embedding_row_scale(attrs: tuple) -> np.ndarray:
    idx, num, padding_idx, scale = attrs
    flat = idx.ravel()
    f = np.ones(flat.shape, np.float64)
    if scale:
        f = f / np.bincount(flat, minlength=num)[flat]
    if padding_idx is not None and padding_idx >= 0:
        f = np.where(flat == padding_idx, 0.0, f)
    return f


def _embedding_scatter(g: Tensor, attrs: tuple) -> Tensor:
    idx, num = attrs[0], attrs[1]
    D = g._data.shape[-1]
    gd = g._data.reshape(-1, D) * _embedding_row_scale(attrs)[:, None].astype(g._data.dtype)
    return record(EmbeddingBackwardBackward0, _add_rows(num, idx.ravel(), gd), (g,), attrs=attrs)


def _embedding_gather(n: Any, gg: Tensor) -> Tensor:
    # as torch's embedding_dense_double_backward: padding rows masked, scale_grad_by_freq not applied
    idx = n.attrs[0]
    D = gg.shape[-1]
    f = _new(_embedding_row_scale(n.attrs[:3] + (False,)).astype(gg._data.dtype)[:, None])
    return (gg[_new(idx.ravel())] * f).reshape(idx.shape + (D,))


EmbeddingBackward0 = node_class("embedding", _embedding_grads, "grad rows summed into weight[indices]")
EmbeddingBackwardBackward0 = node_class("embedding_dense_backward", _embedding_gather, "grad rows read at indices")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    num = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        w = weight._data
        rows = np.unique(idx.ravel())
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)
        weight._vc[0] += 1
    out = weight._data[idx]
    return record(EmbeddingBackward0, out, (weight,), attrs=(idx, num, padding_idx, scale_grad_by_freq))


# ============================================================================ normalisation
def _norm_stats(x: np.ndarray, axes: tuple, eps: float) -> tuple:
    xf = x.astype(np.float64) if x.dtype == np.float16 else x
    mean = xf.mean(axis=axes, keepdims=True)
    xc = xf - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    return mean, var, rstd, (xc * rstd)


def _norm_input_grad(gxhat: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, axes: tuple) -> np.ndarray:
    m1 = gxhat.mean(axis=axes, keepdims=True)
    m2 = (gxhat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (gxhat - m1 - xhat * m2)


def _norm_grads_differentiable(n: Any, g: Tensor, axes: tuple, lead: tuple, cshape: Any, eps: float,
                               training: bool = True, rstd_np: Any = None, shift: Any = None) -> tuple:
    """Normalisation gradients written in ember ops (for ``create_graph=True``)."""
    x, w = n.saved[0], n.saved[1]
    wb = None if w is None else (w.reshape(cshape) if cshape is not None else w)
    if training:
        mu = x.mean(axes, keepdim=True)
        xc = x - mu
        rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        xc = x - _new(np.asarray(shift, x._data.dtype))
        rstd = _new(np.asarray(rstd_np, x._data.dtype))
    xhat = xc * rstd
    gx = gw = gb = None
    if n.needs[0]:
        gxhat = g * wb if wb is not None else g
        if training:
            gx = rstd * (gxhat - gxhat.mean(axes, keepdim=True) - xhat * (gxhat * xhat).mean(axes, keepdim=True))
        else:
            gx = gxhat * rstd
    if len(n.needs) > 1 and n.needs[1]:
        gw = (g * xhat).sum(lead)
    if len(n.needs) > 2 and n.needs[2]:
        gb = g.sum(lead)
    return gx, gw, gb


def _layer_norm_grads(n: Any, g: Tensor) -> tuple:
    xhat, rstd, axes, wshape = n.attrs[:4]
    if _grad_mode._state.enabled:
        return _norm_grads_differentiable(n, g, axes, tuple(range(g.dim() - len(wshape))), None, n.attrs[4])
    w = n.saved[1]
    gd = g._data
    gx = gw = gb = None
    lead = tuple(range(gd.ndim - len(wshape)))
    if n.needs[0]:
        gxhat = gd * w._data if w is not None else gd
        gx = _new(_norm_input_grad(gxhat, xhat, rstd, axes).astype(gd.dtype, copy=False))
    if len(n.needs) > 1 and n.needs[1]:
        gw = _new((gd * xhat).sum(axis=lead).astype(gd.dtype, copy=False))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(gd.sum(axis=lead).astype(gd.dtype, copy=False))
    return gx, gw, gb


NativeLayerNormBackward0 = node_class("native_layer_norm", _layer_norm_grads, "layer norm backward")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x = input._data
    if x.shape[x.ndim - len(ns):] != ns or len(ns) > x.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, "
                           f"{', '.join(str(s) for s in ns)}], but got input of size{list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t._data.shape)} and normalized_shape = {list(ns)}")
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    up = np.float32 if is_bfloat16(x.dtype) else None  # (bfloat16: torch normalises in float32, rounds once)
    _, _, rstd, xhat = _norm_stats(x if up is None else x.astype(up), axes, eps)
    out = xhat
    if weight is not None:
        out = out * (weight._data if up is None else weight._data.astype(up))
    if bias is not None:
        out = out + (bias._data if up is None else bias._data.astype(up))
    # (a copy only where out would otherwise be xhat itself, which backward keeps)
    out = out.astype(x.dtype, copy=out is xhat)
    return record(NativeLayerNormBackward0, out, (input, weight, bias), (input, weight),
                  attrs=(xhat, rstd, axes, ns, eps))


def _group_norm_grads_recorded(n: Any, g: Tensor) -> tuple:
    """create_graph: group norm recomputed in ember ops, and differentiated with a graph."""
    from ..autograd import grad as autograd_grad

    x, w = n.saved[0], n.saved[1]
    G, eps = n.attrs[2], n.attrs[3]
    N, C = x.shape[0], x.shape[1]
    xr = x.reshape(N, G, -1)
    xc = xr - xr.mean(2, keepdim=True)
    y = (xc * ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()).reshape(x.shape)
    cshape = (1, C) + (1,) * (x.dim() - 2)
    if w is not None:
        y = y * w.reshape(cshape)
    wanted = [t for t, need in zip((x, w), n.needs[:2]) if need and t is not None]
    got = iter(autograd_grad(y, wanted, g, create_graph=True, allow_unused=True) if wanted else ())
    gx = next(got) if n.needs[0] else None
    gw = next(got) if len(n.needs) > 1 and n.needs[1] and w is not None else None
    red = (0,) + tuple(range(2, x.dim()))
    gb = g.sum(red) if len(n.needs) > 2 and n.needs[2] else None
    return gx, gw, gb


def _group_norm_grads(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _group_norm_grads_recorded(n, g)
    xhat, rstd, G = n.attrs[:3]
    w = n.saved[1]
    gd = g._data
    N, C = gd.shape[:2]
    cshape = (1, C) + (1,) * (gd.ndim - 2)
    gx = gw = gb = None
    red = (0,) + tuple(range(2, gd.ndim))
    if n.needs[0]:
        gxhat = gd * w._data.reshape(cshape) if w is not None else gd
        gg = gxhat.reshape(N, G, -1)
        gx = _new(_norm_input_grad(gg, xhat.reshape(N, G, -1), rstd, (2,)).reshape(gd.shape).astype(gd.dtype, copy=False))
    if len(n.needs) > 1 and n.needs[1]:
        gw = _new((gd * xhat).sum(axis=red).astype(gd.dtype, copy=False))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(gd.sum(axis=red).astype(gd.dtype, copy=False))
    return gx, gw, gb


NativeGroupNormBackward0 = node_class("native_group_norm", _group_norm_grads, "group norm backward")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    x = input._data
    N, C = x.shape[:2]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(x.shape)} and num_groups={num_groups}")
    _, _, rstd, xh = _norm_stats(x.reshape(N, num_groups, -1), (2,), eps)
    xhat = xh.reshape(x.shape)
    cshape = (1, C) + (1,) * (x.ndim - 2)
    out = xhat
    if weight is not None:
        out = out * weight._data.reshape(cshape)
    if bias is not None:
        out = out + bias._data.reshape(cshape)
    # (a copy only where out would otherwise be xhat itself, which backward keeps)
    return record(NativeGroupNormBackward0, out.astype(x.dtype, copy=out is xhat), (input, weight, bias),
                  (input, weight), attrs=(xhat, rstd, num_groups, eps))


def _batch_norm_grads(n: Any, g: Tensor) -> tuple:
    xhat, rstd, training, cshape = n.attrs[:4]
    if _grad_mode._state.enabled:
        red = (0,) + tuple(range(2, g.dim()))
        return _norm_grads_differentiable(n, g, red, red, cshape, n.attrs[4], training, rstd, n.attrs[5])
    w = n.saved[1]
    gd = g._data
    red = (0,) + tuple(range(2, gd.ndim))
    gx = gw = gb = None
    if n.needs[0]:
        gxhat = gd * w._data.reshape(cshape) if w is not None else gd
        if training:
            gx = _norm_input_grad(gxhat, xhat, rstd, red)
        else:
            gx = gxhat * rstd
        gx = _new(gx.astype(gd.dtype, copy=False))
    if len(n.needs) > 1 and n.needs[1]:
        gw = _new((gd * xhat).sum(axis=red).astype(gd.dtype, copy=False))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(gd.sum(axis=red).astype(gd.dtype, copy=False))
    return gx, gw, gb


NativeBatchNormBackward0 = node_class("native_batch_norm", _batch_norm_grads, "batch norm backward")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.size != C:  # checked before the running stats are updated
            raise RuntimeError(f"{name} should contain {C} elements not {t._data.size}")
    cshape = (1, C) + (1,) * (x.ndim - 2)
    red = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // C
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        mean, var, rstd, xhat = _norm_stats(x, red, eps)
        if running_mean is not None:
            rm = running_mean._data
            rm *= (1 - momentum)
            rm += momentum * mean.reshape(C).astype(rm.dtype)
            running_mean._vc[0] += 1
        if running_var is not None:
            rv = running_var._data
            rv *= (1 - momentum)
            rv += momentum * (var.reshape(C) * count / (count - 1)).astype(rv.dtype)
            running_var._vc[0] += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        rstd = (1.0 / np.sqrt(running_var._data + eps)).reshape(cshape).astype(x.dtype)
        xhat = (x - running_mean._data.reshape(cshape)) * rstd
    out = xhat
    if weight is not None:
        out = out * weight._data.reshape(cshape)
    if bias is not None:
        out = out + bias._data.reshape(cshape)
    shift = None if training else running_mean._data.reshape(cshape).copy()
    return record(NativeBatchNormBackward0, out.astype(x.dtype), (input, weight, bias), (input, weight),
                  attrs=(xhat, rstd, training, cshape, eps, shift))


# ============================================================================ padding
def _pad_grads(n: Any, g: Tensor) -> Tensor:
    # the pad read each output element from flat position idx of its plane: sum the grads back
    # there (recorded under create_graph, where its derivative reads the same positions again)
    idx, shape = n.attrs
    lead = int(np.prod(shape[: len(shape) - idx.ndim]))
    inner = int(np.prod(shape[len(shape) - idx.ndim:]))
    flat = (np.arange(lead)[:, None] * inner + idx.ravel()[None, :]).reshape(g._data.shape)
    return _scatter_flat(g, shape, flat)


_PAD_NODES = {
    "reflect": node_class("reflection_pad2d", _pad_grads, "grad folded back onto the reflected elements"),
    "replicate": node_class("replication_pad2d", _pad_grads, "grad folded back onto the edge elements"),
    "circular": node_class("circular_pad2d", _pad_grads, "grad folded back onto the wrapped elements"),
}
def _const_pad_grad(n: Any, g: Tensor) -> Tensor:
    crop, src, shape = n.attrs
    if _grad_mode._state.enabled:  # create_graph: the crop as a differentiable slice (re-padded where cut)
        out = g[crop]
        widths = []
        for sl, size in zip(reversed(src), reversed(shape)):
            widths += [sl.start, size - sl.stop]
        return pad(out, widths) if any(widths) else out
    out = np.zeros(shape, g._data.dtype)
    out[src] = g._data[crop]
    return _new(out)


ConstantPadNdBackward0 = node_class("constant_pad_nd", _const_pad_grad, "grad cropped to self")


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    pad = tuple(pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    x = input._data
    k = len(pad) // 2
    if k > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]) for i in range(k)]
    if mode == "constant":
        crop = []
        src = []
        for (a, b), s in zip(widths, x.shape):
            src.append(slice(max(-a, 0), s - max(-b, 0)))
            crop.append(slice(max(a, 0), max(a, 0) + s - max(-a, 0) - max(-b, 0)))
        xs = x[tuple(src)]
        out = np.pad(xs, [(max(a, 0), max(b, 0)) for a, b in widths], constant_values=0 if value is None else value)
        return record(ConstantPadNdBackward0, out, (input,), attrs=(tuple(crop), tuple(src), x.shape))
    if value is not None and value != 0:
        raise NotImplementedError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    npmode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if npmode is None:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    inner_shape = x.shape[x.ndim - k:]
    if mode == "reflect":
        for (a, b), s in zip(widths[x.ndim - k:], inner_shape):
            if a >= s or b >= s:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({a}, {b}) at dimension {x.ndim - 1} of input {list(x.shape)}")
    idx = np.arange(int(np.prod(inner_shape))).reshape(inner_shape)
    idx = np.pad(idx, widths[x.ndim - k:], mode=npmode)
    lead = x.shape[: x.ndim - k]
    out = x.reshape(lead + (-1,))[..., idx.ravel()].reshape(lead + idx.shape)
    return record(_PAD_NODES[mode], np.ascontiguousarray(out), (input,), attrs=(idx, x.shape))


# ============================================================================ losses with nodes of their own
def _smooth_l1_grads_recorded(n: Any, g: Tensor) -> tuple:
    """The same gradient in ember ops, for create_graph (its second derivative is 1/beta, or 1 for
    huber, inside the quadratic zone)."""
    beta, reduction, huber = n.attrs
    d = n.saved[0] - n.saved[1]
    if huber:
        dd = d.clamp(-beta, beta)
    elif beta == 0:
        dd = d.sign()
    else:
        dd = _where(d.abs() < beta, d / beta, d.sign())
    if reduction == "mean":
        dd = dd / d.numel()
    gg = g * dd
    return (gg if n.needs[0] else None, -gg if n.needs[1] else None)


def _smooth_l1_grads(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _smooth_l1_grads_recorded(n, g)
    x, t = n.saved[0]._data, n.saved[1]._data
    beta, reduction, huber = n.attrs
    d = x - t
    if huber:
        dd = np.clip(d, -beta, beta)
    elif beta == 0:
        dd = np.sign(d)
    else:
        dd = where_np(np.abs(d) < beta, d / beta, np.sign(d))
    dd = dd.astype(x.dtype)
    if reduction == "mean":
        dd = dd / d.size
    gg = g * _const(dd)
    return (gg if n.needs[0] else None, -gg if n.needs[1] else None)


SmoothL1LossBackward0 = node_class("smooth_l1_loss", _smooth_l1_grads, "grad * clamp((self - target) / beta, -1, 1)")
HuberLossBackward0 = node_class("huber_loss", _smooth_l1_grads, "grad * clamp(self - target, -delta, delta)")


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(loss.mean(), loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), loss.dtype)
    return loss


def smooth_l1(input: Tensor, target: Tensor, reduction: str, beta: float, huber: bool) -> Tensor:
    check_broadcast(input._data.shape, target._data.shape)
    x, t = np.broadcast_arrays(input._data, target._data)
    # torch: smooth L1 computes in the promoted dtype, Huber in the input's
    dt = input._data.dtype if huber else result_dtype(input, target).np
    d = np.abs(x - t)
    if huber:
        loss = where_np(d < beta, 0.5 * d * d, beta * (d - 0.5 * beta))
    elif beta == 0:
        loss = d
    else:
        loss = where_np(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    loss = loss.astype(dt)
    cls = HuberLossBackward0 if huber else SmoothL1LossBackward0
    return record(cls, _reduce(loss, reduction), (input, target), (input, target), attrs=(beta, reduction, huber))


# ============================================================================ CTC loss
def _lse(*arrs: np.ndarray) -> np.ndarray:
    """Elementwise log(sum(exp(a))) over arrays of one shape, -inf where all are -inf."""
    st = np.stack(arrs)
    m = st.max(axis=0)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(st - safe).sum(axis=0))


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a moved k places along (right for k > 0), -inf filling the vacated places."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[k:] = a[:-k] if k < len(a) else a[:0]
    else:
        out[:k] = a[-k:] if -k < len(a) else a[:0]
    return out


def _ctc_one(lp: np.ndarray, tgt: np.ndarray, blank: int, want_grad: bool) -> tuple:
    """One sequence: lp (T, C) float64 log-probabilities, tgt (L,) labels. Returns (nll, grad (T, C)).

    alpha_t(s) / beta_t(s) over the blank-extended label sequence l' (length 2L+1), both in log
    space and both including the emission at t. The gradient is torch's: w.r.t. the
    log-probabilities as produced by log_softmax, exp(lp) - exp(log sum_{s: l'_s = c} alpha beta + nll - lp).
    """
    T, C = lp.shape
    L = len(tgt)
    S = 2 * L + 1
    ext = np.full(S, blank, np.int64)
    ext[1::2] = tgt
    skip = np.zeros(S, bool)  # may come from s-2: a label differing from the label two back
    if S > 2:
        skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    ninf = -np.inf
    alpha = np.full((T, S), ninf)
    if T == 0:
        return (0.0 if L == 0 else np.inf), np.zeros((T, C))
    e = lp[:, ext]  # (T, S) emissions
    alpha[0, 0] = e[0, 0]
    if S > 1:
        alpha[0, 1] = e[0, 1]
    for t in range(1, T):
        a = alpha[t - 1]
        a1 = _shift(a, 1)
        a2 = np.where(skip, _shift(a, 2), ninf)
        alpha[t] = _lse(a, a1, a2) + e[t]
    ll = _lse(alpha[T - 1, S - 1], alpha[T - 1, S - 2]) if S > 1 else alpha[T - 1, S - 1]
    nll = float(-ll)
    if not want_grad:
        return nll, None
    beta = np.full((T, S), ninf)
    beta[T - 1, S - 1] = e[T - 1, S - 1]
    if S > 1:
        beta[T - 1, S - 2] = e[T - 1, S - 2]
    skip_next = np.zeros(S, bool)  # s+2 may come from s
    skip_next[:max(S - 2, 0)] = skip[2:]
    for t in range(T - 2, -1, -1):
        b = beta[t + 1]
        b1 = _shift(b, -1)
        b2 = np.where(skip_next, _shift(b, -2), ninf)
        beta[t] = _lse(b, b1, b2) + e[t]
    ab = alpha + beta  # (T, S)
    lcab = np.full((T, C), ninf)
    for c in np.unique(ext):
        lcab[:, c] = _lse(*ab[:, ext == c].T) if (ext == c).sum() > 1 else ab[:, ext == c][:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        grad = np.exp(lp) - np.exp(lcab + nll - lp)
    return nll, grad


def _ctc_grads(n: Any, g: Tensor) -> Tensor:
    return _new(n.attrs[0]) * g.reshape(1, -1, 1)  # attrs[0]: the per-sequence gradients (T, N, C)


CtcLossBackward0 = node_class("ctc_loss", _ctc_grads, "alpha-beta gradient of the CTC negative log-likelihood")


def _lengths(v: Any, name: str) -> np.ndarray:
    if isinstance(v, Tensor):
        return v._data.astype(np.int64).reshape(-1)
    return np.asarray(v, np.int64).reshape(-1)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    lp = log_probs._data
    unbatched = lp.ndim == 2
    if lp.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss expects log_probs of 2 or 3 dimensions, got {lp.ndim}")
    if unbatched:  # as torch: the batch of one, squeezed after
        tgt1 = targets.unsqueeze(0) if isinstance(targets, Tensor) else np.asarray(targets)[None]
        res = ctc_loss(log_probs.unsqueeze(1), tgt1, _lengths(input_lengths, ""), _lengths(target_lengths, ""),
                       blank, reduction, zero_infinity)
        return res.squeeze(0) if reduction == "none" else res
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    tg = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    il, tl = _lengths(input_lengths, "input_lengths"), _lengths(target_lengths, "target_lengths")
    if len(il) != N:
        raise RuntimeError(f"input_lengths must be of size batch_size ({N}), but got {len(il)}")
    if len(tl) != N:
        raise RuntimeError(f"target_lengths must be of size batch_size ({N}), but got {len(tl)}")
    want = _grad_mode._state.enabled and log_probs._rg
    lp64 = lp.astype(np.float64)
    nll = np.zeros(N)
    raw = np.zeros((T, N, C)) if want else None
    offsets = np.concatenate(([0], np.cumsum(tl)))
    for b in range(N):
        if il[b] > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {il[b]} "
                               f"(while checking arguments for ctc_loss_cpu)")
        tgt = tg[b, :tl[b]] if tg.ndim == 2 else tg[offsets[b]:offsets[b + 1]]
        loss, grad = _ctc_one(lp64[:il[b], b], np.asarray(tgt, np.int64), blank, want)
        if zero_infinity and loss == np.inf:
            grad = None  # the loss itself is zeroed below, as torch does, by a where
        nll[b] = loss
        if want and grad is not None:
            raw[:il[b], b] = grad
    dt = lp.dtype
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    out = nll.astype(dt)
    res = record(CtcLossBackward0, out, (log_probs,), attrs=(raw.astype(dt),)) if want \
        else _new(out)
    if zero_infinity:
        from ..ops.indexing import where

        res = where(res == np.inf, _new(np.zeros((), dt)), res)
    if reduction == "mean":  # as torch: each loss over its target length (at least 1), then the batch mean
        return (res / _new(np.maximum(tl, 1).astype(dt).reshape(out.shape))).mean()
    if reduction == "sum":
        return res.sum()
    return res

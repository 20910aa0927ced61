"""The activations of torch.nn.functional that are ops of their own (each a NumPy forward plus a
node): leaky_relu, elu, gelu, silu, mish, hardtanh, hardsigmoid, hardswish, log_sigmoid, threshold,
softshrink, hardshrink, softplus and prelu."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._autocast import autocast_op
from .._dtype import LEGACY_NAMES, is_bfloat16
from .._tensor import Tensor, _new
from . import _float32 as _f32
from . import _grad_math as gm
from . import pointwise as _pw
from ._core import node_class, record, where_np
from ._strides import iterated
from .inplace import ALIASED_WRITES, SAVES_OUTPUT_INPLACE


def _c(arr: Any, like: np.ndarray) -> np.ndarray:
    return np.asarray(arr, dtype=like.dtype)


# ============================================================================ activations
# Each derivative is one formula in ops/_grad_math's vocabulary (``gm``): on the saved arrays in a
# plain backward, on Tensors under create_graph (so second derivatives differentiate the same maths).
def _elementwise(name: str, fwd: Any, grad: Any, formula: str, suffix: int = 0, layout: str = "iterated") -> Any:
    """An activation ``fwd(x, *params)`` whose input gradient is ``grad(g, x, *params)``."""
    cls = node_class(name, lambda n, g: grad(g, n.saved[0], *n.attrs), formula, suffix, on_arrays=True, layout=layout)

    def op(input: Tensor, *params: Any) -> Tensor:
        x = input._data
        if x.dtype.kind != "f" and not is_bfloat16(x.dtype):
            if name in ("hardtanh", "threshold") and x.dtype.kind in "iu":  # torch computes these on integers
                if x.dtype.kind == "u" and min(params) < 0:
                    raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits" if name == "hardtanh"
                                       else f"value cannot be converted to type {x.dtype.name}_t without overflow")
                with np.errstate(over="ignore", invalid="ignore"):  # (the limits cast to the input's type)
                    return _new(iterated(fwd(x, *(np.asarray(p).astype(x.dtype) for p in params)).astype(x.dtype), x))
            if name == "hardtanh" and x.dtype.kind == "b":
                raise RuntimeError("Bool inputs not supported for hardtanh")
            kernel = {"gelu": "GeluKernelImpl", "softshrink": "softshrink_check"}.get(name, f"{name}_cpu")
            raise NotImplementedError(f'"{kernel}" not implemented for \'{LEGACY_NAMES.get(x.dtype.name, x.dtype.name)}\'')
        with np.errstate(over="ignore", invalid="ignore"):
            res = _c(fwd(x, *params), x)
        return record(cls, res, (input,), (input,), attrs=params)

    op.__name__ = name
    return op, cls


_SQRT2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _gelu_f(x: np.ndarray, approximate: str) -> np.ndarray:
    return _f32.gelu_tanh(x) if approximate == "tanh" else _f32.gelu(x)


def _gelu_d(x: Any, approximate: str) -> Any:
    """gelu'(x)."""
    if approximate == "tanh":
        t = gm.tanh(_SQRT_2_PI * (x + 0.044715 * (x * x * x)))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + gm.erf(x / _SQRT2)) + x * gm.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _gelu_dd(x: Any, approximate: str) -> Any:
    """gelu''(x), one factor as in torch's gelu double backward (an infinite grad times it stays inf)."""
    if approximate == "tanh":  # (u = b (x + k x^3), t = tanh(u): (1 - t^2) (u' - x t u'^2 + 3 b k x^2))
        k = 0.044715
        t = gm.tanh(_SQRT_2_PI * (x + k * (x * x * x)))
        du = _SQRT_2_PI * (1 + 3 * k * x * x)
        return (1 - t * t) * (du - x * t * du * du + 3 * _SQRT_2_PI * k * x * x)
    return gm.exp(-0.5 * x * x) * _INV_SQRT_2PI * (2 - x * x)


# gelu's backward is an op of its own, as torch's gelu_backward, whose derivative in the input is
# grad * grad_output * gelu''(self) (differentiating gelu'(x)'s terms instead gives inf - inf for an
# infinite grad_output)
GeluBackwardBackward0 = node_class(
    "gelu_backward", lambda n, gg: (gelu_backward(gg, n.saved[1], n.attrs) if n.needs[0] else None,
                                    gg * n.saved[0] * _gelu_dd(n.saved[1], n.attrs) if n.needs[1] else None),
    "gelu_backward(grad, self), grad * grad_output * gelu''(self)", on_arrays=True)


def gelu_backward(g: Any, x: Any, approximate: str) -> Any:
    """``g * gelu'(x)``: recorded as an op of its own (GeluBackwardBackward0) when a graph is built."""
    if isinstance(g, Tensor):
        with np.errstate(all="ignore"):
            out = np.asarray(g._data * _gelu_d(x._data, approximate), dtype=np.result_type(g._data, x._data))
        return gm._backward_op(GeluBackwardBackward0, out, g, x, attrs=approximate)
    return g * _gelu_d(x, approximate)


def _silu_grad(g: Any, x: Any) -> Any:
    s = gm.sigmoid(x)
    return g * (s * (1 + x * (1 - s)))


def _softplus(x: Any) -> Any:
    if isinstance(x, Tensor):
        return softplus(x)
    return np.logaddexp(0, x)


def _mish_grad(g: Any, x: Any) -> Any:
    t = gm.tanh(_softplus(x))
    return g * (t + x * gm.sigmoid(x) * (1 - t * t))


_SIXTH_F32 = float(np.float32(1 / 6))  # torch's hardsigmoid backward multiplies by 1.0f / 6.0f, even in double
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

def _leaky_scale(x: Any, s: float) -> np.ndarray:
    """leaky_relu's derivative, 1 or the slope (rounded to the input's dtype, as torch's kernel)."""
    d = x._data if isinstance(x, Tensor) else x
    return np.where(d > 0, 1, s).astype(d.dtype)


# torch's backward of the piecewise-linear activations is an op taking the input (a selection of grad)
_SELECTION_NODES = {k: gm.selection_node(k) for k in ("hardtanh", "hardsigmoid", "softshrink", "hardshrink", "leaky_relu")}
leaky_relu, LeakyReluBackward0 = _elementwise(
    "leaky_relu", lambda x, s: where_np(x > 0, x, x * s),
    lambda g, x, s: gm.select_backward(_SELECTION_NODES["leaky_relu"], g, x, True, _leaky_scale(x, s)),
    "grad * (self > 0 ? 1 : negative_slope)")
def _elu_d(x: Any, a: float, sc: float, isc: float) -> Any:
    """elu'(x): exp of 0, not of x, at x = 0 (the same value; torch's second derivative takes the exp
    branch only where self < 0); the scale at NaN, as torch's."""
    return gm.where(x <= 0, gm.exp(gm.where(x < 0, x, 0.0) * isc) * (a * sc * isc), sc)


# elu's backward is an op of its own, as torch's elu_backward, whose derivative in the input is
# elu_backward(grad * grad_output * input_scale, self) * (self < 0): a product with the mask, so a NaN or
# infinite grad_output gives NaN where x >= 0 too (a selection between elu'(x)'s branches gives 0)
EluBackwardBackward0 = node_class(
    "elu_backward", lambda n, gg: (elu_backward(gg, n.saved[1], *n.attrs) if n.needs[0] else None,
                                   elu_backward(gg * n.saved[0] * n.attrs[2], n.saved[1], *n.attrs) * (n.saved[1] < 0)
                                   if n.needs[1] else None),
    "elu_backward(grad, self), elu_backward(grad * grad_output * input_scale, self) * (self < 0)", on_arrays=True)


def elu_backward(g: Any, x: Any, a: float, sc: float, isc: float) -> Any:
    """``g * elu'(x)``: recorded as an op of its own (EluBackwardBackward0) when a graph is built."""
    if isinstance(g, Tensor):
        with np.errstate(all="ignore"):
            out = np.asarray(g._data * _elu_d(x._data, a, sc, isc), dtype=np.result_type(g._data, x._data))
        return gm._backward_op(EluBackwardBackward0, out, g, x, attrs=(a, sc, isc))
    return g * _elu_d(x, a, sc, isc)


elu, EluBackward0 = _elementwise(
    "elu", lambda x, a, sc, isc: where_np(x > 0, x * sc, a * sc * np.expm1(x * isc)), elu_backward,
    "grad * (self > 0 ? scale : alpha * scale * input_scale * exp(self * input_scale))")
gelu, GeluBackward0 = _elementwise("gelu", _gelu_f, gelu_backward, "grad * (Phi(self) + self * phi(self))")
silu, SiluBackward0 = _elementwise(
    "silu", _f32.silu, _silu_grad, "grad * sigmoid(self) * (1 + self * (1 - sigmoid(self)))")
mish, MishBackward0 = _elementwise(
    "mish", lambda x: x * np.tanh(_softplus(x)), _mish_grad,
    "grad * (tanh(softplus(self)) + self * sigmoid(self) * (1 - tanh(softplus(self))^2))")
# the piecewise-linear ones select rather than multiply by a 0/1 mask, as torch does: an inf
# gradient where the activation is flat gives 0, not NaN; their masks are written as torch's kernels
# test (``x <= lo``, not ``x > lo``), so a NaN input passes the gradient as in torch
hardtanh, HardtanhBackward0 = _elementwise(
    "hardtanh", lambda x, lo, hi: np.clip(x, lo, hi),
    lambda g, x, lo, hi: gm.select_backward(_SELECTION_NODES["hardtanh"], g, x, ~((x <= lo) | (x >= hi))),
    "grad * (min_val < self < max_val)")
hardsigmoid, HardsigmoidBackward0 = _elementwise(
    "hardsigmoid", lambda x: np.clip(x + 3, 0, 6) / 6,
    lambda g, x: gm.select_backward(_SELECTION_NODES["hardsigmoid"], g, x, (x > -3) & (x < 3), _SIXTH_F32),
    "grad / 6 where -3 < self < 3")
hardswish, HardswishBackward0 = _elementwise(
    "hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6,
    lambda g, x: gm.select(g, ~(x <= -3), gm.where(x < 3, x / 3 + 0.5, 1.0)),  # (torch's boundaries; NaN passes)
    "grad * (self < -3 ? 0 : self <= 3 ? self / 3 + 0.5 : 1)")
log_sigmoid, LogSigmoidBackward0 = _elementwise(  # (torch's log_sigmoid_forward allocates contiguously)
    "log_sigmoid", _f32.log_sigmoid, lambda g, x: g * gm.sigmoid(-x), "grad * sigmoid(-self)", layout="contiguous")
threshold, ThresholdBackward0 = _elementwise(
    "threshold", lambda x, th, v: where_np(x <= th, v, x),
    lambda g, x, th, v: gm.threshold_backward(g, x, th),  # (NaN passes, as in torch)
    "grad * (self > threshold)")
ALIASED_WRITES.add(threshold)
SAVES_OUTPUT_INPLACE.update({f: type(c.__name__[:-1] + "1", (c,), {"__slots__": (), "__module__": "builtins"})
                             for f, c in ((leaky_relu, LeakyReluBackward0), (elu, EluBackward0))})
softshrink, SoftshrinkBackward0 = _elementwise(
    "softshrink", lambda x, lam: where_np(x > lam, x - lam, where_np(x < -lam, x + lam, x - x)),  # (NaN passes)
    lambda g, x, lam: gm.select_backward(_SELECTION_NODES["softshrink"], g, x, ~((x >= -lam) & (x <= lam))),
    "grad * (|self| > lambd)")
hardshrink, HardshrinkBackward0 = _elementwise(
    "hardshrink", lambda x, lam: where_np((x >= -lam) & (x <= lam), 0, x),  # (NaN passes, as in torch)
    lambda g, x, lam: gm.select_backward(_SELECTION_NODES["hardshrink"], g, x, ~((x >= -lam) & (x <= lam))),
    "grad * (|self| > lambd)")


def _prelu_grads(n: Any, g: Any) -> tuple:
    x, w = n.saved
    wshape = w.shape
    pos = x > 0
    gx = gw = None
    if n.needs[0]:
        # (g times the selected slope, so that the derivative in w is selected too: 0 where x > 0 whatever g
        # holds, as torch's double backward; torch's kernel backward takes x and w)
        gx = gm.also_reads(g * gm.where(pos, 1.0, w.reshape(n.attrs)), x)
    if n.needs[1]:
        contrib = gm.select(g, ~pos, x)  # (g * x where x <= 0, selected in both factors)
        dims = tuple(range(x.ndim)) if math.prod(wshape) == 1 else tuple(i for i in range(x.ndim) if i != 1)
        gw = gm.also_reads(gm.sum(contrib, dims).reshape(wshape), w)
    return gx, gw


PreluKernelBackward0 = node_class("_prelu_kernel", _prelu_grads,
                                  "grad * (self > 0 ? 1 : weight), grad * self * (self <= 0)", on_arrays=True,
                                  layout="iterated")


@autocast_op("lower")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    x, w = input._data, weight._data
    if x.dtype != w.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {LEGACY_NAMES[input.dtype.name]} and "
                           f"{LEGACY_NAMES[weight.dtype.name]}")
    if x.dtype.kind not in "fc" and not is_bfloat16(x.dtype):
        raise _pw.not_implemented("prelu_cpu", x.dtype)
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


SoftplusBackward0 = node_class(
    "softplus", lambda n, g: g * _pw.where_(n.saved[0] * n.attrs[0] > n.attrs[1], 1.0,
                                            (n.saved[0] * n.attrs[0]).sigmoid()),
    "grad * sigmoid(beta * self)", layout="iterated")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``."""
    x = input._data
    if x.dtype.kind in "biu":
        raise NotImplementedError(f'"softplus_cpu" not implemented for \'{LEGACY_NAMES[x.dtype.name]}\'')
    bx = x * beta
    with np.errstate(over="ignore"):
        res = where_np(bx > threshold, x, _f32.softplus(bx) / beta).astype(x.dtype)
    return record(SoftplusBackward0, res, (input,), (input,), attrs=(beta, threshold))

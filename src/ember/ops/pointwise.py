"""Elementwise ops: arithmetic, comparisons, and the unary functions, each with its derivative.

Each entry pairs a NumPy forward with a one-line derivative in ember ops (``grad * result``);
broadcast gradients are summed back to each input's shape by the engine.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import _dtype
from . import _erf
from . import _float32 as _f32
from ._core import (
    OpNode,
    Tensor,
    _c,
    _new,
    _state,
    attach,
    binary_operands,
    check_broadcast,
    check_tensor_args,
    float_dtype_for,
    is_scalar,
    node_class,
    record,
    require_tensors,
    select_grad,
    zeros_grad,
)
from .out import check_no_grad, out_call, write_out


# --------------------------------------------------------------------------- binary arithmetic
# The ``fast`` twins below restate a derivative on NumPy arrays. They run only for nodes from the
# ops' fast paths (operands of the output's shape and dtype, or a Python number) when backward
# builds no graph; the tests check both against torch. Complex gradients take the formula instead
# (``n.derivative``, which conjugates as torch's convention wants): one check of the grad's dtype
# keeps the real-valued hot path free of the conjugation helper's call.
def _arr(v: Any) -> Any:
    return v._data if isinstance(v, Tensor) else v


def _sub_fast(n: Any, g: Tensor) -> tuple:
    return (g if n.needs[0] else None, _new(np.negative(g._data)) if n.needs[1] else None)


def _mul_fast(n: Any, g: Tensor) -> tuple:
    gd = g._data
    if gd.dtype.kind == "c":
        return n.derivative(g)
    a, b = n.saved
    return (_new(gd * _arr(b)) if n.needs[0] else None, _new(gd * a._data) if n.needs[1] else None)


def _div_fast(n: Any, g: Tensor) -> tuple:
    gd = g._data
    if gd.dtype.kind == "c":
        return n.derivative(g)
    a, b = n.saved
    bd = _arr(b)
    return (_new(gd / bd) if n.needs[0] else None, _new(-gd * a._data / (bd * bd)) if n.needs[1] else None)


AddBackward0 = node_class(
    "add", lambda n, g: (g if n.needs[0] else None, (g if n.attrs == 1 else g * _c(n.attrs)) if n.needs[1] else None),
    "grad, grad * alpha")
SubBackward0 = node_class(
    "sub", lambda n, g: (g if n.needs[0] else None, (-g if n.attrs == 1 else g * -_c(n.attrs)) if n.needs[1] else None),
    "grad, -grad * alpha", fast=_sub_fast)  # (the fast path records alpha == 1 only)
RsubBackward1 = node_class("rsub", lambda n, g: -g, "-grad", suffix=1)
MulBackward0 = node_class(
    "mul", lambda n, g: (g * _c(n.saved[1]) if n.needs[0] else None, g * _c(n.saved[0]) if n.needs[1] else None),
    "grad * other, grad * self", fast=_mul_fast)
DivBackward0 = node_class(
    "div", lambda n, g: (g / _c(n.saved[1]) if n.needs[0] else None,
                         -g * _c(n.saved[0] / (n.saved[1] * n.saved[1])) if n.needs[1] else None),
    "grad / other, -grad * self / other^2", fast=_div_fast)


def _fast_arrays(a: Any, b: Any) -> tuple | None:
    """The common case without promotion: two tensors of one dtype, or a float tensor and a Python
    float/int (NumPy's weak scalars keep the tensor's dtype, as torch does). None otherwise."""
    if isinstance(a, Tensor):
        x = a._data
        if isinstance(b, Tensor):
            y = b._data
            if x.dtype is y.dtype:
                return x, y
        elif (type(b) is float or type(b) is int) and x.dtype.kind == "f":
            return x, b
    return None


def _binary(a: Any, b: Any, ufunc: Any) -> tuple:
    xa, xb, ta, tb, rt = binary_operands(a, b)
    try:
        out = _f32.binary_bfloat16(ufunc, xa, xb) if _dtype.is_bfloat16(rt) else ufunc(xa, xb)
    except ValueError:
        check_broadcast(np.shape(xa), np.shape(xb))
        raise
    return out, ta, tb


def add(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other, broadcasting, with torch's type promotion."""
    if alpha == 1 and out is None and isinstance(input, Tensor):
        x = input._data  # fast path: see mul
        if isinstance(other, Tensor):
            y = other._data
            if x.dtype is y.dtype and x.shape == y.shape and x.dtype.kind != "b":
                t = _new(x + y)
                if (input._rg or other._rg) and _state.enabled:
                    attach(t, AddBackward0, (input, other), attrs=1, same_meta=True)
                return t
        elif (type(other) is float or type(other) is int) and x.dtype.kind == "f":
            t = _new(x + other)
            if input._rg and _state.enabled:
                attach(t, AddBackward0, (input, None), attrs=1, same_meta=True)
            return t
    if alpha != 1:
        xa, xb, ta, tb, rt = binary_operands(input, other)
        res = (_f32.add_scaled_bfloat16(xa, xb, alpha) if _dtype.is_bfloat16(rt)
               else np.add(xa, _times_alpha(xb, alpha, rt)))
    else:
        res, ta, tb = _binary(input, other, np.add)
    return _out(record(AddBackward0, res, (ta, tb), attrs=alpha), out)


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other."""
    if alpha == 1 and out is None:
        f = _fast_arrays(input, other)
        if f is not None and f[0].dtype.kind != "b" and (type(f[1]) is not np.ndarray or f[0].shape == f[1].shape):
            t = _new(f[0] - f[1])
            if _state.enabled and (input._rg or (type(other) is not float and type(other) is not int and other._rg)):
                attach(t, SubBackward0, (input, other if isinstance(other, Tensor) else None), attrs=1, same_meta=True)
            return t
    _check_bool_sub(input, other)
    if alpha != 1:
        xa, xb, ta, tb, rt = binary_operands(input, other)
        res = (_f32.add_scaled_bfloat16(xa, xb, -alpha) if _dtype.is_bfloat16(rt)
               else np.subtract(xa, _times_alpha(xb, alpha, rt)))
    else:
        res, ta, tb = _binary(input, other, np.subtract)
    return _out(record(SubBackward0, res, (ta, tb), attrs=alpha), out)


def _check_bool_sub(a: Any, b: Any) -> None:
    ab = isinstance(a, Tensor) and a._data.dtype == np.bool_
    bb = isinstance(b, Tensor) and b._data.dtype == np.bool_
    if ab and bb:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if ab or bb or (isinstance(a, bool) and isinstance(b, Tensor)) or (isinstance(b, bool) and isinstance(a, Tensor)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """other - alpha * input (what ``3 - x`` calls)."""
    if alpha == 1 and (type(other) is float or type(other) is int) and input._data.dtype.kind == "f":
        t = _new(other - input._data)
        if input._rg and _state.enabled:
            attach(t, RsubBackward1, (input,), same_meta=True)
        return t
    _check_bool_sub(other, input)
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    xa, xb, ta, _, rt = binary_operands(input, other)
    return record(RsubBackward1, np.subtract(xb, xa if alpha == 1 else _times_alpha(xa, alpha, rt)), (ta,))


def _times_alpha(x: Any, alpha: Any, rt: np.dtype) -> Any:
    """``alpha * x`` in the result dtype ``rt``, with torch's checks on alpha (add/sub/rsub).
    (A Python scalar times alpha in NumPy is a float64 scalar, which would promote the result.)"""
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    if isinstance(alpha, (bool, np.bool_)) and rt.kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if rt.kind in "iub" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if rt.kind in "iu" and isinstance(alpha, complex) or rt.kind == "f" and isinstance(alpha, complex):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    return np.multiply(x, alpha, dtype=rt)


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Elementwise product."""
    if out is None and isinstance(input, Tensor):
        # fast path (the hottest in ember): same-dtype tensors of one shape, or a float tensor
        # times a Python number; everything else goes through promotion and broadcasting below
        x = input._data
        if isinstance(other, Tensor):
            y = other._data
            if x.dtype is y.dtype and x.shape == y.shape:
                t = _new(x * y)
                if (input._rg or other._rg) and _state.enabled:
                    attach(t, MulBackward0, (input, other), (input if other._rg else None, other if input._rg else None),
                           same_meta=True)
                return t
        elif (type(other) is float or type(other) is int) and x.dtype.kind == "f":
            t = _new(x * other)
            if input._rg and _state.enabled:
                attach(t, MulBackward0, (input, None), (None, other), same_meta=True)
            return t
    res, ta, tb = _binary(input, other, np.multiply)
    if (ta is not None and ta._rg) or (tb is not None and tb._rg):
        saved = (input if tb is not None and tb._rg else None, other if ta is not None and ta._rg else None)
        return _out(record(MulBackward0, res, (ta, tb), saved), out)
    return _out(_new(res if type(res) is np.ndarray else np.asarray(res)), out)


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """True division (integers promote to the default float); ``rounding_mode`` 'trunc' or 'floor'."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
        return _rounded_div(input, other, rounding_mode)
    if out is None:
        f = _fast_arrays(input, other)
        if f is not None and f[0].dtype.kind == "f" and (type(f[1]) is not np.ndarray or f[0].shape == f[1].shape):
            t = _new(f[0] / f[1])
            if _state.enabled:
                if type(other) is float or type(other) is int:
                    if input._rg:
                        attach(t, DivBackward0, (input, None), (None, other), same_meta=True)
                elif input._rg or other._rg:
                    attach(t, DivBackward0, (input, other), (input, other), same_meta=True)
            return t
    xa, xb, ta, tb, rt = binary_operands(input, other)
    bf16 = _dtype.is_bfloat16(rt)
    if rt.kind not in "fc" and not bf16:
        ft = _dtype.get_default_dtype().np
        xa, xb = np.asarray(xa, ft), np.asarray(xb, ft)
    try:
        res = _f32.binary_bfloat16(np.true_divide, xa, xb) if bf16 else np.true_divide(xa, xb)
    except ValueError:
        check_broadcast(np.shape(xa), np.shape(xb))
        raise
    if (ta is not None and ta._rg) or (tb is not None and tb._rg):
        saved = (input if tb is not None and tb._rg else None, other)
        return _out(record(DivBackward0, res, (ta, tb), saved), out)
    return _out(_new(res), out)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    xa, xb, ta, tb, rt = binary_operands(a, b)
    if rt.kind == "b":
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    check_broadcast(np.shape(xa), np.shape(xb))
    with np.errstate(divide="ignore", invalid="ignore"):
        if rt.kind in "iu":
            if np.any(np.asarray(xb) == 0):
                raise RuntimeError("ZeroDivisionError")
            q = np.floor_divide(xa, xb)
            if mode == "trunc":
                r = np.remainder(xa, xb)
                q = q + ((r != 0) & ((np.asarray(xa) < 0) != (np.asarray(xb) < 0)))
        else:
            q = np.true_divide(xa, xb)
            q = np.trunc(q) if mode == "trunc" else np.floor_divide(xa, xb)
    t = _new(np.asarray(q, dtype=rt))
    if (ta is not None and ta._rg) or (tb is not None and tb._rg):
        from ._core import record as _rec

        return _rec(DivBackward2, np.asarray(q, dtype=rt), (ta, tb))
    return t


DivBackward2 = node_class("div", lambda n, g: tuple(zeros_grad(g) if need else None for need in n.needs),
                          "0 (piecewise constant)", suffix=2)


def true_divide(input: Any, other: Any) -> Tensor:
    return div(input, other)


# --------------------------------------------------------------------------- pow
def _pow_scalar_grad(n: Any, g: Tensor) -> Tensor:
    e = n.attrs
    if e == 0:
        return zeros_grad(g)
    if e == 2:  # the common square: 2 * self, without a pow
        return g * _c(n.saved[0] * 2.0)
    return g * _c(n.saved[0] ** (e - 1) * e)


def _pow_scalar_fast(n: Any, g: Tensor) -> Tensor:
    e, x = n.attrs, n.saved[0]._data
    if e == 0:
        return zeros_grad(g)
    if e == 2:
        return _new(g._data * (x * 2.0))
    return _new(g._data * (_power_scalar(x, e - 1) * e))


PowBackward0 = node_class("pow", _pow_scalar_grad, "grad * exponent * self^(exponent - 1)", fast=_pow_scalar_fast)
PowBackward1 = node_class(
    "pow", lambda n, g: (
        g * _c(n.saved[1] * n.saved[0] ** (n.saved[1] - 1)) if n.needs[0] else None,
        g * _c(where_(n.saved[0] == 0, 0.0, n.result * n.saved[0].log())) if n.needs[1] else None),
    "grad * exponent * self^(exponent - 1), grad * result * log(self)", suffix=1)
PowBackward2 = node_class(
    "pow", lambda n, g: g * _c(n.result * _py_log(n.attrs, n.result.is_complex())) if n.attrs != 0
    else g * where_(n.result == 1, 0.0, 0.0),
    "grad * result * log(self)", suffix=2)


def _py_log(base: Any, cplx: bool) -> Any:
    """log of a Python-number base: complex (the principal branch) for a complex power, else a float
    (NaN for a negative base, as torch's real pow gradient has it)."""
    if cplx:
        return complex(np.log(complex(base)))
    return float(np.log(base))


def _power_scalar(x: np.ndarray, e: Any) -> np.ndarray:
    """x ** e for a float array and a Python number, with torch's special cases (they are also
    exact products or single ufuncs: NumPy's general power is a slow per-element loop)."""
    if e == 2:
        return x * x
    if e == 3:
        return x * x * x
    if e == 0.5:
        return np.sqrt(x)
    if e == -0.5:
        return np.reciprocal(np.sqrt(x))
    if e == -1:
        return np.reciprocal(x)
    if e == -2:
        return np.reciprocal(x * x)
    if type(e) is float and not e.is_integer():
        return _f32.power(x, e)  # (rounded once from float64: NumPy's float32 power is 1 ulp off in 20%)
    return x ** e


def _int_power(base: Any, exp: Any) -> np.ndarray:
    # integer powers with negative exponents, elementwise as torch computes them:
    # 1 -> 1, -1 -> +-1 by parity, anything else -> 0 (NumPy refuses these)
    b, e = np.broadcast_arrays(np.asarray(base), np.asarray(exp))
    if not np.any(e < 0):
        return np.power(b, e)
    pos = np.power(b, np.where(e < 0, 0, e))
    neg = np.where(b == 1, 1, np.where(b == -1, np.where(e % 2 == 0, 1, -1), 0)).astype(pos.dtype)
    return np.where(e < 0, neg, pos)


def where_(cond: Tensor, a: Any, b: Any) -> Tensor:
    from .indexing import where

    return where(cond, a, b)


def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """input ** exponent with tensor or scalar base and exponent."""
    if out is not None:
        return out_call(pow, "pow", (input, exponent), {}, out)
    if not isinstance(input, Tensor):
        t = exponent
        xb, xe, _, _, rt = binary_operands(input, t)
        res = _int_power(xb, xe) if rt.kind in "iu" else np.power(xb, xe)
        return record(PowBackward2, res, (t,), save_result=True, attrs=input)
    if isinstance(exponent, Tensor):
        xa, xe, ta, te, rt = binary_operands(input, exponent)
        if rt.kind == "b":
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        check_broadcast(np.shape(xa), np.shape(xe))
        with np.errstate(divide="ignore", invalid="ignore"):
            res = _int_power(xa, xe) if rt.kind in "iu" else _f32.power(xa, xe)
        return record(PowBackward1, res, (ta, te), (input, exponent), save_result=te._rg)
    if (type(exponent) is float or type(exponent) is int) and input._data.dtype.kind == "f":
        x = input._data
        t = _new(_power_scalar(x, exponent))
        if input._rg and _state.enabled:
            attach(t, PowBackward0, (input,), (input,), attrs=exponent, same_meta=True)
        return t
    if not is_scalar(exponent):
        raise TypeError(f"pow(): argument 'exponent' must be Tensor or Number, not {type(exponent).__name__}")
    xa, xe, ta, _, rt = binary_operands(input, exponent)
    if rt.kind in "iu" and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore"):
        if rt.kind == "b":  # bool ** bool stays bool
            res = np.power(xa.astype(np.int8), int(xe)).astype(np.bool_)
        elif rt.kind in "fc" and type(xe) is not np.ndarray:
            res = _power_scalar(xa, exponent)
        else:
            res = np.power(xa, xe)
    return record(PowBackward0, res, (ta,), (input,), attrs=exponent)


def _rpow(self: Tensor, base: Any) -> Tensor:
    return pow(base, self)


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input ** 2."""
    if out is not None:
        return out_call(square, "pow", (input,), {}, out)   # torch names the op it runs
    return pow(input, 2)


# --------------------------------------------------------------------------- unary
def _unary(name: str, fwd: Any, derivative: Any, formula: str, save_input: bool = False,
           save_result: bool = False, float_only: bool = True, fast: Any = None) -> tuple:
    cls = node_class(name, derivative, formula, fast=fast)

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        x = input._data
        if float_only and x.dtype.kind not in "fc":
            x = x.astype(float_dtype_for(x.dtype))
        res = fwd(x)  # floating-point warnings from ember's modules are silenced (ember/__init__)
        if out is None:
            t = _new(res)
            if input._rg and _state.enabled:
                attach(t, cls, (input,), (input,) if save_input else (), save_result, same_meta=x is input._data)
            return t
        return _out(record(cls, res, (input,), (input,) if save_input else (), save_result), out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; derivative: {formula}."
    return op, cls


def _sqrt_fast(n: Any, g: Tensor) -> Tensor:
    if g._data.dtype.kind == "c":
        return n.derivative(g)
    return _new(g._data / (2 * n.result_array()))


exp, ExpBackward0 = _unary("exp", _f32.exp, lambda n, g: g * _c(n.result), "grad * result.conj()", save_result=True,
                          fast=lambda n, g: _new(g._data * n.result_array()) if g._data.dtype.kind != "c" else n.derivative(g))
log, LogBackward0 = _unary("log", _f32.log, lambda n, g: g / _c(n.saved[0]), "grad / self.conj()", save_input=True,
                          fast=lambda n, g: _new(g._data / n.saved[0]._data) if g._data.dtype.kind != "c" else n.derivative(g))
sqrt, SqrtBackward0 = _unary("sqrt", np.sqrt, lambda n, g: g / (2 * _c(n.result)), "grad / (2 * result.conj())",
                             save_result=True, fast=_sqrt_fast)
sin, SinBackward0 = _unary("sin", np.sin, lambda n, g: g * _c(n.saved[0].cos()), "grad * cos(self).conj()", save_input=True)
cos, CosBackward0 = _unary("cos", np.cos, lambda n, g: g * -_c(n.saved[0].sin()), "grad * -sin(self).conj()", save_input=True)
# As in torch, the backward of tanh and sigmoid is an op of its own (one fused NumPy expression
# instead of three ember ops), with its own derivative for double backward.
TanhBackwardBackward0 = node_class(
    "tanh_backward", lambda n, gg: (gg * (1 - n.saved[1] * n.saved[1]) if n.needs[0] else None,
                                    gg * n.saved[0] * n.saved[1] * -2 if n.needs[1] else None),
    "grad * (1 - result^2), -2 * grad * grad_output * result")
SigmoidBackwardBackward0 = node_class(
    "sigmoid_backward", lambda n, gg: (gg * n.saved[1] * (1 - n.saved[1]) if n.needs[0] else None,
                                       gg * n.saved[0] * (1 - 2 * n.saved[1]) if n.needs[1] else None),
    "grad * result * (1 - result), grad * grad_output * (1 - 2 * result)")


def tanh_backward(grad_output: Tensor, output: Tensor) -> Tensor:
    y = output._data
    t = _new(_f32.tanh_grad(grad_output._data, y))
    if _state.enabled and (grad_output._rg or output._rg):
        attach(t, TanhBackwardBackward0, (grad_output, output), (grad_output, output))
    return t


def sigmoid_backward(grad_output: Tensor, output: Tensor) -> Tensor:
    y = output._data
    t = _new(_f32.sigmoid_grad(grad_output._data, y))
    if _state.enabled and (grad_output._rg or output._rg):
        attach(t, SigmoidBackwardBackward0, (grad_output, output), (grad_output, output))
    return t


def _tanh_grad(n: Any, g: Tensor) -> Tensor:
    y = n.result
    if y._data.dtype.kind == "c":  # tanh_backward's fused formula is for real tensors
        return g * _c(1 - y * y)
    return tanh_backward(g, y)


def _sigmoid_grad(n: Any, g: Tensor) -> Tensor:
    y = n.result
    if y._data.dtype.kind == "c":
        return g * _c(y * (1 - y))
    return sigmoid_backward(g, y)


def _tanh_fast(n: Any, g: Tensor) -> Tensor:
    if g._data.dtype.kind == "c":
        return n.derivative(g)
    y = n.result_array()
    return _new(_f32.tanh_grad(g._data, y))


tanh, TanhBackward0 = _unary("tanh", _f32.tanh, _tanh_grad,
                             "grad * (1 - result^2)", save_result=True, fast=_tanh_fast)


def _sigmoid_fast(n: Any, g: Tensor) -> Tensor:
    if g._data.dtype.kind == "c":
        return n.derivative(g)
    y = n.result_array()
    return _new(_f32.sigmoid_grad(g._data, y))


sigmoid, SigmoidBackward0 = _unary("sigmoid", _f32.sigmoid, _sigmoid_grad,
                                   "grad * result * (1 - result)", save_result=True, fast=_sigmoid_fast)
ThresholdBackwardBackward0 = node_class(
    "threshold_backward", lambda n, gg: (select_grad(gg, n.saved[1]._data > n.attrs) if n.needs[0] else None,
                                         zeros_grad(gg) if n.needs[1] else None),
    "grad where self > threshold, else 0")


def threshold_backward(grad_output: Tensor, output: Tensor, threshold: float) -> Tensor:
    """relu's backward as an op of its own (as torch has it): grad where output > threshold, else 0."""
    # a selection, not a multiply by the mask: an inf gradient where the output is clamped gives 0
    t = select_grad(grad_output.detach() if grad_output._rg else grad_output, output._data > threshold)
    if _state.enabled and (grad_output._rg or output._rg):
        attach(t, ThresholdBackwardBackward0, (grad_output, output), (grad_output, output), attrs=threshold)
    return t


def _relu_np(x: np.ndarray) -> np.ndarray:
    # zero first: maximum(0, x) keeps x's -0.0 and NaN, as torch's relu does. NumPy's maximum
    # against a scalar misses its SIMD loop (3x slower than against an array here), so the zero
    # is a row broadcast along the last axis
    if x.ndim and x.shape[-1] >= 8 and x.dtype.kind == "f":
        return np.maximum(np.zeros(x.shape[-1], x.dtype), x)
    return np.maximum(0, x)


relu, ReluBackward0 = _unary("relu", _relu_np, lambda n, g: threshold_backward(g, n.result, 0),
                             "grad * (result > 0)", save_result=True, float_only=False,
                             fast=lambda n, g: select_grad(g, n.result_array() > 0))
NegBackward0 = node_class("neg", lambda n, g: -g, "-grad")
AbsBackward0 = node_class("abs", lambda n, g: g * (n.saved[0].sgn() if n.saved[0].is_complex() else n.saved[0].sign()),
                          "grad * sgn(self)",
                          fast=lambda n, g: _new(g._data * np.sign(n.saved[0]._data)) if n.saved[0]._data.dtype.kind != "c"
                          else n.derivative(g), fast_any_meta=True)
SignBackward0 = node_class("sign", lambda n, g: zeros_grad(g), "0")


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-input."""
    if out is not None:
        return out_call(neg, "neg", (input,), {}, out, "found")
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return record(NegBackward0, np.negative(input._data), (input,))


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """|input|."""
    if out is not None:
        return out_call(abs, "abs", (input,), {}, out, "found")
    return record(AbsBackward0, np.abs(input._data), (input,), (input,))


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-1, 0 or 1 by the sign of each element."""
    if out is not None:
        return out_call(sign, "sign", (input,), {}, out, "found")
    x = input._data
    return record(SignBackward0, x.copy() if x.dtype == np.bool_ else _sign_np(x), (input,))


def _sign_np(x: np.ndarray) -> np.ndarray:
    # torch's sign of NaN is 0 (NumPy's is NaN)
    r = np.asarray(np.sign(x))
    return np.where(np.isnan(r), r.dtype.type(0), r) if r.dtype.kind not in "iub" else r


ClampBackward1 = node_class(
    "clamp", lambda n, g: select_grad(g, _clamp_mask(n.saved[0]._data, n.attrs)),
    "grad * (min <= self <= max)", suffix=1)
ClampBackward0 = node_class(
    "clamp", lambda n, g: (
        select_grad(g, _clamp_mask(n.saved[0]._data, (_d(n.saved[1]), _d(n.saved[2])))) if n.needs[0] else None,
        select_grad(g, _below(n.saved[0], n.saved[1], n.saved[2])) if n.needs[1] else None,
        select_grad(g, _above(n.saved[0], n.saved[1], n.saved[2])) if n.needs[2] else None),
    "grad where min <= self <= max, else to the bound that applied")


def _d(t: Any) -> Any:
    return None if t is None else t._data


def _clamp_mask(x: np.ndarray, bounds: tuple) -> np.ndarray:
    lo, hi = bounds
    m = np.ones(x.shape, dtype=bool)
    if lo is not None:
        m = m & (x >= lo)  # (not in place: a tensor bound may broadcast x to a larger shape)
    if hi is not None:
        m = m & (x <= hi)
    return m


def _below(x: Tensor, lo: Tensor, hi: Any) -> np.ndarray:
    m = x._data < lo._data
    if hi is not None:
        m = m & (lo._data <= hi._data)
    return m


def _above(x: Tensor, lo: Any, hi: Tensor) -> np.ndarray:
    m = x._data > hi._data
    if lo is not None:
        m = m | (lo._data > hi._data)
    return m


def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; scalar or tensor bounds."""
    if out is not None:
        return out_call(clamp, "clamp", (input, min, max), {}, out, "found")
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if not all(b is None or isinstance(b, Tensor) for b in (min, max)) and any(isinstance(b, Tensor) for b in (min, max)):
        # torch has no Tensor-and-Number overload; its argument parser reads a 0-d tensor that does not
        # require grad as a Number
        if all(b.dim() == 0 and not b.requires_grad for b in (min, max) if isinstance(b, Tensor)):
            min, max = (b.item() if isinstance(b, Tensor) else b for b in (min, max))
        else:
            got = ", ".join(["Tensor"] + [f"{k}={type(b).__name__}" for k, b in (("min", min), ("max", max)) if b is not None])
            raise TypeError(f"clamp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                            " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                            " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from ._core import result_dtype

        # torch's promotion over the input and both bounds (int32 clamped by a float32 tensor is float32)
        rt = result_dtype(input, min, max).np
        lo = (min if isinstance(min, Tensor) else _new(np.asarray(min, rt))) if min is not None else None
        hi = (max if isinstance(max, Tensor) else _new(np.asarray(max, rt))) if max is not None else None
        shape = input._data.shape
        for b in (lo, hi):
            if b is not None:
                check_broadcast(shape, b._data.shape)
                shape = np.broadcast_shapes(shape, b._data.shape)
        res = np.asarray(_clip(input._data.astype(rt, copy=False), None if lo is None else lo._data.astype(rt, copy=False),
                               None if hi is None else hi._data.astype(rt, copy=False)), dtype=rt)
        return record(ClampBackward0, res, (input, lo, hi), (input, lo, hi))
    x = input._data
    res = _clip(x, min, max)
    if res.dtype != x.dtype and (x.dtype.kind in "fc" or _dtype.is_bfloat16(x.dtype)):
        res = res.astype(x.dtype)
    elif x.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        res = _clip(x.astype(_dtype.get_default_dtype().np), min, max)
    return record(ClampBackward1, res, (input,), (input,), attrs=(min, max))


clip = clamp


def _clip(x: Any, lo: Any, hi: Any) -> Any:
    """max(x, lo) then min(., hi), keeping x itself where it equals a bound (torch: clamp(-0.0, max=0)
    is -0.0). NumPy's maximum and minimum return their second operand on a tie, so x goes second."""
    if lo is not None:
        x = np.maximum(lo, x)
    if hi is not None:
        x = np.minimum(hi, x)
    return x

# --------------------------------------------------------------------------- maximum / minimum
MaximumBackward0 = node_class(
    "maximum", lambda n, g: (
        _tie_grad(g, n.saved[0]._data, n.saved[1]._data, np.greater) if n.needs[0] else None,
        _tie_grad(g, n.saved[1]._data, n.saved[0]._data, np.greater) if n.needs[1] else None),
    "grad where self > other (half at ties), grad where other > self (half at ties)")
MinimumBackward0 = node_class(
    "minimum", lambda n, g: (
        _tie_grad(g, n.saved[0]._data, n.saved[1]._data, np.less) if n.needs[0] else None,
        _tie_grad(g, n.saved[1]._data, n.saved[0]._data, np.less) if n.needs[1] else None),
    "grad where self < other (half at ties), grad where other < self (half at ties)")


def _tie_grad(g: Tensor, a: np.ndarray, b: np.ndarray, cmp: Any) -> Tensor:
    # torch splits the gradient evenly where both operands are equal and selects 0 where the other
    # operand won (a selection: an inf gradient there gives 0, not NaN)
    other = np.less if cmp is np.greater else np.greater
    with np.errstate(invalid="ignore"):
        tie = a == b
        keep = ~other(a, b)
    if tie.any():
        g = select_grad(g, tie, 0.5) + select_grad(g, keep & ~tie)
        return g
    return select_grad(g, keep)


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise maximum (NaN wins)."""
    if out is not None:
        return out_call(maximum, "maximum", (input, other), {}, out)
    require_tensors("maximum", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return record(MaximumBackward0, np.maximum(xb, xa), (ta, tb), (input, other))  # (ties: input's, see _clip)


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise minimum (NaN wins)."""
    if out is not None:
        return out_call(minimum, "minimum", (input, other), {}, out)
    require_tensors("minimum", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return record(MinimumBackward0, np.minimum(xb, xa), (ta, tb), (input, other))


# --------------------------------------------------------------------------- comparisons (no grad)
def _compare(ufunc: Any, name: str) -> Any:
    def op(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return out_call(op, name, (input, other), {}, out, differentiable=False)
        if not isinstance(other, Tensor) and not is_scalar(other):
            if isinstance(other, (list, tuple, np.ndarray)):
                from .creation import tensor

                other = tensor(other)
            else:
                raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, not {type(other).__name__}")
        xa, xb, _, _, _ = binary_operands(input, other)
        try:
            return _new(np.asarray(ufunc(xa, xb)))
        except ValueError:
            check_broadcast(np.shape(xa), np.shape(xb))
            raise

    op.__name__ = name
    return op


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input: Tensor, other: Tensor) -> bool:
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    require_tensors("isclose", input, other)
    o = other._data if isinstance(other, Tensor) else other
    return _new(np.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _logical(ufunc: Any) -> Any:
    def op(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return out_call(op, ufunc.__name__, (input, other), {}, out, differentiable=False)
        require_tensors(ufunc.__name__, input, other)
        xa, xb, _, _, _ = binary_operands(input, other)
        check_broadcast(np.shape(xa), np.shape(xb))
        return _new(np.asarray(ufunc(xa, xb)))

    return op


def _bitwise(ufunc: Any, name: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        xa, xb, _, _, rt = binary_operands(input, other)
        if rt.kind not in "iub":
            raise not_implemented(f"{name}_cpu", rt)
        check_broadcast(np.shape(xa), np.shape(xb))
        return _new(np.asarray(ufunc(xa, xb)))

    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind not in "iub":
        raise not_implemented("bitwise_not_cpu", input._data.dtype)
    return _new(np.invert(input._data))


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise ``not`` (a bool tensor)."""
    if out is not None:
        return out_call(logical_not, "logical_not", (input,), {}, out, differentiable=False)
    return _new(np.logical_not(input._data))


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def isnan(input: Tensor) -> Tensor:
    return _new(np.isnan(input._data))


def isinf(input: Tensor) -> Tensor:
    return _new(np.isinf(input._data))


def isfinite(input: Tensor) -> Tensor:
    return _new(np.isfinite(input._data))


def _out(result: Tensor, out: Tensor | None, name: str | None = None) -> Tensor:
    """``result`` written into ``out`` by torch's out= rules (ops/out.py); ``result`` itself without
    ``out``. ``name``: the op's, for the errors (default: the calling function's name)."""
    if out is None:
        return result
    name = name or sys._getframe(1).f_code.co_name
    # result requires grad exactly when grad mode is on and one of the op's inputs requires grad
    check_no_grad(name, (result,), {}, [out] if isinstance(out, Tensor) else [])
    return write_out(result, out, name)


# =========================================================================== the wider pointwise surface
# Unary functions: forward on NumPy, derivative in ember ops (torch's derivatives.yaml vocabulary).
_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))


_LEGACY = _dtype.LEGACY_NAMES


def not_implemented(kernel: str, npdtype: Any) -> NotImplementedError:
    """torch's error for a kernel that has no implementation for a dtype."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{_LEGACY[_dtype._FROM_NP[np.dtype(npdtype)].name]}\'')


def _zeros_grad(n: Any, g: Tensor) -> Tensor:
    return zeros_grad(g)


rsqrt, RsqrtBackward0 = _unary("rsqrt", _f32.rsqrt, lambda n, g: -0.5 * g * _c(n.result.pow(3)),
                               "-0.5 * grad * result^3", save_result=True)
exp2, Exp2Backward0 = _unary("exp2", np.exp2, lambda n, g: g * _c(n.result * _LN2), "grad * result * ln 2",
                             save_result=True)
expm1, Expm1Backward0 = _unary("expm1", _f32.expm1, lambda n, g: g * _c(n.result + 1), "grad * (result + 1)",
                               save_result=True)
log2, Log2Backward0 = _unary("log2", _f32.log2, lambda n, g: g / _c(n.saved[0] * _LN2), "grad / (self * ln 2)",
                             save_input=True)
log10, Log10Backward0 = _unary("log10", _f32.log10, lambda n, g: g / _c(n.saved[0] * _LN10), "grad / (self * ln 10)",
                               save_input=True)
log1p, Log1PBackward0 = _unary("log1p", _f32.log1p, lambda n, g: g / _c(n.saved[0] + 1), "grad / (self + 1)",
                               save_input=True)
tan, TanBackward0 = _unary("tan", _f32.tan, lambda n, g: g * _c(1 + n.result * n.result), "grad * (1 + result^2)",
                           save_result=True)
asin, AsinBackward0 = _unary("asin", np.arcsin, lambda n, g: g * _c(rsqrt(1 - n.saved[0] * n.saved[0])),
                             "grad / sqrt(1 - self^2)", save_input=True)
acos, AcosBackward0 = _unary("acos", np.arccos, lambda n, g: -g * _c(rsqrt(1 - n.saved[0] * n.saved[0])),
                             "-grad / sqrt(1 - self^2)", save_input=True)
atan, AtanBackward0 = _unary("atan", np.arctan, lambda n, g: g / _c(n.saved[0] * n.saved[0] + 1),
                             "grad / (self^2 + 1)", save_input=True)
sinh, SinhBackward0 = _unary("sinh", np.sinh, lambda n, g: g * _c(cosh(n.saved[0])), "grad * cosh(self)", save_input=True)
cosh, CoshBackward0 = _unary("cosh", np.cosh, lambda n, g: g * _c(sinh(n.saved[0])), "grad * sinh(self)", save_input=True)
asinh, AsinhBackward0 = _unary("asinh", np.arcsinh, lambda n, g: g * _c(rsqrt(n.saved[0] * n.saved[0] + 1)),
                               "grad / sqrt(self^2 + 1)", save_input=True)
def _acosh_grad(n: Any, g: Tensor) -> Tensor:
    x = n.saved[0]
    if x._data.dtype.kind == "c":  # sqrt(z^2 - 1) is on the wrong branch for complex z
        return g * _c(rsqrt(x - 1) * rsqrt(x + 1))
    return g * rsqrt(x * x - 1)


acosh, AcoshBackward0 = _unary("acosh", np.arccosh, _acosh_grad, "grad / sqrt(self^2 - 1) (complex: sqrt(self - 1) sqrt(self + 1))",
                               save_input=True)
atanh, AtanhBackward0 = _unary("atanh", np.arctanh, lambda n, g: g / _c(1 - n.saved[0] * n.saved[0]),
                               "grad / (1 - self^2)", save_input=True)


def scipy_special(name: str, module: str = "special", what: str | None = None) -> Any:
    """A SciPy function (``scipy.<module>.<name>``; SciPy is imported on first use, so ``import
    ember`` stays fast); a clear error naming ember's ``special`` extra when SciPy is missing."""
    import importlib

    try:
        mod = importlib.import_module(f"scipy.{module}")
    except ImportError:
        raise ImportError(f"ember's {what or name} needs SciPy: pip install scipy (from ember's checkout: pip install -e '.[special]')") from None
    return getattr(mod, name)


def _special(name: str, *args: Any) -> np.ndarray:
    x = args[-1]
    r = np.asarray(scipy_special(name)(*args), dtype=x.dtype)
    if name == "gammaln":  # C's lgamma, as torch: lgamma(-inf) is +inf (SciPy's gammaln gives -inf)
        r = np.where(np.isneginf(x), r.dtype.type(np.inf), r)
    return r


# erf, erfc and erfinv are NumPy-only (ops/_erf.py), so nn.GELU runs without SciPy
erf, ErfBackward0 = _unary("erf", _erf.erf, lambda n, g: g * _TWO_OVER_SQRT_PI * exp(-(n.saved[0] * n.saved[0])),
                           "2 / sqrt(pi) * exp(-self^2) * grad", save_input=True)
erfc, ErfcBackward0 = _unary("erfc", _erf.erfc, lambda n, g: -g * _TWO_OVER_SQRT_PI * exp(-(n.saved[0] * n.saved[0])),
                             "-2 / sqrt(pi) * exp(-self^2) * grad", save_input=True)
erfinv, ErfinvBackward0 = _unary("erfinv", _erf.erfinv,
                                 lambda n, g: g * (0.5 * float(np.sqrt(np.pi))) * exp(n.result * n.result),
                                 "sqrt(pi) / 2 * exp(result^2) * grad", save_result=True)
frac, FracBackward0 = _unary("frac", lambda x: x - np.trunc(x), lambda n, g: g, "grad")


# log-gamma and its derivatives (SciPy)
lgamma, LgammaBackward0 = _unary("lgamma", lambda x: _special("gammaln", x), lambda n, g: g * digamma(n.saved[0]),
                                 "grad * digamma(self)", save_input=True)
digamma, DigammaBackward0 = _unary("digamma", lambda x: _special("psi", x),
                                   lambda n, g: g * polygamma(1, n.saved[0]), "grad * polygamma(1, self)",
                                   save_input=True)
PolygammaBackward0 = node_class("polygamma", lambda n, g: g * polygamma(n.attrs + 1, n.saved[0]),
                                "grad * polygamma(n + 1, self)")


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of the digamma function (polygamma(0, x) is digamma(x))."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(float_dtype_for(x.dtype))
    res = _special("psi", x) if n == 0 else _special("polygamma", int(n), x)
    return record(PolygammaBackward0, res, (input,), (input,), attrs=int(n))


def _rounding(name: str, fwd: Any) -> tuple:
    cls = node_class(name, _zeros_grad, "0 (piecewise constant)")

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        x = input._data
        if x.dtype == np.bool_:
            raise not_implemented(f"{name}_vml_cpu", x.dtype)
        res = x.copy() if x.dtype.kind in "iu" else fwd(x)
        return _out(record(cls, res, (input,)), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (integers are returned unchanged); the gradient is zero."
    return op, cls


floor, FloorBackward0 = _rounding("floor", np.floor)
ceil, CeilBackward0 = _rounding("ceil", np.ceil)
trunc, TruncBackward0 = _rounding("trunc", np.trunc)
fix = trunc
RoundBackward0 = node_class("round", _zeros_grad, "0 (piecewise constant)")
RoundBackward1 = node_class("round", _zeros_grad, "0 (piecewise constant)", suffix=1)


def round(input: Tensor, *, decimals: int | None = None, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Round half to even; ``decimals`` rounds to that many decimal places."""
    x = input._data
    # torch has two overloads: without ``decimals`` (RoundBackward0, integers pass through) and with it,
    # even 0 (RoundBackward1, floating point only)
    if x.dtype == np.bool_ or (decimals is not None and x.dtype.kind in "iu"):
        raise not_implemented("round_cpu" if decimals else "round_vml_cpu", x.dtype)
    if x.dtype.kind in "iu":
        return _out(record(RoundBackward0, x.copy(), (input,)), out)
    if not decimals:
        return _out(record(RoundBackward0 if decimals is None else RoundBackward1, np.round(x), (input,)), out)
    with np.errstate(all="ignore"):
        if decimals > 0:
            s = x.dtype.type(10.0 ** decimals)
            res = np.round(x * s) / s
        else:
            s = x.dtype.type(10.0 ** -decimals)
            res = np.round(x / s) * s
    return _out(record(RoundBackward1, res.astype(x.dtype, copy=False), (input,)), out)


def _sgn_grad(n: Any, g: Tensor) -> Tensor:
    if not n.saved:  # real input: piecewise constant (torch saves the result all the same: an in-place change is an error)
        n.result_array()
        return zeros_grad(g)
    x = n.saved[0]
    # s = z / |z| moves only along the circle: the radial part of grad drops out, the rest is
    # scaled by 1 / |z| (and 0 at z = 0, with a safe denominator so higher orders stay finite)
    from .complex import real

    s, a = n.result, x.abs()
    zero = a == 0
    r = (g - real(g * _c(s)) * s) / where_(zero, 1.0, a)
    return where_(zero, 0.0, r)


SgnBackward0 = node_class("sgn", _sgn_grad, "(grad - real(grad * sgn.conj()) * sgn) / abs(self); 0 for real inputs")


def sgn(input: Tensor) -> Tensor:
    """sign for real tensors, x / |x| for complex ones."""
    x = input._data
    if x.dtype.kind == "c":
        with np.errstate(all="ignore"):
            a = np.abs(x)
            res = np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype)
        return record(SgnBackward0, res, (input,), (input,), save_result=True)
    return record(SgnBackward0, _sign_np(x) if x.dtype != np.bool_ else x.copy(), (input,), save_result=True)


LogitBackward0 = node_class(
    "logit", lambda n, g: _logit_grad(n.saved[0], g, n.attrs), "grad / (self * (1 - self)), 0 or nan outside the range")


def _logit_grad(x: Tensor, g: Tensor, eps: Any) -> Tensor:
    from .indexing import where

    d = g / (x * (1 - x))
    xd = x._data
    if eps is None:
        return where(_new((xd < 0) | (xd > 1)), float("nan"), d)
    return where(_new((xd < eps) | (xd > 1 - eps)), 0.0, d)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)); with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(float_dtype_for(x.dtype))
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    with np.errstate(all="ignore"):
        res = np.log(x / (1 - x))
    return record(LogitBackward0, res, (input,), (input,), attrs=eps)


NanToNumBackward0 = node_class("nan_to_num", lambda n, g: g * _new(np.isfinite(n.saved[0]._data)),
                               "grad * isfinite(self)")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """Replace NaN with ``nan`` and infinities with ``posinf``/``neginf`` (default: the dtype's extremes)."""
    x = input._data
    if x.dtype.kind not in "fc":
        return record(NanToNumBackward0, x.copy(), (input,), (input,))
    res = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return record(NanToNumBackward0, res, (input,), (input,))


# --------------------------------------------------------------------------- more binary ops
FmodBackward0 = node_class("fmod", lambda n, g: g, "grad")
FmodBackward1 = node_class(
    "fmod", lambda n, g: (g if n.needs[0] else None,
                          -g * trunc(div(n.saved[0], n.saved[1])) if n.needs[1] else None),
    "grad, -grad * trunc(self / other)", suffix=1)
RemainderBackward1 = node_class(
    "remainder", lambda n, g: (g if n.needs[0] else None,
                               -g * floor(div(n.saved[0], n.saved[1])) if n.needs[1] else None),
    "grad, -grad * floor(self / other)", suffix=1)


def _int_zero_check(xb: Any, rt: np.dtype) -> None:
    if rt.kind in "iu" and np.any(np.asarray(xb) == 0):
        raise RuntimeError("ZeroDivisionError")


def fmod(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """C-style remainder: the result has the sign of the dividend."""
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if rt == np.bool_:
        raise NotImplementedError("\"fmod_cpu\" not implemented for 'Bool'")
    _int_zero_check(xb, rt)
    check_broadcast(np.shape(xa), np.shape(xb))
    with np.errstate(all="ignore"):
        res = np.asarray(np.fmod(xa, xb), dtype=rt)
    if tb is None:
        return _out(record(FmodBackward0, res, (ta,)), out)
    return _out(record(FmodBackward1, res, (ta, tb), (input, other)), out)


def remainder(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Python-style modulus: the result has the sign of the divisor."""
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if rt.kind == "b":
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    _int_zero_check(xb, rt)
    check_broadcast(np.shape(xa), np.shape(xb))
    with np.errstate(all="ignore"):
        res = np.asarray(np.remainder(xa, xb), dtype=rt)
    if tb is None:
        return _out(record(RemainderBackward0, res, (ta,)), out)
    if ta is None:
        return _out(record(_RemainderScalarBackward, res, (tb,)), out)
    return _out(record(RemainderBackward1, res, (ta, tb), (input, other)), out)


RemainderBackward0 = node_class("remainder", lambda n, g: g, "grad")


def _not_implemented_node(op: str) -> type:
    """The node torch records for an op without a derivative (named ``NotImplemented``)."""

    def derivative(self: Any, g: Tensor) -> Any:
        raise RuntimeError(f"derivative for aten::{op} is not implemented")

    return type("NotImplemented", (OpNode,), {"__slots__": (), "formula": "not implemented", "_multi": False,
                                              "__module__": "builtins", "derivative": derivative})


_FloorDivideBackward = _not_implemented_node("floor_divide")
_RemainderScalarBackward = _not_implemented_node("remainder")


def floor_divide(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Division rounded down (toward negative infinity)."""
    r = _rounded_div(input, other, "floor")
    if r.grad_fn is not None:
        xa, xb, ta, tb, _ = binary_operands(input, other)
        r = record(_FloorDivideBackward, r._data, (ta, tb))
    return _out(r, out)


def _float_binary(a: Any, b: Any) -> tuple:
    xa, xb, ta, tb, rt = binary_operands(a, b)
    if rt.kind not in "fc" and not _dtype.is_bfloat16(rt):
        ft = _dtype.get_default_dtype().np
        xa, xb = np.asarray(xa, ft), np.asarray(xb, ft)
    check_broadcast(np.shape(xa), np.shape(xb))
    return xa, xb, ta, tb


Atan2Backward0 = node_class(
    "atan2", lambda n, g: _atan2_grads(n, g), "grad * other / (self^2 + other^2), grad * -self / (self^2 + other^2)")


def _atan2_grads(n: Any, g: Tensor) -> tuple:
    a, b = n.saved
    r = g / (a * a + b * b)
    return (r * b if n.needs[0] else None, r * -a if n.needs[1] else None)


def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise arctangent of input / other, in the quadrant of (other, input)."""
    require_tensors("atan2", input, other)
    xa, xb, ta, tb = _float_binary(input, other)
    with np.errstate(all="ignore"):
        res = np.arctan2(xa, xb)
    return _out(record(Atan2Backward0, res, (ta, tb), (input, other)), out)


arctan2 = atan2

HypotBackward0 = node_class(
    "hypot", lambda n, g: (g * n.saved[0] / n.result if n.needs[0] else None,
                           g * n.saved[1] / n.result if n.needs[1] else None),
    "grad * self / result, grad * other / result")


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sqrt(input^2 + other^2), elementwise."""
    require_tensors("hypot", input, other)
    rt = binary_operands(input, other)[4]
    if rt.kind not in "fc":
        raise not_implemented("hypot_cpu", rt)
    xa, xb, ta, tb = _float_binary(input, other)
    return _out(record(HypotBackward0, np.hypot(xa, xb), (ta, tb), (input, other), save_result=True), out)


def _fminmax_grads(n: Any, g: Tensor, is_max: bool) -> tuple:
    a, b = n.saved[0]._data, n.saved[1]._data
    with np.errstate(invalid="ignore"):
        keep = ((a >= b) if is_max else (a <= b)) | np.isnan(b)
    from .indexing import where

    return (where(_new(keep), g, 0.0) if n.needs[0] else None,
            where(_new(keep), 0.0, g) if n.needs[1] else None)


FmaxBackward0 = node_class("fmax", lambda n, g: _fminmax_grads(n, g, True),
                           "grad where self >= other or other is nan, else to other")
FminBackward0 = node_class("fmin", lambda n, g: _fminmax_grads(n, g, False),
                           "grad where self <= other or other is nan, else to other")


def fmax(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    require_tensors("fmax", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return _out(record(FmaxBackward0, np.asarray(np.fmax(xa, xb)), (ta, tb), (_as_t(xa), _as_t(xb))), out)


def fmin(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise minimum that ignores NaN."""
    require_tensors("fmin", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return _out(record(FminBackward0, np.asarray(np.fmin(xa, xb)), (ta, tb), (_as_t(xa), _as_t(xb))), out)


def _as_t(a: Any) -> Tensor:
    return _new(np.asarray(a))


XlogyBackward0 = node_class(
    "xlogy", lambda n, g: (g * xlogy(_new((n.saved[0]._data != 0).astype(n.saved[1]._data.dtype)), n.saved[1])
                           if n.needs[0] else None,
                           g * n.saved[0] / n.saved[1] if n.needs[1] else None),
    "grad * xlogy(self != 0, other), grad * self / other")
XlogyBackward1 = node_class("xlogy", lambda n, g: g * n.saved[0] / n.saved[1], "grad * self / other", suffix=1)
XlogyBackward2 = node_class(
    "xlogy", lambda n, g: g * xlogy(_new((n.saved[0]._data != 0).astype(n.saved[1]._data.dtype)), n.saved[1]),
    "grad * xlogy(self != 0, other)", suffix=2)


def xlogy(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """input * log(other), and 0 where input == 0 (NaN other still gives NaN)."""
    xa, xb, ta, tb = _float_binary(input, other)
    with np.errstate(all="ignore"):
        res = np.where(xa == 0, np.where(np.isnan(xb), np.nan, 0.0), xa * np.log(xb)).astype(np.result_type(xa, xb))
    sa, sb = _as_t(xa), _as_t(xb)
    if tb is None:
        return _out(record(XlogyBackward2, res, (ta,), (sa, sb)), out)
    if ta is None:
        return _out(record(XlogyBackward1, res, (tb,), (sa, tb)), out)
    return _out(record(XlogyBackward0, res, (ta, tb), (input, other)), out)


LerpBackward0 = node_class(
    "lerp", lambda n, g: (g * _c(1 - n.attrs) if n.needs[0] else None, g * _c(n.attrs) if n.needs[1] else None),
    "grad * (1 - weight), grad * weight")
LerpBackward1 = node_class(
    "lerp", lambda n, g: (g * _c(1 - n.saved[2]) if n.needs[0] else None, g * _c(n.saved[2]) if n.needs[1] else None,
                          g * _c(n.saved[1] - n.saved[0]) if n.needs[2] else None),
    "grad * (1 - weight), grad * weight, grad * (end - self)", suffix=1)


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Tensor | None = None) -> Tensor:
    """input + weight * (end - input)."""
    if not (isinstance(input, Tensor) and isinstance(end, Tensor) and (isinstance(weight, Tensor) or is_scalar(weight))):
        got = ", ".join(type(a).__name__ for a in (input, end, weight))
        raise TypeError(f"lerp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)")
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor):
        x, e, w = input._data, end._data, weight._data
        try:
            res = _lerp_np(x, e, w)
        except ValueError:
            raise RuntimeError(f"lerp: shapes {list(x.shape)}, {list(e.shape)} and {list(w.shape)} cannot be broadcast") from None
        return _out(record(LerpBackward1, res.astype(x.dtype, copy=False), (input, end, weight), (input, end, weight)), out)
    x, e = input._data, end._data
    check_broadcast(x.shape, e.shape)
    res = _lerp_np(x, e, weight).astype(x.dtype, copy=False)
    return _out(record(LerpBackward0, res, (input, end), attrs=weight), out)


def _lerp_np(x: Any, e: Any, w: Any) -> np.ndarray:
    # torch's two-sided formula: exact at both ends, and inf - inf does not arise from a finite end
    with np.errstate(all="ignore"):
        return np.asarray(np.where(np.abs(w) < 0.5, x + w * (e - x), e - (e - x) * (1 - w)))


AddcmulBackward0 = node_class(
    "addcmul", lambda n, g: (g if n.needs[0] else None,
                             g * _c(n.saved[1] * n.attrs) if n.needs[1] else None,
                             g * _c(n.saved[0] * n.attrs) if n.needs[2] else None),
    "grad, grad * tensor2 * value, grad * tensor1 * value")
AddcdivBackward0 = node_class(
    "addcdiv", lambda n, g: (g if n.needs[0] else None,
                             g * _c(n.attrs / n.saved[1]) if n.needs[1] else None,
                             -g * _c(n.attrs * n.saved[0] / (n.saved[1] * n.saved[1])) if n.needs[2] else None),
    "grad, grad * value / tensor2, -grad * value * tensor1 / tensor2^2")


def _three(input: Tensor, t1: Tensor, t2: Tensor) -> tuple:
    from ._core import result_dtype

    rt = result_dtype(input, t1, t2).np
    arrs = [t._data if t._data.dtype == rt else t._data.astype(rt) for t in (input, t1, t2)]
    try:
        np.broadcast_shapes(*(a.shape for a in arrs))
    except ValueError:
        check_broadcast(arrs[1].shape, arrs[2].shape)
        check_broadcast(arrs[0].shape, np.broadcast_shapes(arrs[1].shape, arrs[2].shape))
    return arrs, rt


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + value * tensor1 * tensor2."""
    check_tensor_args("addcmul", input=input, tensor1=tensor1, tensor2=tensor2)
    (x, a, b), rt = _three(input, tensor1, tensor2)
    if rt.kind == "b":
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    if rt.kind in "iu":  # torch casts value to the integral result type (0.5 -> 0)
        value = int(value)
    res = np.asarray(x + value * a * b if value != 1 else x + a * b).astype(rt, copy=False)
    return _out(record(AddcmulBackward0, res, (input, tensor1, tensor2), (tensor1, tensor2), attrs=value), out)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + value * tensor1 / tensor2."""
    check_tensor_args("addcdiv", input=input, tensor1=tensor1, tensor2=tensor2)
    if tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub":
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a "
            "true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value "
            "* torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value "
            "* tensor1 / tensor2), for all dtypes.")
    (x, a, b), rt = _three(input, tensor1, tensor2)
    with np.errstate(all="ignore"):
        res = np.asarray(x + value * (a / b)).astype(rt, copy=False)
    return _out(record(AddcdivBackward0, res, (input, tensor1, tensor2), (tensor1, tensor2), attrs=value), out)


# clamp_min / clamp_max have their own backward names in torch
ClampMinBackward0 = node_class("clamp_min", lambda n, g: select_grad(g, n.saved[0]._data >= n.attrs),
                               "grad where self >= min")
ClampMinBackward1 = node_class(
    "clamp_min", lambda n, g: (select_grad(g, n.saved[0]._data >= n.saved[1]._data) if n.needs[0] else None,
                               select_grad(g, n.saved[0]._data < n.saved[1]._data) if n.needs[1] else None),
    "grad where self >= min, grad where self < min", suffix=1)
ClampMaxBackward0 = node_class("clamp_max", lambda n, g: select_grad(g, n.saved[0]._data <= n.attrs),
                               "grad where self <= max")
ClampMaxBackward1 = node_class(
    "clamp_max", lambda n, g: (select_grad(g, n.saved[0]._data <= n.saved[1]._data) if n.needs[0] else None,
                               select_grad(g, n.saved[0]._data > n.saved[1]._data) if n.needs[1] else None),
    "grad where self <= max, grad where self > max", suffix=1)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    if isinstance(min, Tensor):
        xa, xb, ta, tb, rt = binary_operands(input, min)
        check_broadcast(np.shape(xa), np.shape(xb))
        return record(ClampMinBackward1, _clip(xa, xb, None), (ta, tb), (input, min))
    r = clamp(input, min=min)
    if r.grad_fn is not None:
        r = record(ClampMinBackward0, r._data, (input,), (input,), attrs=min)
    return r


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    if isinstance(max, Tensor):
        xa, xb, ta, tb, rt = binary_operands(input, max)
        check_broadcast(np.shape(xa), np.shape(xb))
        return record(ClampMaxBackward1, _clip(xa, None, xb), (ta, tb), (input, max))
    r = clamp(input, max=max)
    if r.grad_fn is not None:
        r = record(ClampMaxBackward0, r._data, (input,), (input,), attrs=max)
    return r


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    xa, xb, _, _, rt = binary_operands(input, other)
    if rt.kind not in "iu":
        raise not_implemented("lshift_cpu", rt)
    return _new(np.asarray(np.left_shift(xa, xb)))


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    xa, xb, _, _, rt = binary_operands(input, other)
    if rt.kind not in "iu":
        raise not_implemented("rshift_cpu", rt)
    return _new(np.asarray(np.right_shift(xa, xb)))


def float_power(input: Any, exponent: Any) -> Tensor:
    """pow computed in double precision."""
    from .. import _dtype as D

    a = input.to(D.float64) if isinstance(input, Tensor) else float(input)
    e = exponent.to(D.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, e)

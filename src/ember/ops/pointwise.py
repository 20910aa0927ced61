"""Elementwise ops: arithmetic, comparisons, and the unary functions, each with its derivative.

Each entry pairs a NumPy forward with a one-line derivative in ember ops (``grad * result``);
broadcast gradients are summed back to each input's shape by the engine.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import _dtype
from .._sparse_tensor import IMPL as _SPARSE
from .._sparse_tensor import SparseCooTensor as _Sparse
from . import _float32 as _f32
from . import _grad_math as gm
from ._core import (
    Tensor,
    _c,
    _fw,
    _new,
    _state,
    attach,
    binary_operands,
    check_broadcast,
    float_dtype_for,
    is_scalar,
    node_class,
    record,
    require_tensors,
    select_grad,
    zeros_grad,
)
from ._forward import plus, result
from ._strides import iterated
from .out import check_no_grad, out_call, write_out

# --------------------------------------------------------------------------- binary arithmetic
# The derivatives of the hot ops are written in ``_grad_math``'s vocabulary (``on_arrays``): a
# backward that records no graph runs them on the saved arrays, create_graph on the Tensors.
# ``jvp``: the forward derivative (ops/_forward.py), from the tangents ``ts`` (None: zero)
AddBackward0 = node_class(
    "add", lambda n, g: (g if n.needs[0] else None, (g if n.attrs == 1 else g * _c(n.attrs)) if n.needs[1] else None),
    "grad, grad * alpha", on_arrays=True,
    jvp=lambda n, ts: plus(ts[0], ts[1] if ts[1] is None or n.attrs == 1 else ts[1] * n.attrs), layout="iterated")
SubBackward0 = node_class(
    "sub", lambda n, g: (g if n.needs[0] else None, (-g if n.attrs == 1 else g * -n.attrs) if n.needs[1] else None),
    "grad, -grad * alpha", on_arrays=True, holomorphic=True,
    jvp=lambda n, ts: plus(ts[0], None if ts[1] is None else ts[1] * -n.attrs), layout="iterated")
RsubBackward1 = node_class("rsub", lambda n, g: -g, "-grad", suffix=1, jvp=lambda n, ts: -ts[0], layout="iterated")
MulBackward0 = node_class(
    "mul", lambda n, g: (g * n.saved[1] if n.needs[0] else None, g * n.saved[0] if n.needs[1] else None),
    "grad * other, grad * self", on_arrays=True, holomorphic=True,
    jvp=lambda n, ts: plus(None if ts[0] is None else ts[0] * n.saved[1], None if ts[1] is None else n.saved[0] * ts[1]), layout="iterated")
DivBackward0 = node_class(
    "div", lambda n, g: (g / n.saved[1] if n.needs[0] else None,
                         -g * (n.saved[0] / n.saved[1] / n.saved[1]) if n.needs[1] else None),
    "grad / other, -grad * (self / other) / other", on_arrays=True, holomorphic=True,
    jvp=lambda n, ts: plus(ts[0], None if ts[1] is None else -(ts[1] * result(n))) / n.saved[1],  # (torch's form)
    layout="iterated")


def _fast_arrays(a: Any, b: Any) -> tuple | None:
    """The common case without promotion: two tensors of one dtype, or a float tensor and a Python
    float/int (NumPy's weak scalars keep the tensor's dtype, as torch does). None otherwise (and
    while dual tensors are live: the general path records their tangents)."""
    if isinstance(a, Tensor) and not _fw.on:
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
    if type(input) is _Sparse or type(other) is _Sparse:  # (a sparse operand: ember.sparse computes it)
        return _SPARSE["add"](input, other, alpha=alpha, out=out)
    if alpha == 1 and out is None and isinstance(input, Tensor) and not _fw.on:
        x = input._data  # fast path: see mul
        if isinstance(other, Tensor):
            y = other._data
            if x.dtype is y.dtype and x.shape == y.shape and x.dtype.kind != "b":
                r = x + y  # (contiguous operands give a contiguous result, as in torch)
                t = _new(r if r.ndim < 2 or (x.flags.c_contiguous and y.flags.c_contiguous) else iterated(r, x, y))
                if (input._rg or other._rg) and _state.enabled:
                    attach(t, AddBackward0, (input, other), attrs=1, same_meta=True)
                return t
        elif (type(other) is float or type(other) is int) and x.dtype.kind == "f":
            r = x + other
            t = _new(r if r.ndim < 2 or x.flags.c_contiguous else iterated(r, x))
            if input._rg and _state.enabled:
                attach(t, AddBackward0, (input, None), attrs=1, same_meta=True)
            return t
    if alpha != 1:
        xa, xb, ta, tb, rt = binary_operands(input, other)
        check_broadcast(np.shape(xa), np.shape(xb))
        res = (_f32.add_scaled_bfloat16(xa, xb, alpha) if _dtype.is_bfloat16(rt)
               else np.add(xa, _times_alpha(xb, alpha, rt)))
    else:
        res, ta, tb = _binary(input, other, np.add)
    return _out(record(AddBackward0, res, (ta, tb), attrs=alpha), out)


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other."""
    if type(input) is _Sparse or type(other) is _Sparse:  # (a sparse operand: ember.sparse computes it)
        return _SPARSE["sub"](input, other, alpha=alpha, out=out)
    if alpha == 1 and out is None:
        f = _fast_arrays(input, other)
        if f is not None and f[0].dtype.kind != "b" and (type(f[1]) is not np.ndarray or f[0].shape == f[1].shape):
            r = f[0] - f[1]
            t = _new(r if r.ndim < 2 or (f[0].flags.c_contiguous and (type(f[1]) is not np.ndarray or f[1].flags.c_contiguous))
                     else iterated(r, f[0], f[1]))
            if _state.enabled and (input._rg or (type(other) is not float and type(other) is not int and other._rg)):
                attach(t, SubBackward0, (input, other if isinstance(other, Tensor) else None), attrs=1, same_meta=True)
            return t
    _check_bool_sub(input, other)
    if alpha != 1:
        xa, xb, ta, tb, rt = binary_operands(input, other)
        check_broadcast(np.shape(xa), np.shape(xb))
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
    if alpha == 1 and (type(other) is float or type(other) is int) and input._data.dtype.kind == "f" and not _fw.on:
        r = other - input._data
        t = _new(r if r.ndim < 2 or input._data.flags.c_contiguous else iterated(r, input._data))
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
    if rt.kind == "b":  # (torch casts an integer alpha to the bool result type)
        alpha = bool(alpha)
    return np.multiply(x, alpha, dtype=rt)


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Elementwise product."""
    if type(input) is _Sparse or type(other) is _Sparse:  # (a sparse operand: ember.sparse computes it)
        return _SPARSE["mul"](input, other, out=out)
    if out is None and isinstance(input, Tensor) and not _fw.on:
        # fast path (the hottest in ember): same-dtype tensors of one shape, or a float tensor
        # times a Python number; everything else goes through promotion and broadcasting below
        x = input._data
        if isinstance(other, Tensor):
            y = other._data
            if x.dtype is y.dtype and x.shape == y.shape:
                r = x * y
                t = _new(r if r.ndim < 2 or (x.flags.c_contiguous and y.flags.c_contiguous) else iterated(r, x, y))
                if (input._rg or other._rg) and _state.enabled:
                    attach(t, MulBackward0, (input, other), (input if other._rg else None, other if input._rg else None),
                           same_meta=True)
                return t
        elif (type(other) is float or type(other) is int) and x.dtype.kind == "f":
            r = x * other
            t = _new(r if r.ndim < 2 or x.flags.c_contiguous else iterated(r, x))
            if input._rg and _state.enabled:
                attach(t, MulBackward0, (input, None), (None, other), same_meta=True)
            return t
    res, ta, tb = _binary(input, other, np.multiply)
    if (ta is not None and ta._rg) or (tb is not None and tb._rg) or _fw.on:
        fw = _fw.on  # (forward mode's derivative reads both operands)
        saved = (input if fw or (tb is not None and tb._rg) else None, other if fw or (ta is not None and ta._rg) else None)
        return _out(record(MulBackward0, res, (ta, tb), saved), out)
    return _out(_new(iterated(res if type(res) is np.ndarray else np.asarray(res), input, other)), out)


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """True division (integers promote to the default float); ``rounding_mode`` 'trunc' or 'floor'."""
    if type(input) is _Sparse or type(other) is _Sparse:  # (a sparse operand: ember.sparse computes it)
        return _SPARSE["div"](input, other, rounding_mode=rounding_mode, out=out)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
        return _rounded_div(input, other, rounding_mode)
    if out is None:
        f = _fast_arrays(input, other)
        if f is not None and f[0].dtype.kind == "f" and (type(f[1]) is not np.ndarray or f[0].shape == f[1].shape):
            r = f[0] / f[1]
            t = _new(r if r.ndim < 2 or (f[0].flags.c_contiguous and (type(f[1]) is not np.ndarray or f[1].flags.c_contiguous))
                     else iterated(r, f[0], f[1]))
            if _state.enabled:
                if type(other) is float or type(other) is int:
                    if input._rg:
                        attach(t, DivBackward0, (input, None), (None, other), same_meta=True)
                elif input._rg or other._rg:  # (self is saved only for other's gradient, as torch)
                    attach(t, DivBackward0, (input, other), (input if other._rg else None, other), same_meta=True)
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
    if (ta is not None and ta._rg) or (tb is not None and tb._rg) or _fw.on:
        saved = (input if _fw.on or (tb is not None and tb._rg) else None, other)
        return _out(record(DivBackward0, res, (ta, tb), saved), out)
    return _out(_new(iterated(res, input, other)), out)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    xa, xb, ta, tb, rt = binary_operands(a, b)
    if rt.kind == "b":
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    check_broadcast(np.shape(xa), np.shape(xb))
    with np.errstate(divide="ignore", invalid="ignore"):
        if rt.kind in "iu":
            if np.any(np.asarray(xb) == 0) and np.size(xa):
                raise RuntimeError("ZeroDivisionError")
            q = np.floor_divide(xa, xb)
            if mode == "trunc":
                r = np.remainder(xa, xb)
                q = q + ((r != 0) & ((np.asarray(xa) < 0) != (np.asarray(xb) < 0)))
        else:
            q = np.true_divide(xa, xb)
            q = np.trunc(q) if mode == "trunc" else np.floor_divide(xa, xb)
    q = np.asarray(q, dtype=rt)
    if (ta is not None and ta._rg) or (tb is not None and tb._rg) or _fw.on:
        from ._core import record as _rec

        # (saved as torch saves them, each for the other's gradient: only to catch in-place changes)
        saved = (ta if tb is not None and tb._rg else None, tb if ta is not None and ta._rg else None)
        return _rec(DivBackward2, q, (ta, tb), saved)
    return _new(iterated(q, a, b))


DivBackward2 = node_class("div", lambda n, g: tuple(zeros_grad(g) if need else None for need in n.needs),
                          "0 (piecewise constant)", suffix=2, layout="iterated")


def true_divide(input: Any, other: Any) -> Tensor:
    return div(input, other)


# --------------------------------------------------------------------------- pow
def _pow_scalar_grad(n: Any, g: Any) -> Any:
    e = n.attrs
    if e == 0:
        return gm.zeros(g)
    if e == 2:  # the common square: 2 * self, without a pow
        return g * (n.saved[0] * 2.0)
    return g * (gm.pow_scalar(n.saved[0], e - 1) * e)


PowBackward0 = node_class("pow", _pow_scalar_grad, "grad * exponent * self^(exponent - 1)", on_arrays=True,
                          holomorphic=True, jvp=lambda n, ts: _pow_scalar_grad(n, ts[0]), layout="iterated")  # (linear in the tangent)
PowBackward1 = node_class(
    "pow", lambda n, g: (
        # (as torch's: 0 where exponent == 0, so 0 ** 0 gives 0, not 0 * 0^-1; and 0 in the
        # exponent where self == 0 and exponent >= 0, where 0 ** e is flat in e)
        where_(n.saved[1] == 0, 0.0, g * _c(n.saved[1] * n.saved[0] ** (n.saved[1] - 1))) if n.needs[0] else None,
        g * _c(where_((n.saved[0] == 0) & (n.saved[1] >= 0), 0.0, n.result * n.saved[0].log())) if n.needs[1] else None),
    "grad * exponent * self^(exponent - 1), grad * result * log(self)", suffix=1, layout="iterated")
def _pow_base_grad(n: Any, g: Tensor) -> Tensor:
    r = n.result
    if n.attrs != 0:
        return g * _c(r * _py_log(n.attrs, r.is_complex()))
    if r.is_complex():
        return g * where_(r == 1, 0.0, 0.0)
    # torch's: 0 where exponent >= 0, else result * log(0) = -inf (0 ** e is 0, 1, inf or NaN: e >= 0 iff result <= 1)
    return g * where_(r <= 1, 0.0, r * float("-inf"))


# (torch allocates pow(Number, Tensor) contiguously: its meta function gives no strides)
PowBackward2 = node_class("pow", _pow_base_grad, "grad * result * log(self) (0 where self == 0 and exponent >= 0)",
                          suffix=2, layout="contiguous")


def _py_log(base: Any, cplx: bool) -> Any:
    """log of a Python-number base: complex (the principal branch) for a complex power, else a float
    (NaN for a negative base, as torch's real pow gradient has it)."""
    if cplx:
        return complex(np.log(complex(base)))
    return float(np.log(base))


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
        return record(PowBackward1, res, (ta, te), (input, exponent), save_result=True)
    if (type(exponent) is float or type(exponent) is int) and input._data.dtype.kind == "f" and not _fw.on:
        x = input._data
        r = _f32.power_scalar(x, exponent)
        t = _new(r if r.ndim < 2 or x.flags.c_contiguous else iterated(r, x))
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
            res = _f32.power_scalar(xa, exponent)
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
           save_result: bool = False, float_only: bool = True, on_arrays: bool = False,
           holomorphic: bool = False, jvp: Any = None) -> tuple:
    cls = node_class(name, derivative, formula, on_arrays=on_arrays, holomorphic=holomorphic, jvp=jvp, layout="iterated")

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        if type(input) is _Sparse:  # (ember.sparse computes it, where f(0) = 0)
            return _SPARSE["unary"](op, name, input, out)
        x = input._data
        if float_only and x.dtype.kind not in "fc":
            x = x.astype(float_dtype_for(x.dtype))
        res = fwd(x)  # floating-point warnings from ember's modules are silenced (ember/__init__)
        if out is None and not _fw.on:
            # (a contiguous input gives a contiguous result; record lays out the rest)
            t = _new(res if x.ndim < 2 or input._data.flags.c_contiguous else iterated(res, input._data))
            if input._rg and _state.enabled:
                attach(t, cls, (input,), (input,) if save_input else (), save_result, same_meta=x is input._data)
            return t
        return _out(record(cls, res, (input,), (input,) if save_input else (), save_result), out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; derivative: {formula}."
    return op, cls


exp, ExpBackward0 = _unary("exp", _f32.exp, lambda n, g: g * n.result, "grad * result.conj()", save_result=True,
                          on_arrays=True, holomorphic=True, jvp=lambda n, ts: ts[0] * result(n))
log, LogBackward0 = _unary("log", _f32.log, lambda n, g: g / n.saved[0], "grad / self.conj()", save_input=True,
                          on_arrays=True, holomorphic=True, jvp=lambda n, ts: ts[0] / n.saved[0])
sqrt, SqrtBackward0 = _unary("sqrt", np.sqrt, lambda n, g: g / (2 * n.result), "grad / (2 * result.conj())",
                             save_result=True, on_arrays=True, holomorphic=True, jvp=lambda n, ts: ts[0] / (2 * result(n)))
sin, SinBackward0 = _unary("sin", np.sin, lambda n, g: g * _c(n.saved[0].cos()), "grad * cos(self).conj()", save_input=True,
                           jvp=lambda n, ts: ts[0] * n.saved[0].cos())
cos, CosBackward0 = _unary("cos", np.cos, lambda n, g: g * -_c(n.saved[0].sin()), "grad * -sin(self).conj()", save_input=True,
                           jvp=lambda n, ts: ts[0] * -n.saved[0].sin())
tanh, TanhBackward0 = _unary("tanh", _f32.tanh, lambda n, g: gm.tanh_backward(g, n.result),
                             "grad * (1 - result^2)", save_result=True, on_arrays=True, holomorphic=True,
                             jvp=lambda n, ts: gm.tanh_backward(ts[0], result(n)))
sigmoid, SigmoidBackward0 = _unary("sigmoid", _f32.sigmoid, lambda n, g: gm.sigmoid_backward(g, n.result),
                                   "grad * result * (1 - result)", save_result=True, on_arrays=True, holomorphic=True,
                                   jvp=lambda n, ts: gm.sigmoid_backward(ts[0], result(n)))


def _relu_np(x: np.ndarray) -> np.ndarray:
    # zero first: maximum(0, x) keeps x's -0.0 and NaN, as torch's relu does. NumPy's maximum
    # takes its SIMD loop only for two operands of one shape (against a scalar or a broadcast row
    # it is 2-3x slower), so the zeros are an array of x's shape that the result overwrites
    if x.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    if x.ndim and x.shape[-1] >= 8 and x.dtype.kind == "f":
        out = np.zeros_like(x)
        return np.maximum(out, x, out=out)
    return np.maximum(0, x)


relu, ReluBackward0 = _unary("relu", _relu_np, lambda n, g: gm.threshold_backward(g, n.result, 0),
                             "grad * (result > 0)", save_result=True, float_only=False, on_arrays=True,
                             jvp=lambda n, ts: gm.threshold_backward(ts[0], result(n), 0))
NegBackward0 = node_class("neg", lambda n, g: -g, "-grad", jvp=lambda n, ts: -ts[0], layout="iterated")
AbsBackward0 = node_class("abs", lambda n, g: g * gm.sgn(n.saved[0]), "grad * sgn(self)", on_arrays=True, layout="iterated")
SignBackward0 = node_class("sign", lambda n, g: zeros_grad(g), "0", layout="iterated")


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-input."""
    if type(input) is _Sparse:  # (ember.sparse computes it)
        return _SPARSE["neg"](input, out=out)
    if out is not None:
        return out_call(neg, "neg", (input,), {}, out, "found")
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return record(NegBackward0, np.negative(input._data), (input,))


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """|input|."""
    if type(input) is _Sparse:  # (ember.sparse computes it)
        return _SPARSE["unary"](abs, "abs", input, out)
    if out is not None:
        return out_call(abs, "abs", (input,), {}, out, "found")
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
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
    "grad * (min <= self <= max)", suffix=1, layout="iterated")
ClampBackward0 = node_class(
    "clamp", lambda n, g: (
        select_grad(g, _clamp_mask(n.saved[0]._data, (_d(n.saved[1]), _d(n.saved[2])))) if n.needs[0] else None,
        select_grad(g, _below(n.saved[0], n.saved[1], n.saved[2])) if n.needs[1] else None,
        select_grad(g, _above(n.saved[0], n.saved[1], n.saved[2])) if n.needs[2] else None),
    "grad where min <= self <= max, else to the bound that applied", layout="iterated")


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
    if hi is not None:  # (strictly: with min == max neither bound gets the gradient below, as in torch)
        m = m & (lo._data < hi._data)
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
        if rt == np.bool_ and min is not None and max is not None:  # (one bound is a maximum, which has one)
            raise not_implemented("clamp_cpu", rt)
        for bound in (min, max):
            if isinstance(bound, Tensor):
                check_broadcast(input._data.shape, bound._data.shape)
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
    if x.dtype == np.bool_ and all(b is None or isinstance(b, (bool, np.bool_)) for b in (min, max)):
        raise not_implemented("clamp_scalar_cpu" if min is not None and max is not None else
                              "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu", x.dtype)
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
    "grad where self > other (half at ties), grad where other > self (half at ties)", layout="iterated")
MinimumBackward0 = node_class(
    "minimum", lambda n, g: (
        _tie_grad(g, n.saved[0]._data, n.saved[1]._data, np.less) if n.needs[0] else None,
        _tie_grad(g, n.saved[1]._data, n.saved[0]._data, np.less) if n.needs[1] else None),
    "grad where self < other (half at ties), grad where other < self (half at ties)", layout="iterated")


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
        xa, xb, _, _, rt = binary_operands(input, other)
        try:
            return _new(iterated(np.asarray(ufunc(xa, xb)), input, other, common=rt))
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
    check_broadcast(input._data.shape, other._data.shape)
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    require_tensors("isclose", input, other)
    o = other._data if isinstance(other, Tensor) else other
    return _new(iterated(np.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan), input, other,
                         common=input._data.dtype))


def _logical(ufunc: Any) -> Any:
    def op(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        if out is not None:
            return out_call(op, ufunc.__name__, (input, other), {}, out, differentiable=False)
        require_tensors(ufunc.__name__, input, other)
        xa, xb, _, _, rt = binary_operands(input, other)
        check_broadcast(np.shape(xa), np.shape(xb))
        return _new(iterated(np.asarray(ufunc(xa, xb)), input, other, common=rt))

    return op


def _bitwise(ufunc: Any, name: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        xa, xb, _, _, rt = binary_operands(input, other)
        if rt.kind not in "iub":
            raise not_implemented(f"{name}_cpu", rt)
        check_broadcast(np.shape(xa), np.shape(xb))
        return _new(iterated(np.asarray(ufunc(xa, xb)), input, other))

    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind not in "iub":
        raise not_implemented("bitwise_not_cpu", input._data.dtype)
    return _new(iterated(np.invert(input._data), input))


def logical_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise ``not`` (a bool tensor)."""
    if out is not None:
        return out_call(logical_not, "logical_not", (input,), {}, out, differentiable=False)
    return _new(iterated(np.logical_not(input._data), input))


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)


def isnan(input: Tensor) -> Tensor:
    return _new(iterated(np.isnan(input._data), input))


def isinf(input: Tensor) -> Tensor:
    return _new(iterated(np.isinf(input._data), input))


def isfinite(input: Tensor) -> Tensor:
    return _new(iterated(np.isfinite(input._data), input))


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

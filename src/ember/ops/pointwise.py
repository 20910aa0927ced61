"""Elementwise ops: arithmetic, comparisons, and the unary functions, each with its derivative.

Each entry pairs a NumPy forward with a one-line derivative in ember ops (``grad * result``);
broadcast gradients are summed back to each input's shape by the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from ._core import Tensor, _new, binary_operands, check_broadcast, float_dtype_for, is_scalar, node_class, record

# --------------------------------------------------------------------------- binary arithmetic
AddBackward0 = node_class(
    "add", lambda n, g: (g if n.needs[0] else None, (g if n.attrs == 1 else g * n.attrs) if n.needs[1] else None),
    "grad, grad * alpha")
SubBackward0 = node_class(
    "sub", lambda n, g: (g if n.needs[0] else None, (-g if n.attrs == 1 else g * -n.attrs) if n.needs[1] else None),
    "grad, -grad * alpha")
RsubBackward1 = node_class("rsub", lambda n, g: -g, "-grad", suffix=1)
MulBackward0 = node_class(
    "mul", lambda n, g: (g * n.saved[1] if n.needs[0] else None, g * n.saved[0] if n.needs[1] else None),
    "grad * other, grad * self")
DivBackward0 = node_class(
    "div", lambda n, g: (g / n.saved[1] if n.needs[0] else None,
                         -g * n.saved[0] / (n.saved[1] * n.saved[1]) if n.needs[1] else None),
    "grad / other, -grad * self / other^2")


def _binary(a: Any, b: Any, ufunc: Any) -> tuple:
    xa, xb, ta, tb, _ = binary_operands(a, b)
    try:
        out = ufunc(xa, xb)
    except ValueError:
        check_broadcast(np.shape(xa), np.shape(xb))
        raise
    return out, ta, tb


def add(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other, broadcasting, with torch's type promotion."""
    if alpha != 1:
        if isinstance(other, Tensor):
            xa, xb, ta, tb, _ = binary_operands(input, other)
            res = np.add(xa, xb * alpha)
        else:
            return add(input, other * alpha)
    else:
        res, ta, tb = _binary(input, other, np.add)
    return _out(record(AddBackward0, res, (ta, tb), attrs=alpha), out)


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other."""
    if isinstance(input, Tensor) and input._data.dtype == np.bool_ and isinstance(other, (Tensor, bool)):
        if not isinstance(other, Tensor) or other._data.dtype == np.bool_:
            raise RuntimeError(
                "Subtraction, the `-` operator, with two bool tensors is not supported. "
                "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        xa, xb, ta, tb, _ = binary_operands(input, other)
        res = np.subtract(xa, np.multiply(xb, alpha))
    else:
        res, ta, tb = _binary(input, other, np.subtract)
    return _out(record(SubBackward0, res, (ta, tb), attrs=alpha), out)


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """other - alpha * input (what ``3 - x`` calls)."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    xa, xb, ta, _, _ = binary_operands(input, other)
    return record(RsubBackward1, np.subtract(xb, xa if alpha == 1 else xa * alpha), (ta,))


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Elementwise product."""
    res, ta, tb = _binary(input, other, np.multiply)
    if (ta is not None and ta._rg) or (tb is not None and tb._rg):
        saved = (input if tb is not None and tb._rg else None, other if ta is not None and ta._rg else None)
        return _out(record(MulBackward0, res, (ta, tb), saved), out)
    return _out(_new(res if type(res) is np.ndarray else np.asarray(res)), out)


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """True division (integers promote to the default float); ``rounding_mode`` 'trunc' or 'floor'."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
        return _rounded_div(input, other, rounding_mode)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if rt.kind not in "fc":
        ft = _dtype.get_default_dtype().np
        xa, xb = np.asarray(xa, ft), np.asarray(xb, ft)
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            res = np.true_divide(xa, xb)
        except ValueError:
            check_broadcast(np.shape(xa), np.shape(xb))
            raise
    if (ta is not None and ta._rg) or (tb is not None and tb._rg):
        return _out(record(DivBackward0, res, (ta, tb), (input, other)), out)
    return _out(_new(res), out)


def _rounded_div(a: Any, b: Any, mode: str) -> Tensor:
    xa, xb, ta, tb, rt = binary_operands(a, b)
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


DivBackward2 = node_class("div", lambda n, g: tuple(g * 0 if need else None for need in n.needs),
                          "0 (piecewise constant)", suffix=2)


def floor_divide(input: Any, other: Any) -> Tensor:
    return _rounded_div(input, other, "floor")


RemainderBackward0 = node_class(
    "remainder", lambda n, g: (g if n.needs[0] else None,
                               -g * (n.saved[0] / n.saved[1]).floor() if n.needs[1] else None),
    "grad, -grad * floor(self / other)")


def remainder(input: Any, other: Any) -> Tensor:
    xa, xb, ta, tb, rt = binary_operands(input, other)
    with np.errstate(divide="ignore", invalid="ignore"):
        if rt.kind in "iu" and np.any(np.asarray(xb) == 0):
            raise RuntimeError("ZeroDivisionError")
        res = np.remainder(xa, xb)
    return record(RemainderBackward0, res, (ta, tb), (input, other) if (tb is not None and tb._rg) else (None, None))


def true_divide(input: Any, other: Any) -> Tensor:
    return div(input, other)


# --------------------------------------------------------------------------- pow
PowBackward0 = node_class(
    "pow", lambda n, g: g * 0 if n.attrs == 0 else g * (n.attrs * n.saved[0] ** (n.attrs - 1)),
    "grad * exponent * self^(exponent - 1)")
PowBackward1 = node_class(
    "pow", lambda n, g: (
        g * n.saved[1] * n.saved[0] ** (n.saved[1] - 1) if n.needs[0] else None,
        g * where_(n.saved[0] == 0, 0.0, n.result * n.saved[0].log()) if n.needs[1] else None),
    "grad * exponent * self^(exponent - 1), grad * result * log(self)", suffix=1)
PowBackward2 = node_class(
    "pow", lambda n, g: g * n.result * float(np.log(n.attrs)) if n.attrs != 0
    else g * where_(n.result == 1, 0.0, 0.0),
    "grad * result * log(self)", suffix=2)


def where_(cond: Tensor, a: Any, b: Any) -> Tensor:
    from .indexing import where

    return where(cond, a, b)


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001
    """input ** exponent with tensor or scalar base and exponent."""
    if not isinstance(input, Tensor):
        t = exponent
        xb, xe, _, _, rt = binary_operands(input, t)
        res = np.power(xb, xe)
        return record(PowBackward2, res, (t,), save_result=True, attrs=input)
    if isinstance(exponent, Tensor):
        xa, xe, ta, te, rt = binary_operands(input, exponent)
        if rt.kind in "iu" and np.any(np.asarray(xe) < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore"):
            res = np.power(xa, xe)
        return record(PowBackward1, res, (ta, te), (input, exponent), save_result=te._rg)
    if not is_scalar(exponent):
        raise TypeError(f"pow(): argument 'exponent' must be Tensor or Number, not {type(exponent).__name__}")
    xa, xe, ta, _, rt = binary_operands(input, exponent)
    if rt.kind in "iu" and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    with np.errstate(divide="ignore", invalid="ignore"):
        if exponent == 2:
            res = np.multiply(xa, xa)
        else:
            res = np.power(xa, xe)
    return record(PowBackward0, res, (ta,), (input,), attrs=exponent)


def _rpow(self: Tensor, base: Any) -> Tensor:
    return pow(base, self)


def square(input: Tensor) -> Tensor:
    return pow(input, 2)


# --------------------------------------------------------------------------- unary
def _unary(name: str, fwd: Any, derivative: Any, formula: str, save_input: bool = False,
           save_result: bool = False, float_only: bool = True) -> tuple:
    cls = node_class(name, derivative, formula)

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        x = input._data
        if float_only and x.dtype.kind not in "fc":
            x = x.astype(float_dtype_for(x.dtype))
        with np.errstate(all="ignore"):
            res = fwd(x)
        return _out(record(cls, res, (input,), (input,) if save_input else (), save_result), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}; derivative: {formula}."
    return op, cls


exp, ExpBackward0 = _unary("exp", np.exp, lambda n, g: g * n.result, "grad * result", save_result=True)
log, LogBackward0 = _unary("log", np.log, lambda n, g: g / n.saved[0], "grad / self", save_input=True)
sqrt, SqrtBackward0 = _unary("sqrt", np.sqrt, lambda n, g: g / (2 * n.result), "grad / (2 * result)",
                             save_result=True)
sin, SinBackward0 = _unary("sin", np.sin, lambda n, g: g * n.saved[0].cos(), "grad * cos(self)", save_input=True)
cos, CosBackward0 = _unary("cos", np.cos, lambda n, g: g * -n.saved[0].sin(), "grad * -sin(self)", save_input=True)
tanh, TanhBackward0 = _unary("tanh", np.tanh, lambda n, g: g * (1 - n.result * n.result),
                             "grad * (1 - result^2)", save_result=True)


def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-x)) overflows harmlessly to 0 for very negative x (errors are silenced)
    out = np.negative(x)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


sigmoid, SigmoidBackward0 = _unary("sigmoid", _sigmoid_np, lambda n, g: g * (n.result * (1 - n.result)),
                                   "grad * result * (1 - result)", save_result=True)
relu, ReluBackward0 = _unary("relu", lambda x: np.maximum(x, 0), lambda n, g: g * (n.result > 0),
                             "grad * (result > 0)", save_result=True, float_only=False)
NegBackward0 = node_class("neg", lambda n, g: -g, "-grad")
AbsBackward0 = node_class("abs", lambda n, g: g * n.saved[0].sign(), "grad * sign(self)")
SignBackward0 = node_class("sign", lambda n, g: g * 0, "0")


def neg(input: Tensor) -> Tensor:
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return record(NegBackward0, np.negative(input._data), (input,))


def abs(input: Tensor) -> Tensor:  # noqa: A001
    return record(AbsBackward0, np.abs(input._data), (input,), (input,))


def sign(input: Tensor) -> Tensor:
    return record(SignBackward0, np.sign(input._data), (input,))


ClampBackward1 = node_class(
    "clamp", lambda n, g: g * _clamp_mask(n.saved[0]._data, n.attrs),
    "grad * (min <= self <= max)", suffix=1)
ClampBackward0 = node_class(
    "clamp", lambda n, g: (
        g * _clamp_mask(n.saved[0]._data, (_d(n.saved[1]), _d(n.saved[2]))) if n.needs[0] else None,
        g * _below(n.saved[0], n.saved[1], n.saved[2]) if n.needs[1] else None,
        g * _above(n.saved[0], n.saved[2]) if n.needs[2] else None),
    "grad where min <= self <= max, else to the bound that applied")


def _d(t: Any) -> Any:
    return None if t is None else t._data


def _clamp_mask(x: np.ndarray, bounds: tuple) -> Tensor:
    lo, hi = bounds
    m = np.ones(x.shape, dtype=bool)
    if lo is not None:
        m &= x >= lo
    if hi is not None:
        m &= x <= hi
    return _new(m)


def _below(x: Tensor, lo: Tensor, hi: Any) -> Tensor:
    m = x._data < lo._data
    if hi is not None:
        m &= lo._data <= hi._data
    return _new(m)


def _above(x: Tensor, hi: Tensor) -> Tensor:
    return _new(x._data > hi._data)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; scalar or tensor bounds."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .indexing import _as_like

        lo = _as_like(min, input) if min is not None else None
        hi = _as_like(max, input) if max is not None else None
        x = input._data
        res = x
        if lo is not None:
            res = np.maximum(res, lo._data)
        if hi is not None:
            res = np.minimum(res, hi._data)
        res = np.asarray(res, dtype=np.result_type(x, *(t._data for t in (lo, hi) if t is not None)))
        return record(ClampBackward0, res, (input, lo, hi), (input, lo, hi))
    x = input._data
    res = np.clip(x, min, max)
    if res.dtype != x.dtype and x.dtype.kind in "fc":
        res = res.astype(x.dtype)
    elif x.dtype.kind in "iub" and (isinstance(min, float) or isinstance(max, float)):
        res = np.clip(x.astype(_dtype.get_default_dtype().np), min, max)
    return record(ClampBackward1, res, (input,), (input,), attrs=(min, max))


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return clamp(input, max=max)


clip = clamp

# --------------------------------------------------------------------------- maximum / minimum
MaximumBackward0 = node_class(
    "maximum", lambda n, g: (
        g * _tie_mask(n.saved[0]._data, n.saved[1]._data, np.greater) if n.needs[0] else None,
        g * _tie_mask(n.saved[1]._data, n.saved[0]._data, np.greater) if n.needs[1] else None),
    "grad where self > other (half at ties), grad where other > self (half at ties)")
MinimumBackward0 = node_class(
    "minimum", lambda n, g: (
        g * _tie_mask(n.saved[0]._data, n.saved[1]._data, np.less) if n.needs[0] else None,
        g * _tie_mask(n.saved[1]._data, n.saved[0]._data, np.less) if n.needs[1] else None),
    "grad where self < other (half at ties), grad where other < self (half at ties)")


def _tie_mask(a: np.ndarray, b: np.ndarray, cmp: Any) -> Tensor:
    # torch splits the gradient evenly where both operands are equal
    m = np.where(cmp(a, b), 1.0, np.where(a == b, 0.5, 0.0))
    return _new(m.astype(np.result_type(a.dtype, np.float32)) if a.dtype.kind != "f" else m.astype(a.dtype))


def maximum(input: Tensor, other: Tensor) -> Tensor:
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return record(MaximumBackward0, np.maximum(xa, xb), (ta, tb), (input, other))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return record(MinimumBackward0, np.minimum(xa, xb), (ta, tb), (input, other))


# --------------------------------------------------------------------------- comparisons (no grad)
def _compare(ufunc: Any, name: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:
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
    o = other._data if isinstance(other, Tensor) else other
    return _new(np.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _logical(ufunc: Any) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        xa, xb, _, _, _ = binary_operands(input, other)
        return _new(np.asarray(ufunc(xa, xb)))

    return op


def _bitwise(ufunc: Any, name: str) -> Any:
    def op(input: Any, other: Any) -> Tensor:
        xa, xb, _, _, rt = binary_operands(input, other)
        if rt.kind not in "iub":
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{_dtype._FROM_NP[rt].name.capitalize()}\'')
        return _new(np.asarray(ufunc(xa, xb)))

    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind not in "iub":
        raise RuntimeError(f'"bitwise_not_cpu" not implemented for \'{input.dtype.name.capitalize()}\'')
    return _new(np.invert(input._data))


def logical_not(input: Tensor) -> Tensor:
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


def _out(result: Tensor, out: Tensor | None) -> Tensor:
    if out is None:
        return result
    if out._rg and out.grad_fn is None:
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one of the arguments requires grad.")
    out._data = result._data.astype(out._data.dtype, copy=False) if out._data.dtype != result._data.dtype else result._data
    out._vc[0] += 1
    return out

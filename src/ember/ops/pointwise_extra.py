"""More elementwise ops: logaddexp(2), copysign, heaviside, positive, deg2rad / rad2deg, nextafter,
ldexp, frexp, gcd / lcm (sinc and i0 live with the special functions).

Each follows torch's dtype rules (integers compute in the default float where torch does) and
records torch's node, with the derivative as a formula in ember ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from ._core import binary_operands, check_broadcast, node_class, record, require_tensors, select_grad, zeros_grad
from ._strides import iterated
from .binary_functions import (
    _float_binary,
    _not_implemented_node,
)
from .pointwise import (
    _out,
    _unary,
    not_implemented,
)
from .reduction import _named

_LN2 = math.log(2.0)


def _operands(name: str, input: Any, other: Any, float_only: bool = True) -> tuple:
    """Promoted arrays; ``float_only``: integer or bool operands raise torch's missing-kernel error."""
    require_tensors(name, input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if float_only and rt.kind not in "fc":
        raise not_implemented(f"{name}_cpu", rt)
    check_broadcast(np.shape(xa), np.shape(xb))
    return xa, xb, ta, tb


def _t(v: Any) -> Tensor:
    return v if isinstance(v, Tensor) else _new(np.asarray(v))


# ---------------------------------------------------------------------------- logaddexp
LogaddexpBackward0 = node_class(
    "logaddexp", lambda n, g: (g / ((n.saved[1] - n.saved[0]).exp() + 1) if n.needs[0] else None,
                               g / ((n.saved[0] - n.saved[1]).exp() + 1) if n.needs[1] else None),
    "grad / (1 + exp(other - self)), grad / (1 + exp(self - other))", layout="iterated")
Logaddexp2Backward0 = node_class(
    "logaddexp2", lambda n, g: (g / ((n.saved[1] - n.saved[0]).exp2() + 1) if n.needs[0] else None,
                                g / ((n.saved[0] - n.saved[1]).exp2() + 1) if n.needs[1] else None),
    "grad / (1 + 2^(other - self)), grad / (1 + 2^(self - other))", layout="iterated")


def logaddexp(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    """log(exp(input) + exp(other)), computed without overflow."""
    xa, xb, ta, tb = _operands("logaddexp", input, other)
    return _out(record(LogaddexpBackward0, np.logaddexp(xa, xb), (ta, tb), (_t(input), _t(other))), out)


def logaddexp2(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    """log2(2**input + 2**other), computed without overflow."""
    xa, xb, ta, tb = _operands("logaddexp2", input, other)
    return _out(record(Logaddexp2Backward0, np.logaddexp2(xa, xb), (ta, tb), (_t(input), _t(other))), out)


# ---------------------------------------------------------------------------- copysign, heaviside, positive
def _copysign_self(n: Any, g: Tensor) -> Tensor:
    # torch's ratio result / self (+-1; NaN at an infinite self), 0 where self == 0
    s = n.saved[0]
    return g * (n.result / s).masked_fill(s == 0, 0.0)


CopysignBackward0 = node_class(
    # (0 in other as torch's zeros_like: no graph, and no NaN from an inf grad times 0)
    "copysign", lambda n, g: (_copysign_self(n, g) if n.needs[0] else None, zeros_grad(g) if n.needs[1] else None),
    "grad * result / self (0 where self == 0), 0", layout="iterated")
CopysignBackward1 = node_class("copysign", _copysign_self, "grad * result / self (0 where self == 0)", suffix=1, layout="iterated")


def copysign(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    """The magnitude of ``input`` with the sign of ``other`` (integers compute in the default float)."""
    xa, xb, ta, tb = _float_binary(input, other)
    res = np.copysign(xa, xb)
    saved = (ta if isinstance(ta, Tensor) else _t(np.asarray(xa)),)  # (self itself: its second derivative is 0)
    if tb is None:
        return _out(record(CopysignBackward1, res, (ta,), saved, save_result=True), out)
    return _out(record(CopysignBackward0, res, (ta, tb), saved, save_result=True), out)


HeavisideBackward = _not_implemented_node("heaviside")


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The step function: 0 where input < 0, ``values`` where input == 0, 1 where input > 0."""
    require_tensors("heaviside", input, values, "values")
    x, v = input._data, values._data
    if x.dtype != v.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if x.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    check_broadcast(x.shape, v.shape)
    res = np.where(x == 0, v, x > 0).astype(x.dtype)  # NaN input gives 0, as in torch
    return _out(record(HeavisideBackward, iterated(res, input, values), (input, values)), out)


def positive(input: Tensor) -> Tensor:
    """``input`` itself (unary plus); bool tensors raise as in torch."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---------------------------------------------------------------------------- angle units
deg2rad, Deg2RadBackward0 = _unary("deg2rad", np.deg2rad, lambda n, g: g * (math.pi / 180), "grad * pi / 180")
rad2deg, Rad2DegBackward0 = _unary("rad2deg", np.rad2deg, lambda n, g: g * (180 / math.pi), "grad * 180 / pi")


# ---------------------------------------------------------------------------- floating-point representation
NextafterBackward0 = node_class(  # (torch: no gradient where self == other, the result is other there)
    "nextafter", lambda n, g: (select_grad(g, n.attrs) if n.needs[0] else None, zeros_grad(g) if n.needs[1] else None),
    "grad where self != other, 0", layout="iterated")


def nextafter(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The next floating-point value after ``input`` towards ``other``."""
    xa, xb, ta, tb = _operands("nextafter", input, other)
    return _out(record(NextafterBackward0, np.nextafter(xa, xb), (ta, tb), attrs=xa != xb), out)


LdexpBackward0 = node_class(
    "ldexp", lambda n, g: (g * n.saved[1].exp2() if n.needs[0] else None,
                           g * n.result * _LN2 if n.needs[1] else None),
    "grad * 2^other, grad * result * ln 2")


def ldexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input * 2**other (integers compute in the default float)."""
    require_tensors("ldexp", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if other._data.dtype == np.bool_ and rt.kind in "fc":  # (integer inputs take the default-float path)
        raise not_implemented("ldexp_cpu_exp", other._data.dtype)
    if rt.kind not in "fc":
        rt = _dtype.get_default_dtype().np
    check_broadcast(np.shape(xa), np.shape(xb))
    res = (np.asarray(xa, rt) * np.exp2(np.asarray(xb, rt))).astype(rt, copy=False)
    # (torch's is input * pow(2, other), whose second factor is contiguous)
    res = iterated(res, input, np.empty(np.shape(xb), np.int8))
    return _out(record(LdexpBackward0, res, (ta, tb), (None, other), save_result=True), out)


FrexpBackward0 = node_class("frexp", lambda n, g: g / n.saved[0].to(_dtype._FROM_NP[n._in_meta[0][1]]).exp2(),
                            "grad / 2^exponent", layout="iterated")
frexp_type = _named("frexp", ("mantissa", "exponent"))


def frexp(input: Tensor, *, out: Any = None) -> Any:
    """Mantissa in [0.5, 1) and int32 exponent with input == mantissa * 2**exponent."""
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"{_dtype.PREFIX[0]}.frexp() only supports floating-point dtypes")
    m, e = np.frexp(x)
    exponent = _new(iterated(e.astype(np.int32), x))
    return frexp_type(record(FrexpBackward0, m.astype(x.dtype, copy=False), (input,), (exponent,)), exponent)


# ---------------------------------------------------------------------------- integer ops
def _integer_binary(name: str, ufunc: Any) -> Any:
    def op(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        require_tensors(name, input, other)
        xa, xb, _, _, rt = binary_operands(input, other)
        if rt.kind not in "iu":
            raise not_implemented(f"{name}_cpu", rt)
        check_broadcast(np.shape(xa), np.shape(xb))
        return _out(_new(iterated(np.asarray(ufunc(xa, xb), dtype=rt), input, other)), out)

    op.__name__ = name
    return op


gcd = _integer_binary("gcd", np.gcd)
gcd.__doc__ = "The greatest common divisor, elementwise (integers only; gcd(0, 0) = 0)."
lcm = _integer_binary("lcm", np.lcm)
lcm.__doc__ = "The least common multiple, elementwise (integers only)."

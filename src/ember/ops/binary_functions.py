"""Binary elementwise functions beyond arithmetic: fmod, remainder, floor_divide, atan2, hypot,
fmax/fmin, xlogy, lerp, the bitwise shifts and the rest of torch's two-operand pointwise surface,
each with its derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from ._core import (
    OpNode,
    Tensor,
    _c,
    _fw,
    _new,
    binary_operands,
    check_broadcast,
    check_tensor_args,
    is_scalar,
    node_class,
    record,
    require_tensors,
    select_grad,
)
from ._strides import iterated
from .out import _CPP as _CPP_NAMES
from .pointwise import (
    _clip,
    _out,
    _rounded_div,
    clamp,
    div,
    not_implemented,
    pow,
)

# --------------------------------------------------------------------------- more binary ops
FmodBackward0 = node_class("fmod", lambda n, g: g, "grad", layout="iterated")
FmodBackward1 = node_class(
    "fmod", lambda n, g: (g if n.needs[0] else None,
                          # (one rounded division, as torch: its derivative is 0, not 0 * d(self / other))
                          -g * div(n.saved[0], n.saved[1], rounding_mode="trunc") if n.needs[1] else None),
    "grad, -grad * self.div(other, rounding_mode='trunc')", suffix=1, layout="iterated")
RemainderBackward1 = node_class(
    "remainder", lambda n, g: (g if n.needs[0] else None,
                               # (torch's floor division, not floor(self / other): 1 // 0.2 is 4, floor(1 / 0.2) 5)
                               -g * div(n.saved[0], n.saved[1], rounding_mode="floor") if n.needs[1] else None),
    "grad, -grad * self.div(other, rounding_mode='floor')", suffix=1, layout="iterated")


def _int_zero_check(xa: Any, xb: Any, rt: np.dtype) -> None:
    # (torch checks the divisors it uses: an empty result divides nothing)
    if rt.kind in "iub" and np.any(np.asarray(xb) == 0) and np.size(xa) and np.size(xb):
        raise RuntimeError("ZeroDivisionError")


def fmod(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """C-style remainder: the result has the sign of the dividend."""
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if rt == np.bool_:
        raise NotImplementedError("\"fmod_cpu\" not implemented for 'Bool'")
    _int_zero_check(xa, xb, rt)
    check_broadcast(np.shape(xa), np.shape(xb))
    with np.errstate(all="ignore"):
        res = np.asarray(np.fmod(xa, xb), dtype=rt)
    if tb is None:
        return _out(record(FmodBackward0, res, (ta,)), out)
    # (saved only for other's gradient, as torch: else an in-place change to them is no error)
    return _out(record(FmodBackward1, res, (ta, tb), (input, other) if tb._rg or _fw.on else ()), out)


def remainder(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Python-style modulus: the result has the sign of the divisor."""
    xa, xb, ta, tb, rt = binary_operands(input, other)
    if rt.kind == "b":
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    _int_zero_check(xa, xb, rt)
    check_broadcast(np.shape(xa), np.shape(xb))
    with np.errstate(all="ignore"):
        res = np.asarray(np.remainder(xa, xb), dtype=rt)
    if tb is None:
        return _out(record(RemainderBackward0, res, (ta,)), out)
    if ta is None:
        return _out(record(_RemainderScalarBackward, iterated(res, tb), (tb,)), out)
    return _out(record(RemainderBackward1, res, (ta, tb), (input, other) if tb._rg or _fw.on else ()), out)


RemainderBackward0 = node_class("remainder", lambda n, g: g, "grad", layout="iterated")


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
    "atan2", lambda n, g: _atan2_grads(n, g), "grad * other / (self^2 + other^2), grad * -self / (self^2 + other^2)", layout="iterated")


def _atan2_grads(n: Any, g: Tensor) -> tuple:
    from .indexing import where

    a, b = n.saved
    d = a * a + b * b
    r = g * where(_new(d._data == 0), 0.0, 1 / d)  # (torch's: 0 where the denominator is 0, not 0/0)
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
    "grad * self / result, grad * other / result", layout="iterated")


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """sqrt(input^2 + other^2), elementwise."""
    require_tensors("hypot", input, other)
    rt = binary_operands(input, other)[4]
    if rt.kind not in "fc":
        raise not_implemented("hypot_cpu", rt)
    xa, xb, ta, tb = _float_binary(input, other)
    # each operand is saved only for its own gradient, as torch: an in-place change to the other is no error
    saved = (input if input._rg else None, other if other._rg else None)
    return _out(record(HypotBackward0, np.hypot(xa, xb), (ta, tb), saved, save_result=True), out)


def _fminmax_grads(n: Any, g: Tensor, is_max: bool) -> tuple:
    a, b = n.saved[0]._data, n.saved[1]._data
    with np.errstate(invalid="ignore"):
        keep = ((a >= b) if is_max else (a <= b)) | np.isnan(b)
    from .indexing import where

    return (where(_new(keep), g, 0.0) if n.needs[0] else None,
            where(_new(keep), 0.0, g) if n.needs[1] else None)


FmaxBackward0 = node_class("fmax", lambda n, g: _fminmax_grads(n, g, True),
                           "grad where self >= other or other is nan, else to other", layout="iterated")
FminBackward0 = node_class("fmin", lambda n, g: _fminmax_grads(n, g, False),
                           "grad where self <= other or other is nan, else to other", layout="iterated")


def fmax(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    require_tensors("fmax", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return _out(record(FmaxBackward0, np.asarray(np.fmax(xa, xb)), (ta, tb), (input, other)), out)


def fmin(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise minimum that ignores NaN."""
    require_tensors("fmin", input, other)
    xa, xb, ta, tb, rt = binary_operands(input, other)
    check_broadcast(np.shape(xa), np.shape(xb))
    return _out(record(FminBackward0, np.asarray(np.fmin(xa, xb)), (ta, tb), (input, other)), out)


def _as_t(a: Any) -> Tensor:
    return _new(np.asarray(a))


def _xlogy_self_grad(n: Any, g: Tensor) -> Tensor:
    # torch's: xlogy(grad, other), 0 where self == 0 and other <= 0 (at self == 0 with other > 0 the
    # derivative is log(other), not 0)
    from .indexing import where

    x, y = n.saved
    return where(_new((x._data == 0) & (y._data <= 0)), 0.0, xlogy(g, y))


XlogyBackward0 = node_class(
    "xlogy", lambda n, g: (_xlogy_self_grad(n, g) if n.needs[0] else None,
                           g * n.saved[0] / n.saved[1] if n.needs[1] else None),
    "xlogy(grad, other) (0 where self == 0 and other <= 0), grad * self / other", layout="iterated")
XlogyBackward1 = node_class("xlogy", lambda n, g: g * n.saved[0] / n.saved[1], "grad * self / other", suffix=1, layout="iterated")
XlogyBackward2 = node_class(
    "xlogy", _xlogy_self_grad, "xlogy(grad, other) (0 where self == 0 and other <= 0)", suffix=2, layout="iterated")


def xlogy(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """input * log(other), and 0 where input == 0 (NaN other still gives NaN)."""
    xa, xb, ta, tb = _float_binary(input, other)
    with np.errstate(all="ignore"):
        res = np.where(xa == 0, np.where(np.isnan(xb), np.nan, 0.0), xa * np.log(xb)).astype(np.result_type(xa, xb))
    sa, sb = _as_t(xa), _as_t(xb)
    if tb is None:
        return _out(record(XlogyBackward2, res, (ta,), (ta, sb)), out)  # (ta: an in-place change to self is caught)
    if ta is None:
        return _out(record(XlogyBackward1, res, (tb,), (sa, tb)), out)
    return _out(record(XlogyBackward0, res, (ta, tb), (input, other)), out)


LerpBackward0 = node_class(
    "lerp", lambda n, g: (g * _c(1 - n.attrs) if n.needs[0] else None, g * _c(n.attrs) if n.needs[1] else None),
    "grad * (1 - weight), grad * weight", layout="iterated")
LerpBackward1 = node_class(
    "lerp", lambda n, g: (g * _c(1 - n.saved[2]) if n.needs[0] else None, g * _c(n.saved[2]) if n.needs[1] else None,
                          g * _c(n.saved[1] - n.saved[0]) if n.needs[2] else None),
    "grad * (1 - weight), grad * weight, grad * (end - self)", suffix=1, layout="iterated")


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Tensor | None = None) -> Tensor:
    """input + weight * (end - input)."""
    if not (isinstance(input, Tensor) and isinstance(end, Tensor) and (isinstance(weight, Tensor) or is_scalar(weight))):
        got = ", ".join(type(a).__name__ for a in (input, end, weight))
        raise TypeError(f"lerp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)")
    cpp = _CPP_NAMES
    if input._data.dtype != end._data.dtype:
        raise RuntimeError(f"expected dtype {cpp[input.dtype.name]} for `end` but got dtype {cpp[end.dtype.name]}")
    if isinstance(weight, Tensor):
        x, e, w = input._data, end._data, weight._data
        if w.ndim and w.dtype != x.dtype:  # (a 0-d weight takes part in type promotion instead)
            raise RuntimeError(f"expected dtype {cpp[input.dtype.name]} for `weight` but got dtype {cpp[weight.dtype.name]}")
        ts = (input, end, weight)
        dt = _dtype.result_type([t.dtype for t in ts if t._data.ndim], [t.dtype for t in ts if not t._data.ndim], [])
        if dt.category < 2:
            raise not_implemented("lerp_kernel_tensor", dt.np)
        check_broadcast(x.shape, e.shape)
        try:
            res = _lerp_np(x.astype(dt.np, copy=False), e.astype(dt.np, copy=False), w.astype(dt.np, copy=False))
        except ValueError:
            raise RuntimeError(f"lerp: shapes {list(x.shape)}, {list(e.shape)} and {list(w.shape)} cannot be broadcast") from None
        return _out(record(LerpBackward1, res.astype(dt.np, copy=False), (input, end, weight), (input, end, weight)), out)
    x, e = input._data, end._data
    if x.dtype.kind not in "fcV":
        raise not_implemented("lerp_kernel_scalar", x.dtype)
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
    "grad, grad * tensor2 * value, grad * tensor1 * value", layout="iterated")
AddcdivBackward0 = node_class(
    "addcdiv", lambda n, g: (g if n.needs[0] else None,
                             g * _c(n.attrs / n.saved[1]) if n.needs[1] else None,
                             -g * _c(n.attrs * n.saved[0] / (n.saved[1] * n.saved[1])) if n.needs[2] else None),
    "grad, grad * value / tensor2, -grad * value * tensor1 / tensor2^2", layout="iterated")


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
    saved = (tensor1 if tensor2._rg else None, tensor2 if tensor1._rg else None)  # (each only for the other's gradient)
    return _out(record(AddcmulBackward0, res, (input, tensor1, tensor2), saved, attrs=value), out)


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
                               "grad where self >= min", layout="iterated")
ClampMinBackward1 = node_class(
    "clamp_min", lambda n, g: (select_grad(g, n.saved[0]._data >= n.saved[1]._data) if n.needs[0] else None,
                               select_grad(g, n.saved[0]._data < n.saved[1]._data) if n.needs[1] else None),
    "grad where self >= min, grad where self < min", suffix=1, layout="iterated")
ClampMaxBackward0 = node_class("clamp_max", lambda n, g: select_grad(g, n.saved[0]._data <= n.attrs),
                               "grad where self <= max", layout="iterated")
ClampMaxBackward1 = node_class(
    "clamp_max", lambda n, g: (select_grad(g, n.saved[0]._data <= n.saved[1]._data) if n.needs[0] else None,
                               select_grad(g, n.saved[0]._data > n.saved[1]._data) if n.needs[1] else None),
    "grad where self <= max, grad where self > max", suffix=1, layout="iterated")


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
    return _new(iterated(np.asarray(np.left_shift(xa, xb)), input, other))


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    xa, xb, _, _, rt = binary_operands(input, other)
    if rt.kind not in "iu":
        raise not_implemented("rshift_cpu", rt)
    return _new(iterated(np.asarray(np.right_shift(xa, xb)), input, other))


def float_power(input: Any, exponent: Any) -> Tensor:
    """pow computed in double precision."""
    from .. import _dtype as D

    a = input.to(D.float64) if isinstance(input, Tensor) else float(input)
    e = exponent.to(D.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, e)

"""The table of differentiable operations, and the Tensor methods and operators built from it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from . import creation, indexing, inplace, linalg, loss, pointwise, reduction, shape
from ._core import attach_methods, node_class, record
from .creation import (
    arange,
    as_tensor,
    asarray,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .indexing import gather, index_select, masked_fill, nonzero, select, where
from .linalg import bmm, dot, matmul, mm, mv, outer
from .pointwise import (
    abs,
    add,
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    div,
    eq,
    equal,
    exp,
    floor_divide,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    remainder,
    rsub,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tanh,
    true_divide,
)
from .reduction import amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, softmax, sum
from .shape import (
    broadcast_to,
    cat,
    chunk,
    clone,
    concat,
    concatenate,
    contiguous,
    expand,
    flatten,
    hstack,
    movedim,
    narrow,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view_as,
    vstack,
)

negative = neg
multiply = mul
subtract = sub
divide = div
absolute = abs
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

ToCopyBackward0 = node_class("_to_copy", lambda n, g: g.to(n._in_meta[0][1]), "grad cast back to self's dtype")


def _to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert dtype (``to(ember.float64)``, ``to(other)``, ``to('cpu', dtype)``); a no-op when equal."""
    dtype = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    dev = kwargs.get("device")
    for a in args:
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        elif a is not None:
            dev = a
    from .._tensor import _check_device

    _check_device(dev)
    if dtype is None or dtype.np == self._data.dtype:
        return clone(self) if copy else self
    res = self._data.astype(dtype.np)
    if dtype.category < 2 and self._rg:
        return _new(res)
    return record(ToCopyBackward0, res, (self,))


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    return _to(self, other.dtype)


def _rdiv(self: Tensor, other: Any) -> Tensor:
    return reciprocal(self) * other


ReciprocalBackward0 = node_class("reciprocal", lambda n, g: -g * n.result * n.result, "-grad * result^2")


def reciprocal(input: Tensor) -> Tensor:
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(_dtype.get_default_dtype().np)
    with np.errstate(divide="ignore"):
        return record(ReciprocalBackward0, np.reciprocal(x), (input,), save_result=True)


def _rmatmul(self: Tensor, other: Any) -> Tensor:
    return matmul(other, self)


def _eq(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (Tensor, int, float, bool, complex, np.generic, list, tuple, np.ndarray)):
        return False
    return eq(self, other)


def _ne(self: Tensor, other: Any) -> Any:
    if not isinstance(other, (Tensor, int, float, bool, complex, np.generic, list, tuple, np.ndarray)):
        return True
    return ne(self, other)


def _floordiv(self: Tensor, other: Any) -> Tensor:
    return floor_divide(self, other)


def _rfloordiv(self: Tensor, other: Any) -> Tensor:
    return floor_divide(other, self)


def _rmod(self: Tensor, other: Any) -> Tensor:
    return remainder(other, self)


def _and(self: Tensor, other: Any) -> Tensor:
    return bitwise_and(self, other)


def _or(self: Tensor, other: Any) -> Tensor:
    return bitwise_or(self, other)


def _xor(self: Tensor, other: Any) -> Tensor:
    return bitwise_xor(self, other)


def _invert(self: Tensor) -> Tensor:
    return bitwise_not(self)


def _new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_factory(fn: Any) -> Any:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return fn(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    return method


def _new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return creation.full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _sum_method(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    return sum(self, dim, keepdim, dtype=dtype)


def _mean_method(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    return mean(self, dim, keepdim, dtype=dtype)


def _softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return softmax(self, dim, dtype)


def _log_softmax_method(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return log_softmax(self, dim, dtype)


view = shape.view


attach_methods(
    __add__=add, __radd__=add, __sub__=sub, __rsub__=rsub, __mul__=mul, __rmul__=mul,
    __truediv__=div, __rtruediv__=_rdiv, __floordiv__=_floordiv, __rfloordiv__=_rfloordiv,
    __mod__=remainder, __rmod__=_rmod, __pow__=pow, __rpow__=pointwise._rpow,
    __matmul__=matmul, __rmatmul__=_rmatmul, __neg__=neg, __pos__=lambda self: self, __abs__=abs,
    __eq__=_eq, __ne__=_ne, __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
    __and__=_and, __rand__=_and, __or__=_or, __ror__=_or, __xor__=_xor, __rxor__=_xor, __invert__=_invert,
    __getitem__=indexing.getitem, __setitem__=indexing.setitem,
    add=add, sub=sub, subtract=sub, mul=mul, multiply=mul, div=div, divide=div, true_divide=true_divide,
    floor_divide=floor_divide, remainder=remainder, pow=pow, neg=neg, negative=neg, abs=abs, absolute=abs,
    exp=exp, log=log, sqrt=sqrt, sin=sin, cos=cos, tanh=tanh, sigmoid=sigmoid, relu=relu, sign=sign,
    square=square, reciprocal=reciprocal, clamp=clamp, clip=clamp, clamp_min=clamp_min, clamp_max=clamp_max,
    maximum=maximum, minimum=minimum, eq=eq, ne=ne, lt=lt, le=le, gt=gt, ge=ge, greater=gt, less=lt,
    greater_equal=ge, less_equal=le, not_equal=ne, equal=equal, allclose=allclose, isclose=isclose,
    isnan=isnan, isinf=isinf, isfinite=isfinite, logical_and=logical_and, logical_or=logical_or,
    logical_not=logical_not, logical_xor=logical_xor, bitwise_and=bitwise_and, bitwise_or=bitwise_or,
    bitwise_xor=bitwise_xor, bitwise_not=bitwise_not,
    sum=_sum_method, mean=_mean_method, max=max, min=min, amax=amax, amin=amin, argmax=argmax, argmin=argmin,
    logsumexp=logsumexp, softmax=_softmax_method, log_softmax=_log_softmax_method,
    all=reduction._all, any=reduction._any,
    matmul=matmul, mm=mm, bmm=bmm, mv=mv, dot=dot, outer=outer,
    view=shape.view, reshape=reshape, view_as=view_as, reshape_as=shape.reshape_as, flatten=flatten,
    unflatten=unflatten, transpose=transpose, swapaxes=swapaxes, swapdims=swapdims, t=t, permute=permute,
    movedim=movedim, moveaxis=movedim, unsqueeze=unsqueeze, squeeze=squeeze, expand=expand,
    expand_as=shape.expand_as, broadcast_to=broadcast_to, sum_to_size=shape.sum_to_size, unbind=unbind,
    split=split, chunk=chunk, narrow=narrow, clone=clone, contiguous=contiguous, select=select,
    where=lambda self, condition, other: where(condition, self, other),
    gather=gather, index_select=index_select, masked_fill=masked_fill, nonzero=nonzero,
    to=_to, type_as=_type_as, new_tensor=_new_tensor, new_zeros=_new_factory(creation.zeros),
    new_ones=_new_factory(creation.ones), new_empty=_new_factory(creation.empty), new_full=_new_full,
    zero_=inplace.zero_, fill_=inplace.fill_, copy_=inplace.copy_,
    add_=inplace.make_inplace(add), sub_=inplace.make_inplace(sub), mul_=inplace.make_inplace(mul),
    div_=inplace.make_inplace(div), pow_=inplace.make_inplace(pow), neg_=inplace.make_inplace(neg),
    exp_=inplace.make_inplace(exp), log_=inplace.make_inplace(log), sqrt_=inplace.make_inplace(sqrt),
    sigmoid_=inplace.make_inplace(sigmoid), tanh_=inplace.make_inplace(tanh), relu_=inplace.make_inplace(relu),
    clamp_=inplace.make_inplace(clamp), clip_=inplace.make_inplace(clamp), abs_=inplace.make_inplace(abs),
    masked_fill_=inplace.make_inplace(masked_fill),
    __iadd__=inplace.make_inplace(add), __isub__=inplace.make_inplace(sub), __imul__=inplace.make_inplace(mul),
    __itruediv__=inplace.make_inplace(div),
)
Tensor.T = property(shape._T)
Tensor.mT = property(shape._mT)
Tensor.H = property(shape._T)
Tensor.__hash__ = lambda self: id(self)  # type: ignore[method-assign]


# the functions ``ember`` re-exports at top level (torch.add, torch.cat, ...)
__all__ = sorted(
    name for name, obj in list(globals().items())
    if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", "").startswith("ember.ops")
    and name not in ("attach_methods", "node_class", "record", "shape_view")
    and not isinstance(obj, type)
)

"""The table of differentiable operations, and the Tensor methods and operators built from it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _device, _dtype, _meta
from .._tensor import Tensor, _new
from . import (
    binary_functions,
    creation,
    decompositions,
    elementary,
    indexing,
    inplace,
    linalg,
    loss,
    matrix_functions,
    pointwise,
    reduction,
    shape,
)
from ._core import _c, attach_methods, node_class, preserve_copy, record
from .binary_functions import (
    addcdiv,
    addcmul,
    atan2,
    bitwise_left_shift,
    bitwise_right_shift,
    clamp_max,
    clamp_min,
    float_power,
    floor_divide,
    fmax,
    fmin,
    fmod,
    hypot,
    lerp,
    remainder,
    xlogy,
)
from .creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    normal,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .cumulative import (
    cummax,
    cummin,
    cumprod,
    cumsum,
)
from .elementary import (
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    cosh,
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    lgamma,
    log1p,
    log2,
    log10,
    logit,
    nan_to_num,
    polygamma,
    round,
    rsqrt,
    sgn,
    sinh,
    tan,
    trunc,
)
from .indexed import (
    index_add,
    index_copy,
    index_fill,
    index_put,
    masked_scatter,
    masked_select,
    take,
    take_along_dim,
)
from .indexing import (
    gather,
    index_select,
    masked_fill,
    nonzero,
    scatter,
    scatter_add,
    scatter_reduce,
    select,
    where,
)
from .linalg import addbmm, addmm, addmv, baddbmm, bmm, cross, dot, einsum, inner, kron, matmul, mm, mv, outer, tensordot, trace, vdot
from .matrix_functions import det, inverse, logdet, matrix_exp, slogdet
from .order_statistics import (
    argsort,
    kthvalue,
    median,
    mode,
    msort,
    nanmedian,
    sort,
    topk,
    unique,
)
from .pointwise import (
    abs,
    add,
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    clamp,
    clip,
    cos,
    div,
    eq,
    equal,
    exp,
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
from .reduction import (
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    count_nonzero,
    dist,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    nanmean,
    nansum,
    norm,
    prod,
    softmax,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    clone,
    column_stack,
    concat,
    concatenate,
    contiguous,
    diag,
    diag_embed,
    diagflat,
    diagonal,
    dstack,
    expand,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    meshgrid,
    movedim,
    narrow,
    permute,
    ravel,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    tensor_split,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    view_as,
    vstack,
)

arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2
row_stack = vstack

negative = neg
multiply = mul
subtract = sub
divide = div
absolute = abs
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

ToCopyBackward0 = node_class("_to_copy", lambda n, g: g.to(_dtype._FROM_NP[n._in_meta[0][1]]),
                             "grad cast back to self's dtype")


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

    to_meta = dev is not None and _device.device(dev).type == "meta"
    if not to_meta:
        if self.is_meta and dev is not None:
            raise NotImplementedError(_meta.NO_DATA)
        _check_device(dev)
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise TypeError(
            f"to() received an invalid combination of arguments - got (dtype={type(dtype).__name__}, ), but expected "
            "one of:\n * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, bool copy = "
            "False, *, torch.memory_format memory_format = None)\n * (torch.dtype dtype, bool non_blocking = False, "
            "bool copy = False, *, torch.memory_format memory_format = None)\n * (Tensor tensor, bool non_blocking = "
            "False, bool copy = False, *, torch.memory_format memory_format = None)\n")
    if to_meta and not self.is_meta:  # (a shape and a dtype, no data: see ember._meta)
        meta = _meta.meta_array(self._data.shape, self._data.dtype if dtype is None else dtype.np)
        return record(ToCopyBackward0, meta, (self,)) if dtype is None or dtype.category >= 2 else _new(meta)
    if dtype is None or dtype.np == self._data.dtype:
        return clone(self) if copy else self
    res = preserve_copy(self._data, dtype.np)
    if dtype.category < 2 and self._rg:
        return _new(res)
    return record(ToCopyBackward0, res, (self,))


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    return _to(self, other.dtype)


def _rdiv(self: Tensor, other: Any) -> Tensor:
    return reciprocal(self) * other


ReciprocalBackward0 = node_class("reciprocal", lambda n, g: -g * _c(n.result * n.result), "-grad * (result^2).conj()",
                                 layout="iterated")


def reciprocal(input: Tensor) -> Tensor:
    x = input._data
    if x.dtype.kind not in "fc" and not _dtype.is_bfloat16(x.dtype):
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
    if self._data.dtype.kind not in "iub":  # torch's operator names itself, unlike bitwise_not
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


def _new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_factory(fn: Any) -> Any:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        creation._size(size, f"new_{fn.__name__}")  # (torch's messages name the method)
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
    __getitem__=indexing.getitem, __setitem__=inplace.setitem,
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
    split=split, chunk=chunk, narrow=narrow, unfold=shape.unfold, rot90=shape.rot90, clone=clone, contiguous=contiguous, select=select,
    where=lambda self, condition, other: where(condition, self, other),
    gather=gather, index_select=index_select, masked_fill=masked_fill, nonzero=nonzero,
    to=_to, type_as=_type_as, new_tensor=_new_tensor, new_zeros=_new_factory(creation.zeros),
    new_ones=_new_factory(creation.ones), new_empty=_new_factory(creation.empty), new_full=_new_full,
    zero_=inplace.zero_, fill_=inplace.fill_, copy_=inplace.copy_,
    add_=inplace.make_inplace(add, np.add), sub_=inplace.make_inplace(sub, np.subtract),
    mul_=inplace.make_inplace(mul, np.multiply), div_=inplace.make_inplace(div, np.true_divide),
    pow_=inplace.make_inplace(pow), neg_=inplace.make_inplace(neg),
    exp_=inplace.make_inplace(exp), log_=inplace.make_inplace(log), sqrt_=inplace.make_inplace(sqrt),
    sigmoid_=inplace.make_inplace(sigmoid), tanh_=inplace.make_inplace(tanh), relu_=inplace.make_inplace(relu),
    clamp_=inplace.make_inplace(clamp), clip_=inplace.make_inplace(clamp), abs_=inplace.make_inplace(abs),
    masked_fill_=inplace.make_inplace(masked_fill), resize_=inplace.resize_, resize_as_=inplace.resize_as_,
    __iadd__=inplace.make_inplace(add, np.add), __isub__=inplace.make_inplace(sub, np.subtract),
    __imul__=inplace.make_inplace(mul, np.multiply), __itruediv__=inplace.make_inplace(div, np.true_divide),
)

_INPLACE_POINTWISE = (
    "rsqrt exp2 expm1 log2 log10 log1p tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh "
    "arccosh arctanh logit erf erfc erfinv lgamma digamma sgn sign floor ceil round trunc fix frac nan_to_num square reciprocal sin cos "
    "atan2 arctan2 hypot xlogy fmod remainder floor_divide lerp addcmul addcdiv clamp_min clamp_max true_divide "
    "bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift logical_and logical_or "
    "logical_not logical_xor float_power multiply subtract divide negative absolute"
).split()

attach_methods(
    rsqrt=rsqrt, exp2=exp2, expm1=expm1, log2=log2, log10=log10, log1p=log1p, tan=tan, asin=asin, acos=acos,
    atan=atan, sinh=sinh, cosh=cosh, asinh=asinh, acosh=acosh, atanh=atanh, arcsin=asin, arccos=acos, arctan=atan,
    arcsinh=asinh, arccosh=acosh, arctanh=atanh, atan2=atan2, arctan2=atan2, logit=logit, erf=erf, erfc=erfc,
    erfinv=erfinv, lgamma=lgamma, digamma=digamma, polygamma=lambda self, n: polygamma(n, self),
    sgn=sgn, floor=floor, ceil=ceil, round=round, trunc=trunc, fix=fix, frac=frac, fmin=fmin, fmax=fmax,
    lerp=lerp, addcmul=addcmul, addcdiv=addcdiv, hypot=hypot, xlogy=xlogy, nan_to_num=nan_to_num, fmod=fmod,
    remainder=remainder, floor_divide=floor_divide, clamp_min=binary_functions.clamp_min, clamp_max=binary_functions.clamp_max,
    bitwise_left_shift=bitwise_left_shift, bitwise_right_shift=bitwise_right_shift, float_power=float_power,
    __lshift__=bitwise_left_shift, __rshift__=bitwise_right_shift, __mod__=remainder,
    __rlshift__=lambda self, other: bitwise_left_shift(other, self),
    __rrshift__=lambda self, other: bitwise_right_shift(other, self),
    prod=prod, var=var, std=std, norm=norm, cumsum=cumsum, cumprod=cumprod, all=all, any=any,
    count_nonzero=count_nonzero, median=median, nanmedian=nanmedian, mode=mode, kthvalue=kthvalue, topk=topk, sort=sort,
    argsort=argsort, msort=msort, unique=unique, nansum=nansum, nanmean=nanmean, aminmax=aminmax, cummax=cummax,
    cummin=cummin,
    repeat=shape.repeat, tile=tile, repeat_interleave=repeat_interleave, flip=flip, fliplr=fliplr, flipud=flipud,
    roll=roll, tril=tril, triu=triu, diag=diag, diagonal=diagonal, diag_embed=diag_embed, diagflat=diagflat,
    ravel=ravel, tensor_split=tensor_split,
    scatter=scatter, scatter_add=scatter_add, scatter_reduce=scatter_reduce, index_add=index_add,
    index_copy=index_copy, index_fill=index_fill, index_put=index_put, masked_select=masked_select,
    masked_scatter=masked_scatter, take=take, take_along_dim=take_along_dim,
    addmm=addmm, addmv=addmv, baddbmm=baddbmm, addbmm=addbmm, trace=trace, vdot=vdot, inner=inner, kron=kron,
    cross=cross, det=det, inverse=inverse, slogdet=slogdet, logdet=logdet, matrix_exp=matrix_exp, dist=dist,
    matrix_power=lambda self, n: matrix_functions.matrix_power(self, n), pinverse=lambda self, rcond=1e-15: decompositions.pinv(self, rtol=rcond),
    **{name + "_": inplace.make_inplace(getattr(pointwise, name, None) or globals()[name]) for name in _INPLACE_POINTWISE},
    scatter_=inplace.make_inplace(scatter), scatter_add_=inplace.make_inplace(scatter_add),
    scatter_reduce_=inplace.make_inplace(scatter_reduce), index_add_=inplace.make_inplace(index_add),
    index_copy_=inplace.make_inplace(index_copy), index_fill_=inplace.make_inplace(index_fill),
    index_put_=inplace.make_inplace(index_put), masked_scatter_=inplace.make_inplace(masked_scatter),
    tril_=inplace.make_inplace(tril), triu_=inplace.make_inplace(triu),
    uniform_=inplace.uniform_, normal_=inplace.normal_,
    __imod__=inplace.make_inplace(remainder), __ifloordiv__=inplace.make_inplace(floor_divide),
    __ipow__=inplace.make_inplace(pow), __iand__=inplace.make_inplace(bitwise_and),
    __ior__=inplace.make_inplace(bitwise_or), __ixor__=inplace.make_inplace(bitwise_xor),
    __ilshift__=inplace.make_inplace(bitwise_left_shift), __irshift__=inplace.make_inplace(bitwise_right_shift),
)

# (after the method tables: random_ops' Tensor.uniform_/normal_ replace inplace's)
from .random_ops import bernoulli, multinomial, poisson, rand_like, randint_like, randn_like  # noqa: E402

# torch's function forms of in-place ops (torch.relu_, torch.exp_ ...)
relu_, sigmoid_, exp_, tanh_, sqrt_, log_, abs_, neg_, sin_, cos_, floor_, ceil_, round_, trunc_, frac_ = (
    getattr(Tensor, n + "_") for n in "relu sigmoid exp tanh sqrt log abs neg sin cos floor ceil round trunc frac".split())
clamp_, clamp_min_, clamp_max_, rsqrt_, erf_, erfc_, exp2_, expm1_, log1p_, log2_, log10_ = (
    getattr(Tensor, n + "_") for n in "clamp clamp_min clamp_max rsqrt erf erfc exp2 expm1 log1p log2 log10".split())
zero_, fill_, index_put_ = inplace.zero_, inplace.fill_, Tensor.index_put_

Tensor.T = property(shape._T)
Tensor.mT = property(shape._mT)
Tensor.H = property(shape._T)
Tensor.__hash__ = lambda self: id(self)  # type: ignore[method-assign]

from .complex import (  # noqa: E402
    adjoint,
    angle,
    conj,
    conj_physical,
    imag,
    is_complex,
    is_conj,
    is_neg,
    polar,
    real,
    resolve_conj,
    resolve_neg,
    view_as_complex,
    view_as_real,
)
from .counting import bincount, bucketize, histc, histogram, searchsorted  # noqa: E402
from .differences import cumulative_trapezoid, diff, trapezoid, trapz  # noqa: E402
from .pointwise_extra import (  # noqa: E402
    copysign,
    deg2rad,
    frexp,
    gcd,
    heaviside,
    lcm,
    ldexp,
    logaddexp,
    logaddexp2,
    nextafter,
    positive,
    rad2deg,
)
from .special_functions import gammainc as igamma  # noqa: E402
from .special_functions import gammaincc as igammac  # noqa: E402
from .special_functions import i0, sinc  # noqa: E402
from .special_functions import multigammaln as mvlgamma  # noqa: E402
from .stft import istft, stft  # noqa: E402
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window  # noqa: E402

_EXTRA_INPLACE = "copysign heaviside sinc deg2rad rad2deg i0 nextafter ldexp gcd lcm igamma igammac mvlgamma".split()
attach_methods(
    logaddexp=logaddexp, logaddexp2=logaddexp2, copysign=copysign, heaviside=heaviside, sinc=sinc, positive=positive,
    deg2rad=deg2rad, rad2deg=rad2deg, i0=i0, nextafter=nextafter, ldexp=ldexp, frexp=frexp, gcd=gcd, lcm=lcm, diff=diff,
    stft=stft, istft=istft, igamma=igamma, igammac=igammac, mvlgamma=mvlgamma,
    **{n + "_": inplace.make_inplace(globals()[n]) for n in _EXTRA_INPLACE},
)
sinc_, deg2rad_, rad2deg_, i0_, ldexp_, gcd_, lcm_ = (getattr(Tensor, n + "_") for n in "sinc deg2rad rad2deg i0 ldexp gcd lcm".split())
from . import fill_diagonal, inplace_shape  # noqa: E402,F401  (after the method tables: these attach their own methods)
from .distances import cdist  # noqa: E402
from .scans import logcumsumexp  # noqa: E402
from .unique_consecutive import unique_consecutive  # noqa: E402

attach_methods(bincount=bincount, histc=histc, histogram=histogram)
from . import strided as _strided  # noqa: E402
from .indices import argwhere, cartesian_prod, combinations, isin, tril_indices, triu_indices, unravel_index  # noqa: E402
from .lu import lu_unpack  # noqa: E402
from .matrices import addr, block_diag, chain_matmul, renorm, vander  # noqa: E402
from .predicates import isneginf, isposinf, isreal, signbit  # noqa: E402
from .spellings import *  # noqa: E402,F403  (torch.svd, torch.hsplit, torch.acos_ ...; attaches x.gt_, x.new ...)
from .statistics import corrcoef, cov, nanquantile, quantile  # noqa: E402
from .strided import as_strided, as_strided_, as_strided_copy, as_strided_scatter  # noqa: E402
from .triangular import cholesky_inverse, cholesky_solve, triangular_solve  # noqa: E402  (these modules attach their own methods)

attach_methods(as_strided=as_strided, as_strided_=as_strided_, as_strided_scatter=as_strided_scatter,
               storage_offset=_strided.storage_offset)

# the functions ``ember`` re-exports at top level (torch.add, torch.cat, ...)
__all__ = sorted(
    name for name, obj in list(globals().items())
    if not name.startswith("_") and callable(obj) and getattr(obj, "__module__", "").startswith("ember.ops")
    and name not in ("attach_methods", "node_class", "record", "shape_view")
    and not isinstance(obj, type)
)

from ._numpy_names import install as _install_numpy_names  # noqa: E402  (last: wraps the finished table)

_install_numpy_names(globals(), Tensor)

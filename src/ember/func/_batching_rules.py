"""vmap's batching rules: each runs an op once on the physical tensors, batch dim at the front.

A rule takes the ``Call`` (level, batch size, the op) and the op's arguments as the caller passed
them, and returns the batched result, or ``NotImplemented`` for a case it does not cover (the op
then runs once per batch element). The families:

- elementwise ops: batched arguments get size-1 dims after the batch dim so that every argument's
  logical dims line up from the right, then NumPy's broadcasting does the rest;
- ops that take dims (reductions, softmax, views): logical dims shift by one past the batch dim;
- matmul and friends: ``np.matmul`` broadcasts over the leading batch once the operands line up;
- layers that take an optional batch dim (convolution, pooling, losses): the vmap batch is folded
  into the layer's own batch dim;
- compositions (``linear``, ``addmm``, ``mse_loss`` ...): written in other ops on the logical values,
  which dispatch again.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from .. import _dtype, ops
from .._tensor import Tensor
from ..ops import _vmap_hook
from ..ops._core import _py, is_scalar
from ._batched import INPLACE_ERROR, RANDOM_ERROR, RULES, BatchedTensor, Call, is_inplace

Rule = Callable[[Call, tuple, dict], Any]


def _rule(*names: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for n in names:
            RULES[n] = fn
        return fn

    return register


@functools.cache
def _signature(fn: Callable) -> inspect.Signature:
    return inspect.signature(fn)


def _bind(fn: Callable, args: tuple, kwargs: dict) -> dict:
    """The op's arguments by parameter name (defaults filled in)."""
    b = _signature(fn).bind(*args, **kwargs)
    b.apply_defaults()
    return dict(b.arguments)


def _wrap_dim(d: int, n: int) -> int:
    if not -max(n, 1) <= d < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], but "
                         f"got {d})")
    return d % max(n, 1)


def _shift(d: Any, n: int) -> Any:
    """Logical dim(s) ``d`` of an ``n``-dim value as physical dims (one past the batch dim)."""
    if isinstance(d, (tuple, list)):
        return type(d)(_wrap_dim(x, n) + 1 for x in d)
    return _wrap_dim(d, n) + 1


def _pad(p: Tensor, k: int) -> Tensor:
    """Physical ``p`` with ``k`` size-1 dims inserted after its batch dim."""
    return p.reshape(p.shape[:1] + (1,) * k + p.shape[1:]) if k else p


def _sizes(rest: tuple) -> tuple:
    """``(2, 3)`` or ``((2, 3),)``: the sizes a view method takes either way."""
    return tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else tuple(rest)


# ---------------------------------------------------------------------------------------------- elementwise
# ops whose tensor operands all take part in type promotion (torch's TensorIterator common dtype)
_PROMOTING = frozenset(
    "add sub rsub mul div true_divide floor_divide remainder fmod pow atan2 arctan2 maximum minimum fmax fmin eq ne "
    "lt le gt ge greater less greater_equal less_equal not_equal hypot copysign logaddexp logaddexp2 xlogy nextafter "
    "subtract multiply divide bitwise_and bitwise_or bitwise_xor logical_and logical_or logical_xor __add__ __radd__ "
    "__sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ "
    "__rpow__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__".split())


def _common_dtype(operands: Any, batched_as_dims: bool) -> Any:
    """torch's common dtype of the operands, by their logical dims, or (``batched_as_dims``) with
    every batched operand counted as a tensor with dims, as the physical call will see it."""
    dims: list = []
    zeros: list = []
    scalars: list = []
    for o in operands:
        if isinstance(o, Tensor):
            (dims if o.dim() or (batched_as_dims and type(o) is BatchedTensor) else zeros).append(o.dtype)
        elif is_scalar(o):
            scalars.append(_dtype.scalar_dtype(_py(o)))
    return _dtype.result_type(dims, zeros, scalars)


def elementwise(c: Call, args: tuple, kwargs: dict) -> Any:
    """Broadcasting ops: batched operands padded so their logical dims align from the right."""
    ts = [t for t in (*args, *kwargs.values()) if isinstance(t, Tensor)]
    ndim = max(t.dim() for t in ts)
    cast = None
    if ndim and c.name in _PROMOTING and any(c.batched(t) and not t.dim() for t in ts):
        # a batched 0-d value is 1-d physically, which would promote as a tensor with dims: it must
        # promote as the 0-d tensor it is (float64 scalar * float16 vector is float16)
        operands = (*args, *kwargs.values())
        want = _common_dtype(operands, False)
        if want != _common_dtype(operands, True):
            cast = want

    def physical(x: Any) -> Any:
        if not c.batched(x):
            return x
        p = _pad(x._phys, ndim - x.dim())
        return p.to(cast) if cast is not None and p.dtype != cast else p

    if is_inplace(c.name) and not c.batched(args[0]):
        raise RuntimeError(INPLACE_ERROR)
    out = c.call(*(physical(a) for a in args), **{k: physical(v) for k, v in kwargs.items()})
    return args[0] if is_inplace(c.name) else c.wrap(out)


_ELEMENTWISE = (
    "add sub rsub mul div true_divide floor_divide remainder fmod pow float_power neg negative abs absolute exp exp2 "
    "expm1 log log2 log10 log1p sqrt rsqrt square reciprocal sin cos tan asin acos atan sinh cosh tanh asinh acosh "
    "atanh arcsin arccos arctan arcsinh arccosh arctanh atan2 arctan2 sigmoid relu sign sgn signbit floor ceil round "
    "trunc fix frac clamp clip clamp_min clamp_max maximum minimum fmax fmin eq ne lt le gt ge greater less "
    "greater_equal less_equal not_equal isnan isinf isfinite isposinf isneginf isreal logical_and logical_or "
    "logical_not logical_xor bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift bitwise_right_shift "
    "where lerp addcmul addcdiv hypot xlogy logit erf erfc erfinv lgamma digamma polygamma nan_to_num logaddexp "
    "logaddexp2 copysign heaviside sinc i0 deg2rad rad2deg nextafter ldexp positive conj conj_physical real imag "
    "angle isclose subtract multiply divide "
    "clone contiguous detach to type_as float double half bfloat16 long int short char byte bool requires_grad_ "
    "zeros_like ones_like empty_like full_like tril triu det inverse logdet slogdet matrix_exp "
    "gelu silu mish softplus softsign elu selu celu leaky_relu hardtanh relu6 hardsigmoid hardswish logsigmoid "
    "tanhshrink softshrink hardshrink threshold "
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ __rfloordiv__ __mod__ "
    "__rmod__ __pow__ __rpow__ __neg__ __pos__ __abs__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __and__ __rand__ "
    "__or__ __ror__ __xor__ __rxor__ __invert__ __lshift__ __rshift__ __iadd__ __isub__ __imul__ __itruediv__ "
    "__ipow__ __imod__ __ifloordiv__ __iand__ __ior__ __ixor__").split()
_INPLACE = ("add sub mul div pow neg exp log sqrt sigmoid tanh relu clamp clip abs masked_fill zero fill copy "
            "rsqrt exp2 expm1 log2 log10 log1p tan sin cos asin acos atan sinh cosh floor ceil round trunc frac "
            "sign sgn square reciprocal remainder fmod lerp addcmul addcdiv clamp_min clamp_max true_divide "
            "floor_divide nan_to_num").split()
_rule(*_ELEMENTWISE, *(n + "_" for n in _INPLACE), "masked_fill")(elementwise)


@_rule("max", "min")
def _max_min(c: Call, args: tuple, kwargs: dict) -> Any:
    other = args[1] if len(args) > 1 else kwargs.get("other")
    if isinstance(other, Tensor):  # max(a, b): elementwise
        return elementwise(c, args, kwargs)
    return reduction(c, args, kwargs)


# ---------------------------------------------------------------------------------------------- dims
def _dim_arg(args: tuple, kwargs: dict, pos: int, key: str = "dim") -> tuple:
    """(value, setter) of the argument at ``pos`` / keyword ``key``."""
    if key in kwargs:
        return kwargs[key], lambda a, k, v: (a, {**k, key: v})
    if len(args) > pos:
        return args[pos], lambda a, k, v: (a[:pos] + (v,) + a[pos + 1:], k)
    return None, lambda a, k, v: (a, {**k, key: v})


_LAST_DIM = {"sort": -1, "argsort": -1, "kthvalue": -1, "mode": -1}  # (ops whose dim defaults to the last)
_DIM_POS = {"norm": 2, "kthvalue": 2, "narrow": 1, "unflatten": 1, "split": 2, "chunk": 2, "tensor_split": 2, "index_select": 1,
            "take_along_dim": 2, "gather": 1, "repeat_interleave": 2}


def reduction(c: Call, args: tuple, kwargs: dict) -> Any:
    """Ops over ``dim`` (None: every logical dim) of their first argument."""
    x = args[0]
    if not c.batched(x) or any(c.batched(t) for t in (*args[1:], *kwargs.values())):
        return NotImplemented
    n, p = x.dim(), x._phys
    dim, put = _dim_arg(args, kwargs, _DIM_POS.get(c.name, 1))
    dim = _LAST_DIM.get(c.name, dim) if dim is None else dim
    if dim is None:
        if c.name in ("max", "min", "median", "nanmedian"):  # (no dim: one value, no indices)
            flat = p.reshape(p.shape[0], -1)
            return c.wrap(flat.amax(1) if c.name == "max" else flat.amin(1) if c.name == "min"
                          else c.call(flat, 1).values)
        if kwargs.get("keepdim") or (len(args) > 2 and args[2] is True and c.name in ("sum", "mean")):
            return NotImplemented
        if c.name in ("softmax", "log_softmax", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"):
            return NotImplemented  # (a dim they infer from the shape)
        p, dim = p.reshape(p.shape[0], -1), 1
    else:
        dim = _shift(dim, n)
    a, k = put((p,) + tuple(args[1:]), kwargs, dim)
    return c.wrap(c.call(*a, **k))


_rule("sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "logsumexp", "var", "std", "norm", "all", "any",
      "count_nonzero", "nansum", "nanmean", "median", "nanmedian", "std_mean", "var_mean", "softmax", "log_softmax",
      "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "kthvalue", "mode")(reduction)


def dims_rule(c: Call, args: tuple, kwargs: dict) -> Any:
    """View-like ops with an explicit dim: shifted past the batch dim."""
    x = args[0]
    if not c.batched(x) or any(c.batched(t) for t in (*args[1:], *kwargs.values())):
        return NotImplemented
    dim, put = _dim_arg(args, kwargs, _DIM_POS.get(c.name, 1))
    dim = 0 if dim is None else dim
    a, k = put((x._phys,) + tuple(args[1:]), kwargs, _shift(dim, x.dim()))
    return c.wrap(c.call(*a, **k))


_rule("select", "narrow", "unbind", "split", "chunk", "tensor_split", "unflatten", "index_select")(dims_rule)


@_rule("gather", "take_along_dim")
def _gather(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x, index = b.pop("input", None), b.pop("index", b.pop("indices", None))
    if x is None or not isinstance(index, Tensor) or b.get("dim") is None:
        return NotImplemented
    dim = _shift(b.pop("dim"), x.dim())
    return c.wrap(c.call(c.phys(x), dim, c.phys(index), **b))


@_rule("transpose", "swapaxes", "swapdims", "movedim", "moveaxis")
def _two_dims(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    names = list(b)
    x = b[names[0]]
    if not c.batched(x) or any(c.batched(t) for t in args[1:]):
        return NotImplemented
    n = x.dim()
    return c.wrap(c.call(x._phys, _shift(b[names[1]], n), _shift(b[names[2]], n)))


@_rule("permute")
def _permute(c: Call, args: tuple, kwargs: dict) -> Any:
    dims = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs["dims"])
    return c.wrap(c.call(args[0]._phys, (0, *_shift(dims, args[0].dim()))))


@_rule("t")
def _t(c: Call, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    return x if x.dim() < 2 else c.wrap(x._phys.transpose(1, 2))


@_rule("T", "mT", "H", "mH")
def _T(c: Call, args: tuple, kwargs: dict) -> Any:
    x, n = args[0], args[0].dim()
    if c.name in ("mT", "mH"):
        out = x._phys.transpose(-1, -2)
    else:
        out = x._phys.permute(0, *range(n, 0, -1))
    return c.wrap(out.conj() if c.name in ("H", "mH") and x.is_complex() else out)


@_rule("flatten", "ravel")
def _flatten(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x = args[0]
    n = x.dim()
    if n == 0 or c.name == "ravel":
        return c.wrap(x._phys.reshape(x._phys.shape[0], -1))
    s, e = _shift(b.get("start_dim", 0), n), _shift(b.get("end_dim", -1), n)
    return c.wrap(x._phys.flatten(s, e))


@_rule("reshape", "view")
def _reshape(c: Call, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    shape = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs.get("shape", kwargs.get("size", ())))
    if not c.batched(x) or (shape and not isinstance(shape[0], int)):  # (x.view(dtype))
        return NotImplemented
    return c.wrap(x._phys.reshape((x._phys.shape[0], *shape)))


@_rule("view_as", "reshape_as")
def _view_as(c: Call, args: tuple, kwargs: dict) -> Any:
    x, other = args[0], args[1] if len(args) > 1 else kwargs["other"]
    return x.reshape(other.shape) if c.batched(x) else NotImplemented


@_rule("unsqueeze")
def _unsqueeze(c: Call, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    d = args[1] if len(args) > 1 else kwargs["dim"]
    return c.wrap(x._phys.unsqueeze(_shift(d, x.dim() + 1)))


@_rule("squeeze")
def _squeeze(c: Call, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    d = args[1] if len(args) > 1 else kwargs.get("dim")
    if d is None:
        d = tuple(i for i, s in enumerate(x.shape) if s == 1)
    if isinstance(d, (tuple, list)):
        out = x._phys
        for i in sorted(_shift(tuple(d), x.dim()), reverse=True):
            out = out.squeeze(i)
        return c.wrap(out)
    return c.wrap(x._phys.squeeze(_shift(d, x.dim())))


@_rule("expand", "broadcast_to", "expand_as")
def _expand(c: Call, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    if c.name == "expand_as":
        sizes = tuple((args[1] if len(args) > 1 else kwargs["other"]).shape)
    else:
        sizes = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs.get("size", kwargs.get("shape", ())))
    if not c.batched(x):
        return NotImplemented
    p = _pad(x._phys, len(sizes) - x.dim())
    return c.wrap(p.expand(p.shape[0], *sizes))


@_rule("flip")
def _flip(c: Call, args: tuple, kwargs: dict) -> Any:
    dims = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs["dims"])
    return c.wrap(args[0]._phys.flip(_shift(dims, args[0].dim())))


@_rule("diagonal")
def _diagonal(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x = b.pop(next(iter(b)))
    n = x.dim()
    return c.wrap(c.call(x._phys, b.get("offset", 0), _shift(b.get("dim1", 0), n), _shift(b.get("dim2", 1), n)))


@_rule("__getitem__")
def _getitem(c: Call, args: tuple, kwargs: dict) -> Any:
    x, key = args
    key = key if isinstance(key, tuple) else (key,)
    advanced = [i for i, k in enumerate(key) if isinstance(k, (Tensor, list))]
    if not c.batched(x) or any(isinstance(k, BatchedTensor) for k in key) or (
            advanced and advanced != list(range(advanced[0], advanced[-1] + 1))):
        return NotImplemented  # (batched indices; advanced indices NumPy would move to the front)
    return c.wrap(x._phys[(slice(None), *key)])


@_rule("__setitem__")
def _setitem(c: Call, args: tuple, kwargs: dict) -> Any:
    x, key, value = args
    key = key if isinstance(key, tuple) else (key,)
    if not c.batched(x):
        raise RuntimeError(INPLACE_ERROR)
    if any(isinstance(k, BatchedTensor) for k in key) or any(isinstance(k, (Tensor, list)) for k in key):
        return NotImplemented  # (advanced indices: NumPy's placement of the indexed dims)
    if c.batched(value):  # its logical dims line up with the selected region's from the right
        value = _pad(value._phys, x[key].dim() - value.dim())
    c.call(x._phys, (slice(None), *key), value)
    return None


@_rule("cat", "concat", "concatenate", "stack")
def _cat(c: Call, args: tuple, kwargs: dict) -> Any:
    tensors = list(args[0] if args else kwargs["tensors"])
    dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
    if not tensors:
        return NotImplemented
    n = tensors[0].dim() + (c.name == "stack")
    return c.wrap(c.call([c.phys(t) for t in tensors], _shift(dim, n)))


# ---------------------------------------------------------------------------------------------- matmul
def _matmul_pair(c: Call, a: Any, b: Any) -> Any:
    if not c.batched(b) and b.dim() <= 2 and a.dim() >= 1:  # one GEMM over the batch's rows
        return c.wrap(ops.matmul(a._phys, b))
    # general case: vectors as matrices, the batched operands padded so their stacks line up
    va, vb = a.dim() == 1, b.dim() == 1
    a2 = a.unsqueeze(0) if va else a
    b2 = b.unsqueeze(-1) if vb else b
    stack = max(a2.dim(), b2.dim()) - 2

    def physical(x: Any) -> Any:
        return _pad(x._phys, stack - (x.dim() - 2)) if c.batched(x) else x

    out = ops.matmul(physical(a2), physical(b2))
    if vb:
        out = out.squeeze(-1)
    if va:
        out = out.squeeze(-1 if vb else -2)
    return c.wrap(out)


@_rule("matmul", "mm", "bmm", "mv", "dot", "inner", "__matmul__", "__rmatmul__")
def _matmul(c: Call, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("mat2", kwargs.get("vec")))
    if c.name == "__rmatmul__":
        a, b = b, a
    if b is None or (c.name == "inner" and b.dim() > 1):
        return NotImplemented
    return _matmul_pair(c, a, b)


@_rule("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor")
def _new_factory(c: Call, args: tuple, kwargs: dict) -> Any:
    """``x.new_zeros(...)``: an unbatched tensor (only the dtype comes from ``x``)."""
    return c.call(args[0]._phys, *args[1:], **kwargs) if c.batched(args[0]) else NotImplemented


@_rule("repeat")
def _repeat(c: Call, args: tuple, kwargs: dict) -> Any:
    sizes = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs["repeats"])
    x = args[0]
    p = _pad(x._phys, len(sizes) - x.dim())
    return c.wrap(p.repeat(1, *sizes))


@_rule("outer", "ger")
def _outer(c: Call, args: tuple, kwargs: dict) -> Any:
    return args[0].unsqueeze(-1) * args[1].unsqueeze(-2)


@_rule("linear")
def _linear(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x, w, bias = b["input"], b["weight"], b.get("bias")
    out = ops.matmul(x, w.t() if w.dim() == 2 else w)
    return out if bias is None else out + bias


@_rule("addmm", "addmv", "baddbmm")
def _addmm(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    names = [k for k in b if isinstance(b[k], Tensor)]
    inp, m1, m2 = (b[k] for k in names[:3])
    out = ops.matmul(m1, m2)
    alpha, beta = b.get("alpha", 1), b.get("beta", 1)
    out = out if alpha == 1 else out * alpha
    return out if beta == 0 else out + (inp if beta == 1 else inp * beta)


# ---------------------------------------------------------------------------------------------- layers
def _fold(c: Call, x: Any, full: int, run: Callable[[Any], Any]) -> Any:
    """``run`` on ``x`` with the vmap batch folded into the layer's batch dim (``full``: the
    layer's batched rank); ``x`` without a batch dim has the vmap batch as its batch."""
    if not c.batched(x) or x.dim() not in (full, full - 1):
        return NotImplemented
    p = x._phys
    if x.dim() == full - 1:
        return c.wrap(run(p))
    size, n = p.shape[0], p.shape[1]
    out = run(p.flatten(0, 1))

    def unfold(o: Any) -> Any:
        return o.reshape((size, n, *o.shape[1:])) if isinstance(o, Tensor) else o

    return c.wrap(tuple(unfold(o) for o in out) if isinstance(out, tuple) else unfold(out))


def _spatial(name: str) -> int:
    return int(name.rstrip("_")[-2]) if name.rstrip("_")[-1] == "d" and name.rstrip("_")[-2].isdigit() else 2


def pooling(c: Call, args: tuple, kwargs: dict) -> Any:
    """Pooling and other layers whose only tensor is the input."""
    if any(c.batched(t) for t in (*args[1:], *kwargs.values())):
        return NotImplemented
    return _fold(c, args[0], _spatial(c.name) + 2, lambda p: c.call(p, *args[1:], **kwargs))


_rule(*(f"{k}_pool{d}d" for k in ("max", "avg", "adaptive_max", "adaptive_avg", "lp") for d in (1, 2, 3)))(pooling)


@_rule("conv1d", "conv2d", "conv3d")
def _conv(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x, w, bias = b.pop("input"), b.pop("weight"), b.pop("bias", None)
    full = _spatial(c.name) + 2
    if not c.batched(w) and not c.batched(bias):
        return _fold(c, x, full, lambda p: c.call(p, w, bias, **b))
    # per-element weights: one grouped convolution, the batch folded into the channels
    if x.dim() == full - 1:
        return _conv(c, (x.unsqueeze(0), w, bias), b).squeeze(0)
    size = c.size
    xp, wp = c.phys(x), c.phys(w)  # [B, N, C, *sp], [B, O, C/g, *k]
    n = xp.shape[1]
    x2 = xp.movedim(0, 1).reshape((n, size * xp.shape[2], *xp.shape[3:]))
    w2 = wp.reshape((size * wp.shape[1], *wp.shape[2:]))
    b2 = None if bias is None else c.phys(bias).reshape(-1)
    groups = b.pop("groups", 1)
    out = c.call(x2, w2, b2, **b, groups=groups * size)
    return c.wrap(out.reshape((n, size, wp.shape[1], *out.shape[2:])).movedim(1, 0))


def _nll_like(c: Call, args: tuple, kwargs: dict) -> Any:
    """cross_entropy / nll_loss with class-index targets and no class weights."""
    b = _bind(c.fn, args, kwargs)
    x, target = b.pop("input"), b.pop("target")
    reduction, ignore = b.pop("reduction", "mean"), b.get("ignore_index", -100)
    if (b.get("weight") is not None or b.get("size_average") is not None or b.get("reduce") is not None
            or b.get("label_smoothing", 0.0) or target.is_floating_point() or not c.batched(x) and not c.batched(target)):
        return NotImplemented
    xp, tp = c.phys(x), c.phys(target)
    size = xp.shape[0]
    if x.dim() == 1:  # one sample: the vmap batch is the loss's batch
        losses = c.call(xp, tp, **b, reduction="none")
        valid = tp != ignore
    else:
        losses = c.call(xp.flatten(0, 1), tp.flatten(0, 1), **b, reduction="none").reshape((size, -1))
        valid = (tp != ignore).reshape((size, -1))
        if reduction == "none":
            return c.wrap(losses.reshape(tp.shape))
    if reduction == "none":
        return c.wrap(losses)
    total = losses if x.dim() == 1 else losses.sum(1)
    if reduction == "sum":
        return c.wrap(total)
    count = valid if x.dim() == 1 else valid.sum(1)
    return c.wrap(total / count.to(total.dtype))


_rule("cross_entropy", "nll_loss")(_nll_like)


@_rule("mse_loss", "l1_loss")
def _pointwise_loss(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    if b.get("size_average") is not None or b.get("reduce") is not None:
        return NotImplemented
    d = b["input"] - b["target"]
    loss = d * d if c.name == "mse_loss" else d.abs()
    reduction = b.get("reduction", "mean")
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


@_rule("dropout")
def _dropout(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x, p, training = b["input"], b.get("p", 0.5), b.get("training", True)
    if not training or p == 0:
        return x
    from ._batched import _tls  # (the level's randomness)

    mode = _tls.levels[c.level - 1].randomness
    if mode == "error":
        raise RuntimeError(RANDOM_ERROR)
    if mode == "same":  # one mask for every batch element
        return x * c.call(ops.ones(x.shape, dtype=x.dtype), p, training)
    if b.get("inplace"):
        return NotImplemented
    return c.wrap(c.call(x._phys, p, training))


@_rule("layer_norm")
def _layer_norm(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x = b.pop("input")
    if not c.batched(x) or any(c.batched(t) for t in b.values()):
        return NotImplemented
    return c.wrap(c.call(x._phys, **b))



@_rule("embedding")
def _embedding(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    idx, weight = b.pop("input"), b.pop("weight")
    if b.get("max_norm") is not None:
        return NotImplemented  # (max_norm renormalises the weight in place)
    if not c.batched(weight):
        return c.wrap(c.call(idx._phys, weight, **b))  # the rows of idx's shape, batch dim included
    if c.batched(idx) or b.get("padding_idx") is not None or b.get("scale_grad_by_freq"):
        return NotImplemented
    return c.wrap(weight._phys[:, idx])  # per-element tables, the same indices: one gather


@_rule("pad")
def _pad_rule(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x = b.pop("input")
    if b.get("mode", "constant") != "constant" or not c.batched(x):
        return NotImplemented  # (the other modes take the layer's batch dims into account)
    return c.wrap(c.call(x._phys, **b))  # constant padding touches only trailing dims


@_rule("batch_norm")
def _batch_norm(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x, weight, bias = b.pop("input"), b.pop("weight"), b.pop("bias")
    if b.get("training") or c.batched(b["running_mean"]) or c.batched(b["running_var"]) or x.dim() < 2:
        return NotImplemented  # (batch statistics of one vmapped element are its own batch's)
    if not c.batched(weight) and not c.batched(bias):
        return _fold(c, x, x.dim(), lambda p: c.call(p, weight=weight, bias=bias, **b))
    out = _fold(c, x, x.dim(), lambda p: c.call(p, **b))  # per-element affine: applied after, by channel
    channel = (-1,) + (1,) * (x.dim() - 2)
    out = out if weight is None else out * weight.reshape(channel)
    return out if bias is None else out + bias.reshape(channel)


@_rule("einsum")
def _einsum(c: Call, args: tuple, kwargs: dict) -> Any:
    """Batched operands get a fresh subscript for the batch, which the output keeps in front."""
    eq, ops_ = args[0], args[1:]
    if len(ops_) == 1 and isinstance(ops_[0], (list, tuple)):
        ops_ = tuple(ops_[0])
    if "->" not in eq or kwargs:
        return NotImplemented
    free = next(ch for ch in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if ch not in eq)
    ins, out = eq.replace(" ", "").split("->")
    subs = ins.split(",")
    subs = [free + s if c.batched(t) else s for s, t in zip(subs, ops_)]
    return c.wrap(c.call(",".join(subs) + "->" + free + out, *(t._phys if c.batched(t) else t for t in ops_)))


# ---------------------------------------------------------------------------------------------- linalg, special, fft
def _module_rule(module: Any, prefix: str, names: Any, rule: Rule) -> None:
    """``rule`` for the functions ``names`` of a submodule: hooked as ``prefix + name``, or by the
    name they have in ember already (``linalg.det`` is ``ember.det``), which keeps its own rule."""
    for n in names:
        fn = vars(module).get(n)
        op = _vmap_hook._op_names.get(id(getattr(fn, "__wrapped__", fn)), prefix + n)
        RULES.setdefault(op, rule)


def _matrix_op(c: Call, args: tuple, kwargs: dict) -> Any:
    """torch.linalg ops on the last two dims of one input, batched over the dims before: the vmap
    batch is one more of those."""
    x = args[0]
    if not c.batched(x) or x.dim() < 2 or any(isinstance(t, Tensor) for t in (*args[1:], *kwargs.values())):
        return NotImplemented  # (a per-element vector would pass as a matrix physically: the loop errs as torch)
    return c.wrap(c.call(x._phys, *args[1:], **kwargs))


_rule("det", "inverse", "logdet", "slogdet", "matrix_exp", "tril", "triu")(_matrix_op)  # (not elementwise: 2+ dims)


def _first_param(fn: Callable) -> str:
    return next(iter(_signature(fn).parameters))


def _over_dims(c: Call, args: tuple, kwargs: dict) -> Any:
    """Norms and FFTs over ``dim`` (None: every logical dim, or an FFT's last ``len(s)``), shifted past
    the batch dim."""
    b = _bind(c.fn, args, kwargs)
    x = b.pop(_first_param(c.fn))
    if (not c.batched(x) or x.dim() == 0 or b.get("out") is not None
            or any(isinstance(v, Tensor) for v in b.values())):
        return NotImplemented
    n, dim, s = x.dim(), b["dim"], b.get("s")
    if dim is not None:
        b["dim"] = _shift(dim, n)
    elif c.name.endswith(".norm") and n > 2 or s is not None and len(s) > n:
        return NotImplemented  # (errors, or a flattened norm: the loop does them as torch)
    else:
        b["dim"] = tuple(range(n - (n if s is None else len(s)) + 1, n + 1))
    return c.wrap(c.call(x._phys, **b))


def _linalg_diagonal(c: Call, args: tuple, kwargs: dict) -> Any:
    b = _bind(c.fn, args, kwargs)
    x = b.pop(_first_param(c.fn))
    if not c.batched(x):
        return NotImplemented
    return c.wrap(c.call(x._phys, offset=b["offset"], dim1=_shift(b["dim1"], x.dim()), dim2=_shift(b["dim2"], x.dim())))


def _submodule_rules() -> None:
    from .. import fft, linalg, special

    _module_rule(linalg, "linalg.", ("inv inv_ex cholesky cholesky_ex eigh eigvalsh eig eigvals svd svdvals qr pinv "
                                     "matrix_power lu_factor lu_factor_ex lu matrix_rank cond").split(), _matrix_op)
    _module_rule(linalg, "linalg.", ("vector_norm", "matrix_norm", "norm"), _over_dims)
    _module_rule(linalg, "linalg.", ("diagonal",), _linalg_diagonal)
    _module_rule(fft, "fft.", [n for n in fft.__all__ if "freq" not in n], _over_dims)
    dims = ("softmax", "log_softmax", "logsumexp")
    _module_rule(special, "special.", dims, reduction)
    _module_rule(special, "special.", [n for n in special.__all__ if n not in dims], elementwise)


_submodule_rules()

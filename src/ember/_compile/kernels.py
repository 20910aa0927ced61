"""The ops ``ember.compile`` can replay, each as a line of NumPy on arrays.

Eager ember computes an op's forward inline (``ops/pointwise.py``'s fast paths and the like), so a
replay needs the same arithmetic as a stand-alone kernel: a template of one or a few lines over
arrays, filled with the names of the op's inputs (``{i0}``), outputs (``{o0}``) and constant
arguments (``{c0}``). Each template spells the expression the eager op evaluates for the cases its
handler accepts (same dtype, float32/float64, no ``out=``), so replay equals eager bit for bit;
``tests/test_compile_kernels.py`` checks every one against the eager op.

A handler looks at an eager call's arguments (``accept``, when the call starts: a call it declines
is traced through, so its inner ops are recorded instead) and at its result (``build``): it returns
the kernel, the input arrays, the constants and the output arrays (a kernel may have auxiliary
outputs that the op's backward node keeps, such as nll_loss's coefficients).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import _autocast
from .._tensor import Tensor, _new
from ..autograd import grad_mode
from ..nn import _dropout, _rnn_ops
from ..nn import _ops as nn_ops
from ..nn.modules.rnn import RNNBase
from ..nn.utils import clip_grad
from ..ops import _float32 as f32
from ..ops import _vmap_hook, convolution, indexing, inplace, joining, linalg, loss, pointwise, pooling, reduction, views
from ..ops import activation as act
from ..ops._core import binary_operands, where_np, wrap_dim
from ..ops._index_keys import _index_layout
from ..ops.loss import _reduce_np
from ..optim import _lr_scheduler_base
from ..optim.optimizer import Optimizer

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

# name -> template. Temporaries inside a template are named after its first output ({o0}_...).
TEMPLATES: dict[str, str] = {
    "add": "{o0} = {i0} + {i1}",
    "add_scalar": "{o0} = {i0} + {c0}",
    "sub": "{o0} = {i0} - {i1}",
    "sub_scalar": "{o0} = {i0} - {c0}",
    "rsub_scalar": "{o0} = {c0} - {i0}",
    "mul": "{o0} = {i0} * {i1}",
    "mul_scalar": "{o0} = {i0} * {c0}",
    "div": "{o0} = {i0} / {i1}",
    "div_scalar": "{o0} = {i0} / {c0}",
    "neg": "{o0} = np.negative({i0})",
    "pow_scalar": "{o0} = f32.power_scalar({i0}, {c0})",
    "exp": "{o0} = f32.exp({i0})",
    "log": "{o0} = f32.log({i0})",
    "tanh": "{o0} = f32.tanh({i0})",
    "sigmoid": "{o0} = f32.sigmoid({i0})",
    "sqrt": "{o0} = np.sqrt({i0})",
    "unary_fn": "{o0} = unary({c0}, {i0})",
    "abs": "{o0} = np.abs({i0})",
    "clamp": "{o0} = clip_np({i0}, {c0}, {c1})",
    "maximum": "{o0} = np.maximum({i1}, {i0})",
    "minimum": "{o0} = np.minimum({i1}, {i0})",
    "relu": "{o0} = relu_np({i0})",
    "mm": "{o0} = f32.matmul({i0}, {i1})",
    "matmul_folded": "{o0} = f32.matmul({i0}.reshape({c0}), {i1}).reshape({c1})",
    "linear": "{o0} = {i0} @ {i1}.T\n{o0} += {i2}",
    "reshape": "{o0} = np.reshape({i0}, {c0})",
    "transpose": "{o0} = np.swapaxes({i0}, {c0}, {c1})",
    "t": "{o0} = {i0}.T",
    "permute": "{o0} = np.transpose({i0}, {c0})",
    "expand": "{o0} = np.broadcast_to({i0}, {c0})",
    "getitem": "{o0} = {i0}[{c0}]",
    "activation": "{o0} = activation({c0}, {i0}, {c1})",
    "layer_norm": "{o0}, {o1}, {o2} = layer_norm_rows({i0}, {i1}, {i2}, {c0}, {c1})",
    "layer_norm_plain": "{o0}, {o1}, {o2} = layer_norm_rows({i0}, None, None, {c0}, {c1})",
    "embedding": "{o0} = embedding_rows({i0}, {i1})",
    "sum": "{o0} = np.asarray({i0}.sum(dtype={i0}.dtype))",
    "sum_dims": "{o0} = np.asarray({i0}.sum(axis={c0}, dtype={i0}.dtype, keepdims={c1}))",
    "mean": "{o0} = np.asarray({i0}.mean(dtype={i0}.dtype))",
    "mean_dims": "{o0} = np.asarray({i0}.sum(axis={c0}, keepdims={c1}, dtype={i0}.dtype) / {i0}.dtype.type({c2}))",
    "softmax": "{o0} = f32.softmax({i0}, {c0})",
    "log_softmax": "{o0} = f32.log_softmax({i0}, {c0})",
    "mse_loss": "{o0}_d = {i0} - {i1}\n{o0} = reduce_np({o0}_d * {o0}_d, {c0})",
    "nll_loss": "{o0}, {o1} = nll_loss_rows({i0}, {i1}, {c0}, {c1})",
    "nll_loss_nd": "{o0}, {o1} = nll_loss_nd({i0}, {i1}, {c0}, {c1})",
    "nll_loss_weighted": "{o0}, {o1} = nll_loss_nd({i0}, {i1}, {c0}, {c1}, {i2})",
    "dropout_noise": "{o0} = dropout_noise({c0}, {c1}, {c2})",
    "filled": "{o0} = filled_array({c0}, {c1}, {c2})",
    "conv": "{o0}, {o1}, _, _ = conv_forward({i0}, {i1}, {c0}, {c1}, {c2}, {c3}, {i2})",
    "conv_nobias": "{o0}, {o1}, _, _ = conv_forward({i0}, {i1}, {c0}, {c1}, {c2}, {c3})",
    "max_pool_tiled": "{o0}, {o1} = max_pool_tiled({i0}, {c0}, {c1})",
    "max_pool": "{o0}, {o1} = max_pool_indices({i0}, {c0}, {c1}, {c2}, {c3}, {c4})",
    "lstm": "{o0}, {o1}, {o2}, {o3}, {o4}, {o5}, {o6} = lstm_arrays({i0}, {i1}, {i2}, {i3}, {i4}, {i5}, {i6}, {c0})",
    "lstm_nograd": "{o0}, {o1}, {o2}, _, _, _, _ = lstm_arrays({i0}, {i1}, {i2}, {i3}, {i4}, {i5}, {i6}, {c0})",
    "batch_norm": "{o0}, {o1}, {o2}, {o3} = batch_norm_arrays({i0}, {i1}, {i2}, {i3}, {i4}, {c0}, {c1}, {c2})",
    "split": "{outs}, = split_views({i0}, {c0}, {c1})",
    "lstm_zeros": "{o0} = np.zeros({c0}, {c2})\n{o1} = np.zeros({c1}, {c2})",
    "stack": "{o0} = np.ascontiguousarray(np.stack([{ins}], axis={c0}))",
    "cat": "{o0} = np.ascontiguousarray(np.concatenate([{ins}], axis={c0}))",
    "where": "{o0} = where_np({i0}, {i1}, {i2})",
    "where_scalar_other": "{o0} = where_np({i0}, {i1}, {c0})",
    "where_scalar_input": "{o0} = where_np({i0}, {c0}, {i1})",
    "index": "{o0} = index_rows({i0}, {i1})",
}


def nll_loss_rows(x: np.ndarray, t: np.ndarray, reduction: str, ignore_index: int) -> tuple:
    """nll_loss of (N, C) log-probabilities and N class indices without weights: the loss and the
    coefficients its backward node keeps. ops/loss.py's common case (every target a class, none
    ignored); any other batch goes through the eager op itself (ignored rows, torch's errors)."""
    N, C = x.shape
    if t.min() < 0 or t.max() >= C or (0 <= ignore_index < C and (t == ignore_index).any()):
        return nll_loss_nd(x, t, reduction, ignore_index)
    return loss.nll_rows(x, t, reduction)


def nll_loss_nd(x: np.ndarray, t: np.ndarray, reduction: str, ignore_index: int, w: np.ndarray | None = None) -> tuple:
    """nll_loss in any other case its kernel takes ((N, C, d1, ...) scores, class weights): the
    eager op itself, for the loss and the coefficients its backward node keeps."""
    prev = grad_mode._state.enabled
    grad_mode._state.enabled = True  # (the eager op on a leaf that requires grad, for its node's coefficients)
    try:
        r = loss.nll_loss(_new(x).requires_grad_(), _new(t), None if w is None else _new(w), ignore_index, reduction)
    finally:
        grad_mode._state.enabled = prev
    return r._data, r.grad_fn.attrs[0]


def max_pool_tiled(x: np.ndarray, kh: int, kw: int) -> tuple:
    """max_pool2d with windows that tile the input (ops/pooling.py's fast path): the maxima and the
    copy of them its backward node keeps. Eager leaves this path when a window holds a NaN (torch's
    NaN index rule), which a replay cannot follow: it stops with an error instead."""
    out = pooling._max_pool_tiled(x, kh, kw)
    if np.isnan(out).any():
        raise RuntimeError("ember.compile: a NaN reached max_pool2d, whose eager kernel then changes (torch's rule "
                           "for the index of a NaN maximum); run this step eagerly")
    return out, out.copy()


def max_pool_indices(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, ceil: bool) -> tuple:
    """max_pool2d of a batch (ops/pooling.py's general path): the maxima and the flat indices of
    the maxima its backward node keeps."""
    out, idx = pooling._max_pool_np(x, k, s, p, d, ceil)
    return out, idx + pooling._plane_offsets(x.shape, 2)


def conv_backward_relu(node: Any, attrs: tuple, w: np.ndarray, g: np.ndarray, y: np.ndarray) -> tuple:
    """ConvolutionBackward0's formula (``convolution_backward`` of a stride-1 "flat" convolution of
    real numbers, ``node.needs`` saying which gradients) on the gradient that the backward of the
    relu of its output (``y``) makes from ``g``: the convolution's gradient kernel applies
    ``threshold_backward`` to each block of ``g`` as it reads it."""
    _, pads, dil, groups, cols, xp_shape, _ = attrs
    return convolution._conv_grads_flat(g, w, cols, xp_shape, pads, dil, groups, node.needs, y)


def activation(fwd: Callable, x: np.ndarray, params: tuple) -> np.ndarray:
    """An activation of ops/activation.py (gelu, silu, elu, leaky_relu ...): its own forward
    ``fwd``, as its op calls it on a float input."""
    with np.errstate(over="ignore", invalid="ignore"):
        return act._c(fwd(x, *params), x)


def unary(fwd: Callable, x: np.ndarray) -> np.ndarray:
    """An elementwise op of the table made by ``ops.pointwise._unary`` (sin, cos, log1p, erf ...):
    its own NumPy forward ``fwd``, as the op calls it on a float input (whose warnings eager silences)."""
    with np.errstate(all="ignore"):
        return fwd(x)


def layer_norm_rows(x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None, axes: tuple, eps: float) -> tuple:
    """layer_norm of a float32/float64 input as nn/_ops.py computes it: the output, and the
    normalised input and reciprocal deviations its backward node keeps."""
    _, _, rstd, xhat = nn_ops._norm_stats(x, axes, eps)
    out = xhat
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out.astype(x.dtype, copy=out is xhat), xhat, rstd


def embedding_rows(idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The rows of ``w`` at ``idx`` (embedding without max_norm), with the eager op's check."""
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError("index out of range in self")
    return w[idx]


def index_rows(x: np.ndarray, i: np.ndarray) -> np.ndarray:
    """``x[i]`` for one integer index array, as ops/indexing.py's gather (torch's layout, a copy)."""
    res = _index_layout(x, (i,), x[i])
    return np.array(res, copy=True) if res.base is x else res


def split_views(x: np.ndarray, d: int, sizes: tuple) -> tuple:
    """The pieces of ``x`` along ``d`` (views), as ops/joining.py's split cuts them."""
    starts = np.cumsum((0,) + sizes[:-1])
    return tuple(x[(slice(None),) * d + (slice(int(a), int(a) + b),)] for a, b in zip(starts, sizes))


# the names templates use
NAMESPACE: dict[str, Any] = {"np": np, "f32": f32, "relu_np": pointwise._relu_np, "reduce_np": _reduce_np,
                             "nll_loss_rows": nll_loss_rows, "nll_loss_nd": nll_loss_nd, "dropout_noise": _dropout._noise,
                             "conv_forward": convolution._conv_forward, "max_pool_tiled": max_pool_tiled,
                             "conv_backward_relu": conv_backward_relu,
                             "max_pool_indices": max_pool_indices, "activation": activation, "unary": unary,
                             "layer_norm_rows": layer_norm_rows, "embedding_rows": embedding_rows,
                             "lstm_arrays": _rnn_ops.lstm_arrays, "batch_norm_arrays": nn_ops.batch_norm_arrays,
                             "where_np": where_np, "index_rows": index_rows, "split_views": split_views,
                             "clip_np": pointwise._clip, "filled_array": inplace.filled_array}


@dataclass
class Rec:
    """One recorded op: kernel name, input arrays, constants, output arrays (the first is the
    returned Tensor's), and the returned Tensor (its grad_fn is the op's backward node)."""
    kernel: str
    ins: list
    consts: tuple
    outs: list
    result: Any = None
    label: str = ""


@dataclass
class Handler:
    name: str
    accept: Callable[[dict], bool]
    build: Callable[[dict, Any], "Rec | None"]
    macro: bool = False  # backward / optimizer calls, handled by the tracer itself
    composite: bool = False  # declined calls are traced through (they are made of other ops), not opaque
    extra: dict = field(default_factory=dict)


def _ft(x: Any) -> bool:
    """A dense float32/float64 Tensor (Parameters included, sparse tensors not)."""
    return isinstance(x, Tensor) and type(x._data) is np.ndarray and x._data.dtype in _FLOATS \
        and type(x).__name__ != "SparseCooTensor"


def _clamp_accept(a: dict) -> bool:
    """clamp of a float tensor by number bounds (a float bound stays a Python float: NumPy keeps the
    tensor's dtype, as the eager op does)."""
    bounds = (a.get("min"), a.get("max"))
    return a.get("out") is None and _ft(a.get("input")) and any(b is not None for b in bounds) and \
        all(b is None or type(b) in (int, float) for b in bounds)


def _dense(x: Any) -> bool:
    """A dense Tensor of any dtype (what a view kernel takes)."""
    return isinstance(x, Tensor) and type(x._data) is np.ndarray and type(x).__name__ != "SparseCooTensor"


def _num(x: Any) -> bool:
    return type(x) is float or type(x) is int


def _no_autocast() -> bool:
    return not _autocast.state.cpu


def _binary(name: str, rname: str | None = None) -> Handler:
    def accept(a: Any) -> bool:
        x, y = a.get("input"), a.get("other")
        if a.get("out") is not None or a.get("alpha", 1) != 1 or a.get("rounding_mode") is not None or not _ft(x):
            return False  # (div's rounding modes: the op is called again, generic.py)
        return (_ft(y) and y._data.dtype == x._data.dtype) or _num(y)

    def build(a: Any, ret: Any) -> Rec:
        x, y = a["input"], a["other"]
        if isinstance(y, Tensor):
            return Rec(name, [x._data, y._data], (), [ret._data], ret)
        return Rec(name + "_scalar", [x._data], (y,), [ret._data], ret)

    return Handler(name, accept, build)


def _same_float_pair(a: Any) -> bool:
    """Two float Tensors of one dtype (maximum, minimum): their arrays as the eager op takes them."""
    x, y = a.get("input"), a.get("other")
    return a.get("out") is None and _ft(x) and _ft(y) and x._data.dtype == y._data.dtype


def _pair_handler(name: str) -> Handler:
    return Handler(name, _same_float_pair, lambda a, r: Rec(name, [a["input"]._data, a["other"]._data], (), [r._data], r))


def _rsub_accept(a: Any) -> bool:
    return a.get("alpha", 1) == 1 and _ft(a.get("input")) and _num(a.get("other"))


_UNARY = {"exp", "log", "tanh", "sigmoid", "sqrt", "relu"}


def _unary_accept(a: Any) -> bool:
    # every _unary op of a float input; a generic one only where its result comes back unchanged
    # (eager lays out the result of a non-contiguous input of 2+ dims like the input)
    x = a.get("input")
    if a.get("out") is not None or not _ft(x) or a.get("name") is None:
        return False
    return a["name"] in _UNARY or x._data.ndim < 2 or x._data.flags.c_contiguous


def _unary_build(a: Any, ret: Any) -> Rec:
    if a["name"] in _UNARY:
        return Rec(a["name"], [a["input"]._data], (), [ret._data], ret)
    return Rec("unary_fn", [a["input"]._data], (a["fwd"],), [ret._data], ret, a["name"])


def _pow_accept(a: Any) -> bool:
    return a.get("out") is None and _ft(a.get("input")) and _num(a.get("exponent"))


def _mm_accept(a: Any) -> bool:
    x, y = a.get("input"), a.get("mat2", a.get("other"))
    if a.get("out") is not None or not (_ft(x) and _ft(y)) or x._data.dtype != y._data.dtype or not _no_autocast():
        return False
    xs, ys = x._data.shape, y._data.shape
    if len(xs) >= 2 and len(ys) >= 3 and "mat2" not in a:  # (batched matmul: NumPy's matmul, as eager)
        try:
            np.broadcast_shapes(xs[:-2], ys[:-2])
        except ValueError:
            return False
        return xs[-1] == ys[-2]
    return (len(xs) == 2 and len(ys) == 2 and xs[1] == ys[0]) or (len(xs) > 2 and len(ys) == 2 and xs[-1] == ys[0])


def _mm_build(a: Any, ret: Any) -> Rec:
    x, y = a["input"], a.get("mat2", a.get("other"))
    if x._data.ndim == 2 or y._data.ndim > 2:
        return Rec("mm", [x._data, y._data], (), [ret._data], ret)
    xs = x._data.shape
    return Rec("matmul_folded", [x._data, y._data], ((int(np.prod(xs[:-1])), xs[-1]), tuple(ret._data.shape)),
               [ret._data], ret)


def _linear_accept(a: Any) -> bool:
    x, w, b = a.get("input"), a.get("weight"), a.get("bias")
    if not (_ft(x) and _ft(w) and _ft(b)) or not _no_autocast():
        return False
    xd, wd = x._data, w._data
    return xd.ndim == 2 and wd.ndim == 2 and xd.dtype == wd.dtype == b._data.dtype and xd.shape[1] == wd.shape[1]


def _linear_build(a: Any, ret: Any) -> Rec:
    return Rec("linear", [a["input"]._data, a["weight"]._data, a["bias"]._data], (), [ret._data], ret)


def _view_accept(a: Any) -> bool:
    return _dense(a.get("input")) and not (len(a.get("shape", ())) == 1 and type(a["shape"][0]).__name__ == "dtype")


def _view_build(a: Any, ret: Any) -> Rec:
    return Rec("reshape", [a["input"]._data], (tuple(ret._data.shape),), [ret._data], ret)


def _transpose_build(a: Any, ret: Any) -> Rec | None:
    nd = a["input"]._data.ndim
    if nd == 0:
        return None
    return Rec("transpose", [a["input"]._data], (wrap_dim(a["dim0"], nd), wrap_dim(a["dim1"], nd)), [ret._data], ret)


def _permute_build(a: Any, ret: Any) -> Rec:
    dims = a["dims"]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    nd = a["input"]._data.ndim
    return Rec("permute", [a["input"]._data], (tuple(wrap_dim(d, nd) for d in dims),), [ret._data], ret)


def _reduce_accept(a: Any) -> bool:
    return _ft(a.get("input")) and a.get("dtype") is None and a.get("out") is None and a["input"]._data.size > 0


def _sum_build(a: Any, ret: Any) -> Rec:
    x = a["input"]._data
    if a["dim"] is None and not a["keepdim"]:
        return Rec("sum", [x], (), [ret._data], ret)
    return Rec("sum_dims", [x], (reduction._dims_arg(a["dim"], x.ndim), bool(a["keepdim"])), [ret._data], ret)


def _mean_build(a: Any, ret: Any) -> Rec:
    x = a["input"]._data
    if a["dim"] is None and not a["keepdim"]:
        return Rec("mean", [x], (), [ret._data], ret)
    dims = reduction._dims_arg(a["dim"], x.ndim)
    count = 1
    for d in dims:
        count *= x.shape[d]
    return Rec("mean_dims", [x], (dims, bool(a["keepdim"]), count), [ret._data], ret)


def _softmax_accept(a: Any) -> bool:
    return _reduce_accept(a) and a["input"]._data.ndim > 0


def _softmax_build(kernel: str) -> Callable:
    def build(a: Any, ret: Any) -> Rec:
        x = a["input"]._data
        return Rec(kernel, [x], (wrap_dim(a["dim"], x.ndim),), [ret._data], ret)

    return build


def _mse_accept(a: Any) -> bool:
    x, t = a.get("input"), a.get("target")
    return (_ft(x) and _ft(t) and x._data.shape == t._data.shape and x._data.dtype == t._data.dtype
            and _no_autocast())


def _nll_accept(a: Any) -> bool:
    """Class indices for (N, C) or (N, C, d1, ...) scores, with or without class weights."""
    x, t, w = a.get("input"), a.get("target"), a.get("weight")
    if not _ft(x) or not isinstance(t, Tensor) or not _no_autocast() or type(a.get("ignore_index")) is not int:
        return False
    if w is not None and not (_ft(w) and w._data.dtype == x._data.dtype and not w._rg):
        return False
    xd, td = x._data, t._data
    return xd.ndim >= 2 and td.dtype == np.int64 and td.shape == xd.shape[:1] + xd.shape[2:] and xd.shape[0] > 0


def _nll_build(a: Any, ret: Any) -> Rec | None:
    node, x, w = ret.grad_fn, a["input"]._data, a["weight"]
    coef = node.attrs[0] if node is not None else np.zeros_like(x)
    name = "nll_loss" if x.ndim == 2 and w is None else "nll_loss_nd" if w is None else "nll_loss_weighted"
    ins = [x, a["target"]._data] + ([] if w is None else [w._data])
    return Rec(name, ins, (a["reduction"], a["ignore_index"]), [ret._data, coef], ret)


def _filled_accept(a: Any) -> bool:
    """fill_(number) / zero_() of a float tensor with a history (ops/inplace.py's ``_filled``)."""
    return a["value"] is None and np.ndim(a["arr"]) == 0 and a["cls"] in (inplace.FillBackward2, inplace.ZeroBackward0)


def _filled_build(a: Any, ret: Any) -> Rec:
    return Rec("filled", [], (tuple(ret._data.shape), ret._data.dtype, a["arr"]), [ret._data], ret)


def _noise_build(a: Any, ret: Any) -> Rec:
    return Rec("dropout_noise", [], (tuple(a["shape"]), a["p"], a["npdtype"]), [ret])


def _conv_accept(a: Any) -> bool:
    x, w, b = a.get("input"), a.get("weight"), a.get("bias")
    return (_ft(x) and _ft(w) and x._data.dtype == w._data.dtype and (b is None or _ft(b) and b._data.dtype == w._data.dtype)
            and _no_autocast())


def _conv_build(a: Any, ret: Any) -> Rec | None:
    node = ret.grad_fn
    x, w, b = a["input"], a["weight"], a["bias"]
    consts = (a["stride"], a["pads"], a["dil"], a["groups"])
    if node is None:  # (no graph: the columns are not kept; computed again, unused, in the replay)
        cols = convolution._conv_forward(x._data, w._data, *consts, None if b is None else b._data)[1]
    else:
        cols = node.attrs[4]
    if not isinstance(cols, np.ndarray):
        return None
    ins = [x._data, w._data] if b is None else [x._data, w._data, b._data]
    return Rec("conv" if b is not None else "conv_nobias", ins, consts, [ret._data, cols], ret)


def _pool_accept(a: Any) -> bool:
    return a.get("nd") == 2 and not a.get("return_indices") and _ft(a.get("input")) and a["input"]._data.ndim == 4


def _pool_build(a: Any, ret: Any) -> Rec | None:
    kind = type(ret.grad_fn)
    attrs: Any = getattr(ret.grad_fn, "attrs", None)
    x = a["input"]._data
    if kind is pooling.MaxPool2DWithIndicesBackward0Tiled:
        k = attrs[1]
        return Rec("max_pool_tiled", [x], (k[0], k[1]), [ret._data, attrs[0]], ret)
    if kind is pooling.MaxPool2DWithIndicesBackward0:
        return Rec("max_pool", [x], _pool_args(a), [ret._data, attrs[1]], ret)
    # no graph: eager's choice of path, from the arguments (the tiled one stops at a NaN)
    k, st, p, d, ceil = _pool_args(a)
    sp = x.shape[2:]
    if k == st and p == (0, 0) and d == (1, 1) and k[0] * k[1] <= 64 and (
            not ceil or (sp[0] % k[0] == 0 and sp[1] % k[1] == 0)) and not np.isnan(ret._data).any():
        return Rec("max_pool_tiled", [x], (k[0], k[1]), [ret._data, ret._data.copy()], ret)
    return Rec("max_pool", [x], (k, st, p, d, ceil), [ret._data, np.empty(0)], ret)


def _pool_args(a: Any) -> tuple:
    k = pooling._pair(a["kernel_size"], 2)
    s = pooling._pair(a["stride"], 2) if a["stride"] is not None and a["stride"] != [] else k
    return k, s, pooling._pair(a["padding"], 2), pooling._pair(a["dilation"], 2), bool(a["ceil_mode"])


def _ln_accept(a: Any) -> bool:
    x, w, b = a.get("input"), a.get("weight"), a.get("bias")
    return _ft(x) and ((w is None and b is None) or (_ft(w) and _ft(b) and w._data.dtype == b._data.dtype
                                                     == x._data.dtype)) and type(a.get("eps")) is float


def _ln_build(a: Any, ret: Any) -> Rec:
    x, w, b = a["input"]._data, a["weight"], a["bias"]
    ns = a["normalized_shape"]
    ns = (ns,) if isinstance(ns, int) else tuple(ns)
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    attrs: Any = getattr(ret.grad_fn, "attrs", None)
    aux = [attrs[0], attrs[1]] if attrs is not None else [np.empty(0), np.empty(0)]
    if w is None:
        return Rec("layer_norm_plain", [x], (axes, a["eps"]), [ret._data, *aux], ret)
    return Rec("layer_norm", [x, w._data, b._data], (axes, a["eps"]), [ret._data, *aux], ret)


def _emb_accept(a: Any) -> bool:
    i, w = a.get("input"), a.get("weight")
    return (isinstance(i, Tensor) and i._data.dtype.kind in "iu" and _ft(w) and a.get("max_norm") is None
            and not a.get("sparse"))


def _basic_key(a: Any) -> bool:
    """x[key] with ints, slices (positive steps), None and one Ellipsis: a NumPy view, as eager's."""
    key = a.get("key")
    key = key if isinstance(key, tuple) else (key,)
    if not _dense(a.get("self")) or sum(k is Ellipsis for k in key) > 1:
        return False
    for k in key:
        if isinstance(k, slice):
            if not all(v is None or type(v) is int for v in (k.start, k.stop, k.step)) or (k.step or 1) <= 0:
                return False
        elif not (k is None or k is Ellipsis or type(k) is int):
            return False
    return True


def _lstm_accept(a: Any) -> bool:
    ts = [a.get(k) for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")]
    return all(_ft(t) and t._data.dtype == ts[0]._data.dtype for t in ts) and type(a.get("reverse")) is bool


def _lstm_build(a: Any, ret: Any) -> Rec:
    ins = [a[k]._data for k in ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")]
    node = ret[0].grad_fn
    if node is None:
        return Rec("lstm_nograd", ins, (a["reverse"],), [r._data for r in ret], ret[0], "lstm")
    acts, cs, tcs, _, X2, _ = node.attrs  # (the 4th is hs, the first output)
    return Rec("lstm", ins, (a["reverse"],), [r._data for r in ret] + [acts, cs, tcs, X2], ret[0])


def _bn_accept(a: Any) -> bool:
    ts = [a.get(k) for k in ("input", "running_mean", "running_var", "weight", "bias")]
    return (all(_ft(t) and t._data.dtype == ts[0]._data.dtype for t in ts) and type(a.get("training")) is bool
            and _num(a.get("momentum")) and _num(a.get("eps")) and ts[0]._data.ndim >= 2
            and ts[0]._data.size > 0 and all(t._data.size == ts[0]._data.shape[1] for t in ts[1:]))


def _bn_build(a: Any, ret: Any) -> Rec:
    ins = [a[k]._data for k in ("input", "running_mean", "running_var", "weight", "bias")]
    node = ret.grad_fn
    xhat = rstd = shift = None  # (no graph: what the node would keep is computed again, unused, in the replay)
    if node is not None:
        xhat, rstd, _, _, shift, _ = node.attrs
    aux = [np.empty(0) if v is None else v for v in (xhat, rstd, shift)]
    return Rec("batch_norm", ins, (a["training"], a["momentum"], a["eps"]), [ret._data, *aux], ret)


def _join_accept(a: Any) -> bool:
    ts = a.get("tensors")
    if a.get("out") is not None or type(ts) not in (list, tuple) or not ts or not all(_dense(t) for t in ts):
        return False
    d0 = ts[0]._data
    return all(t._data.dtype == d0.dtype and t._data.ndim == d0.ndim and t._data.size for t in ts) and d0.ndim > 0


def _cat_accept(a: Any) -> bool:
    # (eager's cat of channels-last inputs keeps their layout; the template makes the result contiguous)
    return _join_accept(a) and not all(t._data.ndim in (4, 5) and t._data.strides[1] == t._data.itemsize
                                       < min(t._data.strides[2:]) for t in a["tensors"])


def _join_build(kernel: str) -> Callable:
    def build(a: Any, ret: Any) -> Rec:
        nd = a["tensors"][0]._data.ndim + (kernel == "stack")
        return Rec(kernel, [t._data for t in a["tensors"]], (wrap_dim(a["dim"], nd),), [ret._data], ret)

    return build


def _where_accept(a: Any) -> bool:
    c, x, y = a.get("condition"), a.get("input"), a.get("other")
    if a.get("out") is not None or not (_dense(c) and c._data.dtype == np.bool_):
        return False
    if _ft(x) and _ft(y):
        return x._data.dtype == y._data.dtype
    return (_ft(x) and _num(y)) or (_ft(y) and _num(x))


def _where_build(a: Any, ret: Any) -> Rec | None:
    c, x, y = a["condition"], a["input"], a["other"]
    xa, xb, ta, tb, rt = binary_operands(x, y)
    if ret._data.dtype != rt:
        return None
    if ta is not None and tb is not None:
        return Rec("where", [c._data, xa, xb], (), [ret._data], ret)
    if ta is not None:
        return Rec("where_scalar_other", [c._data, xa], (xb,), [ret._data], ret, "where")
    return Rec("where_scalar_input", [c._data, xb], (xa,), [ret._data], ret, "where")


def _index_accept(a: Any) -> bool:
    """x[i] with one integer index tensor (embedding-like row picks, as nll's targets)."""
    k, x = a.get("key"), a.get("self")
    return _ft(x) and _dense(k) and k._data.dtype == np.int64 and k._data.ndim >= 1 and x._data.ndim >= 1


def _split_build(a: Any, ret: Any) -> Rec:
    x = a["input"]._data
    d = wrap_dim(a["dim"], x.ndim)
    return Rec("split", [x], (d, tuple(int(o._data.shape[d]) for o in ret)), [o._data for o in ret], ret[0])


def _zeros_build(a: Any, ret: Any) -> Rec:
    h, c = ret
    return Rec("lstm_zeros", [], (h._data.shape, c._data.shape, h._data.dtype), [h._data, c._data], h)


def _getitem_build(a: Any, ret: Any) -> Rec:
    key = a["key"]
    if isinstance(key, Tensor):
        return Rec("index", [a["self"]._data, key._data], (), [ret._data], ret)
    return Rec("getitem", [a["self"]._data], (key if isinstance(key, tuple) else (key,),), [ret._data], ret)


def _always(a: Any) -> bool:
    return True


def _code(fn: Any) -> Any:
    return getattr(fn, "__wrapped__", fn).__code__


def _handlers() -> dict:
    """code object of an eager op -> its handler."""
    h: dict = {
        _code(pointwise.add): _binary("add"),
        _code(pointwise.sub): _binary("sub"),
        _code(pointwise.mul): _binary("mul"),
        _code(pointwise.div): _binary("div"),
        _code(pointwise.rsub): Handler("rsub", _rsub_accept, lambda a, r: Rec(
            "rsub_scalar", [a["input"]._data], (a["other"],), [r._data], r), composite=True),
        _code(pointwise.abs): Handler("abs", lambda a: a.get("out") is None and _ft(a.get("input")),
                                      lambda a, r: Rec("abs", [a["input"]._data], (), [r._data], r)),
        _code(pointwise.clamp): Handler("clamp", _clamp_accept, lambda a, r: Rec(
            "clamp", [a["input"]._data], (a["min"], a["max"]), [r._data], r)),
        _code(pointwise.maximum): _pair_handler("maximum"),
        _code(pointwise.minimum): _pair_handler("minimum"),
        _code(pointwise.neg): Handler("neg", lambda a: a.get("out") is None and _ft(a.get("input")),
                                      lambda a, r: Rec("neg", [a["input"]._data], (), [r._data], r)),
        _code(pointwise.pow): Handler("pow", _pow_accept, lambda a, r: Rec(
            "pow_scalar", [a["input"]._data], (a["exponent"],), [r._data], r)),
        _code(pointwise.exp): Handler("unary", _unary_accept, _unary_build),  # (one code for every _unary op)
        _code(linalg.mm): Handler("mm", _mm_accept, _mm_build),
        _code(linalg.matmul): Handler("matmul", _mm_accept, _mm_build, composite=True),
        _code(nn_ops.linear): Handler("linear", _linear_accept, _linear_build, composite=True),
        _code(views.view): Handler("view", _view_accept, _view_build),
        _code(views.reshape): Handler("reshape", _view_accept, _view_build),
        _code(views.flatten): Handler("flatten", lambda a: _dense(a.get("input")), _view_build),
        _code(views.transpose): Handler("transpose", lambda a: _dense(a.get("input")), _transpose_build),
        _code(views.t): Handler("t", lambda a: _dense(a.get("input")) and a["input"]._data.ndim == 2,
                                lambda a, r: Rec("t", [a["input"]._data], (), [r._data], r)),
        _code(views.permute): Handler("permute", lambda a: _dense(a.get("input")), _permute_build),
        _code(indexing.getitem): Handler("getitem", lambda a: _basic_key(a) or _index_accept(a), _getitem_build),
        _code(views.unsqueeze): Handler("unsqueeze", lambda a: _dense(a.get("input")), _view_build),
        _code(views.squeeze): Handler("squeeze", lambda a: _dense(a.get("input")), _view_build),
        _code(views.expand): Handler("expand", lambda a: _dense(a.get("input")), lambda a, r: Rec(
            "expand", [a["input"]._data], (tuple(r._data.shape),), [r._data], r)),
        _code(reduction.sum): Handler("sum", _reduce_accept, _sum_build),
        _code(reduction.mean): Handler("mean", _reduce_accept, _mean_build),
        _code(reduction.softmax): Handler("softmax", _softmax_accept, _softmax_build("softmax")),
        _code(reduction.log_softmax): Handler("log_softmax", _softmax_accept, _softmax_build("log_softmax")),
        _code(loss.mse_loss): Handler("mse_loss", _mse_accept, lambda a, r: Rec(
            "mse_loss", [a["input"]._data, a["target"]._data], (a["reduction"],), [r._data], r)),
        _code(loss.nll_loss): Handler("nll_loss", _nll_accept, _nll_build),
        _code(_dropout._noise): Handler("dropout", _always, _noise_build),
        _code(inplace._filled): Handler("filled", _filled_accept, _filled_build),
        _code(convolution._conv_op): Handler("conv", _conv_accept, _conv_build),
        _code(pooling._max_pool): Handler("max_pool2d", _pool_accept, _pool_build),
        _code(nn_ops.layer_norm): Handler("layer_norm", _ln_accept, _ln_build),
        _code(nn_ops.embedding): Handler("embedding", _emb_accept, lambda a, r: Rec(
            "embedding", [a["input"]._data, a["weight"]._data], (), [r._data], r)),
        _code(RNNBase._initial_state): Handler(  # (an LSTM's zero initial state)
            "initial_state", lambda a: a.get("hx") is None and a["self"].mode == "LSTM", _zeros_build, composite=True),
        _code(_rnn_ops.lstm_sequence): Handler("lstm", _lstm_accept, _lstm_build),
        _code(nn_ops.batch_norm): Handler("batch_norm", _bn_accept, _bn_build),
        _code(joining.split): Handler("split", lambda a: _dense(a.get("input")) and a["input"]._data.ndim > 0,
                                      _split_build),
        _code(joining.chunk): Handler("split", lambda a: _dense(a.get("input")) and a["input"]._data.ndim > 0,
                                      _split_build),  # (chunk is split with sizes from its outputs)
        _code(joining.stack): Handler("stack", _join_accept, _join_build("stack")),
        _code(joining.cat): Handler("cat", _cat_accept, _join_build("cat")),
        _code(indexing.where): Handler("where", _where_accept, _where_build),
        _code(act.gelu): Handler("activation", lambda a: _ft(a.get("input")), lambda a, r: Rec(  # (every one's code)
            "activation", [a["input"]._data], (a["fwd"], tuple(a["params"])), [r._data], r, a["name"])),
    }
    # the calls the tracer records itself
    h[_code(Tensor.backward)] = Handler("backward", _always, lambda a, r: None, macro=True)
    h[Optimizer.step.__code__] = Handler("step", _always, lambda a, r: None, macro=True)
    h[_code(Optimizer.zero_grad)] = Handler("zero_grad", _always, lambda a, r: None, macro=True)
    h[_code(clip_grad.clip_grad_norm_)] = Handler("clip_grad_norm_", _always, lambda a, r: None, macro=True)
    return h


HANDLERS = _handlers()

# ops written as argument checks around a recorded op: traced through (their inner op is recorded)
TRANSPARENT = {_code(f) for f in (convolution.conv1d, convolution.conv2d, convolution.conv3d,
                                  convolution._convolution, pooling.max_pool2d, views.expand_as, views.broadcast_to,
                                  views.view_as, views.reshape_as)}
# the vmap hook around the public functions (ember.X, F.X) only passes the call on
TRANSPARENT.add(_vmap_hook.hooked("op", _code).__code__)
# made of public ops, each traced (nn.LSTMCell's step: its backward nodes keep the gates; ``for x in X``:
# the tensors of X.unbind(0))
TRANSPARENT.update((_code(_rnn_ops.lstm_cell), Tensor.__iter__.__code__))
# a function decorated with @no_grad() (or enable_grad, inference_mode ...): the decorator's wrapper;
# optimizer.step as an LR scheduler wraps it (its _opt_called flag: the replay calls it through the wrapper)
TRANSPARENT.update(c for f in (grad_mode._GradModeContext.__call__, _lr_scheduler_base._track_step_called)
                   for c in f.__code__.co_consts if getattr(c, "co_name", "") == "wrapper")

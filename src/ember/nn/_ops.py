"""The differentiable primitives behind nn layers that only nn uses: linear, embedding, the norms,
smooth L1 and CTC loss, each a NumPy forward plus a backward node. The kernels ops need too live in
ops (``convolution``, ``pooling``, ``padding``, ``activation``); this module re-exports them for
nn.functional.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as _dt
from .._autocast import autocast_op
from .._dtype import LEGACY_NAMES, is_bfloat16
from .._tensor import Tensor, _new
from ..autograd import grad_mode as _grad_mode
from ..ops import _grad_math as gm
from ..ops._core import _fw, check_broadcast, check_tensor_args, node_class, record, result_dtype, where_np
from ..ops._core import add_rows as _add_rows
from ..ops._forward import plus

# the activations live in ops/activation.py; re-exported here for nn.functional
from ..ops.activation import (  # noqa: F401
    _SELU_ALPHA,
    _SELU_SCALE,
    elu,
    gelu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_sigmoid,
    mish,
    prelu,
    silu,
    softshrink,
    threshold,
)

# the convolutions live in ops/convolution.py (every spatial rank); re-exported here for nn.functional
from ..ops.convolution import _col2im, _dn, _pair, _windows, conv1d, conv2d, conv_transpose2d  # noqa: F401
from ..ops.loss import _reduce_np
from ..ops.padding import pad  # noqa: F401  (re-exported for nn.functional)

# the poolings live in ops/pooling.py (every spatial rank); re-exported here for nn.functional
from ..ops.pooling import (  # noqa: F401
    _adaptive_matrix,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)

# ============================================================================ linear
AddmmBackward0 = node_class(
    "addmm", lambda n, g: (g if n.needs[0] else None,
                           g @ n.saved[1] if n.needs[1] else None,
                           g.T @ n.saved[0] if n.needs[2] else None),
    "grad, grad @ weight.conj(), grad^T @ input.conj()", on_arrays=True, holomorphic=True,
    jvp=lambda n, ts: plus(ts[0], None if ts[1] is None else ts[1] @ n.saved[1].T,
                           None if ts[2] is None else n.saved[0] @ ts[2].T))  # (bias: summed by the engine)


@autocast_op("lower")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor) and (bias is None or isinstance(bias, Tensor))):
        check_tensor_args("linear", input=input, weight=weight, bias=bias)  # (raises torch's TypeError)
        arg, pos = ("input", 1) if input is None else ("weight", 2)  # None passes that check: it is optional
        raise TypeError(f"linear(): argument '{arg}' (position {pos}) must be Tensor, not NoneType")
    x, w = input._data, weight._data
    if x.ndim == 2 and bias is not None and w.ndim == 2:
        if x.shape[1] != w.shape[1]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} and "
                               f"{w.shape[1]}x{w.shape[0]})")
        if x.dtype != w.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dn(x)} and {_dn(w)}")
        if x.dtype == np.bool_ and x.size and w.size:
            raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
        out = x @ w.T
        out += bias._data
        if out.dtype != x.dtype:  # (bfloat16: NumPy multiplies in float32; torch rounds the sum once)
            out = out.astype(x.dtype)
        # (each operand saved only for the other's gradient, as torch's addmm: else an in-place change is no error)
        return record(AddmmBackward0, out, (bias, input, weight),
                      (input if weight._rg or _fw.on else None, weight if input._rg or _fw.on else None))
    if x.ndim >= 1 and w.ndim == 2 and x.shape[-1] != w.shape[1]:
        lead = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{x.shape[-1]} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    out = input.matmul(weight.t())
    return out + bias if bias is not None else out


# ============================================================================ embedding
def _embedding_grads(n: Any, g: Tensor) -> Tensor:
    # the rows summed into the weight's shape: an op of its own (as torch's embedding_dense_backward),
    # recorded under create_graph, where its derivative is the row gather again
    return _embedding_scatter(g, n.attrs)


def _embedding_row_scale(attrs: tuple) -> np.ndarray:
    idx, num, padding_idx, scale = attrs
    flat = idx.ravel()
    f = np.ones(flat.shape, np.float64)
    if scale:
        f = f / np.bincount(flat, minlength=num)[flat]
    if padding_idx is not None and padding_idx >= 0:
        f = np.where(flat == padding_idx, 0.0, f)
    return f


def _embedding_scatter(g: Tensor, attrs: tuple) -> Tensor:
    idx, num = attrs[0], attrs[1]
    D = g._data.shape[-1]
    gd = g._data.reshape(-1, D) * _embedding_row_scale(attrs)[:, None].astype(g._data.dtype)
    return record(EmbeddingBackwardBackward0, _add_rows(num, idx.ravel(), gd), (g,), attrs=attrs)


def _embedding_gather(n: Any, gg: Tensor) -> Tensor:
    # as torch's embedding_dense_double_backward: padding rows masked, scale_grad_by_freq not applied
    idx = n.attrs[0]
    D = gg.shape[-1]
    f = _new(_embedding_row_scale(n.attrs[:3] + (False,)).astype(gg._data.dtype)[:, None])
    return (gg[_new(idx.ravel())] * f).reshape(idx.shape + (D,))


EmbeddingBackward0 = node_class("embedding", _embedding_grads, "grad rows summed into weight[indices]")
EmbeddingBackwardBackward0 = node_class("embedding_dense_backward", _embedding_gather, "grad rows read at indices")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    num = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        w = weight._data
        rows = np.unique(idx.ravel())
        norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)
        weight._vc[0] += 1
    out = weight._data[idx]
    return record(EmbeddingBackward0, out, (weight,), attrs=(idx, num, padding_idx, scale_grad_by_freq))


# ============================================================================ normalisation
# std below 256 ulps of the mean: the rows whose mean gets a correction pass (as squares, against var;
# batch norm's sum over the count keeps torch's rounding: exact_equal=False)
_EQUALISH = {c: (256 * float(np.finfo(c).eps)) ** 2 for c in "fd"}


def _norm_stats(x: np.ndarray, axes: tuple, eps: float, exact_equal: bool = True) -> tuple:
    xf = x.astype(np.float64) if x.dtype == np.float16 else x
    # (ndarray.mean's own arithmetic, a sum over the count, written out so that an overflow warning is
    # raised here, where ember's warning filter applies, not inside NumPy)
    count = math.prod(xf.shape[a] for a in axes)
    mean = np.add.reduce(xf, axis=axes, keepdims=True) / count
    xc = xf - mean
    var = np.add.reduce(xc * xc, axis=axes, keepdims=True) / count
    tiny = _EQUALISH.get(xf.dtype.char) if exact_equal else None
    if tiny and xf.size:
        flag = var < mean * mean * tiny
        if flag.any():
            mean, xc, var = _equal_rows_exact(xf, axes, count, mean, xc, var, flag)
    if xf.dtype == np.float32 and not np.isfinite(var).all():
        # finite values whose float32 squares or sums overflow (|x| near 1e19 and up): the statistics in
        # float64, rounded once, rather than a silent rstd of 0 (torch's Welford pass gives NaN there)
        mean, var, rstd, xhat = _norm_stats(xf.astype(np.float64), axes, eps, exact_equal)
        return mean.astype(np.float32), var.astype(np.float32), rstd.astype(np.float32), xhat.astype(np.float32)
    rstd = 1.0 / np.sqrt(var + eps)
    return mean, var, rstd, (xc * rstd)


def _equal_rows_exact(xf: np.ndarray, axes: tuple, count: int, mean: np.ndarray, xc: np.ndarray, var: np.ndarray,
                      flag: np.ndarray) -> tuple:
    """Statistics with a correction pass, mean + mean(x - mean), on the ``flag``ged rows: those of
    (nearly) equal values, where the sum's rounding (an ulp of the mean) is all of x - mean. torch's
    layer and group norm (a Welford mean) give exactly 0 for equal values; after the correction x - mean
    is exact, and so is its sum. Only those rows pay for it, when the reduced dims are the trailing ones."""
    if axes != tuple(range(xf.ndim - len(axes), xf.ndim)) or 4 * np.count_nonzero(flag) > flag.size:
        mean = mean + np.add.reduce(xc, axis=axes, keepdims=True) / count
        xc = xf - mean
        return mean, xc, np.add.reduce(xc * xc, axis=axes, keepdims=True) / count
    rows = np.flatnonzero(flag)
    xr = xf.reshape(-1, count)[rows]
    m = mean.reshape(-1, 1)[rows]
    m = m + np.add.reduce(xr - m, axis=1, keepdims=True) / count
    xr = xr - m
    xc = np.ascontiguousarray(xc)  # (mean and var are fresh, C-ordered, as x - mean usually is)
    mean.reshape(-1, 1)[rows] = m
    xc.reshape(-1, count)[rows] = xr
    var.reshape(-1, 1)[rows] = np.add.reduce(xr * xr, axis=1, keepdims=True) / count
    return mean, xc, var


_WIDER_STATS = {_dt.float16: _dt.float64, _dt.bfloat16: _dt.float32}


def _norm_backward(n: Any, g: Any, stat_axes: tuple, param_axes: tuple, cshape: Any, group: Any = None,
                   training: bool = True) -> tuple:
    """The gradients of ``y = xhat * w + b`` with ``xhat = (x - mean) * rstd`` over ``stat_axes``,
    written once for layer, group and batch norm. On arrays ``xhat`` and ``rstd`` are the forward's
    (attrs[0], attrs[1]); on Tensors (create_graph) they are recomputed from ``x`` so that the second
    derivative sees how they depend on it (eval-mode batch norm's are constants either way).
    ``group``: (N, G) for group norm, whose statistics are over a (N, G, -1) reshape."""
    x, w = n.saved[0], n.saved[1]
    xhat, rstd = n.attrs[0], n.attrs[1]
    if isinstance(g, Tensor):
        if training:
            xs = x.reshape(group + (-1,)) if group is not None else x
            if xs.dtype in _WIDER_STATS:  # (as the forward's statistics: a float16 rstd^3 overflows)
                xs = xs.to(_WIDER_STATS[xs.dtype])
            xc = xs - xs.mean(stat_axes, keepdim=True)
            rstd = ((xc * xc).mean(stat_axes, keepdim=True) + n.attrs[-1]).rsqrt()
            xhat = (xc * rstd).reshape(x.shape) if group is not None else xc * rstd
        else:
            rstd = _new(rstd)
            xhat = (x - _new(n.attrs[4])) * rstd
    gx = gw = gb = None
    if n.needs[0]:
        gxhat = g * (w.reshape(cshape) if cshape is not None else w) if w is not None else g
        if not training:
            gx = gxhat * rstd
        else:
            if group is not None:
                gxhat, xh = gxhat.reshape(group + (-1,)), xhat.reshape(group + (-1,))
            else:
                xh = xhat
            gx = rstd * (gxhat - gm.mean(gxhat, stat_axes, True) - xh * gm.mean(gxhat * xh, stat_axes, True))
            if group is not None:
                gx = gx.reshape(g.shape)
        gx = gm.astype_like(gx, g)
    # (torch's layer and batch norm backward is one kernel taking the input and the weight: each of
    # its gradients requires grad when either does; group norm's is not)
    if len(n.needs) > 1 and n.needs[1]:
        gw = gm.astype_like(gm.sum(g * xhat, param_axes), g)
        if group is None:
            gw = gm.also_reads(gw, w, zeros=False)  # (torch's double backward: undefined)
    if len(n.needs) > 2 and n.needs[2]:
        gb = gm.astype_like(gm.sum(g, param_axes), g)
        if group is None:
            # (layer norm's kernel also takes the bias, saved third)
            gb = gm.also_reads(gb, x, w, *n.saved[2:3], zeros=False)
    return gx, gw, gb


def _layer_norm_grads(n: Any, g: Any) -> tuple:
    axes, wshape = n.attrs[2], n.attrs[3]
    return _norm_backward(n, g, axes, tuple(range(g.ndim - len(wshape))), None)


NativeLayerNormBackward0 = node_class("native_layer_norm", _layer_norm_grads, "layer norm backward", on_arrays=True, layout="contiguous")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x = input._data
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    params = [t._data.dtype for t in (weight, bias) if t is not None]
    if any(d != x.dtype for d in params):  # torch's CPU kernel mixes only low-precision input with float32 parameters
        if x.dtype not in (np.float32, np.float16) and not is_bfloat16(x.dtype):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        if any(d != np.float32 for d in params):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if x.shape[x.ndim - len(ns):] != ns or len(ns) > x.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, "
                           f"{', '.join(str(s) for s in ns)}], but got input of size{list(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t._data.shape)} and normalized_shape = {list(ns)}")
    if x.dtype.kind not in "fc" and not is_bfloat16(x.dtype):
        raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{LEGACY_NAMES[input.dtype.name]}'")
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    up = np.float32 if is_bfloat16(x.dtype) else None  # (bfloat16: torch normalises in float32, rounds once)
    _, _, rstd, xhat = _norm_stats(x if up is None else x.astype(up), axes, eps)
    out = xhat
    if weight is not None:
        out = out * (weight._data if up is None else weight._data.astype(up))
    if bias is not None:
        out = out + (bias._data if up is None else bias._data.astype(up))
    # (a copy only where out would otherwise be xhat itself, which backward keeps)
    out = out.astype(x.dtype, copy=out is xhat)
    return record(NativeLayerNormBackward0, out, (input, weight, bias), (input, weight, bias),
                  attrs=(xhat, rstd, axes, ns, eps))


def _group_norm_grads(n: Any, g: Any) -> tuple:
    N, C = g.shape[:2]
    return _norm_backward(n, g, (2,), (0,) + tuple(range(2, g.ndim)), (1, C) + (1,) * (g.ndim - 2),
                          group=(N, n.attrs[2]))


NativeGroupNormBackward0 = node_class("native_group_norm", _group_norm_grads, "group norm backward",
                                      on_arrays=True, layout="suggested")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    x = input._data
    N, C = x.shape[:2]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(x.shape)} and num_groups={num_groups}")
    _, _, rstd, xh = _norm_stats(x.reshape(N, num_groups, -1), (2,), eps)
    xhat = xh.reshape(x.shape)
    cshape = (1, C) + (1,) * (x.ndim - 2)
    out = xhat
    if weight is not None:
        out = out * weight._data.reshape(cshape)
    if bias is not None:
        out = out + bias._data.reshape(cshape)
    # (a copy only where out would otherwise be xhat itself, which backward keeps)
    return record(NativeGroupNormBackward0, out.astype(x.dtype, copy=out is xhat), (input, weight, bias),
                  (input, weight), attrs=(xhat, rstd, num_groups, eps))


def _batch_norm_grads(n: Any, g: Any) -> tuple:
    training, cshape = n.attrs[2], n.attrs[3]
    red = (0,) + tuple(range(2, g.ndim))
    return _norm_backward(n, g, red, red, cshape, training=training)


NativeBatchNormBackward0 = node_class("native_batch_norm", _batch_norm_grads, "batch norm backward",
                                      on_arrays=True, layout="suggested")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t._data.size != C:  # checked before the running stats are updated
            raise RuntimeError(f"{name} should contain {C} elements not {t._data.size}")
    if training and x.size // C <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    rm, rv, w, b = (None if t is None else t._data for t in (running_mean, running_var, weight, bias))
    out, xhat, rstd, shift = batch_norm_arrays(x, rm, rv, w, b, training, momentum, eps)
    for t in (running_mean, running_var) if training else ():
        if t is not None:
            t._vc[0] += 1
    cshape = (1, C) + (1,) * (x.ndim - 2)
    return record(NativeBatchNormBackward0, out, (input, weight, bias), (input, weight),
                  attrs=(xhat, rstd, training, cshape, shift, eps))


def batch_norm_arrays(x: np.ndarray, rm: np.ndarray | None, rv: np.ndarray | None, w: np.ndarray | None,
                      b: np.ndarray | None, training: bool, momentum: float, eps: float) -> tuple:
    """batch_norm on arrays (the running statistics updated in place in training): the output, and
    the normalised input, reciprocal deviations and eval shift its backward node keeps (ember.compile's
    replay calls it too)."""
    C = x.shape[1]
    cshape = (1, C) + (1,) * (x.ndim - 2)
    red = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // C
        mean, var, rstd, xhat = _norm_stats(x, red, eps, exact_equal=False)
        if rm is not None:
            rm *= (1 - momentum)
            rm += momentum * mean.reshape(C).astype(rm.dtype)
        if rv is not None:
            rv *= (1 - momentum)
            rv += momentum * (var.reshape(C) * count / (count - 1)).astype(rv.dtype)
    else:
        assert rm is not None and rv is not None  # (batch_norm raises torch's error first)
        rstd = (1.0 / np.sqrt(rv + eps)).reshape(cshape).astype(x.dtype)
        xhat = (x - rm.reshape(cshape)) * rstd
    out = xhat
    if w is not None:
        out = out * w.reshape(cshape)
    if b is not None:
        out = out + b.reshape(cshape)
    shift = None if training else rm.reshape(cshape).copy()
    return out.astype(x.dtype), xhat, rstd, shift


# ============================================================================ losses with nodes of their own
def _smooth_l1_grads(n: Any, g: Any) -> tuple:
    # its second derivative is 1/beta (1 for huber) inside the quadratic zone
    beta, reduction, huber = n.attrs
    d = n.saved[0] - n.saved[1]
    # torch's second derivative is grad * (|d| < beta) / beta, a product with the 0/1 mask (0 on the
    # boundary; NaN where a NaN or infinite grad meets the linear zone or a non-finite d): the
    # quadratic part is that mask times nan_to_num(d), whose derivative multiplies by isfinite(d)
    # (a select would turn those NaNs into 0), and the linear part sign(d), whose derivative is 0
    if beta == 0:
        dd = gm.sign(d)
    else:
        da = d._data if isinstance(d, Tensor) else d
        m = gm.where(np.abs(da) < beta, 1.0, 0.0)
        quad = m * gm.nan_to_num(d)
        dd = quad + (1.0 - m) * gm.sign(d) * beta if huber else quad / beta + (1.0 - m) * gm.sign(d)
        nan = np.isnan(da)
        if nan.any():  # (a NaN difference gives a NaN gradient, as torch's quadratic branch does; sign(NaN) is
            dd = dd + gm.const(np.where(nan, np.nan, 0.0).astype(da.dtype), d)  # 0, as torch's l1_loss at beta = 0)
    if reduction == "mean":
        dd = dd / gm.numel(d)
    # (the target's is grad times -dd, a product of its own as torch's, whose two backward formulas are
    # differentiated apart: with an infinite grad, -gg would sum the two incoming gradients before
    # multiplying, giving +-inf where torch gives inf - inf)
    return (g * dd if n.needs[0] else None, g * -dd if n.needs[1] else None)


SmoothL1LossBackward0 = node_class("smooth_l1_loss", _smooth_l1_grads, "grad * clamp((self - target) / beta, -1, 1)",
                                   on_arrays=True, layout="iterated")
HuberLossBackward0 = node_class("huber_loss", _smooth_l1_grads, "grad * clamp(self - target, -delta, delta)",
                                on_arrays=True, layout="preserved")  # (torch: into empty_like(input))


def smooth_l1(input: Tensor, target: Tensor, reduction: str, beta: float, huber: bool) -> Tensor:
    check_broadcast(input._data.shape, target._data.shape)
    rt, it = result_dtype(input, target).np, input._data.dtype
    # (Huber writes in the input's type, which the promoted type must cast to; both kernels take floats only)
    def cat(d: np.dtype) -> int:
        return {"b": 0, "i": 1, "u": 1, "c": 3}.get(d.kind, 2)

    if huber and cat(rt) > cat(it):
        raise RuntimeError(f"result type {LEGACY_NAMES[rt.name]} can't be cast to the desired output type {LEGACY_NAMES[it.name]}")
    if rt.kind in "biu":
        raise NotImplementedError(f"\"{'huber' if huber else 'smooth_l1'}_cpu\" not implemented for '{LEGACY_NAMES[rt.name]}'")
    x, t = np.broadcast_arrays(input._data, target._data)
    # torch: smooth L1 computes in the promoted dtype, Huber in the input's
    dt = input._data.dtype if huber else result_dtype(input, target).np
    d = np.abs(x - t)
    if huber:
        loss = where_np(d < beta, 0.5 * d * d, beta * (d - 0.5 * beta))
    elif beta == 0:
        loss = d
    else:
        loss = where_np(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    loss = loss.astype(dt)
    cls = HuberLossBackward0 if huber else SmoothL1LossBackward0
    return record(cls, _reduce_np(loss, reduction), (input, target), (input, target), attrs=(beta, reduction, huber))


# ============================================================================ CTC loss
def _lse(*arrs: np.ndarray) -> np.ndarray:
    """Elementwise log(sum(exp(a))) over arrays of one shape, -inf where all are -inf."""
    st = np.stack(arrs)
    m = st.max(axis=0)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(st - safe).sum(axis=0))


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a moved k places along (right for k > 0), -inf filling the vacated places."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[k:] = a[:-k] if k < len(a) else a[:0]
    else:
        out[:k] = a[-k:] if -k < len(a) else a[:0]
    return out


def _ctc_one(lp: np.ndarray, tgt: np.ndarray, blank: int, want_grad: bool) -> tuple:
    """One sequence: lp (T, C) float64 log-probabilities, tgt (L,) labels. Returns (nll, grad (T, C)).

    alpha_t(s) / beta_t(s) over the blank-extended label sequence l' (length 2L+1), both in log
    space and both including the emission at t. The gradient is torch's: w.r.t. the
    log-probabilities as produced by log_softmax, exp(lp) - exp(log sum_{s: l'_s = c} alpha beta + nll - lp).
    """
    T, C = lp.shape
    L = len(tgt)
    S = 2 * L + 1
    ext = np.full(S, blank, np.int64)
    ext[1::2] = tgt
    skip = np.zeros(S, bool)  # may come from s-2: a label differing from the label two back
    if S > 2:
        skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    ninf = -np.inf
    alpha = np.full((T, S), ninf)
    if T == 0:
        return (0.0 if L == 0 else np.inf), np.zeros((T, C))
    e = lp[:, ext]  # (T, S) emissions
    alpha[0, 0] = e[0, 0]
    if S > 1:
        alpha[0, 1] = e[0, 1]
    for t in range(1, T):
        a = alpha[t - 1]
        a1 = _shift(a, 1)
        a2 = np.where(skip, _shift(a, 2), ninf)
        alpha[t] = _lse(a, a1, a2) + e[t]
    ll = _lse(alpha[T - 1, S - 1], alpha[T - 1, S - 2]) if S > 1 else alpha[T - 1, S - 1]
    nll = float(-ll)
    if not want_grad:
        return nll, None
    beta = np.full((T, S), ninf)
    beta[T - 1, S - 1] = e[T - 1, S - 1]
    if S > 1:
        beta[T - 1, S - 2] = e[T - 1, S - 2]
    skip_next = np.zeros(S, bool)  # s+2 may come from s
    skip_next[:max(S - 2, 0)] = skip[2:]
    for t in range(T - 2, -1, -1):
        b = beta[t + 1]
        b1 = _shift(b, -1)
        b2 = np.where(skip_next, _shift(b, -2), ninf)
        beta[t] = _lse(b, b1, b2) + e[t]
    ab = alpha + beta  # (T, S)
    lcab = np.full((T, C), ninf)
    for c in np.unique(ext):
        lcab[:, c] = _lse(*ab[:, ext == c].T) if (ext == c).sum() > 1 else ab[:, ext == c][:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        grad = np.exp(lp) - np.exp(lcab + nll - lp)
    return nll, grad


def _ctc_grads(n: Any, g: Tensor) -> Tensor:
    return _new(n.attrs[0]) * g.reshape(1, -1, 1)  # attrs[0]: the per-sequence gradients (T, N, C)


CtcLossBackward0 = node_class("ctc_loss", _ctc_grads, "alpha-beta gradient of the CTC negative log-likelihood")


def _lengths(v: Any, name: str) -> np.ndarray:
    if isinstance(v, Tensor):
        return v._data.astype(np.int64).reshape(-1)
    return np.asarray(v, np.int64).reshape(-1)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    lp = log_probs._data
    unbatched = lp.ndim == 2
    if lp.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss expects log_probs of 2 or 3 dimensions, got {lp.ndim}")
    if unbatched:  # as torch: the batch of one, squeezed after
        tgt1 = targets.unsqueeze(0) if isinstance(targets, Tensor) else np.asarray(targets)[None]
        res = ctc_loss(log_probs.unsqueeze(1), tgt1, _lengths(input_lengths, ""), _lengths(target_lengths, ""),
                       blank, reduction, zero_infinity)
        return res.squeeze(0) if reduction == "none" else res
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    tg = targets._data if isinstance(targets, Tensor) else np.asarray(targets)
    il, tl = _lengths(input_lengths, "input_lengths"), _lengths(target_lengths, "target_lengths")
    if len(il) != N:
        raise RuntimeError(f"input_lengths must be of size batch_size ({N}), but got {len(il)}")
    if len(tl) != N:
        raise RuntimeError(f"target_lengths must be of size batch_size ({N}), but got {len(tl)}")
    want = _grad_mode._state.enabled and log_probs._rg
    lp64 = lp.astype(np.float64)
    nll = np.zeros(N)
    raw = np.zeros((T, N, C)) if want else None
    offsets = np.concatenate(([0], np.cumsum(tl)))
    for b in range(N):
        if il[b] > T:
            raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {il[b]} "
                               f"(while checking arguments for ctc_loss_cpu)")
        tgt = tg[b, :tl[b]] if tg.ndim == 2 else tg[offsets[b]:offsets[b + 1]]
        loss, grad = _ctc_one(lp64[:il[b], b], np.asarray(tgt, np.int64), blank, want)
        if zero_infinity and loss == np.inf:
            grad = None  # the loss itself is zeroed below, as torch does, by a where
        nll[b] = loss
        if want and grad is not None:
            raw[:il[b], b] = grad
    dt = lp.dtype
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    out = nll.astype(dt)
    res = record(CtcLossBackward0, out, (log_probs,), attrs=(raw.astype(dt),)) if want \
        else _new(out)
    if zero_infinity:
        from ..ops.indexing import where

        res = where(res == np.inf, _new(np.zeros((), dt)), res)
    if reduction == "mean":  # as torch: each loss over its target length (at least 1), then the batch mean
        return (res / _new(np.maximum(tl, 1).astype(dt).reshape(out.shape))).mean()
    if reduction == "sum":
        return res.sum()
    return res


# (F.one_hot, here among the ops on arrays: ember.compile calls it again at replay when num_classes is given;
# its docstring is ember/_docs/nn_functional.py's)
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    x = tensor._data
    if x.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if x.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(x.max()) + 1
    if x.size and x.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if x.size and x.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return _new(np.ascontiguousarray((x[..., None] == np.arange(num_classes)).astype(np.int64)))

"""The differentiable primitives behind nn layers: each a NumPy forward plus a backward node.

The heavy array ops (convolution, pooling, normalisation, embedding) and the activations compute
their gradients with NumPy on the saved arrays. Under ``create_graph=True`` (grad mode on inside
the backward) every one of them switches to a gradient that is itself recorded: ember
convolutions, nodes whose derivative is the op's adjoint (pooling, pads, embedding), derivative
formulas in ember ops (activations, smooth L1), or the op recomputed in ember ops and
differentiated (group norm), so that second derivatives are right.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._dtype import is_bfloat16
from .._tensor import Tensor, _new
from ..autograd import grad_mode as _grad_mode
from ..ops import _float32 as _f32
from ..ops._core import add_rows as _add_rows
from ..ops._core import node_class, record, where_np
from ..ops._erf import erf as erf_np
from ..ops.indexing import where as _where


def _c(arr: Any, like: np.ndarray) -> np.ndarray:
    return np.asarray(arr, dtype=like.dtype)


def _const(arr: np.ndarray) -> Tensor:
    return _new(np.asarray(arr))


# ============================================================================ activations
def _elementwise(name: str, fwd: Any, dfn: Any, formula: str, suffix: int = 0, dfn_ops: Any = None) -> Any:
    """An activation whose gradient is ``grad * dfn(x, *params)`` (a NumPy derivative).

    ``dfn_ops(x, *params)``: the same derivative in ember ops on the input tensor, used under
    ``create_graph=True`` so that second derivatives see how it depends on x. Without it the
    derivative is a constant there, which is exact only for piecewise-linear activations."""
    def local_grad(n: Any) -> np.ndarray:  # d output / d input, in the input's dtype
        x = n.saved[0]._data
        return _c(dfn(x, *n.attrs), x)

    def derivative(n: Any, g: Tensor) -> Tensor:
        if dfn_ops is not None and _grad_mode._state.enabled:
            return g * dfn_ops(n.saved[0], *n.attrs)
        return g * _const(local_grad(n))

    cls = node_class(name, derivative, formula, suffix, fast=lambda n, g: _new(g._data * local_grad(n)),
                     fast_any_meta=True)  # (the gradient has the input's shape and dtype)

    def op(input: Tensor, *params: Any) -> Tensor:
        x = input._data
        if x.dtype.kind != "f" and not is_bfloat16(x.dtype):
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{input.dtype.name.capitalize()}\'')
        with np.errstate(over="ignore", invalid="ignore"):
            res = _c(fwd(x, *params), x)
        return record(cls, res, (input,), (input,), attrs=params)

    op.__name__ = name
    return op, cls


_SQRT2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _gelu_f(x: np.ndarray, approximate: str) -> np.ndarray:
    return _f32.gelu_tanh(x) if approximate == "tanh" else _f32.gelu(x)


def _gelu_d(x: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        inner = _SQRT_2_PI * (x + 0.044715 * (x * x * x))
        t = np.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
    cdf = 0.5 * (1 + erf_np(x / _SQRT2))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return cdf + x * pdf


def _sigm(x: np.ndarray) -> np.ndarray:
    # exp(-x) overflows harmlessly to inf (ember's floating-point warnings are silenced)
    t = np.exp(-x)
    t += 1
    return np.reciprocal(t, out=t)


def _silu_d(x: np.ndarray) -> np.ndarray:
    s = _sigm(x)
    return s * (1 + x * (1 - s))


def _softplus_np(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

leaky_relu, LeakyReluBackward0 = _elementwise(
    "leaky_relu", lambda x, s: where_np(x > 0, x, x * s), lambda x, s: where_np(x > 0, x.dtype.type(1), x.dtype.type(s)),
    "grad * (self > 0 ? 1 : negative_slope)")
elu, EluBackward0 = _elementwise(
    "elu", lambda x, a, sc, isc: where_np(x > 0, x * sc, a * sc * np.expm1(x * isc)),
    lambda x, a, sc, isc: where_np(x <= 0, a * sc * isc * np.exp(x * isc), sc),  # (NaN: torch's scale)
    "grad * (self > 0 ? scale : alpha * scale * input_scale * exp(self * input_scale))",
    dfn_ops=lambda x, a, sc, isc: _where(x <= 0, a * sc * isc * (x * isc).exp(), sc))


def _gelu_d_ops(x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        t = (_SQRT_2_PI * (x + 0.044715 * (x * x * x))).tanh()
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + (x / _SQRT2).erf()) + x * (-0.5 * x * x).exp() / math.sqrt(2 * math.pi)


gelu, GeluBackward0 = _elementwise("gelu", _gelu_f, _gelu_d, "grad * (Phi(self) + self * phi(self))",
                                   dfn_ops=_gelu_d_ops)
silu, SiluBackward0 = _elementwise(
    "silu", _f32.silu, _silu_d, "grad * sigmoid(self) * (1 + self * (1 - sigmoid(self)))",
    dfn_ops=lambda x: x.sigmoid() * (1 + x * (1 - x.sigmoid())))


def _mish_d_ops(x: Tensor) -> Tensor:
    from .functional import softplus

    t = softplus(x).tanh()
    return t + x * x.sigmoid() * (1 - t * t)


mish, MishBackward0 = _elementwise(
    "mish", lambda x: x * np.tanh(_softplus_np(x)),
    lambda x: np.tanh(_softplus_np(x)) + x * _sigm(x) * (1 - np.tanh(_softplus_np(x)) ** 2),
    "grad * (tanh(softplus(self)) + self * sigmoid(self) * (1 - tanh(softplus(self))^2))", dfn_ops=_mish_d_ops)
hardtanh, HardtanhBackward0 = _elementwise(
    "hardtanh", lambda x, lo, hi: np.clip(x, lo, hi), lambda x, lo, hi: (x > lo) & (x < hi),
    "grad * (min_val < self < max_val)")
hardsigmoid, HardsigmoidBackward0 = _elementwise(
    "hardsigmoid", lambda x: np.clip(x + 3, 0, 6) / 6, lambda x: ((x > -3) & (x < 3)) / 6.0,
    "grad / 6 where -3 < self < 3")
hardswish, HardswishBackward0 = _elementwise(
    "hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6,
    lambda x: where_np(x <= -3, 0.0, where_np(x < 3, x / 3 + 0.5, 1.0)),  # (torch's boundaries)
    "grad * (self < -3 ? 0 : self <= 3 ? self / 3 + 0.5 : 1)",
    dfn_ops=lambda x: _where(x <= -3, 0.0, _where(x < 3, x / 3 + 0.5, 1.0)))
log_sigmoid, LogSigmoidBackward0 = _elementwise(
    "log_sigmoid", _f32.log_sigmoid, lambda x: _sigm(-x),
    "grad * sigmoid(-self)", dfn_ops=lambda x: (-x).sigmoid())
threshold, ThresholdBackward0 = _elementwise(
    "threshold", lambda x, th, v: where_np(x <= th, v, x), lambda x, th, v: ~(x <= th),  # (NaN passes, as in torch)
    "grad * (self > threshold)")
softshrink, SoftshrinkBackward0 = _elementwise(
    "softshrink", lambda x, lam: where_np(x > lam, x - lam, where_np(x < -lam, x + lam, x - x)),  # (NaN passes)
    lambda x, lam: (x > lam) | (x < -lam), "grad * (|self| > lambd)")
hardshrink, HardshrinkBackward0 = _elementwise(
    "hardshrink", lambda x, lam: where_np((x >= -lam) & (x <= lam), 0, x),  # (NaN passes, as in torch)
    lambda x, lam: (x > lam) | (x < -lam), "grad * (|self| > lambd)")


def _prelu_grads_recorded(n: Any, g: Tensor) -> tuple:
    """create_graph: the same gradients in ember ops (linear in grad; the weight's depends on x)."""
    xt, wt = n.saved
    pos = xt > 0
    gx = gw = None
    if n.needs[0]:
        gx = _where(pos, g, g * wt.reshape(n.attrs))
    if n.needs[1]:
        contrib = _where(pos, 0.0, g * xt)
        if wt.numel() == 1:
            gw = contrib.sum().reshape(tuple(wt.shape))
        else:
            gw = contrib.sum(tuple(i for i in range(xt.dim()) if i != 1)).reshape(tuple(wt.shape))
    return gx, gw


def _prelu_grads(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _prelu_grads_recorded(n, g)
    x, w = n.saved[0]._data, n.saved[1]._data
    gd = g._data
    wb = w.reshape(n.attrs)
    gx = gw = None
    if n.needs[0]:
        gx = _new(where_np(x > 0, gd, gd * wb).astype(x.dtype))
    if n.needs[1]:
        contrib = where_np(x > 0, 0, gd * x)
        if w.size == 1:
            gw = _new(np.asarray(contrib.sum(), x.dtype).reshape(w.shape))
        else:
            axes = tuple(i for i in range(x.ndim) if i != 1)
            gw = _new(contrib.sum(axis=axes).astype(x.dtype).reshape(w.shape))
    return gx, gw


PreluKernelBackward0 = node_class("_prelu_kernel", _prelu_grads, "grad * (self > 0 ? 1 : weight), grad * self * (self <= 0)")


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    x, w = input._data, weight._data
    if w.size != 1:
        if x.ndim < 2 or x.shape[1] != w.size:
            ch = x.shape[1] if x.ndim >= 2 else 1
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{w.size} and channel size = {ch}.")
        shape = [1] * x.ndim
        shape[1] = w.size
    else:
        shape = [1] * x.ndim
    wb = w.reshape(shape)
    return record(PreluKernelBackward0, where_np(x > 0, x, x * wb).astype(x.dtype), (input, weight),
                  (input, weight), attrs=tuple(shape))


# ============================================================================ linear
def _linear_fast(n: Any, g: Tensor) -> tuple:
    x, w = n.saved
    gd = g._data
    return (g if n.needs[0] else None, _new(gd @ w._data) if n.needs[1] else None,
            _new(gd.T @ x._data) if n.needs[2] else None)


AddmmBackward0 = node_class(
    "addmm", lambda n, g: (g if n.needs[0] else None,
                           g.mm(n.saved[1]) if n.needs[1] else None,
                           g.t().mm(n.saved[0]) if n.needs[2] else None),
    "grad, grad @ weight, grad^T @ input", fast=_linear_fast,
    fast_any_meta=True)  # (the bias gradient is summed to the bias's shape by the engine)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    x, w = input._data, weight._data
    if x.ndim == 2 and bias is not None and w.ndim == 2:
        if x.shape[1] != w.shape[1]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({x.shape[0]}x{x.shape[1]} and "
                               f"{w.shape[1]}x{w.shape[0]})")
        if x.dtype != w.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dn(x)} and {_dn(w)}")
        out = x @ w.T
        out += bias._data
        if out.dtype != x.dtype:  # (bfloat16: NumPy multiplies in float32; torch rounds the sum once)
            out = out.astype(x.dtype)
        return record(AddmmBackward0, out, (bias, input, weight), (input, weight))
    if x.ndim >= 1 and w.ndim == 2 and x.shape[-1] != w.shape[1]:
        lead = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{x.shape[-1]} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    out = input.matmul(weight.t())
    return out + bias if bias is not None else out


def _dn(x: np.ndarray) -> str:
    from .. import _dtype
    from ..ops.reduction import _LEGACY_NAMES

    return _LEGACY_NAMES[_dtype._FROM_NP[x.dtype].name]


# ============================================================================ convolution
def _windows(xp: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> np.ndarray:
    """(N, C, Hp, Wp) -> a strided view (N, C, kh, kw, Ho, Wo) of the receptive fields."""
    N, C, H, W = xp.shape
    Ho = (H - dh * (kh - 1) - 1) // sh + 1
    Wo = (W - dw * (kw - 1) - 1) // sw + 1
    s = xp.strides
    return as_strided(xp, (N, C, kh, kw, Ho, Wo), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw),
                      writeable=False)


def _pad2(x: np.ndarray, pads: tuple, value: float = 0.0) -> np.ndarray:
    t, b, left, r = pads
    if t == b == left == r == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (t, b), (left, r)), constant_values=value)


def _col2im(cols: np.ndarray, shape: tuple, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int) -> np.ndarray:
    """Sum (N, C, kh, kw, Ho, Wo) window values back into a (N, C, Hp, Wp) array."""
    out = np.zeros(shape, cols.dtype)
    Ho, Wo = cols.shape[4], cols.shape[5]
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += cols[:, :, i, j]
    return out


def _col2im_channel_major(cols: np.ndarray, shape: tuple, stride: tuple, dil: tuple) -> np.ndarray:
    """Sum (C, kh, kw, N, Ho, Wo) window values into a (N, C, Hp, Wp) view, accumulating in the
    columns' own channel-major order so each strided add reads contiguous memory."""
    C, kh, kw, N, Ho, Wo = cols.shape
    sh, sw = stride
    dh, dw = dil
    out = np.zeros((C, N, shape[2], shape[3]), cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (Ho - 1) + 1:sh, j * dw:j * dw + sw * (Wo - 1) + 1:sw] += cols[:, i, j]
    return out.transpose(1, 0, 2, 3)


# Stride-1 convolutions use "flat shift" im2col: with the padded images laid end to end per
# channel, xf = (C, N*Hp*Wp), window element (i, j) of output position m is input position
# m + i*dh*Wp + j*dw, so each im2col row is one contiguous slice of xf and col2im adds whole rows.
# Outputs are computed at every padded position (Hp*Wp instead of Ho*Wo) and cropped after. The
# columns are built, used and dropped a block of positions at a time, so they stay in cache and
# only xf (the size of the input) is kept for backward.
_FLAT_BLOCK_BYTES = 4 << 20  # im2col block size: well inside the last-level cache


def _flat_input(x: np.ndarray, pads: tuple, tail: int) -> np.ndarray:
    """(N, C, H, W) -> (C, N*Hp*Wp + tail): padded images end to end, zeros after."""
    N, C, H, W = x.shape
    t, b, left, r = pads
    Hp, Wp = H + t + b, W + left + r
    P = N * Hp * Wp
    xf = np.empty((C, P + tail), x.dtype)
    img = xf[:, :P].reshape(C, N, Hp, Wp)
    img[:, :, :t] = 0
    img[:, :, Hp - b:] = 0
    img[:, :, t:Hp - b, :left] = 0
    img[:, :, t:Hp - b, Wp - r:] = 0
    img[:, :, t:Hp - b, left:Wp - r] = x.transpose(1, 0, 2, 3)
    xf[:, P:] = 0
    return xf


def _flat_blocks(P: int, K: int, itemsize: int) -> list:
    step = max(1024, _FLAT_BLOCK_BYTES // (K * itemsize))
    return [(p0, min(P, p0 + step)) for p0 in range(0, P, step)]


def _flat_cols(xf: np.ndarray, p0: int, p1: int, kh: int, kw: int, offs: tuple) -> np.ndarray:
    """The im2col columns of positions p0..p1: (C*kh*kw, p1-p0), one contiguous copy."""
    s0, s1 = xf.strides
    win = as_strided(xf[:, p0:], (xf.shape[0], kh, kw, p1 - p0), (s0, offs[0] * s1, offs[1] * s1, s1),
                     writeable=False)
    return np.ascontiguousarray(win).reshape(-1, p1 - p0)


def _to_nchw(src: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """(O, N, Ho, Wo)-ordered GEMM output -> contiguous (N, O, Ho, Wo), plus the bias."""
    O, N = src.shape[0], src.shape[1]
    out = np.empty((N, O) + src.shape[2:], src.dtype)
    np.copyto(out, src.transpose(1, 0, 2, 3))
    if b is not None:
        out += b.reshape(1, -1, 1, 1)  # (faster than adding during the transposing copy)
    return out


def _conv_forward(x: np.ndarray, w: np.ndarray, stride: tuple, pads: tuple, dil: tuple, groups: int,
                  bias: np.ndarray | None = None) -> tuple:
    """The convolution (plus ``bias``) as one GEMM per group over im2col columns; returns (out,
    saved columns or flat input, padded shape, flat)."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    t, b, left, r = pads
    Hp, Wp = H + t + b, W + left + r
    Ho = Hp - dil[0] * (kh - 1)
    Wo = Wp - dil[1] * (kw - 1)
    G = groups
    K = Cg * kh * kw
    wm = w.reshape(G, O // G, K)
    if stride == (1, 1) and Ho * Wo * 3 >= Hp * Wp * 2:  # flat shift, unless cropping would waste a third
        P = N * Hp * Wp
        offs = (dil[0] * Wp, dil[1])
        xf = _flat_input(x, pads, offs[0] * (kh - 1) + offs[1] * (kw - 1))
        full = np.empty((G, O // G, P), x.dtype)
        bias_col = None if bias is None else bias.reshape(G, O // G, 1)
        for p0, p1 in _flat_blocks(P, C * kh * kw, x.itemsize):
            blk = full[:, :, p0:p1]
            np.matmul(wm, _flat_cols(xf, p0, p1, kh, kw, offs).reshape(G, K, p1 - p0), out=blk)
            if bias_col is not None:
                blk += bias_col  # while the block is in cache
        return _to_nchw(full.reshape(O, N, Hp, Wp)[:, :, :Ho, :Wo], None), xf, (N, C, Hp, Wp), True
    xp = _pad2(x, pads)
    win = _windows(xp, kh, kw, stride[0], stride[1], dil[0], dil[1])  # (N, C, kh, kw, Ho, Wo) view
    Ho, Wo = win.shape[4], win.shape[5]
    # im2col in one copy, laid out (G, Cg*kh*kw, N*Ho*Wo) so that each group is a single large GEMM
    cols = win.transpose(1, 2, 3, 0, 4, 5).reshape(G, K, N * Ho * Wo)
    out = np.matmul(wm, cols)  # (G, O/G, N*L): channel o = g*(O/G) + j, as in torch's weight layout
    return _to_nchw(out.reshape(O, N, Ho, Wo), bias), cols, xp.shape, False


def _conv_grads_flat(gd: np.ndarray, w: np.ndarray, xf: np.ndarray, xp_shape: tuple, pads: tuple, dil: tuple,
                     G: int, needs: tuple) -> tuple:
    N, O, Ho, Wo = gd.shape
    _, Cg, kh, kw = w.shape
    _, C, Hp, Wp = xp_shape
    t, b, left, r = pads
    P, K = N * Hp * Wp, Cg * kh * kw
    offs = (dil[0] * Wp, dil[1])
    # the output gradient at every padded position, zero where outputs were cropped away
    gf = np.empty((O, N, Hp, Wp), gd.dtype)
    gf[:, :, Ho:] = 0
    gf[:, :, :Ho, Wo:] = 0
    gf[:, :, :Ho, :Wo] = gd.transpose(1, 0, 2, 3)
    g2 = gf.reshape(G, O // G, P)
    wt = w.reshape(G, O // G, K).transpose(0, 2, 1)
    dxf = np.zeros_like(xf) if needs[0] else None
    gwm = np.zeros((G, K, O // G), gd.dtype) if needs[1] else None
    for p0, p1 in _flat_blocks(P, C * kh * kw, gd.itemsize):
        gb = g2[:, :, p0:p1]
        if needs[1]:
            # cols @ g^T (K x O): the orientation OpenBLAS splits well across threads
            gwm += np.matmul(_flat_cols(xf, p0, p1, kh, kw, offs).reshape(G, K, p1 - p0), gb.transpose(0, 2, 1))
        if needs[0]:
            dcols = np.matmul(wt, gb).reshape(C, kh, kw, p1 - p0)
            for i in range(kh):
                for j in range(kw):
                    off = p0 + i * offs[0] + j * offs[1]
                    dxf[:, off:off + p1 - p0] += dcols[:, i, j]
    gx = gw = gb = None
    if len(needs) > 2 and needs[2]:
        gb = gf.reshape(O, P).sum(1)  # rows of gf are contiguous: faster than summing gd over (0, 2, 3)
    if needs[0]:
        dxp = dxf[:, :P].reshape(C, N, Hp, Wp)[:, :, t:Hp - b, left:Wp - r]
        gx = np.ascontiguousarray(dxp.transpose(1, 0, 2, 3))
    if needs[1]:
        gw = np.ascontiguousarray(gwm.transpose(0, 2, 1)).reshape(w.shape)
    return gx, gw, gb


def _conv_grads(n: Any, g: Tensor) -> tuple:
    w = n.saved[1]._data
    stride, pads, dil, groups, cols, xp_shape, flat = n.attrs
    gd = g._data
    if flat:
        grads = _conv_grads_flat(gd, w, cols, xp_shape, pads, dil, groups, n.needs)
    else:
        grads = _conv_grads_windows(gd, w, cols, xp_shape, stride, pads, dil, groups, n.needs)
    return tuple(None if a is None else _new(a) for a in grads)


def _conv_grads_windows(gd: np.ndarray, w: np.ndarray, cols: np.ndarray, xp_shape: tuple, stride: tuple,
                        pads: tuple, dil: tuple, G: int, needs: tuple) -> tuple:
    N, O, Ho, Wo = gd.shape
    _, Cg, kh, kw = w.shape
    t, b, left, r = pads
    g2 = gd.transpose(1, 0, 2, 3).reshape(G, O // G, N * Ho * Wo)  # the GEMM layout (G, O/G, N*L)
    gx = gw = gb = None
    if needs[0]:
        wm = w.reshape(G, O // G, Cg * kh * kw)
        dcols = np.matmul(wm.transpose(0, 2, 1), g2)  # (G, K, N*L)
        dxp = _col2im_channel_major(dcols.reshape(G * Cg, kh, kw, N, Ho, Wo), xp_shape, stride, dil)
        gx = np.ascontiguousarray(dxp[:, :, t:xp_shape[2] - b, left:xp_shape[3] - r])
    if needs[1]:
        # summed over the batch; computed as cols @ g2^T (K x O), the orientation OpenBLAS splits
        # well across threads (g2 @ cols^T, with its long inner dimension, can be 100x slower)
        gw = np.ascontiguousarray(np.matmul(cols, g2.transpose(0, 2, 1)).transpose(0, 2, 1)).reshape(w.shape)
    if len(needs) > 2 and needs[2]:
        gb = gd.sum(axis=(0, 2, 3))
    return gx, gw, gb


def _conv_grads_any(n: Any, g: Tensor) -> tuple:
    """The fast NumPy gradients, or (under ``create_graph=True``) gradients built from ember's
    differentiable conv ops, so that they can be differentiated again."""
    if _grad_mode._state.enabled:
        return _conv_grads_differentiable(n, g)
    return _conv_grads(n, g)


ConvolutionBackward0 = node_class("convolution", _conv_grads_any,
                                  "grad_input, grad_weight, grad_bias of the convolution")


def _pair(v: Any, n: int = 2) -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * n
        return tuple(v)
    return (v,) * n


def _conv_pads(padding: Any, k: tuple, dil: tuple, nd: int) -> tuple:
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0) * nd
        if padding == "same":
            out = []
            for kk, dd in zip(k, dil):
                total = dd * (kk - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    p = _pair(padding, nd)
    return tuple(v for pp in p for v in (pp, pp))


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    x, w = input._data, weight._data
    unbatched = x.ndim == 3
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
                           f"{list(x.shape)}")
    if unbatched:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    stride, dil = _pair(stride), _pair(dilation)
    if isinstance(padding, str) and padding == "same" and any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    pads = _conv_pads(padding, w.shape[2:], dil, 2)
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[1] * groups} channels, but got {x.shape[1]} channels instead")
    if x.dtype != w.dtype:
        raise RuntimeError(f"Input type ({_dn(x)}) and weight type ({_dn(w)}) should be the same")
    kh_eff = dil[0] * (w.shape[2] - 1) + 1
    kw_eff = dil[1] * (w.shape[3] - 1) + 1
    if x.shape[2] + pads[0] + pads[1] < kh_eff or x.shape[3] + pads[2] + pads[3] < kw_eff:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({x.shape[2] + pads[0] + pads[1]} x "
            f"{x.shape[3] + pads[2] + pads[3]}). Kernel size: ({kh_eff} x {kw_eff}). Kernel size can't be greater "
            "than actual input size")
    out, cols, xp_shape, flat = _conv_forward(x, w, stride, pads, dil, groups, None if bias is None else bias._data)
    inputs = (input, weight, bias) if bias is not None else (input, weight)
    return record(ConvolutionBackward0, out, inputs, (input, weight),
                  attrs=(stride, pads, dil, groups, cols, xp_shape, flat))


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: "
                           f"{list(input.shape)}")
    if input.dim() == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if isinstance(padding, str):
        pad2 = padding
    else:
        pad2 = (0, _pair(padding, 1)[0])
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, _pair(stride, 1)[0]), pad2,
                 (1, _pair(dilation, 1)[0]), groups)
    return out.squeeze(2)


def _convt_grads(n: Any, g: Tensor) -> tuple:
    x_t, w_t = n.saved[0], n.saved[1]
    stride, pads, dil, groups, out_pad = n.attrs
    x, w = x_t._data, w_t._data
    N, Cin, H, W = x.shape
    _, Og, kh, kw = w.shape
    G = groups
    Cg = Cin // G
    t, b, left, r = pads
    gp = np.pad(g._data, ((0, 0), (0, 0), (t, b), (left, r)))
    win = _windows(gp, kh, kw, stride[0], stride[1], dil[0], dil[1])[:, :, :, :, :H, :W]
    gcols = win.reshape(N, G, Og * kh * kw, H * W)
    gx = gw = gb = None
    if n.needs[0]:
        wm = w.reshape(G, Cg, Og * kh * kw)
        gx = _new(np.matmul(wm, gcols).reshape(x.shape))
    if n.needs[1]:
        a = x.reshape(N, G, Cg, H * W).transpose(1, 2, 0, 3).reshape(G, Cg, N * H * W)
        c = gcols.transpose(1, 0, 3, 2).reshape(G, N * H * W, Og * kh * kw)
        gw = _new(np.matmul(a, c).reshape(w.shape))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(g._data.sum(axis=(0, 2, 3)))
    return gx, gw, gb


def _convt_grads_any(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _convt_grads_differentiable(n, g)
    return _convt_grads(n, g)


ConvolutionBackward0T = node_class("convolution", _convt_grads_any, "grad of the transposed convolution")


def _group_diag(full: Tensor, G: int) -> Tensor:
    """(A, B, kh, kw) computed for every channel pair -> (G, A/G, B/G, kh, kw), the pairs of one group."""
    A, B = full.shape[0], full.shape[1]
    if G == 1:
        return full.unsqueeze(0)
    r = full.reshape(G, A // G, G, B // G, full.shape[2], full.shape[3])
    ar = _new(np.arange(G))
    return r[ar, :, ar]


def _conv_grads_differentiable(n: Any, g: Tensor) -> tuple:
    """conv2d's gradients as ember convolutions: grad_input is a transposed convolution of the
    grad, grad_weight a convolution of the input by the grad (batch and channels swapped)."""
    x, w = n.saved[0], n.saved[1]
    stride, pads, dil, groups = n.attrs[:4]
    xp_shape = n.attrs[5]
    O, Cg, kh, kw = w.shape
    N, _, Ho, Wo = g.shape
    t, b, left, r = pads
    gx = gw = gb = None
    if n.needs[0]:
        opad = (xp_shape[2] - ((Ho - 1) * stride[0] + dil[0] * (kh - 1) + 1),
                xp_shape[3] - ((Wo - 1) * stride[1] + dil[1] * (kw - 1) + 1))
        gxp = conv_transpose2d(g, w, None, stride, 0, opad, groups, dil)
        gx = gxp[:, :, t:xp_shape[2] - b, left:xp_shape[3] - r]
    if n.needs[1]:
        if t == b and left == r:
            xs, cpad = x, (t, left)
        else:
            xs, cpad = pad(x, (left, r, t, b)), (0, 0)
        # full[c, o, i, j] = sum_{n,y,x} xp[n, c, i*d + y*s, j*d + x*s] * g[n, o, y, x]
        full = conv2d(xs.transpose(0, 1), g.transpose(0, 1), None, dil, cpad, stride)[:, :, :kh, :kw]
        gw = _group_diag(full, groups).permute(0, 2, 1, 3, 4).reshape(w.shape)
    if len(n.needs) > 2 and n.needs[2]:
        gb = g.sum((0, 2, 3))
    return gx, gw, gb


def _convt_grads_differentiable(n: Any, g: Tensor) -> tuple:
    x, w = n.saved[0], n.saved[1]
    stride, pads, dil, groups, _ = n.attrs
    Cin, Og, kh, kw = w.shape
    H, W = x.shape[2], x.shape[3]
    p = (pads[0], pads[2])
    gx = gw = gb = None
    if n.needs[0]:
        gx = conv2d(g, w, None, stride, p, dil, groups)[:, :, :H, :W]
    if n.needs[1]:
        # full[o, c, i, j] = sum_{n,h,w} gp[n, o, i*d + h*s, j*d + w*s] * x[n, c, h, w]
        full = conv2d(g.transpose(0, 1), x.transpose(0, 1), None, dil, p, stride)[:, :, :kh, :kw]
        gw = _group_diag(full, groups).permute(0, 2, 1, 3, 4).reshape(w.shape)
    if len(n.needs) > 2 and n.needs[2]:
        gb = g.sum((0, 2, 3))
    return gx, gw, gb


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    if input.dim() == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    x, w = input._data, weight._data
    stride, dil, opad = _pair(stride), _pair(dilation), _pair(output_padding)
    p = _pair(padding)
    N, Cin, H, W = x.shape
    if Cin != w.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[0]} channels, but got {Cin} channels instead")
    _, Og, kh, kw = w.shape
    G = groups
    Cg = Cin // G
    Hp = (H - 1) * stride[0] + dil[0] * (kh - 1) + 1 + opad[0]
    Wp = (W - 1) * stride[1] + dil[1] * (kw - 1) + 1 + opad[1]
    wm = w.reshape(G, Cg, Og * kh * kw)
    cols = np.matmul(wm.transpose(0, 2, 1), x.reshape(N, G, Cg, H * W))  # (N, G, Og*K, HW)
    cols = cols.reshape(N, G * Og, kh, kw, H, W)
    outp = _col2im(cols, (N, G * Og, Hp, Wp), kh, kw, stride[0], stride[1], dil[0], dil[1])
    out = np.ascontiguousarray(outp[:, :, p[0]:Hp - p[0], p[1]:Wp - p[1]])
    if bias is not None:
        out += bias._data.reshape(1, -1, 1, 1)
    pads = (p[0], p[0], p[1], p[1])
    inputs = (input, weight, bias) if bias is not None else (input, weight)
    return record(ConvolutionBackward0T, out, inputs, (input, weight), attrs=(stride, pads, dil, groups, opad))


# ============================================================================ pooling
def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _scatter_flat(g: Tensor, shape: tuple, flat_idx: np.ndarray) -> Tensor:
    """Sum ``g`` into zeros of ``shape`` at the flat positions ``flat_idx``; differentiable again
    (its derivative reads the same positions back)."""
    gx = np.bincount(flat_idx.ravel(), weights=g._data.ravel(), minlength=int(np.prod(shape)))
    return record(MaxPool2DWithIndicesBackwardBackward0, gx.astype(g._data.dtype).reshape(shape), (g,),
                  attrs=(shape, flat_idx))


def _gather_flat(gg: Tensor, flat_idx: np.ndarray) -> Tensor:
    return gg.reshape(-1)[_new(flat_idx.ravel())].reshape(flat_idx.shape)


MaxPool2DWithIndicesBackwardBackward0 = node_class(
    "max_pool2_d_with_indices_backward", lambda n, gg: _gather_flat(gg, n.attrs[1]), "grad read at the argmax")


def _max_pool_grads(n: Any, g: Tensor) -> Tensor:
    shape, flat_idx = n.attrs
    if _grad_mode._state.enabled:
        return _scatter_flat(g, shape, flat_idx)
    gx = np.bincount(flat_idx.ravel(), weights=g._data.ravel(), minlength=int(np.prod(shape)))
    return _new(gx.astype(g._data.dtype).reshape(shape))


MaxPool2DWithIndicesBackward0 = node_class("max_pool2_d_with_indices", _max_pool_grads, "grad scattered to the argmax")


def _max_pool_tiled_grads(n: Any, g: Tensor) -> Tensor:
    # each output's gradient goes to the first position in its window holding the maximum (torch's
    # tie rule), found now rather than tracked during the forward pass
    x, out, (kh, kw) = n.attrs
    gd = g._data
    Ho, Wo = gd.shape[2], gd.shape[3]
    if _grad_mode._state.enabled:  # create_graph: the argmax positions, scattered differentiably
        N, C, H, W = x.shape
        idx = np.zeros(out.shape, np.int64)
        taken = np.zeros(out.shape, bool)
        for i in range(kh):
            for j in range(kw):
                hit = (x[:, :, i:Ho * kh:kh, j:Wo * kw:kw] == out) & ~taken
                taken |= hit
                idx[hit] = 0
                idx += hit * (i * W + j)
        base = (np.arange(Ho)[:, None] * kh * W + np.arange(Wo)[None, :] * kw)
        plane = (np.arange(N * C) * (H * W)).reshape(N, C, 1, 1)
        return _scatter_flat(g, x.shape, idx + base + plane)
    H, W = x.shape[2], x.shape[3]
    # every position is written below when the windows tile the input exactly
    gx = np.empty(x.shape, gd.dtype) if H == Ho * kh and W == Wo * kw else np.zeros(x.shape, gd.dtype)
    taken = None
    last = (kh - 1, kw - 1)
    for i in range(kh):
        for j in range(kw):
            hit = x[:, :, i:Ho * kh:kh, j:Wo * kw:kw] == out
            if taken is None:
                taken = hit  # (not changed before its use below)
            else:
                np.greater(hit, taken, out=hit)  # a hit, and no earlier hit in the window
                if (i, j) != last:
                    np.logical_or(taken, hit, out=taken)
            np.multiply(gd, hit, out=gx[:, :, i:Ho * kh:kh, j:Wo * kw:kw])
    return _new(gx)


MaxPool2DWithIndicesBackward0Tiled = node_class("MaxPool2DWithIndices", _max_pool_tiled_grads,
                                                "grad placed at each window's (first) maximum")


def _max_pool_tiled(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Non-overlapping windows (stride == kernel, no padding): the elementwise maximum of the
    kh*kw strided views of the input."""
    Ho, Wo = x.shape[2] // kh, x.shape[3] // kw
    out = None
    for i in range(kh):
        for j in range(kw):
            v = x[:, :, i:Ho * kh:kh, j:Wo * kw:kw]
            out = v.copy() if out is None else np.maximum(out, v, out=out)
    return out


def _max_pool2d_np(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, ceil: bool) -> tuple:
    """(pooled maxima, index of each window's maximum within the unpadded (H, W) plane).

    One strided pass per window offset: the running maximum, and the offset where it was found.
    A later element takes over only when strictly larger (the first maximum wins ties), or when
    it is NaN (torch's kernel lets every NaN take over, so the last NaN in the window wins)."""
    N, C, H, W = x.shape
    Ho = _pool_out(H, k[0], s[0], p[0], d[0], ceil)
    Wo = _pool_out(W, k[1], s[1], p[1], d[1], ceil)
    need_h = (Ho - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (Wo - 1) * s[1] + d[1] * (k[1] - 1) + 1
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], max(need_h - H - p[0], 0)), (p[1], max(need_w - W - p[1], 0))),
                constant_values=fill)
    check_nan = x.dtype.kind == "f" and bool(np.isnan(x).any())
    out = best = None
    for i in range(k[0]):
        for j in range(k[1]):
            v = xp[:, :, i * d[0]:i * d[0] + s[0] * (Ho - 1) + 1:s[0], j * d[1]:j * d[1] + s[1] * (Wo - 1) + 1:s[1]]
            if out is None:
                out, best = v.copy(), np.zeros(v.shape, np.int16)  # (offset numbers: small ints are cheap)
                continue
            take = v > out
            if check_nan:
                take |= np.isnan(v)
            best = where_np(take, i * k[1] + j, best)
            out = where_np(take, v, out)
    ki, kj = np.divmod(best.astype(np.int64), k[1])
    rows = np.arange(Ho)[:, None] * s[0] + ki * d[0] - p[0]
    cols = np.arange(Wo)[None, :] * s[1] + kj * d[1] - p[1]
    return out, rows * W + cols  # index within the unpadded (H, W) plane


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    if input.dim() == 3:
        r = max_pool2d(input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, return_indices)
        return (r[0].squeeze(0), r[1].squeeze(0)) if return_indices else r.squeeze(0)
    if input.dim() != 4:
        raise RuntimeError(f"non-empty 3D or 4D (batch mode) tensor expected for input, but got: {input.dim()}D")
    k = _pair(kernel_size)
    s = _pair(stride) if stride is not None and stride != [] else k
    p, d = _pair(padding), _pair(dilation)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0] if p[0] > k[0] // 2 else p[1]}, "
                           f"kernel_size={k[0] if p[0] > k[0] // 2 else k[1]} and dilation={d[0]}")
    x = input._data
    N, C, H, W = x.shape
    if (not return_indices and k == s and p == (0, 0) and d == (1, 1) and x.dtype.kind == "f" and k[0] * k[1] <= 64
            and (not ceil_mode or (H % k[0] == 0 and W % k[1] == 0)) and H >= k[0] and W >= k[1]):
        out = _max_pool_tiled(x, k[0], k[1])
        if not np.isnan(out).any():  # NaN windows take the general path (torch's NaN index rule)
            return record(MaxPool2DWithIndicesBackward0Tiled, out, (input,), attrs=(x, out, k))
    out, idx = _max_pool2d_np(x, k, s, p, d, ceil_mode)
    plane = (np.arange(N * C) * (H * W)).reshape(N, C, 1, 1)
    res = record(MaxPool2DWithIndicesBackward0, out, (input,), attrs=(x.shape, idx + plane))
    if return_indices:
        return res, _new(idx.astype(np.int64))
    return res


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    k = _pair(kernel_size, 1)[0]
    s = _pair(stride, 1)[0] if stride is not None and stride != [] else k
    r = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding, 1)[0]), (1, _pair(dilation, 1)[0]),
                   ceil_mode, return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


def _avg_divisor(size: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    pool = end - start
    start_c = np.maximum(start, 0)
    end_c = np.minimum(end, size)
    return pool if include_pad else (end_c - start_c)


def _avg_pool_grads(n: Any, g: Tensor) -> Tensor:
    xshape, k, s, p, div, Hpad, Wpad = n.attrs
    gd = g._data / div
    N, C, Ho, Wo = gd.shape
    cols = np.broadcast_to(gd[:, :, None, None], (N, C, k[0], k[1], Ho, Wo))
    gp = _col2im(cols, (N, C, Hpad, Wpad), k[0], k[1], s[0], s[1], 1, 1)
    H, W = xshape[2], xshape[3]
    res = np.ascontiguousarray(gp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]).astype(g._data.dtype)
    if _grad_mode._state.enabled:  # create_graph: linear in grad, its derivative is the pooling again
        return record(AvgPool2DBackwardBackward0, res, (g,), attrs=n.attrs)
    return _new(res)


def _avg_pool_apply(n: Any, gg: Tensor) -> Tensor:
    """The pooling itself with the saved divisor: the derivative of avg_pool2d's backward."""
    xshape, k, s, p, div, Hpad, Wpad = n.attrs
    x = gg._data
    H, W = xshape[2], xshape[3]
    Ho, Wo = n._in_meta[0][0][2:]  # this node's input: the pooled-shape grad
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], Hpad - H - p[0]), (p[1], Wpad - W - p[1])))
    out = (_window_sums(xp, k, s, Ho, Wo) / div).astype(x.dtype)
    return record(AvgPool2DBackward0, out, (gg,), attrs=n.attrs)


AvgPool2DBackward0 = node_class("avg_pool2_d", _avg_pool_grads, "grad / divisor spread over each window")
AvgPool2DBackwardBackward0 = node_class("avg_pool2_d_backward", _avg_pool_apply, "the pooling of grad")


def _window_sums(xp: np.ndarray, k: tuple, s: tuple, Ho: int, Wo: int) -> np.ndarray:
    """Sum of each pooling window: one strided add per window offset (NumPy's sum over the two
    short window axes of a strided view is several times slower)."""
    out = None
    for i in range(k[0]):
        for j in range(k[1]):
            v = xp[:, :, i:i + s[0] * (Ho - 1) + 1:s[0], j:j + s[1] * (Wo - 1) + 1:s[1]]
            if out is None:
                out = v.copy()
            else:
                out += v
    return out


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    if input.dim() == 3:
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    k = _pair(kernel_size)
    s = _pair(stride) if stride is not None and stride != [] else k
    p = _pair(padding)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {p[1]}, padH = {p[0]}, kW = {k[1]}, kH = {k[0]}")
    x = input._data
    N, C, H, W = x.shape
    Ho = _pool_out(H, k[0], s[0], p[0], 1, ceil_mode)
    Wo = _pool_out(W, k[1], s[1], p[1], 1, ceil_mode)
    Hpad = max((Ho - 1) * s[0] + k[0], H + 2 * p[0])
    Wpad = max((Wo - 1) * s[1] + k[1], W + 2 * p[1])
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], Hpad - H - p[0]), (p[1], Wpad - W - p[1])))
    sums = _window_sums(xp, k, s, Ho, Wo)
    if divisor_override:
        div = np.asarray(divisor_override, dtype=x.dtype)
    else:
        dh = _avg_divisor(H, Ho, k[0], s[0], p[0], count_include_pad)
        dw = _avg_divisor(W, Wo, k[1], s[1], p[1], count_include_pad)
        div = np.outer(dh, dw).astype(x.dtype)
    out = (sums / div).astype(x.dtype)
    return record(AvgPool2DBackward0, out, (input,), attrs=(x.shape, k, s, p, div, Hpad, Wpad))


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    k = _pair(kernel_size, 1)[0]
    s = _pair(stride, 1)[0] if stride is not None and stride != [] else k
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding, 1)[0]), ceil_mode,
                      count_include_pad).squeeze(-2)


def _adaptive_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    m = np.zeros((out, size), dtype)
    for i in range(out):
        a = (i * size) // out
        b = -(-((i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


def _adaptive_avg_grads(n: Any, g: Tensor) -> Tensor:
    ah, aw = n.attrs
    if _grad_mode._state.enabled:  # create_graph: the same linear map in ember ops
        return _new(np.ascontiguousarray(ah.T)).matmul(g).matmul(_new(aw))
    gd = g._data
    if ah.shape[0] == 1 and aw.shape[0] == 1:  # global average pooling: grad / (H*W) everywhere
        out = np.empty(gd.shape[:-2] + (ah.shape[1], aw.shape[1]), gd.dtype)
        out[...] = gd * ah[0, 0] * aw[0, 0]
        return _new(out)
    return _new(np.ascontiguousarray(ah.T @ gd @ aw))


AdaptiveAvgPool2DBackward0 = node_class("adaptive_avg_pool2_d", _adaptive_avg_grads, "Ah^T @ grad @ Aw")


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    x = input._data
    os_ = _pair(output_size)
    oh = x.shape[-2] if os_[0] is None else os_[0]
    ow = x.shape[-1] if os_[1] is None else os_[1]
    ah = _adaptive_matrix(x.shape[-2], oh, x.dtype)
    aw = _adaptive_matrix(x.shape[-1], ow, x.dtype)
    if oh == 1 and ow == 1:  # global average pooling: a mean, as torch computes it
        out = x.mean(axis=(-2, -1), keepdims=True, dtype=x.dtype)
    else:
        out = np.ascontiguousarray(ah @ x @ aw.T)
    return record(AdaptiveAvgPool2DBackward0, out, (input,), attrs=(ah, aw))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _pair(output_size, 1)[0])).squeeze(-2)


def _adaptive_max_grads(n: Any, g: Tensor) -> Tensor:
    shape, flat_idx = n.attrs
    return _scatter_flat(g, shape, flat_idx.reshape(g._data.shape))  # (differentiable again when recorded)


AdaptiveMaxPool2DBackward0 = node_class("adaptive_max_pool2_d", _adaptive_max_grads, "grad scattered to the argmax")


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    x = input._data
    lead = x.shape[:-2]
    H, W = x.shape[-2:]
    os_ = _pair(output_size)
    oh = H if os_[0] is None else os_[0]
    ow = W if os_[1] is None else os_[1]
    x3 = x.reshape(-1, H, W)
    out = np.empty((x3.shape[0], oh, ow), x.dtype)
    idx = np.empty((x3.shape[0], oh, ow), np.int64)
    for i in range(oh):
        a, b = (i * H) // oh, -(-((i + 1) * H) // oh)
        for j in range(ow):
            c, d = (j * W) // ow, -(-((j + 1) * W) // ow)
            blk = x3[:, a:b, c:d].reshape(x3.shape[0], -1)
            am = blk.argmax(-1)
            out[:, i, j] = blk[np.arange(len(am)), am]
            r, cc = np.divmod(am, d - c)
            idx[:, i, j] = (r + a) * W + cc + c
    plane = (np.arange(x3.shape[0]) * H * W)[:, None, None]
    res = record(AdaptiveMaxPool2DBackward0, out.reshape(lead + (oh, ow)), (input,), attrs=(x.shape, idx + plane))
    if return_indices:
        return res, _new(idx.reshape(lead + (oh, ow)))
    return res


# ============================================================================ embedding
def _embedding_grads(n: Any, g: Tensor) -> Tensor:
    idx, num, padding_idx, scale = n.attrs
    if _grad_mode._state.enabled:  # create_graph: a scatter whose derivative is the row gather again
        return _embedding_scatter(g, n.attrs)
    D = g._data.shape[-1]
    flat = idx.ravel()
    gd = g._data.reshape(-1, D)
    if scale:
        counts = np.bincount(flat, minlength=num)
        gd = gd / counts[flat][:, None]
    out = _add_rows(num, flat, gd)
    if padding_idx is not None and padding_idx >= 0:
        out[padding_idx] = 0
    return _new(out)


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
def _norm_stats(x: np.ndarray, axes: tuple, eps: float) -> tuple:
    xf = x.astype(np.float64) if x.dtype == np.float16 else x
    mean = xf.mean(axis=axes, keepdims=True)
    xc = xf - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    return mean, var, rstd, (xc * rstd)


def _norm_input_grad(gxhat: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, axes: tuple) -> np.ndarray:
    m1 = gxhat.mean(axis=axes, keepdims=True)
    m2 = (gxhat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (gxhat - m1 - xhat * m2)


def _norm_grads_differentiable(n: Any, g: Tensor, axes: tuple, lead: tuple, cshape: Any, eps: float,
                               training: bool = True, rstd_np: Any = None, shift: Any = None) -> tuple:
    """Normalisation gradients written in ember ops (for ``create_graph=True``)."""
    x, w = n.saved[0], n.saved[1]
    wb = None if w is None else (w.reshape(cshape) if cshape is not None else w)
    if training:
        mu = x.mean(axes, keepdim=True)
        xc = x - mu
        rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        xc = x - _new(np.asarray(shift, x._data.dtype))
        rstd = _new(np.asarray(rstd_np, x._data.dtype))
    xhat = xc * rstd
    gx = gw = gb = None
    if n.needs[0]:
        gxhat = g * wb if wb is not None else g
        if training:
            gx = rstd * (gxhat - gxhat.mean(axes, keepdim=True) - xhat * (gxhat * xhat).mean(axes, keepdim=True))
        else:
            gx = gxhat * rstd
    if len(n.needs) > 1 and n.needs[1]:
        gw = (g * xhat).sum(lead)
    if len(n.needs) > 2 and n.needs[2]:
        gb = g.sum(lead)
    return gx, gw, gb


def _layer_norm_grads(n: Any, g: Tensor) -> tuple:
    xhat, rstd, axes, wshape = n.attrs[:4]
    if _grad_mode._state.enabled:
        return _norm_grads_differentiable(n, g, axes, tuple(range(g.dim() - len(wshape))), None, n.attrs[4])
    w = n.saved[1]
    gd = g._data
    gx = gw = gb = None
    lead = tuple(range(gd.ndim - len(wshape)))
    if n.needs[0]:
        gxhat = gd * w._data if w is not None else gd
        gx = _new(_norm_input_grad(gxhat, xhat, rstd, axes).astype(gd.dtype, copy=False))
    if len(n.needs) > 1 and n.needs[1]:
        gw = _new((gd * xhat).sum(axis=lead).astype(gd.dtype, copy=False))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(gd.sum(axis=lead).astype(gd.dtype, copy=False))
    return gx, gw, gb


NativeLayerNormBackward0 = node_class("native_layer_norm", _layer_norm_grads, "layer norm backward")


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    x = input._data
    if x.shape[x.ndim - len(ns):] != ns or len(ns) > x.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*, "
                           f"{', '.join(str(s) for s in ns)}], but got input of size{list(x.shape)}")
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
    return record(NativeLayerNormBackward0, out, (input, weight, bias), (input, weight),
                  attrs=(xhat, rstd, axes, ns, eps))


def _group_norm_grads_recorded(n: Any, g: Tensor) -> tuple:
    """create_graph: group norm recomputed in ember ops, and differentiated with a graph."""
    from ..autograd import grad as autograd_grad

    x, w = n.saved[0], n.saved[1]
    G, eps = n.attrs[2], n.attrs[3]
    N, C = x.shape[0], x.shape[1]
    xr = x.reshape(N, G, -1)
    xc = xr - xr.mean(2, keepdim=True)
    y = (xc * ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()).reshape(x.shape)
    cshape = (1, C) + (1,) * (x.dim() - 2)
    if w is not None:
        y = y * w.reshape(cshape)
    wanted = [t for t, need in zip((x, w), n.needs[:2]) if need and t is not None]
    got = iter(autograd_grad(y, wanted, g, create_graph=True, allow_unused=True) if wanted else ())
    gx = next(got) if n.needs[0] else None
    gw = next(got) if len(n.needs) > 1 and n.needs[1] and w is not None else None
    red = (0,) + tuple(range(2, x.dim()))
    gb = g.sum(red) if len(n.needs) > 2 and n.needs[2] else None
    return gx, gw, gb


def _group_norm_grads(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _group_norm_grads_recorded(n, g)
    xhat, rstd, G = n.attrs[:3]
    w = n.saved[1]
    gd = g._data
    N, C = gd.shape[:2]
    cshape = (1, C) + (1,) * (gd.ndim - 2)
    gx = gw = gb = None
    red = (0,) + tuple(range(2, gd.ndim))
    if n.needs[0]:
        gxhat = gd * w._data.reshape(cshape) if w is not None else gd
        gg = gxhat.reshape(N, G, -1)
        gx = _new(_norm_input_grad(gg, xhat.reshape(N, G, -1), rstd, (2,)).reshape(gd.shape).astype(gd.dtype, copy=False))
    if len(n.needs) > 1 and n.needs[1]:
        gw = _new((gd * xhat).sum(axis=red).astype(gd.dtype, copy=False))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(gd.sum(axis=red).astype(gd.dtype, copy=False))
    return gx, gw, gb


NativeGroupNormBackward0 = node_class("native_group_norm", _group_norm_grads, "group norm backward")


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    x = input._data
    N, C = x.shape[:2]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {input.shape} and num_groups={num_groups}")
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


def _batch_norm_grads(n: Any, g: Tensor) -> tuple:
    xhat, rstd, training, cshape = n.attrs[:4]
    if _grad_mode._state.enabled:
        red = (0,) + tuple(range(2, g.dim()))
        return _norm_grads_differentiable(n, g, red, red, cshape, n.attrs[4], training, rstd, n.attrs[5])
    w = n.saved[1]
    gd = g._data
    red = (0,) + tuple(range(2, gd.ndim))
    gx = gw = gb = None
    if n.needs[0]:
        gxhat = gd * w._data.reshape(cshape) if w is not None else gd
        if training:
            gx = _norm_input_grad(gxhat, xhat, rstd, red)
        else:
            gx = gxhat * rstd
        gx = _new(gx.astype(gd.dtype, copy=False))
    if len(n.needs) > 1 and n.needs[1]:
        gw = _new((gd * xhat).sum(axis=red).astype(gd.dtype, copy=False))
    if len(n.needs) > 2 and n.needs[2]:
        gb = _new(gd.sum(axis=red).astype(gd.dtype, copy=False))
    return gx, gw, gb


NativeBatchNormBackward0 = node_class("native_batch_norm", _batch_norm_grads, "batch norm backward")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {x.ndim}D input)")
    C = x.shape[1]
    cshape = (1, C) + (1,) * (x.ndim - 2)
    red = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // C
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        mean, var, rstd, xhat = _norm_stats(x, red, eps)
        if running_mean is not None:
            rm = running_mean._data
            rm *= (1 - momentum)
            rm += momentum * mean.reshape(C).astype(rm.dtype)
            running_mean._vc[0] += 1
        if running_var is not None:
            rv = running_var._data
            rv *= (1 - momentum)
            rv += momentum * (var.reshape(C) * count / (count - 1)).astype(rv.dtype)
            running_var._vc[0] += 1
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        rstd = (1.0 / np.sqrt(running_var._data + eps)).reshape(cshape).astype(x.dtype)
        xhat = (x - running_mean._data.reshape(cshape)) * rstd
    out = xhat
    if weight is not None:
        out = out * weight._data.reshape(cshape)
    if bias is not None:
        out = out + bias._data.reshape(cshape)
    shift = None if training else running_mean._data.reshape(cshape).copy()
    return record(NativeBatchNormBackward0, out.astype(x.dtype), (input, weight, bias), (input, weight),
                  attrs=(xhat, rstd, training, cshape, eps, shift))


# ============================================================================ padding
def _pad_grads(n: Any, g: Tensor) -> Tensor:
    # the pad read each output element from flat position idx of its plane: sum the grads back
    # there (recorded under create_graph, where its derivative reads the same positions again)
    idx, shape = n.attrs
    lead = int(np.prod(shape[: len(shape) - idx.ndim]))
    inner = int(np.prod(shape[len(shape) - idx.ndim:]))
    flat = (np.arange(lead)[:, None] * inner + idx.ravel()[None, :]).reshape(g._data.shape)
    return _scatter_flat(g, shape, flat)


_PAD_NODES = {
    "reflect": node_class("reflection_pad2d", _pad_grads, "grad folded back onto the reflected elements"),
    "replicate": node_class("replication_pad2d", _pad_grads, "grad folded back onto the edge elements"),
    "circular": node_class("circular_pad2d", _pad_grads, "grad folded back onto the wrapped elements"),
}
def _const_pad_grad(n: Any, g: Tensor) -> Tensor:
    crop, src, shape = n.attrs
    if _grad_mode._state.enabled:  # create_graph: the crop as a differentiable slice (re-padded where cut)
        out = g[crop]
        widths = []
        for sl, size in zip(reversed(src), reversed(shape)):
            widths += [sl.start, size - sl.stop]
        return pad(out, widths) if any(widths) else out
    out = np.zeros(shape, g._data.dtype)
    out[src] = g._data[crop]
    return _new(out)


ConstantPadNdBackward0 = node_class("constant_pad_nd", _const_pad_grad, "grad cropped to self")


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    pad = tuple(pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    x = input._data
    k = len(pad) // 2
    if k > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]) for i in range(k)]
    if mode == "constant":
        crop = []
        src = []
        for (a, b), s in zip(widths, x.shape):
            src.append(slice(max(-a, 0), s - max(-b, 0)))
            crop.append(slice(max(a, 0), max(a, 0) + s - max(-a, 0) - max(-b, 0)))
        xs = x[tuple(src)]
        out = np.pad(xs, [(max(a, 0), max(b, 0)) for a, b in widths], constant_values=0 if value is None else value)
        return record(ConstantPadNdBackward0, out, (input,), attrs=(tuple(crop), tuple(src), x.shape))
    if value is not None and value != 0:
        raise NotImplementedError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    npmode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if npmode is None:
        raise NotImplementedError(f"Unsupported padding mode: {mode}")
    inner_shape = x.shape[x.ndim - k:]
    if mode == "reflect":
        for (a, b), s in zip(widths[x.ndim - k:], inner_shape):
            if a >= s or b >= s:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({a}, {b}) at dimension {x.ndim - 1} of input {list(x.shape)}")
    idx = np.arange(int(np.prod(inner_shape))).reshape(inner_shape)
    idx = np.pad(idx, widths[x.ndim - k:], mode=npmode)
    lead = x.shape[: x.ndim - k]
    out = x.reshape(lead + (-1,))[..., idx.ravel()].reshape(lead + idx.shape)
    return record(_PAD_NODES[mode], np.ascontiguousarray(out), (input,), attrs=(idx, x.shape))


# ============================================================================ losses with nodes of their own
def _smooth_l1_grads_recorded(n: Any, g: Tensor) -> tuple:
    """The same gradient in ember ops, for create_graph (its second derivative is 1/beta, or 1 for
    huber, inside the quadratic zone)."""
    beta, reduction, huber = n.attrs
    d = n.saved[0] - n.saved[1]
    if huber:
        dd = d.clamp(-beta, beta)
    elif beta == 0:
        dd = d.sign()
    else:
        dd = _where(d.abs() < beta, d / beta, d.sign())
    if reduction == "mean":
        dd = dd / d.numel()
    gg = g * dd
    return (gg if n.needs[0] else None, -gg if n.needs[1] else None)


def _smooth_l1_grads(n: Any, g: Tensor) -> tuple:
    if _grad_mode._state.enabled:
        return _smooth_l1_grads_recorded(n, g)
    x, t = n.saved[0]._data, n.saved[1]._data
    beta, reduction, huber = n.attrs
    d = x - t
    if huber:
        dd = np.clip(d, -beta, beta)
    elif beta == 0:
        dd = np.sign(d)
    else:
        dd = where_np(np.abs(d) < beta, d / beta, np.sign(d))
    dd = dd.astype(x.dtype)
    if reduction == "mean":
        dd = dd / d.size
    gg = g * _const(dd)
    return (gg if n.needs[0] else None, -gg if n.needs[1] else None)


SmoothL1LossBackward0 = node_class("smooth_l1_loss", _smooth_l1_grads, "grad * clamp((self - target) / beta, -1, 1)")
HuberLossBackward0 = node_class("huber_loss", _smooth_l1_grads, "grad * clamp(self - target, -delta, delta)")


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return np.asarray(loss.mean(), loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), loss.dtype)
    return loss


def smooth_l1(input: Tensor, target: Tensor, reduction: str, beta: float, huber: bool) -> Tensor:
    x, t = np.broadcast_arrays(input._data, target._data)
    d = np.abs(x - t)
    if huber:
        loss = where_np(d < beta, 0.5 * d * d, beta * (d - 0.5 * beta))
    elif beta == 0:
        loss = d
    else:
        loss = where_np(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    loss = loss.astype(x.dtype)
    cls = HuberLossBackward0 if huber else SmoothL1LossBackward0
    return record(cls, _reduce(loss, reduction), (input, target), (input, target), attrs=(beta, reduction, huber))


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

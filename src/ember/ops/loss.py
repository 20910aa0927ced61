"""Loss ops that torch records as nodes of their own (MseLossBackward0, NllLossBackward0, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype
from .._autocast import autocast_op
from .._tensor import Tensor
from . import _grad_math as gm
from ._core import check_broadcast, node_class, record, result_dtype
from ._strides import iterated

_REDUCTIONS = ("none", "mean", "sum")


def reduction_enum(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce_np(loss: np.ndarray, reduction: str) -> np.ndarray:
    # (bfloat16 losses accumulate in float32 and round once, as torch's do)
    acc = np.float32 if _dtype.is_bfloat16(loss.dtype) else None
    if reduction == "mean":
        return np.asarray(loss.mean(dtype=acc) if loss.size else np.nan).astype(loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(dtype=acc)).astype(loss.dtype)
    return loss


def _reduced_grad(g: Tensor, n_elems: int, reduction: str) -> Tensor:
    # the gradient arriving at a reduced loss, per element
    return g / n_elems if reduction == "mean" else g


# --------------------------------------------------------------------------- mse
MseLossBackward0 = node_class(
    "mse_loss", lambda n, g: _mse_grads(n, g), "grad * 2 * (self - target) [/ numel], and its negative", layout="iterated")


def _mse_grads(n: Any, g: Tensor) -> tuple:
    x, t = n.saved
    diff = x - t
    r = _reduced_grad(g, diff.numel(), n.attrs) * 2  # (the mean is over the broadcast shape)
    # (the target's is r * (target - self), a product of its own as torch's, whose two backward formulas are
    # differentiated apart: -(r * diff) would sum their incoming gradients first, +-inf where torch has inf - inf)
    return (r * diff if n.needs[0] else None, r * (t - x) if n.needs[1] else None)


@autocast_op("fp32")
def mse_loss(input: Tensor, target: Tensor, reduction: str) -> Tensor:
    check_broadcast(input._data.shape, target._data.shape)
    rt = result_dtype(input, target).np
    if rt.kind in "biu":  # (torch's kernel takes floating types only)
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_dtype.LEGACY_NAMES[rt.name]}'")
    # (in the promoted type, torch's: NumPy would promote int64 with float32 to float64)
    x, t = np.broadcast_arrays(input._data.astype(rt, copy=False), target._data.astype(rt, copy=False))
    d = x - t
    return record(MseLossBackward0, _reduce_np(d * d, reduction), (input, target), (input, target),
                  attrs=reduction)


# --------------------------------------------------------------------------- binary cross entropy
BinaryCrossEntropyBackward0 = node_class(
    "binary_cross_entropy", lambda n, g: _bce_grads(n, g),
    "grad * weight * (self - target) / max(self * (1 - self), 1e-12)", layout="preserved")


def _bce_grads(n: Any, g: Tensor) -> tuple:
    x, t, w = n.saved
    red = n.attrs
    gg = _reduced_grad(g, x.numel(), red)
    gx = gt = None
    if n.needs[0]:
        gx = gg * (x - t) / (x * (1 - x)).clamp(min=1e-12)
        if w is not None:
            gx = gx * w
    if n.needs[1]:
        gt = gg * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        if w is not None:
            gt = gt * w
    return gx, gt


def _float_kernel(x: np.ndarray, kernel: str) -> None:
    if x.dtype.kind not in "fc" and not _dtype.is_bfloat16(x.dtype):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.LEGACY_NAMES[_dtype._FROM_NP[x.dtype].name]}'")


@autocast_op("fp32")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    x, t = input._data, target._data
    _float_kernel(x, "binary_cross_entropy")
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if np.any((t < 0) | (t > 1)):
        raise RuntimeError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore"):
        # torch clamps each log at -100 so that 0 * log(0) stays finite
        loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    return record(BinaryCrossEntropyBackward0, _reduce_np(loss, reduction), (input, target),
                  (input, target, weight), attrs=reduction)


BinaryCrossEntropyWithLogitsBackward0 = node_class(
    "binary_cross_entropy_with_logits", lambda n, g: _bcel_grads(n, g),
    "grad * weight * (sigmoid(self) - target) (with pos_weight: ((pw*t + 1 - t) * sigmoid(self) - pw*t))")


def _bcel_grads(n: Any, g: Tensor) -> tuple:
    x, t, w, pw = n.saved
    gg = _reduced_grad(g, x.numel(), n.attrs)
    gx = gt = None
    if n.needs[0]:
        s = x.sigmoid()
        gx = gg * ((pw * t + 1 - t) * s - pw * t if pw is not None else s - t)
        if w is not None:
            gx = gx * w
    if n.needs[1]:
        # d/dt of -(pw*t*log sigmoid(x) + (1-t)*log sigmoid(-x))
        if pw is None:
            gt = gg * -x
        else:
            from .activation import log_sigmoid as logsigmoid

            gt = -gg * (pw * logsigmoid(x) - logsigmoid(-x))
        if w is not None:
            gt = gt * w
    return gx, gt


@autocast_op("fp32")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None,
                                     pos_weight: Tensor | None, reduction: str) -> Tensor:
    x, t = input._data, target._data
    _float_kernel(x, "log_sigmoid_cpu")
    if t.dtype.kind in "biu":  # (torch writes the loss in the target's type)
        raise RuntimeError(f"result type {_dtype.LEGACY_NAMES[input.dtype.name]} can't be cast to the desired output "
                           f"type {_dtype.LEGACY_NAMES[target.dtype.name]}")
    # log(1 + exp(-|x|)) + max(-x, 0) is log(1 + exp(-x)) without overflow
    log_sig_neg = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)  # = -log sigmoid(x)
    if pos_weight is not None:
        lw = 1 + (pos_weight._data - 1) * t
        loss = (1 - t) * x + lw * log_sig_neg
    else:
        loss = (1 - t) * x + log_sig_neg
    if weight is not None:
        loss = loss * weight._data
    # (laid out as torch's (1 - target).mul_(input)...: by the target's strides)
    loss = iterated(np.asarray(loss).astype(x.dtype, copy=False), t)
    return record(BinaryCrossEntropyWithLogitsBackward0, _reduce_np(loss, reduction), (input, target),
                  (input, target, weight, pos_weight), attrs=reduction)


# --------------------------------------------------------------------------- nll
def _nll_grad(n: Any, g: Any) -> Any:
    # attrs[0]: the constant -weight[target] / total_weight laid out like the input (an array), so
    # the gradient is linear in grad (and differentiable again under create_graph)
    coef, reduction = n.attrs
    if reduction == "none" and g.ndim > 0:
        g = g[:, None]
    if not np.isfinite(g._data if isinstance(g, Tensor) else g).all():
        # torch writes the gradient at the counted targets only: a NaN or inf grad leaves 0 elsewhere
        return gm.also_reads(gm.select(g, coef != 0, gm.const(coef, g)), n.saved[0])
    return gm.also_reads(g * gm.const(coef, g), n.saved[0])  # (torch's nll_loss_backward takes self)


NllLossBackward0 = node_class("nll_loss", _nll_grad, "-grad * weight[target] [/ total weight] at the target class",
                              on_arrays=True)
NllLoss2DBackward0 = node_class("NllLoss2D", _nll_grad, "-grad * weight[target] [/ total weight] at the target class",
                                on_arrays=True)


_F32_64 = (np.dtype(np.float32), np.dtype(np.float64))


_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))


def _nll_common_case(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                     reduction: str) -> Tensor | None:
    """A classifier's loss: (N, C) scores, N valid class indices, no weights. None for anything
    else (including every error case), which the general path below handles."""
    x, t = input._data, target._data
    if weight is not None or x.ndim != 2 or t.ndim != 1 or t.dtype not in _TARGET_DTYPES or x.dtype not in _F32_64:
        return None
    N, C = x.shape
    if N == 0 or t.shape[0] != N or t.min() < 0 or t.max() >= C or (0 <= ignore_index < C and (t == ignore_index).any()):
        return None
    out, coef = nll_rows(x, t, reduction)
    return record(NllLossBackward0, out, (input,), (input, target), attrs=(coef, reduction))


def nll_rows(x: np.ndarray, t: np.ndarray, reduction: str) -> tuple:
    """nll_loss of (N, C) scores at N valid class indices without weights: the loss array and the
    coefficients its backward keeps (``ember.compile``'s replay calls it too)."""
    N = x.shape[0]
    rows = np.arange(N)
    picked = x[rows, t]
    one = x.dtype.type(1)
    if reduction == "mean":  # the same arithmetic as the general path with unit weights
        out, scale = np.asarray(-picked.sum() / x.dtype.type(N), x.dtype), one / x.dtype.type(N)
    elif reduction == "sum":
        out, scale = np.asarray(-picked.sum(), x.dtype), one
    else:
        out, scale = -picked, one
    coef = np.zeros_like(x)
    coef[rows, t] = -scale
    return out, coef


def _check_nll_target(x: np.ndarray, t: np.ndarray) -> None:
    """torch's checks of class-index targets, in torch's order: dimensions, batch size, shape, dtype."""
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim == 1:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if t.ndim == 1 and t.size != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t.size}")
    else:
        nt = t.shape[0] if t.ndim else 0
        if x.shape[0] != nt:
            raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({nt}).")
        if x.ndim == 2 and t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.ndim == 4 and t.ndim != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {t.ndim}")
        if t.shape != x.shape[:1] + x.shape[2:]:
            raise RuntimeError(f"Expected target size {list(x.shape[:1] + x.shape[2:])}, got {list(t.shape)}")
    if t.dtype not in _TARGET_DTYPES:  # torch takes Long or Byte class indices only
        from .. import _dtype
        from .reduction import _LEGACY_NAMES

        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_LEGACY_NAMES[_dtype._FROM_NP[t.dtype].name]}")


@autocast_op("fp32")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """Negative log-likelihood of class indices: input (N, C), (C,) or (N, C, d1, ...) log-probabilities."""
    x, t = input._data, target._data
    fast = _nll_common_case(input, target, weight, ignore_index, reduction)
    if fast is not None:
        return fast
    _check_nll_target(x, t)
    if x.dtype.kind not in "fc" and not _dtype.is_bfloat16(x.dtype):
        kernel = "nll_loss2d_forward_out_frame" if x.ndim > 2 else "nll_loss_out_frame"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.LEGACY_NAMES[input.dtype.name]}'")
    if x.ndim == 3 and x.shape[1] == 0 and t.size:  # (torch views a 3-d input as 4-d, which no class dim can fill)
        raise RuntimeError(f"size mismatch (got input: [{x.shape[0]}, 0, 0, 0] , target: [{t.shape[0]}, 1, {t.shape[1]}]")
    if x.ndim == 1:
        xs, ts = x[None, :], t.reshape(1)
    else:
        # move the class dim last and flatten everything else into the batch
        xs = np.moveaxis(x, 1, -1).reshape(t.size if t.ndim else 1, x.shape[1])  # (-1 fails for 0 classes)
        ts = t.reshape(-1)
    C = xs.shape[1]
    valid = ts != ignore_index
    bad = valid & ((ts < 0) | (ts >= C))
    if bad.any():
        raise IndexError(f"Target {int(ts[bad][0])} is out of bounds.")
    safe_t = np.where(valid, ts, 0)
    if weight is not None and weight._data.shape != (C,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got weight tensor "
            f"of shape: {list(weight._data.shape)}")
    w = weight._data[safe_t] if weight is not None else np.ones(len(ts), xs.dtype)
    w = (w * valid).astype(xs.dtype)
    rows = np.arange(len(ts))
    # an ignored target's loss is 0 whatever its score (torch never reads it: not -0., not NaN)
    losses = np.where(valid, -(xs[rows, safe_t] if C else 0) * w, xs.dtype.type(0)).astype(xs.dtype, copy=False)
    if reduction == "none":
        out, scale = losses.reshape(t.shape if x.ndim > 1 else ()), w  # 1-D input: one 0-d loss
    elif reduction == "sum":
        out, scale = np.asarray(losses.sum(), xs.dtype), w
    else:
        total = w.sum()
        out = np.asarray(losses.sum() / total, xs.dtype)
        scale = w / total
    coef = np.zeros_like(xs)
    # only the counted targets get a gradient (with every target ignored the mean is 0/0 = NaN,
    # but torch's gradient stays 0: the ignored rows are never written)
    coef[rows[valid], safe_t[valid]] = -scale[valid]
    if x.ndim > 2:
        coef = np.moveaxis(coef.reshape(x.shape[:1] + x.shape[2:] + (C,)), -1, 1)
    coef = np.ascontiguousarray(coef.reshape(x.shape))
    cls = NllLoss2DBackward0 if x.ndim >= 3 else NllLossBackward0
    # (target and weight saved as torch saves them: an in-place change before backward raises)
    return record(cls, out, (input,), (input, target, weight), attrs=(coef, reduction))

"""ember.nn.functional: activations, layers, losses and utilities as functions (torch.nn.functional)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._autocast import autocast_op
from .._tensor import Tensor, _new
from ..ops import loss as _loss
from ..ops import pointwise as _pw
from ..ops import reduction as _red
from ..ops._core import node_class, record
from ..ops.activation import softplus  # noqa: F401
from ..ops.convolution import conv3d, conv_transpose1d, conv_transpose3d  # noqa: F401
from ..ops.fold import fold, unfold  # noqa: F401
from ..ops.indexing import where as _where
from ..ops.pooling import (  # noqa: F401
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool3d,
    avg_pool3d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from . import _ops
from ._attention import scaled_dot_product_attention  # noqa: F401
from ._channel_shuffle import channel_shuffle  # noqa: F401
from ._distance import (  # noqa: F401
    NormBackward1,
    _vector_norm,
    cosine_similarity,
    normalize,
    pairwise_distance,
    pdist,
)
from ._dropout import (  # noqa: F401
    alpha_dropout,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
)
from ._embedding_bag import embedding_bag  # noqa: F401
from ._grid_sample import affine_grid, grid_sample  # noqa: F401
from ._gumbel import gumbel_softmax  # noqa: F401
from ._interpolation import (  # noqa: F401
    UpsampleNearest2DBackward0,
    interpolate,
    upsample_bilinear,
    upsample_nearest,
)
from ._lp_pool import lp_pool1d, lp_pool2d, lp_pool3d  # noqa: F401
from ._ops import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    batch_norm,
    conv1d,
    conv2d,
    conv_transpose2d,
    embedding,
    group_norm,
    layer_norm,
    linear,
    max_pool1d,
    max_pool2d,
    one_hot,
    pad,
    prelu,
)
from ._pool_indices import (  # noqa: F401
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d_with_indices,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    max_pool3d_with_indices,
)
from ._reduction import _legacy_reduction, _red_arg  # noqa: F401  (F._legacy_reduction: the loss modules)
from ._rms_norm import rms_norm  # noqa: F401
from .margin_losses import (  # noqa: F401
    multi_margin_loss,
    multilabel_margin_loss,
    triplet_margin_with_distance_loss,
)

sigmoid = _pw.sigmoid
tanh = _pw.tanh


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else _pw.relu(input)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim``."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim())
    return _red.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim())
    return _red.log_softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("softmin", input.dim())
    return _red.softmax(-input, dim, dtype)


def _check_same_size(input: Tensor, target: Tensor, name: str) -> None:
    if input.shape != target.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error: mean((input - target)^2) (or 'sum' / 'none')."""
    _check_same_size(input, target, "mse_loss")
    reduction = _loss.reduction_enum(_legacy_reduction(size_average, reduce, reduction))
    return _loss.mse_loss(input, target, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-mean(w * (t log(x) + (1 - t) log(1 - x))) over probabilities ``input``; logs clamped at -100."""
    reduction = _loss.reduction_enum(_legacy_reduction(size_average, reduce, reduction))
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size.")
    if target.dtype != input.dtype:
        names = _red._LEGACY_NAMES
        raise RuntimeError(f"Found dtype {names[target.dtype.name]} but expected {names[input.dtype.name]}")
    if weight is not None:
        weight = weight.expand(input.shape) if weight.shape != input.shape else weight
    return _loss.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid plus binary cross-entropy in one numerically stable step."""
    reduction = _loss.reduction_enum(_legacy_reduction(size_average, reduce, reduction))
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return _loss.binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[n, target[n]] (weighted), averaged over non-ignored targets."""
    reduction = _loss.reduction_enum(_legacy_reduction(size_average, reduce, reduction))
    return _loss.nll_loss(input, target, weight, ignore_index, reduction)


@autocast_op("fp32")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim followed by nll_loss (class indices) or a soft-target sum."""
    reduction = _loss.reduction_enum(_legacy_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    if target.shape == input.shape:  # (torch takes equal shapes as class probabilities, before anything else)
        if not target.is_floating_point():
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{_red._LEGACY_NAMES[target.dtype.name]}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
    logp = _red.log_softmax(input, class_dim)
    if target.shape == input.shape:
        # class probabilities (a float target of another shape is taken as class indices, as torch does,
        # and refused there by its dtype or shape)
        C = input.shape[class_dim]
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + (label_smoothing / C if C else math.inf)
        per = logp * target
        if weight is not None:
            shape = [1] * input.dim()
            shape[class_dim] = C
            per = per * weight.reshape(shape)
        loss = -per.sum(class_dim)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        n = input.numel() // C if C else 0  # (no classes: 0 / 0, NaN, as torch)
        return loss.sum() / n
    nll = _loss.nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing <= 0:
        return nll
    C = input.shape[class_dim]
    smooth = -logp
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = C
        smooth = smooth * weight.reshape(shape)
    smooth = smooth.sum(class_dim)
    mask = target != ignore_index
    from ..ops.indexing import where

    smooth = where(mask, smooth, 0.0)
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        if weight is not None:
            w = weight._data[np.where(mask._data, target._data, 0)] * mask._data
            smooth = smooth.sum() / float(w.sum())
        else:
            smooth = smooth.sum() / float(mask._data.sum())
    # (no classes: torch's float division, ls / 0 = inf, makes an empty batch's sum NaN)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / C if C else math.inf)


# ============================================================================ activations
def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def _maybe_inplace(fn: Any, input: Tensor, inplace: bool, *args: Any) -> Tensor:
    if not inplace:
        return fn(input, *args)
    from ..ops.inplace import apply_inplace

    return apply_inplace(input, fn, *args)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.leaky_relu, input, inplace, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.elu, input, inplace, alpha, 1.0, 1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.elu, input, inplace, _ops._SELU_ALPHA, _ops._SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.elu, input, inplace, alpha, 1.0, 1.0 / alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _ops.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.silu, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.mish, input, inplace)


def softsign(input: Tensor) -> Tensor:
    return input / (input.abs() + 1)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(_ops.hardtanh, input, inplace, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.hardsigmoid, input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.hardswish, input, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_ops.threshold, input, inplace, threshold, value)


def tanhshrink(input: Tensor) -> Tensor:
    return input - input.tanh()


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return _ops.softshrink(input, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return _ops.hardshrink(input, lambd)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input._data.dtype.kind in "biu":
        raise NotImplementedError(f'"glu_cpu" not implemented for \'{_red._LEGACY_NAMES[input._data.dtype.name]}\'')
    d = dim % input.dim()
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    h = input.shape[d] // 2
    a, b = input.narrow(d, 0, h), input.narrow(d, h, h)  # (chunk(2) of an empty dim gives one piece)
    return a * b.sigmoid()


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) without overflow."""
    return _ops.log_sigmoid(input)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    if training:
        raise NotImplementedError("rrelu in training mode is not supported by ember")
    if not inplace:  # (torch's evaluation-mode result is contiguous)
        input = input.contiguous()
    return leaky_relu(input, (lower + upper) / 2, inplace)


# ============================================================================ sparse / utility
def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Each (sample, channel) normalised over its own spatial elements: batch norm of the input
    viewed as one sample of N*C channels, as torch computes it (hence its ViewBackward0)."""
    shape = tuple(input.shape)
    if use_input_stats and int(np.prod(shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    N, C = shape[0], shape[1]
    x = input.reshape((1, N * C) + shape[2:])
    w = weight.repeat(N) if weight is not None else None
    b = bias.repeat(N) if bias is not None else None
    rm = running_mean.repeat(N) if running_mean is not None else None
    rv = running_var.repeat(N) if running_var is not None else None
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        from ..autograd import no_grad

        with no_grad():  # each running statistic: the mean over the batch of its per-sample updates
            if running_mean is not None:
                running_mean.copy_(rm.reshape(N, C).mean(0))
            if running_var is not None:
                running_var.copy_(rv.reshape(N, C).mean(0))
    return out.view(shape)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Each channel divided by (k + alpha/size * sum of squares over a window of ``size`` neighbouring
    channels)^beta; the window is centred, cut off at the edges (zeros beyond)."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {input.dim()} "
                         "dimensions)")
    C = input.shape[1]
    sq = input * input
    lo, hi = size // 2, (size - 1) // 2
    pads = [0, 0] * (input.dim() - 2) + [lo, hi]
    padded = pad(sq, pads)  # zeros before and after along the channel dim
    total = padded.narrow(1, 0, C)
    for j in range(1, size):
        total = total + padded.narrow(1, j, C)
    return input / (total * (alpha / size) + k) ** beta


def _shuffle_np(x: np.ndarray, r: int) -> np.ndarray:
    *lead, C, H, W = x.shape
    c = C // (r * r)
    y = x.reshape(tuple(lead) + (c, r, r, H, W))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return np.ascontiguousarray(y).reshape(tuple(lead) + (c, H * r, W * r))


def _unshuffle_np(x: np.ndarray, r: int) -> np.ndarray:
    *lead, C, H, W = x.shape
    y = x.reshape(tuple(lead) + (C, H // r, r, W // r, r))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return np.ascontiguousarray(y).reshape(tuple(lead) + (C * r * r, H // r, W // r))


PixelShuffleBackward0 = node_class("pixel_shuffle", lambda n, g: pixel_unshuffle(g, n.attrs),
                                   "grad pixel-unshuffled")
PixelUnshuffleBackward0 = node_class("pixel_unshuffle", lambda n, g: pixel_shuffle(g, n.attrs),
                                     "grad pixel-shuffled")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r): channel blocks spread into r x r pixel blocks."""
    x, r = input._data, int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {x.ndim} "
                           "dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    if x.shape[-3] % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={x.shape[-3]} is not divisible by {r * r}")
    return record(PixelShuffleBackward0, _shuffle_np(x, r), (input,), attrs=r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W): the inverse of pixel_shuffle."""
    x, r = input._data, int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {x.ndim} "
                           "dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    if x.shape[-2] % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{x.shape[-2]} is not divisible by {r}")
    if x.shape[-1] % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{x.shape[-1]} is not divisible by {r}")
    return record(PixelUnshuffleBackward0, _unshuffle_np(x, r), (input,), attrs=r)


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


# ============================================================================ more losses
def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")


@autocast_op("fp32")
def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """mean(|input - target|) (or 'sum' / 'none')."""
    _check_same_size(input, target, "l1_loss")
    reduction = _red_arg(size_average, reduce, reduction)
    return _reduce((input - target).abs(), reduction)


@autocast_op("fp32")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    _check_same_size(input, target, "smooth_l1_loss")
    reduction = _red_arg(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _ops.smooth_l1(input, target, reduction, beta, False)


@autocast_op("fp32")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    _check_same_size(input, target, "huber_loss")
    _red_arg(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _ops.smooth_l1(input, target, reduction, delta, True)


@autocast_op("fp32")
def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input  # (torch's: 0 / 0 in xlogy's gradient where target is 0)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() != 0 else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target._data
        with np.errstate(divide="ignore", invalid="ignore"):
            st = t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t)
        st = np.where(t > 1, st, 0).astype(t.dtype)
        loss = loss + _new(st)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    if not isinstance(var, Tensor):
        var = _new(np.full(input.shape, var, input._data.dtype))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if np.any(var._data < 0):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    np.maximum(var._data, eps, out=var._data)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    out_margin = _where(target != 1, (margin - input).clamp_min(0), 0.0)
    out_self = _where(target != -1, input, 0.0)
    return _reduce(out_margin + out_self, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    return _reduce(softplus(-input * target), reduction)  # (torch's order of operands, which sets the layout)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    EPS = 1e-12
    d = input1.dim() - 1
    prod = (input1 * input2).sum(d)
    m1 = (input1 * input1).sum(d) + EPS
    m2 = (input2 * input2).sum(d) + EPS
    cos = prod / (m1 * m2).sqrt()
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    out = _where(target == 1, pos, 0.0) + _where(target == -1, neg, 0.0)
    return _reduce(out, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    d_ap = pairwise_distance(anchor, positive, p, eps)
    d_an = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_pn = pairwise_distance(positive, negative, p, eps)
        d_an = _pw.minimum(d_an, d_pn)
    return _reduce((d_ap - d_an + margin).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    reduction = _red_arg(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.dim() - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss: -log p(target | log_probs), by alpha-beta recursion."""
    return _ops.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    O, I1, I2 = weight.shape
    lead = tuple(input1.shape[:-1])
    for d, (a, b) in enumerate(zip(lead, tuple(input2.shape[:-1]))):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got {a} and {b}")
    x1 = input1.reshape(-1, I1)
    x2 = input2.reshape(-1, I2)
    z = x1.matmul(weight.permute(1, 0, 2).reshape(I1, O * I2)).reshape(-1, O, I2)
    out = (z * x2.unsqueeze(1)).sum(-1).reshape(lead + (O,))
    return out + bias if bias is not None else out  # (torch's grad_fn: AddBackward0, or ViewBackward0)


# the in-place spellings of the activations
def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return celu(input, alpha, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return globals()["threshold"](input, threshold, value, inplace=True)


from ..ops._numpy_names import install as _install_numpy_names  # noqa: E402

# the two functions here that torch implements natively take axis= / keepdims= (F.softmax does not)
_install_numpy_names(globals(), names=("cosine_similarity", "pairwise_distance"))

from ..ops import _vmap_hook  # noqa: E402  (ember.func.vmap sees F.linear, F.conv2d ... calls)

_vmap_hook.install([globals()], [n for n, v in list(globals().items()) if not n.startswith("_") and callable(v)
                                 and n not in ("node_class", "record", "autocast_op")])

"""torch's top-level spellings of ``nn.functional`` calls: ``torch.conv2d``, ``torch.dropout``,
``torch.layer_norm``, ``torch.cosine_similarity`` ... Each calls the ``ember.nn.functional`` function
that does the work, translating torch's native argument order (``torch.embedding(weight, indices)``,
``torch.batch_norm(input, weight, bias, running_mean, ...)``) and integer reductions (0 none, 1 mean,
2 sum). ``ember.nn`` is imported on first call, so ``import ember`` stays fast."""

from __future__ import annotations

from typing import Any

from ._tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _F() -> Any:
    from .nn import functional

    return functional


def _reduction(reduction: int) -> str:
    return _REDUCTIONS[reduction] if isinstance(reduction, int) else reduction


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """A 1-d convolution over (N, C, L) input: ``ember.nn.functional.conv1d``."""
    return _F().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """A 2-d convolution over (N, C, H, W) input: ``ember.nn.functional.conv2d``."""
    return _F().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """A 3-d convolution over (N, C, D, H, W) input: ``ember.nn.functional.conv3d``."""
    return _F().conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """A 1-d transposed convolution: ``ember.nn.functional.conv_transpose1d``."""
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """A 2-d transposed convolution: ``ember.nn.functional.conv_transpose2d``."""
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """A 3-d transposed convolution: ``ember.nn.functional.conv_transpose3d``."""
    return _F().conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups, dilation)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
                transposed: bool, output_padding: Any, groups: int) -> Tensor:
    """The general convolution: 1-, 2- or 3-d by ``weight``'s rank, transposed or not."""
    n = weight.dim() - 2
    if n not in (1, 2, 3):
        raise RuntimeError("weight should have at least three dimensions" if n < 1 else
                           f"ember does not implement torch.convolution for {weight.dim()}-d weights")
    F = _F()
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (F.conv1d, F.conv2d, F.conv3d)[n - 1](input, weight, bias, stride, padding, dilation, groups)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Zeroes elements with probability ``p`` and scales the rest by 1/(1-p) when ``train``."""
    return _F().dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place ``dropout``."""
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Dropout that keeps SELU's self-normalising mean and variance: ``ember.nn.functional.alpha_dropout``."""
    return _F().alpha_dropout(input, p, train)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Zeroes whole channels of (N, C, ...) input with probability ``p`` (as ``dropout1d/2d/3d``)."""
    F = _F()
    fns = {3: F.dropout1d, 4: F.dropout2d, 5: F.dropout3d}
    if input.dim() not in fns:
        raise NotImplementedError(f"ember does not implement torch.feature_dropout for {input.dim()}-d input")
    return fns[input.dim()](input, p, train)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
               running_var: Tensor | None, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool = True) -> Tensor:
    """Batch normalisation in torch's native argument order (weight and bias before the running stats)."""
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                  running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool = True) -> Tensor:
    """Instance normalisation in torch's native argument order."""
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
    """Layer normalisation over the last ``len(normalized_shape)`` dimensions."""
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` dimensions."""
    return _F().rms_norm(input, normalized_shape, weight, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
    """Group normalisation of (N, C, ...) input over ``num_groups`` groups of channels."""
    return _F().group_norm(input, num_groups, weight, bias, eps)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by ``indices`` (note the order: weight first; padding_idx -1 means none)."""
    return _F().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def kl_div(input: Tensor, target: Tensor, reduction: Any = 0, *, log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence loss; ``reduction`` as torch's native int (0 none, 1 mean, 2 sum)."""
    return _F().kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: Any = 0) -> Tensor:
    """Binary cross-entropy on logits, with optional class weights and positive-class weights."""
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: Any = 0) -> Tensor:
    """The cosine embedding loss for targets of 1 (similar) and -1 (dissimilar)."""
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: Any = 0) -> Tensor:
    """The hinge embedding loss for targets of 1 and -1."""
    return _F().hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: Any = 0) -> Tensor:
    """max(0, -target * (input1 - input2) + margin), reduced."""
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: Any = 0) -> Tensor:
    """The triplet loss max(d(a, p) - d(a, n) + margin, 0), reduced."""
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: Any) -> Tensor:
    """The Poisson negative log-likelihood loss (every argument required, as in torch's native form)."""
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: Any = 0, zero_infinity: bool = False) -> Tensor:
    """The connectionist temporal classification loss."""
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction), zero_infinity)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine similarity of ``x1`` and ``x2`` along ``dim``."""
    return _F().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm distance between matching rows of ``x1`` and ``x2``."""
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distances between all pairs of rows of an (N, M) input (upper triangle, row-major)."""
    return _F().pdist(input, p)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleaves the channels of (N, C, *) input from ``groups`` groups."""
    return _F().channel_shuffle(input, groups)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearranges (*, C r^2, H, W) into (*, C, H r, W r)."""
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearranges (*, C, H r, W r) into (*, C r^2, H, W)."""
    return _F().pixel_unshuffle(input, downscale_factor)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x), with one weight or one per channel."""
    return _F().prelu(input, weight)


def selu(input: Tensor) -> Tensor:
    """The scaled exponential linear unit."""
    return _F().selu(input)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return _F().selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _F().celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return _F().celu(input, alpha, inplace=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator: Any = None) -> Tensor:
    """The randomized leaky ReLU (a fixed slope of (lower + upper) / 2 unless ``training``)."""
    if generator is not None:
        raise NotImplementedError("ember does not implement torch.rrelu with a generator")
    return _F().rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator: Any = None) -> Tensor:
    """In-place ``rrelu``."""
    if generator is not None:
        raise NotImplementedError("ember does not implement torch.rrelu_ with a generator")
    return _F().rrelu(input, lower, upper, training, inplace=True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return _F().hardshrink(input, lambd)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else ``value``."""
    return _F().threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return _F().threshold(input, threshold, value, inplace=True)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """1-d max pooling (``stride`` defaults to ``kernel_size``)."""
    return _F().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False) -> tuple:
    """1-d max pooling returning ``(values, indices)``."""
    return _F().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode, return_indices=True)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """2-d max pooling (``stride`` defaults to ``kernel_size``)."""
    return _F().max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """3-d max pooling (``stride`` defaults to ``kernel_size``)."""
    return _F().max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling (``stride`` defaults to ``kernel_size``)."""
    return _F().avg_pool1d(input, kernel_size, stride or None, padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """1-d average pooling to a given output length."""
    return _F().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple:
    """1-d max pooling to a given output length, returning ``(values, indices)``."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x1^T A x2 + b for each output feature."""
    return _F().bilinear(input1, input2, weight, bias)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    """Pads the last dimensions with ``value`` (``pad`` as in ``ember.nn.functional.pad``; negative crops)."""
    return _F().pad(input, pad, value=value)


def affine_grid_generator(theta: Tensor, size: Any, align_corners: bool) -> Tensor:
    """The sampling grid of an affine transform ``theta``: ``ember.nn.functional.affine_grid``."""
    return _F().affine_grid(theta, size, align_corners)


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """``grid_sample`` with torch's native integer modes (0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros,
    1 border, 2 reflection)."""
    return _F().grid_sample(input, grid, ("bilinear", "nearest", "bicubic")[interpolation_mode],
                            ("zeros", "border", "reflection")[padding_mode], align_corners)


def _hardshrink_method(self: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0 (``ember.nn.functional.hardshrink``)."""
    return _F().hardshrink(self, lambd)


def _prelu_method(self: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight * min(0, x) (``ember.nn.functional.prelu``)."""
    return _F().prelu(self, weight)


Tensor.hardshrink = _hardshrink_method  # type: ignore[attr-defined]
Tensor.prelu = _prelu_method  # type: ignore[attr-defined]

__all__ = [name for name in list(globals()) if not name.startswith("_") and name not in ("annotations", "Any", "Tensor")]

"""ember.nn.functional: activations and losses as functions (torch.nn.functional)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..ops import loss as _loss
from ..ops import pointwise as _pw
from ..ops import reduction as _red
from ..ops._core import node_class, record

sigmoid = _pw.sigmoid
tanh = _pw.tanh


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else _pw.relu(input)


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='mean' instead.", stacklevel=2)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


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


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), without overflow."""
    return -softplus(-input)


SoftplusBackward0 = node_class(
    "softplus", lambda n, g: g * _pw.where_(n.saved[0] * n.attrs[0] > n.attrs[1], 1.0,
                                            (n.saved[0] * n.attrs[0]).sigmoid()),
    "grad * sigmoid(beta * self)")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``."""
    x = input._data
    bx = x * beta
    with np.errstate(over="ignore"):
        res = np.where(bx > threshold, x, np.logaddexp(0, bx) / beta).astype(x.dtype)
    return record(SoftplusBackward0, res, (input,), (input,), attrs=(beta, threshold))


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


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim followed by nll_loss (class indices) or a soft-target sum."""
    reduction = _loss.reduction_enum(_legacy_reduction(size_average, reduce, reduction))
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = _red.log_softmax(input, class_dim)
    if target._data.dtype.kind == "f":
        # class probabilities
        if target.shape != input.shape:
            raise RuntimeError(
                f"Expected target size {list(input.shape)}, got {list(target.shape)}" if input.dim() > 1 else
                f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        C = input.shape[class_dim]
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / C
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
        n = input.numel() // C
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
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / C)

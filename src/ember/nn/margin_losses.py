"""Hinge losses over classes and the triplet loss with a user distance (functional forms).

``multi_margin_loss`` and ``multilabel_margin_loss`` are one op each, as in torch
(``MultiMarginLossBackward0`` / ``MultilabelMarginLossBackward0`` for every reduction). For a
multi-label sample with target classes ``T`` (the target row up to its first -1) the loss is
``sum_{j in T} sum_{i not in T} max(0, 1 - (x[j] - x[i])) / C``. torch does not differentiate
either gradient again and neither does ember (the gradient carries torch's ``NotImplemented`` node
under ``create_graph=True``).

``triplet_margin_with_distance_loss`` is a composition of ember ops, as torch writes it, so its
grad_fn names and higher derivatives come from the ops it is made of.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import Tensor
from ..ops import pointwise as _pw
from ..ops._core import node_class, record
from ..ops.binary_functions import (
    _not_implemented_node,
)
from ._reduction import _red_arg

_MultilabelMarginLossBackwardBackward = _not_implemented_node("multilabel_margin_loss_backward")


def _mlm_derivative(n: Any, g: Tensor) -> Tensor:
    coef, reduction = n.attrs
    gd = g._data if reduction != "none" else g._data.reshape(g._data.shape + (1,) * (coef.ndim - g._data.ndim))
    return record(_MultilabelMarginLossBackwardBackward, (coef * gd).astype(coef.dtype, copy=False), (g, n.saved[0]))


MultilabelMarginLossBackward0 = node_class(
    "multilabel_margin_loss", _mlm_derivative,
    "grad * (count of active hinges where i is a non-target, minus where i is a target) / C")


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    return _red_arg(size_average, reduce, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """Hinge loss between each target class and each non-target class, for multi-label targets padded with -1."""
    reduction = _reduction(size_average, reduce, reduction)
    x, y = input._data, target._data
    if not (x.ndim in (1, 2) and x.shape[-1] > 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"[{', '.join(map(str, x.shape))}]")
    if y.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_scalar_name(y)}")
    if y.shape != x.shape:
        raise RuntimeError(f"inconsistent target size: [{', '.join(map(str, y.shape))}] for input of size: "
                           f"[{', '.join(map(str, x.shape))}]")
    C = x.shape[-1]
    x2, y2 = x.reshape(-1, C), y.reshape(-1, C)
    if ((y2 < -1) | (y2 >= C)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    # the targets of a row are its entries before the first -1 (duplicates count twice, as in torch)
    valid = np.cumprod(y2 != -1, axis=1).astype(bool)  # (N, K)
    idx = np.where(valid, y2, 0)
    rows = np.broadcast_to(np.arange(x2.shape[0])[:, None], idx.shape)
    is_target = np.zeros(x2.shape, bool)
    is_target[rows[valid], idx[valid]] = True
    xt = np.take_along_axis(x2, idx, axis=1)  # (N, K)
    hinge = 1 - xt[:, :, None] + x2[:, None, :]  # (N, K, C): target j against class i
    active = (hinge > 0) & valid[:, :, None] & ~is_target[:, None, :]
    per_sample = np.where(active, hinge, 0).sum(axis=(1, 2)) / C
    # d/dx[i] += active count over j (i a non-target); d/dx[y_j] -= active count over i
    coef = active.sum(axis=1).astype(x.dtype)
    np.add.at(coef, (rows, idx), -active.sum(axis=2).astype(x.dtype))
    coef /= C
    out, coef = _reduce_op(per_sample, coef, reduction, x.ndim == 2)
    coef = coef.reshape(x.shape)
    return record(MultilabelMarginLossBackward0, np.asarray(out, x.dtype), (input,), saved=(input,),
                  attrs=(coef, reduction))


_MultiMarginLossBackwardBackward = _not_implemented_node("multi_margin_loss_backward")


def _mm_derivative(n: Any, g: Tensor) -> Tensor:
    coef, reduction = n.attrs
    gd = g._data if reduction != "none" else g._data.reshape(g._data.shape + (1,) * (coef.ndim - g._data.ndim))
    return record(_MultiMarginLossBackwardBackward, (coef * gd).astype(coef.dtype, copy=False), (g, n.saved[0]))


MultiMarginLossBackward0 = node_class(
    "multi_margin_loss", _mm_derivative,
    "grad * p * hinge^(p-1) * weight[y] / C at each active non-target class, minus their sum at y")


def _reduce_op(per_sample: np.ndarray, coef: np.ndarray, reduction: str, batched: bool) -> tuple:
    # one op for every reduction: the reduction is folded into the gradient's coefficients
    if reduction == "mean":
        return per_sample.mean(), coef / max(per_sample.shape[0], 1)
    if reduction == "sum":
        return per_sample.sum(), coef
    return (per_sample if batched else per_sample.reshape(())), coef


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: sum over classes i != y of max(0, margin - x[y] + x[i])^p (* weight[y]) / C."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x, y = input._data, target._data
    if not (x.ndim in (1, 2) and x.shape[-1] > 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"[{', '.join(map(str, x.shape))}]")
    if y.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_scalar_name(y)}")
    C = x.shape[-1]
    x2 = x.reshape(-1, C)
    if y.ndim > 1 or y.size != x2.shape[0]:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{x2.shape[0]}], but got "
                           f"[{', '.join(map(str, y.shape))}]. Input has shape [{', '.join(map(str, x.shape))}].")
    y1 = y.reshape(-1)
    if ((y1 < 0) | (y1 >= C)).any():
        raise RuntimeError("target out of range")
    if weight is not None:
        if weight.requires_grad:
            raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect to argument "
                               "'weight'. This input cannot have requires_grad True.")
        w = weight._data.reshape(-1)
        if w.size != C:
            raise RuntimeError(f"inconsistent weight size, expected {C} but got [{', '.join(map(str, weight.shape))}]")
        wy = w[y1].astype(x.dtype)[:, None]
    else:
        wy = np.ones((x2.shape[0], 1), x.dtype)
    rows = np.arange(x2.shape[0])
    z = margin - x2[rows, y1][:, None] + x2
    active = (z > 0) & (np.arange(C)[None, :] != y1[:, None])
    zp = np.where(active, z if p == 1 else z * z, 0) * wy
    per_sample = zp.sum(axis=1) / C
    coef = (np.where(active, 1 if p == 1 else 2 * z, 0) * wy / C).astype(x.dtype)
    coef[rows, y1] -= coef.sum(axis=1)
    # 'none' keeps the batch shape, which for a 1-D input is the target's: (1,) or ()
    out, coef = _reduce_op(per_sample, coef, reduction, x.ndim == 2 or y.ndim == 1)
    return record(MultiMarginLossBackward0, np.asarray(out, x.dtype), (input,), saved=(input,),
                  attrs=(coef.reshape(x.shape), reduction))


def _scalar_name(a: np.ndarray) -> str:
    from ..ops.reduction import _LEGACY_NAMES

    return _LEGACY_NAMES.get(a.dtype.name, a.dtype.name)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with any distance ``d`` (pairwise L2 by default)."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D inputs")
    if distance_function is None:
        from ._distance import pairwise_distance

        distance_function = pairwise_distance
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = _pw.minimum(d_neg, distance_function(positive, negative))
    loss = (margin + d_pos - d_neg).clamp_min(0)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


__all__ = ["multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss"]

"""embedding_bag: sums, means or maxima of bags of embedding rows, without the (bags x length)
intermediate. The forward runs in NumPy; the gradient is written in ember ops (rows of the grad
added back into the weight's rows, per-sample weights' grad as row dot products), so it
differentiates again under ``create_graph=True``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import grad_mode as _grad_mode
from ..ops._core import node_class, record

_MODES = ("sum", "mean", "max")


def _embedding_bag_grads(n: Any, g: Tensor) -> tuple:
    weight, psw = n.saved if len(n.saved) == 2 else (n.saved[0], None)
    keep, idx, bag, coef, argmax = n.attrs  # the entries that count (not padding): position, row, bag, scale
    num, D = weight.shape
    gw = gp = None
    if n.needs[0]:
        if argmax is not None:  # max: each (bag, column) grad goes to the row that held the maximum
            hit = argmax >= 0
            pos = (argmax * D + np.arange(D))[hit]
            gw = g.new_zeros((num * D,)).index_add(0, _new(pos), g[_new(hit)]).reshape(num, D)
        else:
            rows = g.index_select(0, _new(bag))
            if coef is not None:
                rows = rows * _new(coef[:, None].astype(g._data.dtype))
            if psw is not None:
                rows = rows * psw.reshape(-1).index_select(0, _new(keep)).unsqueeze(1)
            gw = g.new_zeros((num, D)).index_add(0, _new(idx), rows)
    if len(n.needs) > 1 and n.needs[1]:
        dots = (g.index_select(0, _new(bag)) * weight.index_select(0, _new(idx))).sum(1)
        assert psw is not None  # needs[1] is the per-sample weights' flag
        gp = psw.new_zeros((psw.numel(),)).index_add(0, _new(keep), dots).reshape(psw.shape)
    return gw, gp


EmbeddingBagBackward0 = node_class("embedding_bag", _embedding_bag_grads,
                                   "grad rows added into the bags' weight rows; psw: grad . weight row")


def _bags(input: Tensor, offsets: Tensor | None, include_last_offset: bool) -> tuple:
    """(flat indices, bag number of each entry, number of bags)."""
    x = input._data
    if x.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__module__.split('.')[0]}.Tensor")
        B, L = x.shape
        return x.reshape(-1), np.repeat(np.arange(B), L), B
    if x.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {x.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets)
    if off.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if include_last_offset:
        if off.size < 1:
            raise RuntimeError("include_last_offset: number of offsets should be at least 1")
        starts, B = off[:-1], off.size - 1
        ends = np.append(off[1:-1], x.size) if B else off[:0]  # (the last bag runs to the end, as in torch)
    else:
        starts, B = off, off.size
        ends = np.append(off[1:], x.size)
    if B and starts[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(starts[0])}")
    if B and (np.any(np.diff(off) < 0) or off[-1] > x.size):
        raise RuntimeError(f"offsets[-1] can not be greater than input's length ({x.size}), but got offsets[-1] of "
                           f"{int(off[-1])}")
    bag = np.repeat(np.arange(B), np.maximum(ends - starts, 0))
    return x, np.concatenate([bag, np.full(x.size - bag.size, -1)]) if bag.size < x.size else bag, B


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxima of bags of ``weight`` rows: bags given by ``offsets`` into a 1-d
    ``input``, or by the rows of a 2-d ``input``; ``padding_idx`` entries count in no bag."""
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding_bag)")
    if mode not in _MODES:
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                      "on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({list(input.shape)})")
    num, D = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within the number of embeddings")
        padding_idx %= num
    flat, bag, B = _bags(input, offsets, include_last_offset)
    if flat.size and (flat.min() < 0 or flat.max() >= num):
        bad = int(flat.min() if flat.min() < 0 else flat.max())
        raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be {bad}")
    if max_norm is not None:  # the rows used are renormalised in place, as embedding does
        from ._ops import embedding

        with _grad_mode.no_grad():
            embedding(input, weight, max_norm=max_norm, norm_type=norm_type)
    keep = np.nonzero((bag >= 0) & ((flat != padding_idx) if padding_idx is not None else True))[0]
    idx, kbag = flat[keep], bag[keep]
    w = weight._data
    rows = w[idx]
    if per_sample_weights is not None:
        rows = rows * per_sample_weights._data.reshape(-1)[keep][:, None]
    coef = argmax = None
    if mode == "max":
        out = np.full((B, D), -np.inf if w.dtype.kind == "f" else 0, w.dtype)
        np.maximum.at(out, kbag, rows)
        # per column, the first entry of each bag that reaches its maximum (torch's tie rule)
        first = np.full((B, D), idx.size, np.int64)
        np.minimum.at(first, kbag, np.where(rows == out[kbag], np.arange(idx.size)[:, None], idx.size))
        argmax = np.where(first < idx.size, np.append(idx, -1)[np.minimum(first, idx.size)], -1)
        out[argmax < 0] = 0  # empty bags
    else:
        out = np.zeros((B, D), w.dtype)
        np.add.at(out, kbag, rows)
        if mode == "mean":
            count = np.bincount(kbag, minlength=B)
            out /= np.maximum(count, 1)[:, None].astype(w.dtype)
            coef = 1.0 / count[kbag] if kbag.size else np.zeros(0)
    if scale_grad_by_freq and mode != "max":  # each row's gradient divided by its count in the batch
        freq = np.bincount(idx, minlength=num)[idx]
        coef = (1.0 if coef is None else coef) / freq
    inputs = (weight,) if per_sample_weights is None else (weight, per_sample_weights)
    return record(EmbeddingBagBackward0, out.astype(w.dtype), inputs, inputs, attrs=(keep, idx, kbag, coef, argmax))

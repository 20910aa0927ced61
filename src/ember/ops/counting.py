"""Counting and bucketing: bincount, histc, histogram, bucketize, searchsorted.

None of them is differentiable in torch: ``histc`` returns a tensor that never requires grad,
``bincount`` (weights) and ``histogram`` record a ``NotImplemented`` node whose backward raises
torch's error, and the index-returning ``bucketize`` / ``searchsorted`` give integer tensors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import record
from .binary_functions import (
    _not_implemented_node,
)
from .reduction import _LEGACY_NAMES, _RT

histogram_result = _RT["histogram"]

_BincountBackward = _not_implemented_node("bincount")
_HistogramBackward = _not_implemented_node("histogram")


def _legacy(a: np.ndarray) -> str:
    return _LEGACY_NAMES.get(a.dtype.name, a.dtype.name)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in a 1-D non-negative integer tensor (weighted sums with ``weights``)."""
    x = input._data
    if not isinstance(minlength, int) or isinstance(minlength, bool):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not {type(minlength).__name__}")
    if x.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_legacy(x)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim != 1 or (x.size and x.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _new(np.bincount(x, minlength=minlength).astype(np.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # float32 weights keep their dtype; every other weight dtype counts in float64, as in torch
    out_dtype = w.dtype if w.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    res = np.bincount(x, weights=w.astype(np.float64), minlength=minlength).astype(out_dtype)
    return record(_BincountBackward, res, (weights,))


def _check_floating(x: np.ndarray, kernel: str, allow_half: bool) -> None:
    if x.dtype.kind != "f" or (x.dtype == np.float16 and not allow_half):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_legacy(x)}'")


def _fmt(v: float) -> str:
    # C++'s stream formatting of a double, as in torch's messages ("1", "inf", "-nan")
    return "-nan" if math.isnan(v) else f"{v:g}"


def _uniform_counts(x: np.ndarray, w: np.ndarray | None, bins: int, lo: Any, hi: Any, snap: np.ndarray | None) -> np.ndarray:
    # bin index by linear interpolation in the input's dtype; ``snap`` (the edges) moves an element
    # that rounding put one bin off back to the bin its edges say, as torch.histogram does
    keep = (x >= lo) & (x <= hi)
    xs = x[keep]
    pos = ((xs - lo) * bins / (hi - lo)).astype(np.int64) if xs.size else np.zeros(0, np.int64)
    pos = np.minimum(pos, bins - 1)
    if snap is not None and xs.size:
        pos = np.where((pos > 0) & (xs < snap[pos]), pos - 1, pos)
        pos = np.where((pos < bins - 1) & (xs >= snap[np.minimum(pos + 1, bins)]), pos + 1, pos)
    return np.bincount(pos, weights=None if w is None else w[keep].astype(np.float64), minlength=bins)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts in ``bins`` equal-width bins over [min, max] (the data's range when both are 0); not differentiable."""
    x = input._data
    _check_floating(x, "histogram_cpu", allow_half=True)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_fmt(lo)}, {_fmt(hi)}] is not finite")
    t = x.dtype.type
    flat = x.reshape(-1)
    return _new(_uniform_counts(flat, None, bins, t(lo), t(hi), None).astype(x.dtype))


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None,  # noqa: A002
              density: bool = False, out: Any = None) -> Any:
    """(hist, bin_edges): counts (or weight sums, or a density) in ``bins`` equal bins or between given edges."""
    x = input._data
    _check_floating(x, "histogramdd", allow_half=False)
    flat = x.reshape(-1)
    w = None
    if weight is not None:
        w = weight._data
        if w.shape != x.shape:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               f"input tensor excluding its innermost dimension, but got input with shape "
                               f"[{flat.size}, 1] and weight with shape [{', '.join(map(str, w.shape))}]")
        if w.dtype != x.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should "
                               f"have the same dtype, but got input({_dtype_word(x)}), and weight({_dtype_word(w)})")
        w = w.reshape(-1)
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram() received an invalid combination of arguments - got (Tensor, range=tuple, "
                            "bins=Tensor): with a bins tensor, the edges give the range")
        edges = bins._data
        if edges.ndim != 1:
            raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{edges.ndim} dimensions in the bins tensor for dimension 0")
        if edges.dtype != x.dtype:
            raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have the same dtype, but got "
                               f"input with dtype {_dtype_word(x)} and bins for dimension 0 with dtype "
                               f"{_dtype_word(edges)}")
        nb = edges.shape[0] - 1
        if nb <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {nb} for dimension 0")
        # element in [e_i, e_{i+1}) counts in bin i; the last edge belongs to the last bin
        inside = (flat >= edges[0]) & (flat <= edges[-1])
        pos = np.minimum(np.searchsorted(edges, flat[inside], side="right") - 1, nb - 1)
        hist = np.bincount(pos, weights=None if w is None else w[inside].astype(np.float64), minlength=nb)
    else:
        nb = int(bins)
        if nb <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {nb} for dimension 0")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif flat.size:
            lo, hi = float(flat.min()), float(flat.max())
        else:
            lo, hi = 0.0, 1.0  # torch's range for an empty input
        if lo > hi:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {_fmt(lo)} max {_fmt(hi)} "
                               "for dimension 0")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_fmt(lo)}, {_fmt(hi)}] is not finite"
                               .replace("-nan", "nan"))
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        from .creation import linspace

        edges = linspace(lo, hi, nb + 1, dtype=input.dtype)._data
        hist = _uniform_counts(flat, w, nb, edges[0], edges[-1], edges)
    hist = hist.astype(x.dtype)
    if density:
        total = hist.sum()
        hist = (hist / total / np.diff(edges)).astype(x.dtype)  # torch's order of the two divisions
    srcs = (input, weight, bins if isinstance(bins, Tensor) else None)
    return histogram_result(record(_HistogramBackward, hist, srcs),
                            record(_HistogramBackward, np.array(edges, copy=True), srcs))


def _dtype_word(a: np.ndarray) -> str:
    # the C++ type words torch's histogram messages use
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int"}.get(a.dtype.name, a.dtype.name)


def _as_values(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None, out: Any = None) -> Tensor:
    """Where each value would be inserted into the sorted innermost rows of ``sorted_sequence`` to keep them sorted."""
    seq = sorted_sequence._data
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension")
    vals = _as_values(input)
    if sorter is not None:
        s = sorter._data
        if s.dtype != np.int64:
            raise RuntimeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_LEGACY_NAMES.get(s.dtype.name, s.dtype.name)}")
        if s.shape != seq.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {list(seq.shape)}and got sorter tensor {list(s.shape)}")
        seq = np.take_along_axis(seq, s, axis=-1)
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(vals.shape)}")
    how = "right" if right else "left"
    # NaN sorts last (as in torch and NumPy), so NumPy's search agrees on every value
    if seq.ndim == 1:
        res = np.searchsorted(seq, vals, side=how)
    else:
        rows, vrows = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        res = np.stack([np.searchsorted(r, v, side=how) for r, v in zip(rows, vrows)]).reshape(vals.shape)
    return _new(np.asarray(res, np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False, out: Any = None) -> Tensor:
    """The index of the bucket (between consecutive 1-D ``boundaries``) each element of ``input`` falls in."""
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)

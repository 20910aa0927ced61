"""interpolate and its kernels: nearest (whole factors as a repeat), linear/bilinear/trilinear and bicubic as matrices applied along each axis."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..ops._core import node_class, record
from . import _ops


def _interp_nearest_index(in_size: int, out_size: int, scale: float | None) -> np.ndarray:
    s = (1.0 / scale) if scale is not None else in_size / out_size
    idx = np.floor(np.arange(out_size, dtype=np.float32) * np.float32(s)).astype(np.int64)
    return np.minimum(idx, in_size - 1)


def _nearest_repeat_grad(n: Any, g: Any) -> Any:
    # the blocks summed by adding strided slices (on arrays and Tensors alike): NumPy's sum over
    # two short inner axes is ~20x slower
    N, C, H, W = n._in_meta[0][0]
    sh, sw = n.attrs
    rows = g.reshape(N, C, H, sh, W * sw)
    r = rows[:, :, :, 0]
    for i in range(1, sh):
        r = r + rows[:, :, :, i]
    cols = r.reshape(N, C, H, W, sw)
    out = cols[..., 0]
    for j in range(1, sw):
        out = out + cols[..., j]
    return out


UpsampleNearest2DBackward0 = node_class("upsample_nearest2d", _nearest_repeat_grad,
                                        "grad summed over each input pixel's block", on_arrays=True, layout="suggested")


def _upsample_nearest_repeat(input: Tensor, sh: int, sw: int) -> Tensor:
    """Nearest upsampling by whole factors: each pixel repeated into an sh x sw block (one copy;
    the backward sums the blocks), as torch's UpsampleNearest2D does."""
    x = input._data
    N, C, H, W = x.shape
    out = np.broadcast_to(x[:, :, :, None, :, None], (N, C, H, sh, W, sw)).reshape(N, C, H * sh, W * sw)
    return record(UpsampleNearest2DBackward0, out, (input,), attrs=(sh, sw))


def _interp_linear(in_size: int, out_size: int, scale: float | None, align: bool) -> tuple:
    if align:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        src = np.arange(out_size, dtype=np.float64) * s
    else:
        s = (1.0 / scale) if scale is not None else in_size / out_size
        src = (np.arange(out_size, dtype=np.float64) + 0.5) * s - 0.5
        src = np.maximum(src, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = np.minimum(i0 + 1, in_size - 1)
    lam = src - i0
    return i0, i1, lam


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    nsp = input.dim() - 2
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if mode in ("nearest", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    in_sizes = input.shape[2:]
    if size is not None:
        out_sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nsp
        scales = (None,) * nsp
    else:
        sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nsp
        out_sizes = tuple(int(math.floor(s * f)) for s, f in zip(in_sizes, sf))
        scales = (None,) * nsp if recompute_scale_factor else sf
    out = input
    if mode == "nearest":
        idxs = [_interp_nearest_index(in_sizes[i], out_sizes[i], scales[i]) for i in range(nsp)]
        reps = [out_sizes[i] // in_sizes[i] if in_sizes[i] else 0 for i in range(nsp)]
        if nsp == 2 and all(r >= 1 and np.array_equal(ix, np.arange(len(ix)) // r) for ix, r in zip(idxs, reps)):
            return _upsample_nearest_repeat(input, reps[0], reps[1])
        for i in range(nsp):
            out = out.index_select(2 + i, _new(idxs[i]))
        return out
    if mode in ("linear", "bilinear", "trilinear"):
        align = bool(align_corners)
        for i in range(nsp):
            i0, i1, lam = _interp_linear(in_sizes[i], out_sizes[i], scales[i], align)
            shape = [1] * input.dim()
            shape[2 + i] = out_sizes[i]
            lam_t = _new(lam.astype(input._data.dtype).reshape(shape))
            a = out.index_select(2 + i, _new(i0))
            b = out.index_select(2 + i, _new(i1))
            out = a * (1 - lam_t) + b * lam_t
        return out
    if mode == "nearest-exact":
        for i in range(nsp):
            s_i = scales[i]
            sc = (1.0 / s_i) if s_i is not None else in_sizes[i] / out_sizes[i]
            idx = np.minimum(np.floor((np.arange(out_sizes[i]) + 0.5) * sc).astype(np.int64), in_sizes[i] - 1)
            out = out.index_select(2 + i, _new(idx))
        return out
    if mode in ("bicubic", "area"):
        if mode == "bicubic" and input.dim() != 4:
            raise NotImplementedError(f"Got {input.dim()}D input, but bicubic mode needs 4D input")
        for i in range(nsp):
            if mode == "area":
                m = _ops._adaptive_matrix(in_sizes[i], out_sizes[i], np.float64)
            else:
                m = _interp_cubic_matrix(in_sizes[i], out_sizes[i], scales[i], bool(align_corners))
            out = _apply_along(out, 2 + i, m)
        return out
    raise NotImplementedError(f"interpolate mode '{mode}' is not supported by ember")


def _cubic_weights(t: np.ndarray, a: float = -0.75) -> tuple:
    """The four cubic-convolution weights (Keys, a = -0.75 as torch) for a fractional offset t."""
    def near(x: np.ndarray) -> np.ndarray:
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: np.ndarray) -> np.ndarray:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _interp_cubic_matrix(in_size: int, out_size: int, scale: float | None, align: bool) -> np.ndarray:
    """(out, in) weights of bicubic resampling along one axis (border indices clamped)."""
    dst = np.arange(out_size, dtype=np.float64)
    if align:
        src = dst * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        sc = (1.0 / scale) if scale is not None else in_size / out_size
        src = (dst + 0.5) * sc - 0.5
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    m = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    for k, w in zip(range(-1, 3), _cubic_weights(t)):
        np.add.at(m, (rows, np.clip(i0 + k, 0, in_size - 1)), w)
    return m


def _apply_along(x: Tensor, axis: int, m: np.ndarray) -> Tensor:
    """Resample ``x`` along ``axis`` by the (out, in) matrix ``m``: a differentiable matmul."""
    mt = _new(np.ascontiguousarray(m.T).astype(x._data.dtype))
    return x.transpose(axis, -1).matmul(mt).transpose(axis, -1)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode="nearest")``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)

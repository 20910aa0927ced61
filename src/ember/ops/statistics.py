"""Order and second-moment statistics: ``quantile``, ``nanquantile``, ``cov`` and ``corrcoef``,
built from differentiable ember ops (sort, gather, lerp, matmul) so every order of gradient follows."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, ignore_nan: bool, name: str) -> Tensor:  # noqa: A002
    from .indexing import where

    if interpolation not in _MODES:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    scalar_q = not isinstance(q, Tensor)
    qa = np.asarray(q, np.float64) if scalar_q else q._data
    if not scalar_q:
        if qa.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if qa.dtype != input._data.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if ((qa < 0) | (qa > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    x = input
    if dim is None:
        x, d = input.flatten(), 0
    else:
        d = dim % max(input.dim(), 1)
        if input.dim() == 0:
            x = input.reshape(1)
    s = x.sort(d)[0]  # NaN sorts last
    n = s.shape[d]
    nan = x.detach().isnan()._data
    if ignore_nan:
        cnt = (~nan).sum(axis=d, keepdims=True).astype(np.float64)  # per-slice count of numbers
    else:
        cnt = np.full(nan.sum(axis=d, keepdims=True).shape, float(n))
    qv = qa.reshape(-1)
    # rank positions, shape (Q, *slice shape with dim kept)
    pos = qv.reshape((-1,) + (1,) * cnt.ndim) * (cnt - 1)[None]
    if interpolation == "lower":
        pos = np.floor(pos)
    elif interpolation == "higher":
        pos = np.ceil(pos)
    elif interpolation == "nearest":
        pos = np.round(pos)  # torch rounds half to even, as NumPy does
    lo = np.clip(np.floor(pos), 0, n - 1).astype(np.int64)
    hi = np.clip(np.ceil(pos), 0, n - 1).astype(np.int64)
    w = pos - lo
    if interpolation == "midpoint":
        w = np.where(hi > lo, 0.5, 0.0)
    outs = []
    for k in range(qv.size):
        a = s.gather(d, _new(lo[k]))
        b = s.gather(d, _new(hi[k]))
        v = a.lerp(b, _new(w[k].astype(input._data.dtype))) if interpolation in ("linear", "midpoint") else a
        if ignore_nan:
            v = where(_new(cnt == 0), float("nan"), v)  # an all-NaN slice gives NaN
        else:
            v = where(_new(nan.any(axis=d, keepdims=True)), float("nan"), v)  # any NaN gives NaN
        outs.append(v)
    from .shape import stack

    out = stack(outs, 0)
    # the last squeezes in place, as torch's do (SqueezeBackward4)
    if not keepdim:
        out = out.squeeze_(d + 1)
    elif dim is None:
        out = out.reshape((qv.size,) + (1,) * input.dim())
    if scalar_q or qa.ndim == 0:
        out = out.squeeze_(0)
    return out


def quantile(input: Tensor, q: Any, dim: Any = None, keepdim: bool = False, *, interpolation: str = "linear",  # noqa: A002
             out: Any = None) -> Tensor:
    """The ``q``-th quantiles (``q`` a number or 1-D tensor in [0, 1]) of ``input`` along ``dim`` (or of
    all its elements); a NaN in a slice makes that slice's quantile NaN. With a tensor ``q`` the
    quantiles are stacked along a new first dim."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input: Tensor, q: Any, dim: Any = None, keepdim: bool = False, *, interpolation: str = "linear",  # noqa: A002
                out: Any = None) -> Tensor:
    """:func:`quantile` ignoring NaNs (an all-NaN slice gives NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None) -> Tensor:  # noqa: A002
    """The covariance matrix of the variables in ``input``'s rows (observations in columns), with
    optional integer frequency and float observation weights, as NumPy's ``cov``."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if x._data.dtype.kind in "biu":
        x = x.float()  # integer and bool observations give a float covariance, as torch's
    n = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.dim() > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but got fweights with {fweights.dim()} dimensions")
        if fweights._data.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with {fweights.dtype} dtype")
        if fweights.numel() != n:
            raise RuntimeError("cov(): expected fweights to have the same numel as there are observations in the input "
                               f"but got {fweights.numel()} != {n}")
        if (fweights._data < 0).any():
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.dim() > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but got aweights with {aweights.dim()} dimensions")
        if aweights._data.dtype.kind != "f":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with {aweights.dtype} dtype")
        if aweights.numel() != n:
            raise RuntimeError("cov(): expected aweights to have the same numel as there are observations in the input "
                               f"but got {aweights.numel()} != {n}")
        if (aweights._data < 0).any():
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if w is None:
        wsum = float(n)
        avg = x.mean(1)
        norm = wsum - correction
    else:
        wsum = w.sum()
        avg = (x * w).sum(1) / wsum
        norm = wsum - correction if aweights is None or correction == 0 else wsum - correction * (w * aweights).sum() / wsum
    if isinstance(norm, float):
        norm = max(norm, 0.0)
    else:
        norm = norm.clamp(min=0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = xw.matmul(xm.t().conj()) / norm
    return c.squeeze()


def corrcoef(input: Tensor) -> Tensor:  # noqa: A002
    """Pearson correlation coefficients of the variables in ``input``'s rows, clipped to [-1, 1]."""
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with {input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    sd = d.sqrt() if d._data.dtype.kind != "c" else d.real.sqrt()
    c = c / sd.unsqueeze(1)
    c = c / sd.unsqueeze(0)
    if c._data.dtype.kind == "c":
        return c
    return c.clamp(-1, 1)


attach_methods(quantile=quantile, nanquantile=nanquantile, cov=cov, corrcoef=corrcoef)

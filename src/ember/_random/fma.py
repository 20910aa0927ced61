"""Exact fused multiply-add (``fma``) emulated on NumPy arrays, in float64 and float32."""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import _numel

_F32 = np.float32
_F64 = np.float64


def _fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    """Correctly rounded float64 ``a * b + c`` (exact product, sum rounded once; round-to-odd)."""
    a = np.asarray(a, _F64)
    b = np.asarray(b, _F64)
    c = np.asarray(c, _F64)
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        split = 134217729.0
        t = split * a
        ah = t - (t - a)
        al = a - ah
        t = split * b
        bh = t - (t - b)
        bl = b - bh
        pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        s = c + p
        bb = s - c
        se = (c - (s - bb)) + (p - bb)
        v = se + pe
        bb = v - se
        ve = (se - (v - bb)) + (pe - bb)
        bits = np.array(v, _F64).view(np.int64).copy()
        nz = (ve != 0) & np.isfinite(v)
        bits -= (nz & ((ve < 0) != (v < 0))).astype(np.int64)
        bits |= nz.astype(np.int64)
        out = s + bits.view(_F64)
        special = ~np.isfinite(p) | ~np.isfinite(c) | ~np.isfinite(out)
        if np.any(special):
            out = np.where(special, p + c, out)
    return out


_MID_MASK = np.int64(0x1FFFFFFF)
_MID = np.int64(0x10000000)


def _fma32_exact(a: Any, b: Any, c: Any) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c`` (product exact in float64, sum rounded to odd)."""
    a = np.asarray(a, _F64)
    b = np.asarray(b, _F64)
    c = np.asarray(c, _F64)
    p = a * b
    s = p + c
    bb = s - p
    e = (p - (s - bb)) + (c - bb)
    bits = np.array(s, _F64).view(np.int64).copy()
    nz = e != 0
    bits -= (nz & ((e < 0) != (s < 0))).astype(np.int64)
    bits |= nz.astype(np.int64)
    return bits.view(_F64).astype(_F32)


class _Fma32:
    """float32 FMA: one float64 multiply-add, then a check that the float64 sum did not land
    exactly on a float32 rounding midpoint (the only case where the double rounding can differ
    from a fused operation).  Flagged lanes are recomputed exactly by the caller."""

    __slots__ = ("flags",)

    def __init__(self, n: int) -> None:
        self.flags = np.zeros(n, dtype=bool)

    def __call__(self, a: Any, b: Any, c: Any) -> np.ndarray:
        if isinstance(a, np.ndarray):
            s = a.astype(_F64)
            s *= b
        else:
            s = np.multiply(a, b, dtype=_F64)
        s += c
        m = s.view(np.int64) & _MID_MASK
        self.flags |= m == _MID
        return s.astype(_F32)


def _fma32(a: Any, b: Any, c: Any) -> np.ndarray:
    """float32 FMA for whole arrays: fast path plus exact recomputation of flagged lanes."""
    ops = [np.asarray(v, _F32) for v in (a, b, c)]
    shape = np.broadcast_shapes(*(v.shape for v in ops))
    # 0-dim operands stay scalars; the others become flat arrays of the full shape
    flat = [v[()] if v.ndim == 0 else np.broadcast_to(v, shape).ravel() for v in ops]
    if all(np.ndim(v) == 0 for v in flat):
        flat[0] = np.broadcast_to(ops[0], shape).ravel()
    f = _Fma32(_numel(shape))
    out = f(*flat)
    if f.flags.any():
        i = np.flatnonzero(f.flags)
        out[i] = _fma32_exact(*(v if np.ndim(v) == 0 else v[i] for v in flat))
    return out.reshape(shape)

"""torch's AVX2 float32 Box-Muller kernel, redone step for step so normals match bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np

from .fma import _Fma32, _fma32, _fma32_exact, _fma64

_F32 = np.float32


# torch's CPU kernel for float32 normals (>= 16 contiguous elements) evaluates log and sincos with
# Cephes-style single-precision approximations on 8-lane vectors, with the multiply-adds fused.
# The functions below redo that arithmetic step for step on NumPy arrays (fused steps through
# `fma`), which reproduces the kernel's results bit for bit.
def _f32c(bits: int) -> np.float32:
    return np.array([bits], dtype=np.uint32).view(_F32)[0]


# Cephes-style single-precision log: reduction to [sqrt(1/2), sqrt(2)) and a degree-8 polynomial.
_LOG_P = [_f32c(h) for h in (0x3D9021BB, 0xBDEBD1B8, 0x3DEF251A, 0xBDFE5D4F, 0x3E11E9BF, 0xBE2AAE50,
                             0x3E4CCEAC, 0xBE7FFFFC, 0x3EAAAAAA)]
_LOG_Q1 = _f32c(0xB95E8083)   # -2.12194440e-4
_LOG_Q2 = _f32c(0x3F318000)   # 0.693359375
_SQRTHF = _f32c(0x3F3504F3)
# Cephes-style single-precision sincos: octant reduction by 4/pi in three pieces.
_FOPI = _f32c(0x3FA2F983)
_DP1 = _f32c(0xBF490000)
_DP2 = _f32c(0xB97DA000)
_DP3 = _f32c(0xB3222169)
_COS_P = [_f32c(h) for h in (0x37CCF5CE, 0xBAB6061A, 0x3D2AAAA5)]
_SIN_P = [_f32c(h) for h in (0xB94CA1F9, 0x3C08839E, 0xBE2AAAA3)]
_TWO_PI_F = _f32c(0x40C90FDB)
_ONE_F = _F32(1.0)
_HALF_F = _F32(0.5)


def _avx_log(x: np.ndarray, fma: Any) -> np.ndarray:
    """torch's AVX2 float32 log for x in (0, 1] (normal, positive inputs only)."""
    bits = x.view(np.int32)
    e = ((bits >> 23) - 126).astype(_F32)
    xm = ((bits & np.int32(-2139095041)) | np.int32(0x3F000000)).view(_F32)   # mantissa in [0.5, 1)
    small = xm < _SQRTHF
    e -= small
    x = xm - _ONE_F
    x += xm * small             # (np.where is slow on random masks)
    z = x * x
    y = fma(_LOG_P[0], x, _LOG_P[1])
    for p in _LOG_P[2:]:
        y = fma(y, x, p)
    t = e * _LOG_Q1
    y *= x
    y = fma(y, z, t)
    z *= _HALF_F
    y -= z
    x += y
    e *= _LOG_Q2
    x += e
    return x


def _avx_sincos(th: np.ndarray, fma: Any) -> tuple[np.ndarray, np.ndarray]:
    """torch's AVX2 float32 sincos for theta in [0, 2*pi)."""
    y = th * _FOPI
    j = y.astype(np.int32)
    j += 1
    j &= ~1
    yf = j.astype(_F32)
    swap_sin = (j & 4) << 29
    poly = ((j & 2) >> 1) - 1   # all ones where the sine polynomial serves sin
    sign_cos = (~(j - 2) & 4) << 29
    x = th + yf * _DP1          # exact products: these two FMAs round once, like an add
    x += yf * _DP2
    x = fma(yf, _DP3, x)
    z = x * x
    c = fma(_COS_P[0], z, _COS_P[1])
    c = fma(c, z, _COS_P[2])
    c *= z
    c = fma(z, c, -(z * _HALF_F))
    c += _ONE_F
    s = fma(_SIN_P[0], z, _SIN_P[1])
    s = fma(s, z, _SIN_P[2])
    s *= z
    s = fma(x, s, x)
    sb, cb = s.view(np.int32), c.view(np.int32)
    pick = (sb ^ cb) & poly
    sin = (cb ^ pick ^ swap_sin).view(_F32)
    cos = (sb ^ pick ^ sign_cos).view(_F32)
    return sin, cos


def _checked(fn: Any, x: np.ndarray) -> Any:
    """Run ``fn`` with the fast FMA; recompute the lanes it flags with exact FMAs."""
    f = _Fma32(x.size)
    out = fn(x, f)
    if f.flags.any():
        i = np.flatnonzero(f.flags)
        exact = fn(x[i], _fma32_exact)
        if isinstance(out, tuple):
            for o, e in zip(out, exact):
                o[i] = e
        else:
            out[i] = exact
    return out


_CHUNK = 8192   # blocks of 16 per pass: keeps temporaries small and cache-resident


def _normal_fill_f32(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Box-Muller over blocks of 16 float32 uniforms, exactly as torch's AVX2 kernel."""
    blocks = u.reshape(-1, 16)
    out = np.empty_like(blocks)
    for i in range(0, blocks.shape[0], _CHUNK):
        _fill_blocks_f32(blocks[i:i + _CHUNK], out[i:i + _CHUNK], mean, std)
    return out.ravel()


def _fill_blocks_f32(blocks: np.ndarray, out: np.ndarray, mean: float, std: float) -> None:
    u1 = _ONE_F - blocks[:, :8].ravel()
    radius = _checked(_avx_log, u1)
    radius *= _F32(-2.0)
    np.sqrt(radius, out=radius)
    sin, cos = _checked(_avx_sincos, blocks[:, 8:].ravel() * _TWO_PI_F)
    cos *= radius
    sin *= radius
    out[:, :8] = _scale_f32(cos, mean, std).reshape(-1, 8)
    out[:, 8:] = _scale_f32(sin, mean, std).reshape(-1, 8)


def _scale_f32(z: np.ndarray, mean: float, std: float) -> np.ndarray:
    """float32 ``fma(z, std, mean)``."""
    m, s = _F32(mean), _F32(std)
    if s == 1:
        return z + m
    if m == 0:
        return z * s + _F32(0.0)
    return _fma32(z, s, m)


def _scale_f64(z: np.ndarray, mean: float, std: float) -> np.ndarray:
    """float64 ``fma(z, std, mean)``."""
    if std == 1:
        return z + mean
    if mean == 0:
        return z * std + 0.0
    return _fma64(z, std, mean)

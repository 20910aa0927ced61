"""float64 ``log``/``exp``/``tan``/``log1p`` that return exactly what glibc returns."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_U64 = np.uint64
_F64 = np.float64


# x87 80-bit long double (64-bit mantissa) stored in 16 bytes, little-endian: the low 11 mantissa
# bits beyond float64's 53 tell how close a value is to a float64 rounding midpoint.
_HAVE_X87 = (np.finfo(np.longdouble).nmant == 63 and np.dtype(np.longdouble).itemsize == 16
             and np.little_endian)


def _math_safe(fn: Any, v: float, fallback: Any) -> float:
    try:
        return fn(v)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(fallback(np.float64(v)))


def _per_element(fn: Any, fallback: Any, x: np.ndarray) -> np.ndarray:
    return np.array([_math_safe(fn, v, fallback) for v in x.ravel().tolist()], dtype=_F64).reshape(x.shape)


def _libm(x: np.ndarray, math_fn: Any, np_fn: Any, margin: int) -> np.ndarray:
    """``math_fn`` (glibc's float64 function) applied elementwise, vectorised.

    The value is computed in x87 extended precision and rounded to float64.  Where the extended
    value lies within ``margin``/2048 ulp of a float64 rounding midpoint (there glibc's own
    slightly-over-half-ulp error may round the other way) the element is recomputed with
    ``math_fn`` itself, which is glibc."""
    x = np.asarray(x, _F64)
    if not _HAVE_X87 or x.size < 32:
        return _per_element(math_fn, np_fn, x)
    with np.errstate(all="ignore"):
        yl = np_fn(x.astype(np.longdouble)).reshape(-1)
        y = yl.astype(_F64)
        low = (yl.view(np.uint64)[0::2] & _U64(0x7FF)).view(np.int64)
        low -= 1024
        np.abs(low, out=low)
        bad = low <= margin
        bad |= ~(np.abs(y) >= 2.0 ** -1000)     # zero, subnormal, inf, nan: let glibc decide
        bad &= y != 0
        bad |= ~np.isfinite(y)
    idx = np.flatnonzero(bad)
    if idx.size:
        y[idx] = _per_element(math_fn, np_fn, x.reshape(-1)[idx])
    return y.reshape(x.shape)


def _log(x: np.ndarray) -> np.ndarray:    # glibc log: < 0.52 ulp
    return _libm(x, math.log, np.log, 64)


def _exp(x: np.ndarray) -> np.ndarray:    # glibc exp: < 0.52 ulp
    return _libm(x, math.exp, np.exp, 64)


def _tan(x: np.ndarray) -> np.ndarray:    # glibc tan: measured < 0.57 ulp
    return _libm(x, math.tan, np.tan, 200)


def _log1p(x: np.ndarray) -> np.ndarray:
    # glibc's log1p is not within a small margin of correct rounding: evaluate it directly.
    return _per_element(math.log1p, np.log1p, np.asarray(x, _F64))

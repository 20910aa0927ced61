"""erf, erfc and erfinv on NumPy alone (no SciPy), to float64 accuracy.

erf/erfc use W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations
for the error function", Math. Comp. 23, 1969) on three ranges of |x|: [0, 0.46875], (0.46875, 4]
and (4, inf). erfinv starts from M. Giles' single-precision approximation ("Approximating the
erfinv function", GPU Computing Gems, 2011) and polishes it with two Halley steps on erf for |x| <= 0.5 and five Newton steps on log(erfc) beyond
(where 1 - |x| keeps the relative accuracy that erf(z) - |x| would lose).

Everything is evaluated in float64; float32/float16 inputs get their result rounded once.
"""

from __future__ import annotations

import sys

import numpy as np

# Cody's coefficients, in the order of his CALERF (lowest degree of the numerator last)
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_INV_SQRT_PI = 0.56418958354775628695
_TWO_OVER_SQRT_PI = 1.1283791670955125739
_SQRT_PI_OVER_2 = 0.88622692545275801365
_THRESH = 0.46875


def _rational(y: np.ndarray, num: tuple, den: tuple, n: int) -> np.ndarray:
    # Cody's Horner scheme: num[-1] starts the numerator, the denominator is monic
    xnum = num[-1] * y
    xden = y.copy()
    for i in range(n):  # (in place: a fresh array per step would double the cost)
        xnum += num[i]
        xnum *= y
        xden += den[i]
        xden *= y
    xnum += num[n]
    xden += den[n]
    xnum /= xden
    return xnum


def _exp_neg_sq(y: np.ndarray) -> np.ndarray:
    # exp(-y^2) with y^2 split as ysq^2 + del, ysq a multiple of 1/16 (so ysq^2 is exact): the
    # rounding error of y*y would otherwise be magnified by up to y^2 ~ 700 in the tail
    ysq = np.trunc(y * 16.0) / 16.0
    return np.exp(-ysq * ysq) * np.exp(-(y - ysq) * (y + ysq))


def _erfc_pos(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y > 0.46875 (Cody's second and third ranges)."""
    out = np.empty_like(y)
    mid = y <= 4.0
    ym = y[mid]
    out[mid] = _rational(ym, _C, _D, 7) * _exp_neg_sq(ym)
    yt = y[~mid]
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        z = 1.0 / (yt * yt)
        r = z * _rational(z, _P, _Q, 4)
        out[~mid] = np.where(yt >= 27.3, 0.0, (_INV_SQRT_PI - r) / yt * _exp_neg_sq(np.minimum(yt, 27.3)))
    return out


def _erf_small(x: np.ndarray) -> np.ndarray:
    # |x| <= 0.46875: x * R(x^2)
    return x * _rational(x * x, _A, _B, 3)


_CHUNK = 1 << 15


def _chunked(kernel, doc: str):
    # Evaluate a float64 kernel over cache-sized pieces of the flattened input: the kernels make
    # a dozen temporaries, which for a 4096x4096 input would each be a trip through main memory
    def run(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        flat = x.reshape(-1)
        out = np.empty(flat.shape, x.dtype)
        for i in range(0, flat.size, _CHUNK):
            out[i:i + _CHUNK] = kernel(flat[i:i + _CHUNK].astype(np.float64))
        return out.reshape(x.shape)

    run.__name__ = run.__qualname__ = kernel.__name__[1:-2]
    run.__doc__ = doc
    return run


def _erf64(x64: np.ndarray) -> np.ndarray:
    y = np.abs(x64)
    out = np.empty_like(x64)
    small = y <= _THRESH  # (False for NaN, which the large branch carries through)
    out[small] = _erf_small(x64[small])
    big = ~small
    xb = x64[big]
    with np.errstate(invalid="ignore"):
        out[big] = np.copysign(1.0 - _erfc_pos(np.abs(xb)), xb)
    return out


def _erfc64(x64: np.ndarray) -> np.ndarray:
    y = np.abs(x64)
    out = np.empty_like(x64)
    small = y <= _THRESH
    out[small] = 1.0 - _erf_small(x64[small])
    big = ~small
    xb = x64[big]
    r = _erfc_pos(np.abs(xb))
    with np.errstate(invalid="ignore"):
        out[big] = np.where(xb < 0, 2.0 - r, r)
    return out


def _erf_low64(x64: np.ndarray) -> np.ndarray:
    # erf for results rounded to float32/float16: both of Cody's inner ranges on the whole chunk and a
    # select, instead of gathering each range (a gather costs as much as the arithmetic). Beyond 4,
    # erf rounds to +-1 in float32 (erfc(4) = 1.5e-8 is under half an ulp of 1), so the middle range
    # clipped at 4 covers the tail; float64's accuracy in exp(-y^2) is plenty at float32 resolution.
    y = np.minimum(np.abs(x64), 4.0)  # (NaN propagates through minimum)
    mid = _rational(y, _C, _D, 7)
    y *= y
    mid *= np.exp(np.negative(y, out=y))
    np.subtract(1.0, mid, out=mid)
    np.copysign(mid, x64, out=mid)
    small = np.abs(x64) <= _THRESH
    return np.where(small, _erf_small(x64), mid)


_erf_exact = _chunked(_erf64, "")
_erf_low = _chunked(_erf_low64, "")


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's floating dtype."""
    if x.dtype == np.float32 or x.dtype == np.float16:
        # SciPy's float32 erf (double internally, rounded once) gives these same bits (checked on
        # millions of inputs, tests/test_special_numpy.py) 3-4x faster: use it when a program has
        # already imported it, never import it here (0.8 s)
        sp = sys.modules.get("scipy.special")
        if sp is not None and x.dtype == np.float32:
            return sp.erf(x)
        return _erf_low(x)
    return _erf_exact(x)
erfc = _chunked(_erfc64, "The complementary error function 1 - erf(x), accurate in relative terms for large x.")


def _giles(a: np.ndarray) -> np.ndarray:
    # Giles' single-precision erfinv for 0 <= a < 1: a polynomial in log(1 - a^2) (~1e-7 relative)
    with np.errstate(divide="ignore"):
        w = -np.log((1.0 - a) * (1.0 + a))
    central = w < 5.0
    wc = w - 2.5
    pc = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        pc = c + pc * wc
    wt = np.sqrt(w) - 3.0
    pt = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        pt = c + pt * wt
    return np.where(central, pc, pt) * a


def _erfinv64(x64: np.ndarray) -> np.ndarray:
    a = np.abs(x64)
    ok = a < 1.0
    ai = np.where(ok, a, 0.0)
    z = _giles(ai)
    tail = ai > 0.5
    zc, ac = z[~tail], ai[~tail]
    for _ in range(2):
        # Halley's step on f(z) = erf(z) - a, with f'' = -2 z f': z -= u / (1 + z u), u = f / f'
        u = (_erf64(zc) - ac) / (_TWO_OVER_SQRT_PI * _exp_neg_sq(zc))
        zc = zc - u / (1.0 + zc * u)
    zt, log_q = z[tail], np.log1p(-ai[tail])
    for _ in range(5):
        # Newton's step on log(erfc(z)) - log(1 - a): nearly linear in z^2 out here, so it
        # converges from Giles' guess even where that is off by a few percent (a -> 1)
        r = _erfc64(zt)
        zt = zt + (np.log(r) - log_q) * r / (_TWO_OVER_SQRT_PI * _exp_neg_sq(zt))
    z[~tail] = zc
    z[tail] = zt
    with np.errstate(invalid="ignore"):
        out = np.where(ok, np.copysign(z, x64), np.where(a == 1.0, np.copysign(np.inf, x64), np.nan))
    return out


erfinv = _chunked(_erfinv64, "The inverse error function on [-1, 1] (+-inf at +-1, NaN outside), in x's dtype.")

"""Elementary and special functions, elementwise: exp/log variants, inverse trigonometric and
hyperbolic functions, the error and gamma functions, rounding, sgn, logit, nan_to_num; each with
its derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _erf
from . import _float32 as _f32
from ._core import (
    Tensor,
    _c,
    _new,
    float_dtype_for,
    node_class,
    record,
    zeros_grad,
)
from .pointwise import (
    _LN2,
    _LN10,
    _TWO_OVER_SQRT_PI,
    _out,
    _sign_np,
    _unary,
    exp,
    not_implemented,
    where_,
)


def _zeros_grad(n: Any, g: Tensor) -> Tensor:
    return zeros_grad(g)


rsqrt, RsqrtBackward0 = _unary("rsqrt", _f32.rsqrt, lambda n, g: -0.5 * g * _c(n.result.pow(3)),
                               "-0.5 * grad * result^3", save_result=True)
exp2, Exp2Backward0 = _unary("exp2", np.exp2, lambda n, g: g * _c(n.result * _LN2), "grad * result * ln 2",
                             save_result=True)
expm1, Expm1Backward0 = _unary("expm1", _f32.expm1, lambda n, g: g * _c(n.result + 1), "grad * (result + 1)",
                               save_result=True)
log2, Log2Backward0 = _unary("log2", _f32.log2, lambda n, g: g / _c(n.saved[0] * _LN2), "grad / (self * ln 2)",
                             save_input=True)
log10, Log10Backward0 = _unary("log10", _f32.log10, lambda n, g: g / _c(n.saved[0] * _LN10), "grad / (self * ln 10)",
                               save_input=True)
log1p, Log1PBackward0 = _unary("log1p", _f32.log1p, lambda n, g: g / _c(n.saved[0] + 1), "grad / (self + 1)",
                               save_input=True)
tan, TanBackward0 = _unary("tan", _f32.tan, lambda n, g: g * _c(1 + n.result * n.result), "grad * (1 + result^2)",
                           save_result=True)
asin, AsinBackward0 = _unary("asin", np.arcsin, lambda n, g: g * _c(rsqrt(1 - n.saved[0] * n.saved[0])),
                             "grad / sqrt(1 - self^2)", save_input=True)
acos, AcosBackward0 = _unary("acos", np.arccos, lambda n, g: -g * _c(rsqrt(1 - n.saved[0] * n.saved[0])),
                             "-grad / sqrt(1 - self^2)", save_input=True)
atan, AtanBackward0 = _unary("atan", np.arctan, lambda n, g: g / _c(n.saved[0] * n.saved[0] + 1),
                             "grad / (self^2 + 1)", save_input=True)
sinh, SinhBackward0 = _unary("sinh", np.sinh, lambda n, g: g * _c(cosh(n.saved[0])), "grad * cosh(self)", save_input=True)
cosh, CoshBackward0 = _unary("cosh", np.cosh, lambda n, g: g * _c(sinh(n.saved[0])), "grad * sinh(self)", save_input=True)
asinh, AsinhBackward0 = _unary("asinh", np.arcsinh, lambda n, g: g * _c(rsqrt(n.saved[0] * n.saved[0] + 1)),
                               "grad / sqrt(self^2 + 1)", save_input=True)
def _acosh_grad(n: Any, g: Tensor) -> Tensor:
    x = n.saved[0]
    if x._data.dtype.kind == "c":  # sqrt(z^2 - 1) is on the wrong branch for complex z
        return g * _c(rsqrt(x - 1) * rsqrt(x + 1))
    return g * rsqrt(x * x - 1)


acosh, AcoshBackward0 = _unary("acosh", np.arccosh, _acosh_grad, "grad / sqrt(self^2 - 1) (complex: sqrt(self - 1) sqrt(self + 1))",
                               save_input=True)
atanh, AtanhBackward0 = _unary("atanh", np.arctanh, lambda n, g: g / _c(1 - n.saved[0] * n.saved[0]),
                               "grad / (1 - self^2)", save_input=True)


def scipy_special(name: str, module: str = "special", what: str | None = None) -> Any:
    """A SciPy function (``scipy.<module>.<name>``; SciPy is imported on first use, so ``import
    ember`` stays fast); a clear error naming ember's ``special`` extra when SciPy is missing."""
    import importlib

    try:
        mod = importlib.import_module(f"scipy.{module}")
    except ImportError:
        raise ImportError(f"ember's {what or name} needs SciPy: pip install scipy (from ember's checkout: pip install -e '.[special]')") from None
    return getattr(mod, name)


def _special(name: str, *args: Any) -> np.ndarray:
    x = args[-1]
    r = np.asarray(scipy_special(name)(*args), dtype=x.dtype)
    if name == "gammaln":  # C's lgamma, as torch: lgamma(-inf) is +inf (SciPy's gammaln gives -inf)
        r = np.where(np.isneginf(x), r.dtype.type(np.inf), r)
    return r


# erf, erfc and erfinv are NumPy-only (ops/_erf.py), so nn.GELU runs without SciPy
erf, ErfBackward0 = _unary("erf", _erf.erf, lambda n, g: g * _TWO_OVER_SQRT_PI * exp(-(n.saved[0] * n.saved[0])),
                           "2 / sqrt(pi) * exp(-self^2) * grad", save_input=True)
erfc, ErfcBackward0 = _unary("erfc", _erf.erfc, lambda n, g: -g * _TWO_OVER_SQRT_PI * exp(-(n.saved[0] * n.saved[0])),
                             "-2 / sqrt(pi) * exp(-self^2) * grad", save_input=True)
# (torch's saves self and recomputes erfinv(self), so an in-place change to the result is allowed)
erfinv, ErfinvBackward0 = _unary("erfinv", _erf.erfinv,
                                 lambda n, g: g * (0.5 * float(np.sqrt(np.pi))) * exp(n.saved[0].erfinv() ** 2),
                                 "sqrt(pi) / 2 * exp(erfinv(self)^2) * grad", save_input=True)
_frac, FracBackward0 = _unary("frac", lambda x: x - np.trunc(x), lambda n, g: g, "grad")


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise fractional part, x - trunc(x) (floating-point tensors only, as in torch)."""
    if isinstance(input, Tensor) and not input.is_floating_point():
        raise not_implemented("frac_cpu", input._data.dtype)
    return _frac(input, out=out)


# log-gamma and its derivatives (SciPy)
lgamma, LgammaBackward0 = _unary("lgamma", lambda x: _special("gammaln", x), lambda n, g: g * digamma(n.saved[0]),
                                 "grad * digamma(self)", save_input=True)
digamma, DigammaBackward0 = _unary("digamma", lambda x: _special("psi", x),
                                   lambda n, g: g * polygamma(1, n.saved[0]), "grad * polygamma(1, self)",
                                   save_input=True)
PolygammaBackward0 = node_class("polygamma", lambda n, g: g * polygamma(n.attrs + 1, n.saved[0]),
                                "grad * polygamma(n + 1, self)", layout="iterated")


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of the digamma function (polygamma(0, x) is digamma(x))."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(float_dtype_for(x.dtype))
    res = _special("psi", x) if n == 0 else _trigamma(x) if n == 1 else _special("polygamma", int(n), x)
    if n >= 2:  # (torch's zeta(n + 1, inf) is NaN, so its polygamma there too)
        res = np.where(np.isposinf(x), res.dtype.type(np.nan), res)
    return record(PolygammaBackward0, res, (input,), (input,), attrs=int(n))


def _trigamma(x: np.ndarray) -> np.ndarray:
    """polygamma(1, x), with torch's reflection below 0.5: pi^2 / sin(pi x)^2 - polygamma(1, 1 - x), its
    sin(pi * x) in x's precision, which is rounding-small rather than 0 at the negative integers (so
    the poles there give torch's large finite values, and digamma's gradient with them; NaN at -inf).
    The rest is SciPy's (torch's series is only good to about 1e-9)."""
    dt = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    v = x.astype(dt)
    pi = dt.type(np.pi)
    with np.errstate(all="ignore"):
        small = v < 0.5
        s = np.sin(pi * v)
        refl = (pi * pi) / (s * s)
        rest = scipy_special("polygamma")(1, np.where(small, 1 - v, v).astype(np.float64))
        return np.where(small, refl - rest, rest).astype(x.dtype)


def _rounding(name: str, fwd: Any) -> tuple:
    cls = node_class(name, _zeros_grad, "0 (piecewise constant)", layout="iterated")

    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        x = input._data
        if x.dtype == np.bool_:
            raise not_implemented(f"{name}_vml_cpu", x.dtype)
        res = x.copy() if x.dtype.kind in "iu" else fwd(x)
        return _out(record(cls, res, (input,)), out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (integers are returned unchanged); the gradient is zero."
    return op, cls


floor, FloorBackward0 = _rounding("floor", np.floor)
ceil, CeilBackward0 = _rounding("ceil", np.ceil)
trunc, TruncBackward0 = _rounding("trunc", np.trunc)
fix = trunc
RoundBackward0 = node_class("round", _zeros_grad, "0 (piecewise constant)", layout="iterated")
RoundBackward1 = node_class("round", _zeros_grad, "0 (piecewise constant)", suffix=1, layout="iterated")


def round(input: Tensor, *, decimals: int | None = None, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Round half to even; ``decimals`` rounds to that many decimal places."""
    x = input._data
    # torch has two overloads: without ``decimals`` (RoundBackward0, integers pass through) and with it,
    # even 0 (RoundBackward1, floating point only)
    if x.dtype == np.bool_ or (decimals is not None and x.dtype.kind in "iu"):
        raise not_implemented("round_cpu" if decimals else "round_vml_cpu", x.dtype)
    if x.dtype.kind in "iu":
        return _out(record(RoundBackward0, x.copy(), (input,)), out)
    if not decimals:
        return _out(record(RoundBackward0 if decimals is None else RoundBackward1, np.round(x), (input,)), out)
    with np.errstate(all="ignore"):
        if decimals > 0:
            s = x.dtype.type(10.0 ** decimals)
            res = np.round(x * s) / s
        else:
            s = x.dtype.type(10.0 ** -decimals)
            res = np.round(x / s) * s
    return _out(record(RoundBackward1, res.astype(x.dtype, copy=False), (input,)), out)


def _sgn_grad(n: Any, g: Tensor) -> Tensor:
    if n.attrs:  # real input: piecewise constant (torch saves self and the result all the same: an in-place change is an error)
        return zeros_grad(g)
    x = n.saved[0]
    # s = z / |z| moves only along the circle: the radial part of grad drops out, the rest is
    # scaled by 1 / |z| (and 0 at z = 0, with a safe denominator so higher orders stay finite)
    from .complex import real

    s, a = n.result, x.abs()
    zero = a == 0
    r = (g - real(g * _c(s)) * s) / where_(zero, 1.0, a)
    return where_(zero, 0.0, r)


SgnBackward0 = node_class("sgn", _sgn_grad, "(grad - real(grad * sgn.conj()) * sgn) / abs(self); 0 for real inputs", layout="iterated")


def sgn(input: Tensor) -> Tensor:
    """sign for real tensors, x / |x| for complex ones."""
    x = input._data
    if x.dtype.kind == "c":
        with np.errstate(all="ignore"):
            a = np.abs(x)
            res = np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype)
        return record(SgnBackward0, res, (input,), (input,), save_result=True)
    return record(SgnBackward0, _sign_np(x) if x.dtype != np.bool_ else x.copy(), (input,), (input,), save_result=True,
                  attrs=True)


LogitBackward0 = node_class(
    "logit", lambda n, g: _logit_grad(n.saved[0], g, n.attrs), "grad / (self * (1 - self)), 0 or nan outside the range", layout="iterated")


def _logit_grad(x: Tensor, g: Tensor, eps: Any) -> Tensor:
    from .indexing import where

    d = g / (x * (1 - x))
    xd = x._data
    if eps is None:
        return where(_new((xd < 0) | (xd > 1)), float("nan"), d)
    return where(_new((xd < eps) | (xd > 1 - eps)), 0.0, d)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)); with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(float_dtype_for(x.dtype))
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    with np.errstate(all="ignore"):
        res = np.log(x / (1 - x))
    return record(LogitBackward0, res, (input,), (input,), attrs=eps)


NanToNumBackward0 = node_class("nan_to_num", lambda n, g: g * _new(np.isfinite(n.saved[0]._data)),
                               "grad * isfinite(self)", layout="iterated")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """Replace NaN with ``nan`` and infinities with ``posinf``/``neginf`` (default: the dtype's extremes)."""
    x = input._data
    if x.dtype.kind not in "fc":
        return record(NanToNumBackward0, x.copy(), (input,), (input,))
    res = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
    return record(NanToNumBackward0, res, (input,), (input,))

"""The special functions of ``torch.special`` that ember's pointwise ops do not already provide.

Values come from SciPy (imported on first use, see ``scipy_special``) or from short recurrences;
each derivative torch implements is a formula in ember ops. Functions torch does not differentiate
(the Bessel and Airy functions, the orthogonal polynomials) return results that do not require
grad, as in torch; partial derivatives torch lacks raise torch's error when backward reaches them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from ._core import _c, node_class, record, result_dtype
from ._strides import iterated
from .binary_functions import (
    _float_binary,
)
from .elementary import (
    scipy_special,
)
from .pointwise import (
    _out,
    _unary,
    not_implemented,
)

_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _no_half(kernel: str, fn: Any) -> Any:
    """``fn`` on arrays, raising torch's missing-kernel error for float16 (torch has no Half kernel)."""
    def forward(x: np.ndarray, *rest: Any) -> np.ndarray:
        if x.dtype == np.float16:
            raise not_implemented(f"{kernel}_cpu", x.dtype)
        return fn(x, *rest)

    return forward


def _sp(name: str) -> Any:
    return lambda x: np.asarray(scipy_special(name)(x), dtype=x.dtype)


def _const(v: np.ndarray) -> Tensor:
    return _new(np.asarray(v))


# ---------------------------------------------------------------------------- Bessel functions of order 0, 1
def _nonzero(x: Tensor) -> tuple:
    """torch's: ``x`` with the elements not above its dtype's epsilon in size (NaN too) replaced by
    epsilon (so 1 / x stays finite there, to any order), and the mask of those elements."""
    eps = float(np.finfo(x._data.dtype).eps)
    with np.errstate(invalid="ignore"):
        mask = _const(~(np.abs(x._data) > eps))
    return x.masked_fill(mask, eps), mask


def _i1_grad(n: Any, g: Tensor) -> Tensor:
    x, r = n.saved[0], n.result
    xs, mask = _nonzero(x)
    return g * (i0(x) - r / xs).masked_fill(mask, 0.5)


def _i1e_grad(n: Any, g: Tensor) -> Tensor:
    x, r = n.saved[0], n.result
    xs, mask = _nonzero(x)
    return g * (i0e(x) - r * (x.sgn() + xs.reciprocal())).masked_fill(mask, 0.5)


i0, I0Backward0 = _unary("i0", _sp("i0"), lambda n, g: g * i1(n.saved[0]), "grad * i1(self)", save_input=True)
i0e, SpecialI0EBackward0 = _unary("special_i0e", _sp("i0e"),
                                  lambda n, g: g * (i0e(n.saved[0]) * -n.saved[0].sgn() + i1e(n.saved[0])),
                                  "grad * (i1e(self) - sgn(self) * i0e(self))", save_input=True)
i1, SpecialI1Backward0 = _unary("special_i1", _sp("i1"), _i1_grad, "grad * (i0(self) - result / self), 0.5 at 0",
                                save_input=True, save_result=True)
i1e, SpecialI1EBackward0 = _unary("special_i1e", _sp("i1e"), _i1e_grad,
                                  "grad * (i0e(self) - result * (sgn(self) + 1 / self)), 0.5 at 0",
                                  save_input=True, save_result=True)


# ---------------------------------------------------------------------------- error-function family
def _erfcx_np(x: np.ndarray) -> np.ndarray:
    return np.asarray(scipy_special("erfcx")(x), dtype=x.dtype)


def _log_ndtr_np(x: np.ndarray) -> np.ndarray:
    return np.asarray(scipy_special("log_ndtr")(x), dtype=x.dtype)


def _ndtri_np(x: np.ndarray) -> np.ndarray:
    return np.asarray(scipy_special("ndtri")(x), dtype=x.dtype)


erfcx, SpecialErfcxBackward0 = _unary(
    "special_erfcx", _no_half("erfcx", _erfcx_np), lambda n, g: g * (n.saved[0] * n.result * 2 - _TWO_OVER_SQRT_PI),
    "grad * (2 * self * result - 2 / sqrt(pi))", save_input=True, save_result=True)
log_ndtr, SpecialLogNdtrBackward0 = _unary(
    "special_log_ndtr", _no_half("log_ndtr", _log_ndtr_np),
    lambda n, g: g / _SQRT_2PI * (n.result + n.saved[0] * n.saved[0] / 2).neg().exp(),
    "grad / sqrt(2 pi) * exp(-(result + self^2 / 2))", save_input=True, save_result=True)
ndtri, SpecialNdtriBackward0 = _unary(
    "special_ndtri", _no_half("ndtri", _ndtri_np), lambda n, g: g * _SQRT_2PI * (n.result * n.result / 2).exp(),
    "grad * sqrt(2 pi) * exp(result^2 / 2)", save_result=True)

for _f, _n in ((i0e, "i0e"), (i1, "i1"), (i1e, "i1e"), (erfcx, "erfcx"), (log_ndtr, "log_ndtr"), (ndtri, "ndtri")):
    _f.__name__ = _f.__qualname__ = _n  # (the node names keep torch's special_ prefix)
    _f.__doc__ = (_f.__doc__ or "").replace("special_", "")

MulBackward1 = node_class("mul", lambda n, g: g * n.attrs, "grad * other (a number)", suffix=1, layout="iterated")
DivBackward1 = node_class("div", lambda n, g: g / n.attrs, "grad / other (a number)", suffix=1, layout="iterated")


def mul_scalar(t: Tensor, s: float) -> Tensor:
    """t * s for a Python number ``s``, recorded as torch's mul.Scalar (MulBackward1)."""
    return record(MulBackward1, t._data * s, (t,), attrs=s)


def div_scalar(t: Tensor, s: float) -> Tensor:
    """t / s for a Python number ``s``, recorded as torch's div.Scalar (DivBackward1)."""
    return record(DivBackward1, t._data / s, (t,), attrs=s)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal distribution function, (1 + erf(x / sqrt 2)) / 2."""
    from .elementary import (
        erf,
    )

    x = input if input._data.dtype.kind in "fc" else input.to(_dtype.get_default_dtype())
    return mul_scalar(erf(x * math.sqrt(0.5)) + 1, 0.5)


def _entr_np(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0.0, -np.inf))
    return np.where(np.isnan(x), x, out).astype(x.dtype)


entr, SpecialEntrBackward0 = _unary("special_entr", _entr_np, lambda n, g: g * -(n.saved[0].log() + 1),
                                    "grad * -(1 + log(self))", save_input=True)
entr.__name__ = entr.__qualname__ = "entr"
entr.__doc__ = "Elementwise entropy -x log x (0 at 0, -inf below); derivative: -(1 + log(self))."


def _sinc_grad(n: Any, g: Tensor) -> Tensor:
    # torch's sinc_backward: the quotient at x itself, replaced by 0 where pi x^2 == 0 (so the
    # second derivative at 0 is torch's NaN, the 0 * inf of the unselected branch)
    from .indexing import where

    x = n.saved[0]
    px, pxx = x * math.pi, x * x * math.pi
    return where(_new(pxx._data == 0), 0.0, g * _c((px * px.cos() - px.sin()) / pxx))


def _sinc_np(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # sinc(inf) is NaN, as in torch; float16 computes in float32
        return np.sinc(x.astype(np.float32) if x.dtype == np.float16 else x).astype(x.dtype, copy=False)


sinc, SincBackward0 = _unary("sinc", _sinc_np, _sinc_grad, "grad * (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at 0",
                             save_input=True)


# ---------------------------------------------------------------------------- binary special functions
def _xlog1py_self(n: Any, g: Tensor, x: Tensor, y: Tensor) -> Tensor:
    from .binary_functions import (
        xlogy,
    )

    mask = _const((x._data == 0) & (y._data <= -1))
    return xlogy(g, y + 1).masked_fill(mask, 0)


SpecialXlog1PyBackward0 = node_class(
    "special_xlog1py", lambda n, g: (_xlog1py_self(n, g, *n.saved) if n.needs[0] else None,
                                     g * n.saved[0] / (n.saved[1] + 1) if n.needs[1] else None),
    "xlog1py(grad, other), grad * self / (other + 1)", layout="iterated")
SpecialXlog1PyBackward1 = node_class("special_xlog1py", lambda n, g: g * n.saved[0] / (n.saved[1] + 1),
                                     "grad * self / (other + 1)", suffix=1, layout="iterated")
SpecialXlog1PyBackward2 = node_class("special_xlog1py", lambda n, g: _xlog1py_self(n, g, *n.saved),
                                     "xlog1py(grad, other)", suffix=2, layout="iterated")


def xlog1py(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """input * log1p(other), and 0 where input == 0 (unless other is NaN)."""
    xa, xb, ta, tb = _float_binary(input, other)
    with np.errstate(all="ignore"):
        res = np.where(xa == 0, np.where(np.isnan(xb), np.nan, 0.0), xa * np.log1p(xb)).astype(np.result_type(xa, xb))
    sa, sb = _new(np.asarray(xa)), _new(np.asarray(xb))
    if tb is None:
        return _out(record(SpecialXlog1PyBackward2, res, (ta,), (sa, sb)), out)
    if ta is None:
        return _out(record(SpecialXlog1PyBackward1, res, (tb,), (sa, tb)), out)
    return _out(record(SpecialXlog1PyBackward0, res, (ta, tb), (input, other)), out)


def _no_derivative(what: str) -> None:
    raise NotImplementedError(f"the derivative for '{what}' is not implemented.")


def _zeta_other(n: Any, g: Tensor, x: Tensor, q: Tensor) -> Tensor:
    return g * -x * zeta(x + 1.0, q)


SpecialZetaBackward0 = node_class(
    "special_zeta", lambda n, g: (_no_derivative("zeta") if n.needs[0] else None,
                                  _zeta_other(n, g, *n.saved) if n.needs[1] else None),
    "not implemented, grad * -self * zeta(self + 1, other)", layout="iterated")
SpecialZetaBackward1 = node_class("special_zeta", lambda n, g: _zeta_other(n, g, *n.saved),
                                  "grad * -self * zeta(self + 1, other)", suffix=1, layout="iterated")
SpecialZetaBackward2 = node_class("special_zeta", lambda n, g: _no_derivative("zeta"), "not implemented", suffix=2, layout="iterated")


def zeta(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """The Hurwitz zeta function: the sum over k >= 0 of (k + other) ** -input."""
    xa, xb, ta, tb = _float_binary(input, other)
    rt = np.result_type(xa, xb)
    if rt == np.float16:
        raise not_implemented("zeta_cpu", rt)
    res = np.asarray(scipy_special("zeta")(xa, xb)).astype(rt)
    sa, sb = _new(np.asarray(xa)), _new(np.asarray(xb))
    if tb is None:
        return _out(record(SpecialZetaBackward2, res, (ta,), (sa, sb)), out)
    if ta is None:
        return _out(record(SpecialZetaBackward1, res, (tb,), (sa, other)), out)
    return _out(record(SpecialZetaBackward0, res, (ta, tb), (input, other)), out)


def _igamma_other(n: Any, g: Tensor, sign: float) -> Tensor:
    from .elementary import (
        lgamma,
    )

    a, x = n.saved
    return g * ((a - 1) * x.log() - x - lgamma(a)).exp() * sign


IgammaBackward0 = node_class(
    "igamma", lambda n, g: (_no_derivative("igamma: input") if n.needs[0] else None,
                            _igamma_other(n, g, 1.0) if n.needs[1] else None),
    "not implemented, grad * exp((self - 1) * log(other) - other - lgamma(self))", layout="iterated")
IgammacBackward0 = node_class(
    "igammac", lambda n, g: (_no_derivative("igammac: input") if n.needs[0] else None,
                             _igamma_other(n, g, -1.0) if n.needs[1] else None),
    "not implemented, -grad * exp((self - 1) * log(other) - other - lgamma(self))", layout="iterated")


def _igamma(name: str, kernel: str, node: type, input: Tensor, other: Tensor, out: Tensor | None) -> Tensor:
    from .pointwise_extra import require_tensors

    require_tensors(f"special_{name}", input, other)
    rt = result_dtype(input, other)
    if rt.np.kind not in "f":
        raise not_implemented(kernel, rt.np)
    a, x = input._data.astype(rt.np, copy=False), other._data.astype(rt.np, copy=False)
    res = np.asarray(scipy_special(name)(a, x)).astype(rt.np)
    return _out(record(node, res, (input, other), (input, other)), out)


def gammainc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other)."""
    return _igamma("gammainc", "igamma_cpu", IgammaBackward0, input, other, out)


def gammaincc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P(input, other)."""
    return _igamma("gammaincc", "igammac_cpu", IgammacBackward0, input, other, out)


def _mvlgamma_grad(n: Any, g: Tensor) -> Tensor:
    from .elementary import (
        digamma,
    )

    x, p = n.saved[0], n.attrs
    offsets = _new(-np.arange(p, dtype=x._data.dtype) / 2)
    return g * digamma(x.unsqueeze(-1) + offsets).sum(-1)


# (torch computes it as a sum over a new last dim: a reduction, contiguous)
MvlgammaBackward0 = node_class("mvlgamma", _mvlgamma_grad, "grad * sum_j digamma(self - j / 2)", layout="contiguous")


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(_dtype.get_default_dtype().np)
    gammaln = scipy_special("gammaln")
    res = p * (p - 1) / 4 * math.log(math.pi) + sum(gammaln(x - j / 2) for j in range(p))
    return _out(record(MvlgammaBackward0, np.asarray(res, x.dtype), (input,), (input,), attrs=int(p)), out)


# ---------------------------------------------------------------------------- functions torch does not differentiate
def _float_array(input: Any) -> np.ndarray:
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return x if x.dtype.kind == "f" else x.astype(_dtype.get_default_dtype().np)


def _undifferentiated(scipy_name: str, doc: str, kernel: str) -> Any:
    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        x = _float_array(input)
        if x.dtype == np.float16:
            raise not_implemented(f"{kernel}_cpu", x.dtype)
        return _out(_new(iterated(np.asarray(scipy_special(scipy_name)(x), dtype=x.dtype), x)), out)

    op.__name__ = op.__qualname__ = kernel
    op.__doc__ = doc + " (not differentiable, as in torch)."
    return op


bessel_j0 = _undifferentiated("j0", "The Bessel function of the first kind of order 0", "bessel_j0")
bessel_j1 = _undifferentiated("j1", "The Bessel function of the first kind of order 1", "bessel_j1")
bessel_y0 = _undifferentiated("y0", "The Bessel function of the second kind of order 0", "bessel_y0")
bessel_y1 = _undifferentiated("y1", "The Bessel function of the second kind of order 1", "bessel_y1")
modified_bessel_i0 = _undifferentiated("i0", "The modified Bessel function of the first kind of order 0", "modified_bessel_i0")
modified_bessel_i1 = _undifferentiated("i1", "The modified Bessel function of the first kind of order 1", "modified_bessel_i1")
modified_bessel_k0 = _undifferentiated("k0", "The modified Bessel function of the second kind of order 0", "modified_bessel_k0")
modified_bessel_k1 = _undifferentiated("k1", "The modified Bessel function of the second kind of order 1", "modified_bessel_k1")
scaled_modified_bessel_k0 = _undifferentiated("k0e", "exp(x) * K0(x)", "scaled_modified_bessel_k0")
scaled_modified_bessel_k1 = _undifferentiated("k1e", "exp(x) * K1(x)", "scaled_modified_bessel_k1")


def airy_ai(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Airy function Ai (not differentiable, as in torch)."""
    x = _float_array(input)
    if x.dtype == np.float16:
        raise not_implemented("airy_ai_cpu", x.dtype)
    return _out(_new(iterated(np.asarray(scipy_special("airy")(x)[0], dtype=x.dtype), x)), out)


def spherical_bessel_j0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The spherical Bessel function of the first kind of order 0, sin(x) / x (not differentiable)."""
    x = _float_array(input)
    if x.dtype == np.float16:
        raise not_implemented("spherical_bessel_j0_cpu", x.dtype)
    with np.errstate(all="ignore"):
        res = np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1, x))
    return _out(_new(iterated(np.asarray(res, dtype=x.dtype), x)), out)


# ---------------------------------------------------------------------------- orthogonal polynomials
def _three_term(first: Any, step: Any) -> Any:
    """A polynomial family from p_0 = 1, p_1 = first(x) and p_{k+1} = step(k, x, p_k, p_{k-1})."""
    def evaluate(x: np.ndarray, n: np.ndarray) -> np.ndarray:
        top = int(n.max()) if n.size else 0
        prev, cur = np.ones_like(x), first(x)
        out = np.where(n == 0, prev, 0.0)
        out = np.where(n == 1, cur, out)
        for k in range(1, top):
            prev, cur = cur, step(k, x, cur, prev)
            out = np.where(n == k + 1, cur, out)
        return out

    return evaluate


_POLY = {
    "chebyshev_polynomial_t": _three_term(lambda x: x, lambda k, x, p, q: 2 * x * p - q),
    "chebyshev_polynomial_u": _three_term(lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - q),
    "chebyshev_polynomial_v": _three_term(lambda x: 2 * x - 1, lambda k, x, p, q: 2 * x * p - q),
    "chebyshev_polynomial_w": _three_term(lambda x: 2 * x + 1, lambda k, x, p, q: 2 * x * p - q),
    "hermite_polynomial_h": _three_term(lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - 2 * k * q),
    "hermite_polynomial_he": _three_term(lambda x: x, lambda k, x, p, q: x * p - k * q),
    "laguerre_polynomial_l": _three_term(lambda x: 1 - x, lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1)),
    "legendre_polynomial_p": _three_term(lambda x: x, lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1)),
}


def _polynomial(name: str, shifted: bool = False) -> Any:
    family = _POLY[name.replace("shifted_", "")]

    def op(input: Any, n: Any, *, out: Tensor | None = None) -> Tensor:
        rt = result_dtype(input, n).np
        if rt.kind != "f":
            rt = _dtype.get_default_dtype().np
        x = np.asarray(input._data if isinstance(input, Tensor) else input, dtype=rt)
        k = np.asarray(n._data if isinstance(n, Tensor) else n)
        k = np.where(np.isnan(k), -1, k).astype(np.int64) if k.dtype.kind == "f" else k.astype(np.int64)
        x, k = np.broadcast_arrays(x, k)
        res = np.where(k < 0, 0.0, family(2 * x - 1 if shifted else x, np.maximum(k, 0)))
        return _out(_new(iterated(np.asarray(res, dtype=rt), input, n)), out)

    op.__name__ = name
    op.__doc__ = f"The {name.replace('_', ' ')} of degree ``n`` at ``input`` (not differentiable, as in torch)."
    return op


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h")
hermite_polynomial_he = _polynomial("hermite_polynomial_he")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l")
legendre_polynomial_p = _polynomial("legendre_polynomial_p")

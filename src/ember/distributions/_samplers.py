"""Samplers torch has as ATen ops that ember's op table lacks: ``_standard_gamma``,
``_sample_dirichlet`` and ``binomial``.

They live here, beside the families that use them, and draw from ember's generator exactly what
torch's CPU kernels draw (one element at a time, in order: 53-bit double uniforms and the cached
double Box-Muller normals), so Gamma, Beta, Dirichlet, Chi2, StudentT and Binomial samples equal
torch's for the same seed. The reparameterised gradients (d sample / d concentration) are the
implicit ones, ``-(dF/dalpha) / f``; torch evaluates the same quantity with rational
approximations, so the two agree to about 1e-3 relative, not bit for bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor
from . import _ops as ops

_ATEN_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
_F32_ONE_THIRD = float(np.float32(1.0) / np.float32(3.0))  # torch's 1.0f / 3.0f
_F32_0331 = float(np.float32(0.0331))


def _gamma_one(alpha: float, single: bool, u53: Any, normal: Any) -> float:
    """One Gamma(alpha, 1) draw by Marsaglia and Tsang's method, boosting alpha < 1 by a uniform
    power; ``single`` rounds the steps torch performs in float32 for a float32 alpha."""
    rnd = (lambda v: float(np.float32(v))) if single else (lambda v: v)
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= math.pow(1.0 - u53(), rnd(1.0 / alpha))
        alpha = rnd(alpha + 1.0)
    d = rnd(alpha - _F32_ONE_THIRD)
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1.0 - u53()
        xx = x * x
        if u < 1.0 - _F32_0331 * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _draws(generator: Any = None) -> tuple[Any, Any]:
    g = generator if generator is not None else ops.default_generator
    return (lambda: float(g._u53(1)[0])), (lambda: float(g._standard_normals(1)[0]))


def _gamma_array(alpha: np.ndarray, single: bool) -> np.ndarray:
    u53, normal = _draws()
    flat = np.ascontiguousarray(alpha).reshape(-1).astype(np.float64).tolist()
    return np.array([_gamma_one(a, single, u53, normal) for a in flat], dtype=np.float64).reshape(alpha.shape)


def _gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """d x / d alpha for x ~ Gamma(alpha, 1) held at a fixed CDF value: ``-(dP/dalpha) / pdf``.

    dP/dalpha comes from a central difference of the regularised incomplete gamma (of Q = 1 - P
    past the median, where P is near 1 and would lose digits)."""
    a = ops.tensor(alpha, dtype=ops.float64)
    xt = ops.tensor(x, dtype=ops.float64)
    h = 1e-5 * np.maximum(alpha, 1.0)
    ht = ops.tensor(h, dtype=ops.float64)
    upper = x > alpha
    p_hi = np.where(upper, -ops.special.gammaincc(a + ht, xt).numpy(), ops.special.gammainc(a + ht, xt).numpy())
    p_lo = np.where(upper, -ops.special.gammaincc(a - ht, xt).numpy(), ops.special.gammainc(a - ht, xt).numpy())
    dp = (p_hi - p_lo) / (2 * h)
    log_pdf = (alpha - 1) * np.log(x) - x - ops.lgamma(a).numpy()
    out = -dp / np.exp(log_pdf)
    return np.where(np.isfinite(out), out, 0.0)


class _StandardGamma(ops.autograd.Function):
    """``torch._standard_gamma``: Gamma(alpha, 1) samples, differentiable in alpha."""

    @staticmethod
    def forward(ctx: Any, alpha: Tensor) -> Tensor:
        a = alpha.detach().numpy()
        if a.dtype.kind != "f":
            raise NotImplementedError(f"\"gamma_cpu\" not implemented for '{_ATEN_NAMES.get(a.dtype.name, a.dtype.name)}'")
        sample = _gamma_array(a, a.dtype == np.float32).astype(a.dtype)
        sample = np.maximum(sample, np.finfo(a.dtype).tiny)
        out = ops.tensor(sample, dtype=alpha.dtype)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Tensor:
        alpha, out = ctx.saved_tensors
        a = alpha.detach().numpy().astype(np.float64)
        grad = _gamma_grad(a, out.detach().numpy().astype(np.float64))
        return grad_output * ops.tensor(grad, dtype=alpha.dtype)


def standard_gamma(alpha: Tensor) -> Tensor:
    """Gamma(alpha, 1) samples drawn as torch's ``_standard_gamma`` draws them (reparameterised)."""
    return _StandardGamma.apply(alpha)


def _betacf(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of the incomplete beta function (modified Lentz), elementwise."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, 400):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            h = h * d * c
        if np.all(np.abs(d * c - 1.0) < 1e-16):
            break
    return h


def _betainc(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The regularised incomplete beta function I_x(a, b) (float64 NumPy)."""
    from math import lgamma

    lg = np.vectorize(lgamma)
    log_front = lg(a + b) - lg(a) - lg(b) + a * np.log(x) + b * np.log1p(-x)
    direct = x < (a + 1.0) / (a + b + 2.0)
    # the continued fraction converges fast below the mean; above it, use I_x(a, b) = 1 - I_(1-x)(b, a)
    lower = np.exp(log_front) * _betacf(a, b, x) / a
    upper = 1.0 - np.exp(log_front) * _betacf(b, a, 1.0 - x) / b
    return np.where(direct, lower, upper)


def _dirichlet_grad(x: np.ndarray, alpha: np.ndarray, total: np.ndarray) -> np.ndarray:
    """What torch's ``_dirichlet_grad`` approximates: ``(d x / d alpha) / (1 - x)`` for the Beta(alpha,
    total - alpha) marginal x held at a fixed CDF value, with beta fixed; d x / d alpha is
    ``-(dI/dalpha) / pdf``. (Raising alpha_i with the others fixed raises the total, so the
    marginal's beta stays put; the backward's projection spreads ``-x_j`` of it over the rest.)"""
    from math import lgamma

    lg = np.vectorize(lgamma)
    b = total - alpha
    h = 1e-6 * alpha
    di = (_betainc(alpha + h, b, x) - _betainc(alpha - h, b, x)) / (2 * h)
    log_pdf = (alpha - 1) * np.log(x) + (b - 1) * np.log1p(-x) + lg(total) - lg(alpha) - lg(b)
    out = -di / np.exp(log_pdf) / (1 - x)
    return np.where(np.isfinite(out), out, 0.0)


class _Dirichlet(ops.autograd.Function):
    """``torch._sample_dirichlet`` with the reparameterised backward of torch's ``_Dirichlet``."""

    @staticmethod
    def forward(ctx: Any, concentration: Tensor) -> Tensor:
        a = concentration.detach().numpy()
        # gammas in double so small concentrations do not underflow, then normalised and clamped
        gammas = np.maximum(_gamma_array(a, False), np.finfo(np.float64).tiny)
        total = gammas.sum(-1, keepdims=True)
        x = (gammas / total).astype(a.dtype)
        x = np.clip(x, np.finfo(a.dtype).tiny, np.nextafter(a.dtype.type(1), a.dtype.type(0)))
        out = ops.tensor(x, dtype=concentration.dtype)
        ctx.save_for_backward(concentration, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> Tensor:
        concentration, x = ctx.saved_tensors
        alpha = concentration.detach().numpy().astype(np.float64)
        total = np.broadcast_to(alpha.sum(-1, keepdims=True), alpha.shape)
        # d x_j / d alpha_i = grad_i (delta_ij - x_j): x_i moves along its Beta marginal, the rest rescale
        grad = ops.tensor(_dirichlet_grad(x.detach().numpy().astype(np.float64), alpha, total),
                            dtype=concentration.dtype)
        return grad * (grad_output - (x * grad_output).sum(-1, True))


def sample_dirichlet(concentration: Tensor) -> Tensor:
    """Dirichlet samples drawn as torch's ``_sample_dirichlet`` draws them (reparameterised)."""
    return _Dirichlet.apply(concentration)


# --------------------------------------------------------------------------- binomial
def _stirling_tail(k: float) -> float:
    """log(k!) minus its Stirling approximation: a table below 10, the asymptotic series above."""
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


_STIRLING_TAIL = [math.lgamma(k + 1) - ((k + 0.5) * math.log(k + 1) - (k + 1) + 0.5 * math.log(2 * math.pi))
                  for k in range(10)]


def _btrs(n: float, p: float, u53: Any) -> float:
    """Hormann's transformed rejection with squeeze (BTRS), for n * p >= 10."""
    stddev = math.sqrt(n * p * (1 - p))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    r = p / (1 - p)
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor((n + 1) * p)
    while True:
        u = u53() - 0.5
        v = u53()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return float(k)
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (n - m + 1))) + (n + 1) * math.log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * math.log(r * (n - k + 1) / (k + 1)) + _stirling_tail(m) + _stirling_tail(n - m)
                 - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= upper:
            return float(k)


def _inversion(n: float, p: float, u53: Any) -> float:
    """Count geometric waiting times until they pass n (for n * p < 10)."""
    geom_sum = 0.0
    num_geom = 0.0
    logprob = math.log1p(-p)
    while True:
        u = u53()
        geom_sum += math.ceil(math.log(u) / logprob) if u > 0 else math.inf
        if geom_sum > n:
            return num_geom
        num_geom += 1


def _binomial_one(n: float, p: float, u53: Any) -> float:
    if n <= 0.0 or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return n
    if p <= 0.5:
        return _btrs(n, p, u53) if n * p >= 10.0 else _inversion(n, p, u53)
    if p > 0.5:
        q = 1.0 - p
        return n - (_btrs(n, q, u53) if n * q >= 10.0 else _inversion(n, q, u53))
    return math.nan


def binomial(count: Tensor, prob: Tensor) -> Tensor:
    """``torch.binomial(count, prob)``: one Binomial(count, prob) draw per element (no gradient)."""
    u53, _ = _draws()
    n = np.ascontiguousarray(count.detach().numpy()).astype(np.float64).reshape(-1).tolist()
    p = np.ascontiguousarray(prob.detach().numpy()).astype(np.float64).reshape(-1).tolist()
    vals = [_binomial_one(ni, pi, u53) for ni, pi in zip(n, p)]
    return ops.tensor(np.array(vals).reshape(tuple(count.shape)), dtype=count.dtype)

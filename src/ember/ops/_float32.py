"""How each transcendental forward is evaluated for float32 (and float16), so printed values match torch's.

NumPy's float32 exp, log10, tanh... are SIMD kernels that are up to 2-3 ulp off the true value,
while torch's agree with the correctly rounded value most of the time: ``exp(12.)`` is 162754.7969 in
torch and was 162754.7812 with NumPy's float32 exp. Measured on 1M random float32 inputs per
function (ranges chosen per function; see the table in the commit message / tests), "evaluate in
float64, round once to float32" takes agreement with torch's bits from 44-96% to 98-99.99%, within
1 ulp everywhere. It costs 1.3x (4096x4096) to 4x (256x512) of a NumPy float32 exp, so it is used
only where it pays:

- float64-then-round: exp, log, log1p, expm1, log2, log10, tanh, tan, erf (in _erf), and pow
  with a non-integer exponent (scalar or tensor).
- kept as NumPy float32, because torch computes them the same way and agrees bit for bit
  (sqrt 99.4%, rsqrt = 1/sqrt 100%, integer powers as products 100%) or because the float64 path
  buys too little for its cost (sin/cos: 84% -> 95%, both within 1 ulp, at 5x the time, NumPy's
  float64 sin being scalar code).
- composite activations are torch's float32 formulas with the rounded primitives above, which
  matches torch more often than one float64 evaluation would (torch rounds every step):
  sigmoid = 1 / (1 + exp(-x)), silu = x / (1 + exp(-x)), softplus = log1p(exp(x)),
  logsigmoid = min(x, 0) - log1p(exp(-|x|)), gelu = x * 0.5 * (1 + erf(x / sqrt 2)),
  gelu(tanh) = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))),
  softmax = e * (1 / sum(e)) with e = exp(x - max), log_softmax = (x - max) - log(sum(e)).
  torch's GELU and softmax kernels use their own float32 erf/exp and summation order, which no
  formula tried here reproduces: 64% / 50% bit agreement, GELU within 1.2e-6 absolute.
- backward kernels of sigmoid and tanh (sigmoid_grad, tanh_grad below): 100% bit agreement.

float64 (and complex) inputs go straight to NumPy. bfloat16 (ml_dtypes) inputs are computed as
torch computes them: in float32, rounded to bfloat16 once per op (``widen_bfloat16``).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .. import _dtype
from . import _erf


def _low(x: np.ndarray) -> bool:
    return x.dtype == np.float32 or x.dtype == np.float16


def _exp_rounded(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # exp's loop in float64, each result rounded once into the float32/float16 ``out``: NumPy's
    # buffered cast does it in cache-sized blocks, in one call (cheap on 4 elements and 16M alike)
    return np.exp(x, dtype=np.float64, out=out, casting="same_kind")


def _via_float64(ufunc: Any) -> Callable[[np.ndarray], np.ndarray]:
    # the ufunc evaluated in float64 and rounded once to the input's float32/float16
    def run(x: np.ndarray) -> np.ndarray:
        if _low(x):
            if 0 < x.ndim and x.size <= 4096:  # small: two casts cost less than the buffered cast's set-up
                return ufunc(x.astype(np.float64)).astype(x.dtype)
            return ufunc(x, dtype=np.float64, out=np.empty(x.shape, x.dtype), casting="same_kind")
        return ufunc(x)

    run.__name__ = run.__qualname__ = ufunc.__name__
    return run


exp = _via_float64(np.exp)
log = _via_float64(np.log)
log1p = _via_float64(np.log1p)
expm1 = _via_float64(np.expm1)
log2 = _via_float64(np.log2)
log10 = _via_float64(np.log10)
tanh = _via_float64(np.tanh)
tan = _via_float64(np.tan)


def erf(x: np.ndarray) -> np.ndarray:
    """erf, float64-accurate and rounded once (ops/_erf evaluates in float64 itself)."""
    return _erf.erf(x)


def rsqrt(x: np.ndarray) -> np.ndarray:
    """1 / sqrt(x), in x's precision (torch's float32 rsqrt is exactly this: 100% bit agreement)."""
    return 1.0 / np.sqrt(x)


def power(x: np.ndarray, e: Any) -> np.ndarray:
    """x ** e for a non-integer exponent (a Python float or an array), rounded once from float64."""
    if _dtype.is_bfloat16(x.dtype) or _dtype.is_bfloat16(getattr(e, "dtype", x.dtype)):
        return binary_bfloat16(np.power, x, e)
    rt = np.result_type(x, e)
    if rt != np.float32 and rt != np.float16:
        return np.power(x, e)
    return np.power(np.asarray(x, np.float64), np.asarray(e, np.float64)).astype(rt)


def _one_plus_exp_neg(x: np.ndarray) -> np.ndarray:
    # 1 + exp(-x), with exp rounded once and the sum in x's precision, as torch rounds each step;
    # exp(-x) overflows harmlessly to inf for very negative x
    t = np.negative(x, out=np.empty(x.shape, x.dtype))  # (an array even for 0-d input)
    if _low(x):
        _exp_rounded(t, t)
    else:
        np.exp(t, out=t)
    t += 1
    return t


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x))."""
    t = _one_plus_exp_neg(x)
    return np.reciprocal(t, out=t)


def silu(x: np.ndarray) -> np.ndarray:
    """x / (1 + exp(-x)), as torch writes it."""
    t = _one_plus_exp_neg(x)
    return np.divide(x, t, out=t)


def softplus(bx: np.ndarray) -> np.ndarray:
    """log(1 + exp(bx)) (the caller applies beta and the linear threshold)."""
    return log1p(exp(bx))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), without overflow."""
    return np.minimum(x, 0) - log1p(exp(-np.abs(x)))


_INV_SQRT2 = math.sqrt(0.5)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def gelu(x: np.ndarray) -> np.ndarray:
    """x * Phi(x) = x / 2 * (1 + erf(x / sqrt 2))."""
    t = x.dtype.type
    return x * t(0.5) * (t(1) + erf(x * t(_INV_SQRT2)))


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    t = x.dtype.type
    inner = t(_SQRT_2_PI) * (x + t(0.044715) * (x * x * x))
    return t(0.5) * x * (t(1) + tanh(inner))


def softmax(x: np.ndarray, dim: int) -> np.ndarray:
    """exp(x - max) * (1 / sum) along ``dim`` (torch multiplies by the reciprocal)."""
    e = exp(x - np.max(x, axis=dim, keepdims=True))
    e *= np.reciprocal(np.sum(e, axis=dim, keepdims=True))
    return e


def log_softmax(x: np.ndarray, dim: int) -> np.ndarray:
    """(x - max) - log(sum(exp(x - max))) along ``dim``."""
    s = x - np.max(x, axis=dim, keepdims=True)
    s -= log(np.sum(exp(s), axis=dim, keepdims=True))
    return s


# Backward formulas measured the same way (1M float32 values, torch's own forward result y):
# sigmoid: g * (1 - y) * y, left to right, matches torch 100% (g * (y * (1 - y)) only 65.8%);
# tanh: g * (1 - y^2) with 1 - y^2 fused (exact y^2, one rounding) matches 100%, where the plain
# float32 1 - y * y matched 15.5%, up to 1443 ulps off near |y| = 1.
def sigmoid_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """sigmoid's backward, g * (1 - y) * y."""
    return g * (1 - y) * y


def tanh_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """tanh's backward, g * (1 - y^2), with 1 - y^2 evaluated as one fused step."""
    if _low(y):
        y64 = y.astype(np.float64)
        return g * (1.0 - y64 * y64).astype(y.dtype)
    return g * (1 - y * y)


# --------------------------------------------------------------------------- bfloat16
def widen_bfloat16(fn: Callable) -> Callable:
    """fn evaluated in float32 for a bfloat16 first argument, its result rounded back to bfloat16
    (torch computes every bfloat16 op in float32 and rounds its result)."""
    def run(x: np.ndarray, *args: Any) -> np.ndarray:
        if x.dtype.kind == "V" and _dtype.is_bfloat16(x.dtype):  # (the kind test first: this is a hot path)
            args = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and _dtype.is_bfloat16(a.dtype) else a
                         for a in args)
            return fn(x.astype(np.float32), *args).astype(x.dtype)
        return fn(x, *args)

    run.__name__ = run.__qualname__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


# Measured against torch 2.13 on 20k values and scalars 3.3, 0.1, 7, 1e-3: a bfloat16 tensor times or
# divided by a Python float keeps the scalar in float32 (100% agreement; rounding it to bfloat16
# first: 80-89%), while add, sub and pow round the scalar to bfloat16 first (100%; float32: 53-99%).
_SCALAR_IN_FLOAT32 = (np.multiply, np.true_divide)


def binary_bfloat16(ufunc: Any, a: Any, b: Any) -> np.ndarray:
    """A binary ufunc with a bfloat16 result, computed in float32 and rounded once, with torch's
    treatment of a Python scalar operand (see _SCALAR_IN_FLOAT32)."""
    bf = a.dtype if _dtype.is_bfloat16(getattr(a, "dtype", np.dtype(np.float32))) else b.dtype
    if ufunc not in _SCALAR_IN_FLOAT32:
        a, b = (v if isinstance(v, np.ndarray | np.generic) else bf.type(v) for v in (a, b))

    def up(v: Any) -> Any:
        return v.astype(np.float32) if isinstance(v, np.ndarray | np.generic) and _dtype.is_bfloat16(v.dtype) else v

    return np.asarray(ufunc(up(a), up(b))).astype(bf)


def add_scaled_bfloat16(a: Any, b: Any, alpha: Any) -> np.ndarray:
    """a + alpha * b for a bfloat16 result (add/sub with ``alpha``, as optimizers use them): one
    float32 multiply-add with alpha in float32, rounded once, as torch computes it."""
    bf = a.dtype if _dtype.is_bfloat16(getattr(a, "dtype", np.dtype(np.float32))) else b.dtype
    a32, b32 = (np.asarray(v, np.float32) for v in (a, b))
    return (a32 + b32 * np.float32(alpha)).astype(bf)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b; for bfloat16, NumPy multiplies in float32 and the product is rounded back once."""
    if a.ndim > 2 and a.shape[-1] == 1 and b.ndim > 1 and b.shape[-2] == 1:
        # a stack of outer products (per-sample weight gradients): NumPy's matmul is 4x slower than einsum,
        # whose kernel writes the products (the same single roundings) 2x faster than np.multiply broadcasting
        if a.dtype == b.dtype and a.dtype.char in "fdFD":
            res = np.einsum("...i,...j->...ij", a[..., 0], b[..., 0, :])
        else:
            res = np.multiply(a, b)
    else:
        res = np.matmul(a, b)
    return res.astype(a.dtype) if res.dtype != a.dtype and _dtype.is_bfloat16(a.dtype) else res


for _name in ("rsqrt", "exp", "log", "log1p", "expm1", "log2", "log10", "tanh", "tan", "erf", "sigmoid", "silu", "softplus",
              "log_sigmoid", "gelu", "gelu_tanh", "softmax", "log_softmax", "sigmoid_grad",
              "tanh_grad"):
    globals()[_name] = widen_bfloat16(globals()[_name])


def power_scalar(x: np.ndarray, e: Any) -> np.ndarray:
    """x ** e for a float array and a Python number, with torch's special cases (they are also
    exact products or single ufuncs: NumPy's general power is a slow per-element loop)."""
    if e == 2:
        return x * x
    if e == 3:
        return x * x * x
    if e == 0.5:
        return np.sqrt(x)
    if e == -0.5:
        return np.reciprocal(np.sqrt(x))
    if e == -1:
        return np.reciprocal(x)
    if e == -2:
        return np.reciprocal(x * x)
    if type(e) is float and not e.is_integer():
        return power(x, e)  # (rounded once from float64: NumPy's float32 power is 1 ulp off in 20%)
    return x ** e

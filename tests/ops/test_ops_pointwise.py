# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""Pointwise ops against torch: values, dtypes, grad_fn names, first and second gradients."""

from __future__ import annotations

import numpy as np
import pytest
from ops_oracle import case, pos, raises_like, rnd

import ember

A, B = rnd(3, 4), rnd(4, seed=1)
P, Q = pos(3, 4), pos(4, seed=1)
U = rnd(3, 4, lo=-0.9, hi=0.9)  # inside (-1, 1)

UNARY = [
    ("neg", A), ("reciprocal", P), ("rsqrt", P), ("square", A), ("exp", A), ("exp2", A), ("expm1", A), ("log", P),
    ("log2", P), ("log10", P), ("log1p", P), ("sin", A), ("cos", A), ("tan", A), ("asin", U), ("acos", U), ("atan", A),
    ("sinh", A), ("cosh", A), ("tanh", A), ("asinh", A), ("acosh", P + 1), ("atanh", U), ("sigmoid", A),
    ("erf", A), ("erfc", A), ("erfinv", U), ("sign", A), ("sgn", A), ("floor", A * 3), ("ceil", A * 3),
    ("round", A * 3), ("trunc", A * 3), ("frac", A * 3), ("abs", A), ("sqrt", P), ("relu", A), ("nan_to_num", A),
    ("arcsin", U), ("arctan", A), ("fix", A * 3),
]


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_function_and_method(name: str, x: np.ndarray) -> None:
    case(lambda lib, t: getattr(lib, name)(t), x)
    case(lambda lib, t: getattr(t, name)(), x, noncontig=True)


@pytest.mark.parametrize("name", ["exp", "sin", "log1p", "sigmoid", "floor", "round", "sign", "sqrt", "erf", "tanh"])
@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float32])
def test_unary_dtypes(name: str, dtype: type) -> None:
    x = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    if dtype == np.bool_ and name in ("floor", "round"):
        raises_like(lambda lib, t: getattr(lib, name)(t), x)
        return
    case(lambda lib, t: getattr(lib, name)(t), x, grad=False)


@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3)])
def test_unary_edge_shapes(shape: tuple) -> None:
    x = rnd(*shape) if shape else np.array(0.3)
    for name in ("exp", "tanh", "rsqrt", "erfinv", "round"):
        case(lambda lib, t: getattr(lib, name)(t.abs() * 0.5 + 0.1), x)


BINARY = [
    ("add", A, B), ("sub", A, B), ("mul", A, B), ("div", A, Q), ("true_divide", A, Q), ("atan2", A, B),
    ("hypot", A, B), ("fmod", A, Q), ("remainder", A, Q), ("maximum", A, B), ("minimum", A, B), ("fmax", A, B),
    ("fmin", A, B), ("xlogy", A, Q), ("pow", P, B),
]


@pytest.mark.parametrize("name,a,b", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting(name: str, a: np.ndarray, b: np.ndarray) -> None:
    case(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    case(lambda lib, x, y: getattr(x, name)(y), b, a if name not in ("div", "fmod", "remainder", "xlogy", "pow") else P)
    case(lambda lib, x, y: getattr(lib, name)(x, y), a.reshape(3, 1, 4), b.reshape(1, 4, 1) if b.ndim == 1 else b[None])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "fmod", "remainder", "pow", "xlogy", "fmax", "maximum"])
@pytest.mark.parametrize("scalar", [2, 0.5, -1.5])
def test_binary_with_scalar(name: str, scalar: float) -> None:
    if name in ("fmax", "maximum"):
        case(lambda lib, x: getattr(lib, name)(x, lib.tensor(scalar, dtype=lib.float64)), A)
        return
    case(lambda lib, x: getattr(lib, name)(x, scalar), P if name in ("pow", "xlogy") else A)


def test_scalar_first_forms() -> None:
    case(lambda lib, y: 2.0 - y, A)
    case(lambda lib, y: 2.0 / y, P)
    case(lambda lib, y: 2.0 ** y, A)
    case(lambda lib, y: lib.xlogy(2.0, y), P)
    case(lambda lib, y: 3 % y, P, grad=False)
    with pytest.raises(RuntimeError, match="derivative for aten::remainder is not implemented"):
        (3 % ember.ones(2, requires_grad=True)).sum().backward()


@pytest.mark.parametrize("a,b", [(np.array([5, -5, 7, -7]), np.array([3, 3, -2, -2])),
                                 (np.array([5.5, -5.5, 0.0]), np.array([2.0, 2.0, -3.0]))])
def test_integer_and_float_division_family(a: np.ndarray, b: np.ndarray) -> None:
    for name in ("floor_divide", "remainder", "fmod", "div", "true_divide"):
        case(lambda lib, x, y: getattr(lib, name)(x, y), a, b, grad=False)
    for mode in ("trunc", "floor"):
        case(lambda lib, x, y: lib.div(x, y, rounding_mode=mode), a, b, grad=False)
    raises_like(lambda lib, x: lib.div(x, x, rounding_mode="bad"), a)


def test_div_rounding_mode_grad_names() -> None:
    case(lambda lib, x, y: lib.div(x, y, rounding_mode="floor"), A, Q)
    case(lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), A, Q)
    case(lambda lib, x, y: lib.floor_divide(x, y), A, Q, grad=False)


def test_integer_division_by_zero() -> None:
    raises_like(lambda lib, x: lib.remainder(x, 0), np.array([1, 2]))
    raises_like(lambda lib, x: lib.fmod(x, 0), np.array([1, 2]))
    raises_like(lambda lib, x: lib.div(x, 0, rounding_mode="floor"), np.array([1, 2]))


def test_round_decimals_and_logit() -> None:
    case(lambda lib, x: lib.round(x * 10, decimals=2), A)
    case(lambda lib, x: x.round(decimals=-1) if False else lib.round(x * 100, decimals=-1), A)
    x = np.array([-0.5, 0.05, 0.3, 0.5, 0.97, 1.5])
    case(lambda lib, t: lib.logit(t), x)
    case(lambda lib, t: lib.logit(t, eps=0.1), x)
    case(lambda lib, t: t.logit(1e-6), x)


def test_nan_to_num_values() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0])
    case(lambda lib, t: lib.nan_to_num(t), x)
    case(lambda lib, t: lib.nan_to_num(t, nan=1.0, posinf=9.0, neginf=-9.0), x)
    case(lambda lib, t: t.float().nan_to_num(), x, grad=False)


def test_clamp_family() -> None:
    lo, hi = rnd(3, 4, seed=5) - 0.3, rnd(4, seed=6) + 0.3
    case(lambda lib, x: lib.clamp(x, -0.3, 0.4), A)
    case(lambda lib, x: lib.clamp(x, min=-0.2), A)
    case(lambda lib, x: lib.clamp(x, max=0.2), A)
    case(lambda lib, x: x.clip(-0.1, 0.1), A)
    case(lambda lib, x, a, b: lib.clamp(x, a, b), A, lo, hi)
    case(lambda lib, x, a: lib.clamp(x, min=a), A, lo)
    case(lambda lib, x, b: x.clamp(max=b), A, hi)
    case(lambda lib, x: lib.clamp_min(x, 0.1), A)
    case(lambda lib, x: lib.clamp_max(x, 0.1), A)
    case(lambda lib, x, a: lib.clamp_min(x, a), A, lo)
    case(lambda lib, x, b: x.clamp_max(b), A, hi)
    case(lambda lib, x: lib.clamp(x, 2, 7), np.array([1, 5, 9]), grad=False)
    case(lambda lib, x: lib.clamp(x, 2.5, 7), np.array([1, 5, 9]), grad=False)
    raises_like(lambda lib, x: lib.clamp(x), A)


def test_max_min_ties_split_like_torch() -> None:
    a = np.array([1.0, 2.0, 2.0, 3.0, 3.0])
    b = np.array([2.0, 2.0, 2.0, 1.0, 3.0])
    for name in ("maximum", "minimum", "fmax", "fmin"):
        case(lambda lib, x, y: getattr(lib, name)(x, y), a, b)
    n = np.array([np.nan, 1.0, np.nan])
    m = np.array([0.0, np.nan, np.nan])
    for name in ("maximum", "minimum", "fmax", "fmin"):
        case(lambda lib, x, y: getattr(lib, name)(x, y), n, m, second=False)


def test_ternary_ops() -> None:
    C = rnd(3, 1, seed=9)
    case(lambda lib, x, y: lib.lerp(x, y, 0.3), A, B)
    case(lambda lib, x, y, w: lib.lerp(x, y, w), A, B, C)
    case(lambda lib, x, y, z: lib.addcmul(x, y, z, value=0.5), A, B, C)
    case(lambda lib, x, y, z: x.addcmul(y, z), A, B, C)
    case(lambda lib, x, y, z: lib.addcdiv(x, y, z, value=-2), A, B, C + 2)
    case(lambda lib, x, y, z: x.addcdiv(y, z), A, B, Q)
    raises_like(lambda lib, x: lib.addcdiv(x, x, x), np.array([1, 2]))


def test_predicates_and_logical() -> None:
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0])
    y = np.array([0.0, 1.0, 0.0, 2.0, np.nan])
    for name in ("isnan", "isinf", "isfinite", "logical_not"):
        case(lambda lib, t: getattr(lib, name)(t), x, grad=False)
    for name in ("logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge"):
        case(lambda lib, s, t: getattr(lib, name)(s, t), x, y, grad=False)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_bitwise(dtype: type) -> None:
    a = np.array([0, 1, 5, 12, 7]).astype(dtype)
    b = np.array([3, 1, 2, 5, 0]).astype(dtype)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        case(lambda lib, s, t: getattr(lib, name)(s, t), a, b, grad=False)
    case(lambda lib, s: lib.bitwise_not(s), a, grad=False)
    case(lambda lib, s, t: (s & t, s | t, s ^ t, ~s), a, b, grad=False)
    if dtype != np.bool_:
        case(lambda lib, s, t: (lib.bitwise_left_shift(s, t), s >> 1, s << t), a, np.array([0, 1, 2, 1, 0]).astype(dtype),
             grad=False)
    raises_like(lambda lib, s: lib.bitwise_and(s.double(), s.double()), a)


@pytest.mark.parametrize("a,b", [("int64", "float32"), ("int32", "int64"), ("bool", "int8"), ("uint8", "int8"),
                                 ("float32", "float64"), ("bool", "float32")])
def test_promotion(a: str, b: str) -> None:
    x = (np.arange(6).reshape(2, 3) % 2 + 1).astype(a)
    y = (np.arange(3) % 2 + 1).astype(b)
    for name in ("add", "mul", "div", "maximum", "atan2", "hypot", "remainder", "fmod"):
        if name == "hypot" and "float" not in a + b:
            raises_like(lambda lib, s, t: getattr(lib, name)(s, t), x, y)
            continue
        case(lambda lib, s, t: getattr(lib, name)(s, t), x, y, grad=False)
    case(lambda lib, s: (s + 1.5, s * 2, s / 2, s * True), x, grad=False)
    case(lambda lib, s, t: s + t[0], x, y, grad=False)  # a 0-dim tensor does not promote the dim-ful one


def test_errors() -> None:
    raises_like(lambda lib, x, y: lib.add(x, y), rnd(3), rnd(4))
    raises_like(lambda lib, x: x - x, np.array([True, False]))
    raises_like(lambda lib, x: -x, np.array([True, False]))
    with pytest.raises(RuntimeError, match="size of tensor a \\(3\\) must match the size of tensor b \\(4\\)"):
        ember.mul(ember.ones(3), ember.ones(4))


def test_inplace_forms_bump_version_and_keep_identity() -> None:
    for name in ("exp", "log1p", "sin", "tanh", "floor", "round", "sigmoid", "erf", "rsqrt", "frac"):
        def fn(lib, x):
            y = x * 1
            z = getattr(y, name + "_")()
            assert z is y
            return y
        case(fn, P)
    case(lambda lib, x, y: (x * 1).atan2_(y), A, B)
    case(lambda lib, x, y, z: (x * 1).addcmul_(y, z, value=2), A, B, A)
    case(lambda lib, x, y: (x * 1).lerp_(y, 0.25), A, B)
    case(lambda lib, x: (x * 1).clamp_min_(0.0), A)
    t = ember.ones(3)
    v0 = t._version
    t.mul_(2).add_(1).clamp_(0, 2)
    assert t._version == v0 + 3 and t.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        ember.ones(2, requires_grad=True).exp_()
    x = ember.ones(2, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.div_(2)

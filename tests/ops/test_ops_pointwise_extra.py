# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""logaddexp, copysign, heaviside, sinc, positive, deg2rad, i0, nextafter, ldexp, frexp, gcd/lcm, diff and the
trapezoid rule against torch: values, dtypes, grad_fn names, first and second gradients, in-place forms, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops_oracle import case, pos, raises_like, rnd

import ember
from ember.autograd import gradcheck, gradgradcheck

A, B = rnd(3, 4) * 3, rnd(4, seed=1) * 3
P = pos(3, 4)
I, J = np.array([4, 6, -9, 0, 12]), np.array([6, 4, 6, 0, -8])


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "copysign", "nextafter", "ldexp"])
def test_binary_function_and_method(name):
    case(lambda lib, a, b: getattr(lib, name)(a, b), A, B)
    case(lambda lib, a, b: getattr(a, name)(b), A, B)
    case(lambda lib, a, b: getattr(lib, name)(a, b), A.astype(np.float32), B.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_dtype_promotion():
    ei, ej = ember.tensor(I), ember.tensor(J)
    ti, tj = torch.tensor(I), torch.tensor(J)
    e32, t32 = ember.tensor(A[0], dtype=ember.float32), torch.tensor(A[0], dtype=torch.float32)
    e64, t64 = ember.tensor(B), torch.tensor(B)
    for name in ("copysign", "ldexp"):
        for ea, eb, ta, tb in ((ei, ej, ti, tj), (e32, e64, t32, t64), (e32, ember.tensor(J[:4]), t32,
                                                                        torch.tensor(J[:4]))):
            e, t = getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb)
            assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1], (name, e.dtype, t.dtype)
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    for name in ("sinc", "deg2rad", "rad2deg", "i0"):
        e, t = getattr(ember, name)(ei), getattr(torch, name)(ti)
        assert e.dtype == ember.float32 and t.dtype == torch.float32
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-7)
    for name in ("gcd", "lcm"):
        e, t = getattr(ember, name)(ei, ej), getattr(torch, name)(ti, tj)
        assert e.dtype == ember.int64
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        e, t = getattr(ember, name)(ei.to(ember.int32), ej), getattr(torch, name)(ti.int(), tj)
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]


def test_copysign_scalar_and_zero():
    case(lambda lib, a: lib.copysign(a, -1.0), A)
    # (torch's second derivative is NaN at self == 0; ember's is 0)
    case(lambda lib, a, b: lib.copysign(a, b), np.array([0.0, -0.0, 2.0, -3.0]), np.array([-1.0, 1.0, 0.0, -0.0]),
         second=False)


@pytest.mark.parametrize("name", ["sinc", "deg2rad", "rad2deg", "i0"])
def test_unary(name):
    case(lambda lib, a: getattr(lib, name)(a), A, rtol=1e-6)
    case(lambda lib, a: getattr(a, name)(), A, rtol=1e-6)


def test_sinc_at_zero():
    case(lambda lib, a: lib.sinc(a), np.array([0.0, 1.0, -2.5]), second=False)  # torch's second is NaN at 0


def test_heaviside():
    x, v = np.array([-1.0, 0.0, 0.0, 2.0, np.nan]), np.array([5.0, 0.5, -1.0, 7.0, 3.0])
    case(lambda lib, a, b: lib.heaviside(a, b), x, v, grad=False)
    case(lambda lib, a, b: lib.heaviside(a, b), I, J, grad=False)
    for lib in (torch, ember):
        out = lib.heaviside(lib.tensor(x, requires_grad=True), lib.tensor(v))
        assert type(out.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
            out.sum().backward()
        with pytest.raises(RuntimeError, match="heaviside is not yet implemented for tensors with different dtypes."):
            lib.heaviside(lib.tensor(x), lib.tensor(J))


def test_positive():
    for lib in (torch, ember):
        t = lib.tensor(A)
        assert lib.positive(t) is t
        with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor is not supported."):
            lib.positive(lib.tensor([True]))


def test_frexp():
    x = np.array([0.5, -1.0, 0.0, 2.0, 3.75, -1e-3])
    case(lambda lib, a: lib.frexp(a), x)
    case(lambda lib, a: a.frexp(), x.astype(np.float32))
    e = ember.frexp(ember.tensor(x))
    assert e.exponent.dtype == ember.int32 and e.mantissa is e[0]
    assert repr(e).startswith("ember.return_types.frexp(\nmantissa=tensor(")
    with pytest.raises(RuntimeError, match="frexp\\(\\) only supports floating-point dtypes"):
        ember.frexp(ember.tensor(I))


def test_ldexp_integer_exponent():
    case(lambda lib, a, b: lib.ldexp(a, b), A[0], J[:4])


def test_integer_only_and_float_only_kernels():
    raises_like(lambda lib, a, b: lib.gcd(a, b), A, B)
    raises_like(lambda lib, a, b: lib.lcm(a, b), A, B)
    raises_like(lambda lib, a, b: lib.logaddexp(a, b), I, J)
    raises_like(lambda lib, a, b: lib.nextafter(a, b), I, J)
    with pytest.raises(NotImplementedError, match="\"gcd_cpu\" not implemented for 'Double'"):
        ember.gcd(ember.tensor(A), ember.tensor(B))


def test_inplace_variants():
    for name, a, b in (("copysign", A, B), ("nextafter", A, B), ("ldexp", A, B), ("gcd", I, J), ("lcm", I, J)):
        e, t = ember.tensor(a), torch.tensor(a)
        getattr(e, name + "_")(ember.tensor(b))
        getattr(t, name + "_")(torch.tensor(b))
        np.testing.assert_allclose(e.numpy(), t.numpy())
    for name in ("sinc", "deg2rad", "rad2deg", "i0"):
        e, t = ember.tensor(A), torch.tensor(A)
        getattr(ember, name + "_")(e)
        getattr(torch, name + "_")(t)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-7)
    case(lambda lib, a: (a * 1).sinc_(), A)
    case(lambda lib, a: (a * 1).deg2rad_(), A)


def test_xlogy_gradient_at_zero():
    x, y = np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, -3.0, 0.5, 0.0])
    case(lambda lib, a, b: lib.xlogy(a, b), x, y, second=False)
    case(lambda lib, a, b: lib.xlogy(a, b.detach()), x, y)


def test_diff():
    case(lambda lib, a: lib.diff(a), A)
    case(lambda lib, a: a.diff(n=2, dim=0), A)
    case(lambda lib, a, p, q: lib.diff(a, n=3, dim=1, prepend=p, append=q), A, A[:, :2], A[:, :1])
    case(lambda lib, a: lib.diff(a, n=7), A)
    case(lambda lib, a: lib.diff(a), np.array([True, False, False, True]))
    case(lambda lib, a: lib.diff(a), I)
    raises_like(lambda lib, a: lib.diff(a), np.array(1.0))
    raises_like(lambda lib, a: lib.diff(a, n=-1), A)


def test_trapezoid():
    x = np.array([0.0, 0.5, 2.0, 2.5])
    case(lambda lib, y: lib.trapezoid(y), A)
    case(lambda lib, y: lib.trapezoid(y, dx=0.5, dim=0), A)
    case(lambda lib, y, t: lib.trapezoid(y, t), A, x)
    case(lambda lib, y, t: lib.trapz(y, t), A, x)
    case(lambda lib, y, t: lib.trapezoid(y, t, dim=0), A.T, x)
    case(lambda lib, y, t: lib.trapezoid(y, t), A, np.cumsum(P, axis=1))
    case(lambda lib, y: lib.trapezoid(y), I)
    case(lambda lib, y: lib.trapezoid(y), np.zeros((2, 0)))
    raises_like(lambda lib, y, t: lib.trapezoid(y, t), A, x[:3])


def test_cumulative_trapezoid():
    x = np.array([0.0, 0.5, 2.0, 2.5])
    case(lambda lib, y: lib.cumulative_trapezoid(y), A)
    case(lambda lib, y: lib.cumulative_trapezoid(y, dx=2.0, dim=0), A)
    case(lambda lib, y, t: lib.cumulative_trapezoid(y, t), A, x)
    case(lambda lib, y: lib.cumulative_trapezoid(y), I)
    case(lambda lib, y: lib.cumulative_trapezoid(y), np.zeros((2, 0)))


def test_gradcheck_float64():
    a = ember.tensor(A[0], requires_grad=True)
    b = ember.tensor(B, requires_grad=True)
    for f in (ember.logaddexp, ember.logaddexp2, ember.ldexp):
        assert gradcheck(f, (a, b)) and gradgradcheck(f, (a, b))
    for f in (ember.sinc, ember.i0, lambda t: ember.copysign(t, b), lambda t: ember.trapezoid(t, b),
              lambda t: ember.cumulative_trapezoid(t, dx=0.3), lambda t: ember.diff(t, n=2)):
        assert gradcheck(f, (a,)) and gradgradcheck(f, (a,))


def test_math_constants():
    for name in ("pi", "e", "inf"):
        assert getattr(ember, name) == getattr(torch, name)
    assert np.isnan(ember.nan)


# ----------------------------------------------------------------------------- every op x dtype mix
_VALS = {"f32": np.array([0.5, -1.5, 0.0, 2.0], np.float32), "f64": np.array([0.3, -2.0, 0.0, 1.0]),
         "i64": np.array([3, -2, 0, 7]), "i32": np.array([3, -2, 0, 7], np.int32),
         "bool": np.array([True, False, True, True]), "f64_0d": np.array(0.7), "i64_0d": np.array(2),
         "u8": np.array([1, 2, 3, 4], np.uint8), "f16": np.array([1, 2, 0.5, 3], np.float16)}
_SCALARS = {"int": 2, "float": 1.5, "bool": True}


def _outcome(lib, f):
    try:
        r = f(lib)
    except Exception as err:  # noqa: BLE001
        return ("err", type(err).__name__, str(err).replace("torch", "ember"))
    r = r[0] if isinstance(r, tuple) else r
    return ("ok", str(r.dtype).split(".")[1], tuple(r.shape), r.numpy().astype(float))


def _same(f, label):
    t, e = _outcome(torch, f), _outcome(ember, f)
    assert t[:3] == e[:3], (label, t[:3], e[:3])
    if t[0] == "ok":
        np.testing.assert_allclose(e[3], t[3], rtol=1e-3, atol=1e-5, equal_nan=True, err_msg=label)


def _lt(lib, v):
    return lib.tensor(v) if isinstance(v, np.ndarray) else v


@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")  # (torch's own ldexp)
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "copysign", "nextafter", "ldexp", "gcd", "lcm",
                                  "heaviside", "xlogy", "float_power"])
def test_binary_dtype_mix_matches_torch(name):
    """Result dtype, shape and values, or torch's error (type and message), for each operand mix."""
    for an, a in _VALS.items():
        for bn, b in list(_VALS.items()) + list(_SCALARS.items()):
            _same(lambda lib: getattr(lib, name)(_lt(lib, a), _lt(lib, b)), f"{name}({an}, {bn})")


@pytest.mark.parametrize("name", ["sinc", "deg2rad", "rad2deg", "i0", "positive", "frexp", "diff", "trapezoid",
                                  "cumulative_trapezoid"])
def test_unary_dtype_mix_matches_torch(name):
    for an, a in _VALS.items():
        _same(lambda lib: getattr(lib, name)(lib.tensor(a)), f"{name}({an})")

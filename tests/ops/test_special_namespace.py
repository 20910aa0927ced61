# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""ember.special against torch.special: names, values, dtypes, grad_fn names, gradients, torch's missing derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops_oracle import case, pos, rnd

import ember
from ember.autograd import gradcheck, gradgradcheck

A = rnd(3, 4) * 3
P = pos(3, 4)
U = rnd(3, 4, lo=0.05, hi=0.95)  # inside (0, 1)


def test_same_names_as_torch():
    public = {n for n in dir(torch.special) if not n.startswith("_")} - {"Tensor", "common_args", "multi_dim_common",
                                                                          "torch"}
    assert public == set(ember.special.__all__)
    assert all(callable(getattr(ember.special, n)) for n in public)


DIFFERENTIABLE = [
    ("expit", A), ("logit", U), ("erf", A), ("erfc", A), ("erfcx", A), ("erfinv", U * 1.8 - 0.9), ("log_ndtr", A),
    ("ndtr", A), ("ndtri", U), ("i0", A), ("i0e", A), ("i1", A), ("i1e", A), ("gammaln", P), ("digamma", P),
    ("psi", P), ("entr", P), ("sinc", A), ("round", A), ("log1p", P), ("expm1", A), ("exp2", A),
]


@pytest.mark.parametrize("name,x", DIFFERENTIABLE, ids=[d[0] for d in DIFFERENTIABLE])
def test_unary_differentiable(name, x):
    case(lambda lib, t: getattr(lib.special, name)(t), x, rtol=1e-6)
    case(lambda lib, t: getattr(lib.special, name)(t), x.astype(np.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["expit", "erf", "erfcx", "log_ndtr", "ndtr", "i0", "i0e", "i1", "i1e", "gammaln",
                                  "entr", "sinc", "digamma", "bessel_j0", "airy_ai", "modified_bessel_k1"])
def test_integer_inputs_compute_in_default_float(name):
    e, t = getattr(ember.special, name)(ember.tensor([1, 2, 3])), getattr(torch.special, name)(torch.tensor([1, 2, 3]))
    assert e.dtype == ember.float32 and t.dtype == torch.float32
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


def test_zero_and_edge_values():
    x = np.array([-1.0, 0.0, 0.5, np.inf, np.nan])
    for name in ("entr", "sinc", "i1", "i1e", "i0e", "erfcx", "log_ndtr", "ndtr"):
        case(lambda lib, t: getattr(lib.special, name)(t), x, grad=False)
    case(lambda lib, t: lib.special.i1(t), np.array([0.0, 1.0]))  # derivative 0.5 at 0
    case(lambda lib, t: lib.special.i1e(t), np.array([0.0, -1.0]))
    case(lambda lib, t: lib.special.log_ndtr(t), np.array([-40.0, -5.0, 0.0, 5.0]), rtol=1e-6)


NOGRAD = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
          "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
          "airy_ai", "spherical_bessel_j0"]


@pytest.mark.parametrize("name", NOGRAD)
def test_not_differentiable_functions(name):
    x = P * 3 if "_y" in name or "_k" in name else A
    # torch's own (Cephes) kernels and SciPy's agree to ~1e-6 relative, less near the zeros
    case(lambda lib, t: getattr(lib.special, name)(t), x, rtol=1e-5, atol=1e-6)  # requires_grad False in both
    case(lambda lib, t: getattr(lib.special, name)(t), np.array([0.0, 1e-3, 30.0, -2.5]), grad=False, rtol=1e-5,
         atol=1e-6)


POLY = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
        "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
        "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
        "legendre_polynomial_p"]


@pytest.mark.parametrize("name", POLY)
def test_polynomials(name):
    x = np.array([-1.0, -0.3, 0.0, 0.5, 1.0, 1.7])
    for n in (0, 1, 2, 5, 9, -1, 3.7):
        case(lambda lib, t: getattr(lib.special, name)(t, n), x, rtol=1e-9, atol=1e-9)
    case(lambda lib, t, k: getattr(lib.special, name)(t, k), x, np.array([0, 1, 2, 3, 4, 6]), rtol=1e-9, atol=1e-9)
    for a, b in ((ember.tensor([1, 2]), 2), (2.0, ember.tensor([0.5], dtype=ember.float64)),
                 (ember.tensor([0.5]), ember.tensor([2]))):
        ta = torch.tensor(a.numpy()) if isinstance(a, ember.Tensor) else a
        tb = torch.tensor(b.numpy()) if isinstance(b, ember.Tensor) else b
        e, t = getattr(ember.special, name)(a, b), getattr(torch.special, name)(ta, tb)
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


def test_binary_functions():
    case(lambda lib, a, b: lib.special.xlog1py(a, b), A, P, rtol=1e-6)
    case(lambda lib, a: lib.special.xlog1py(a, 2.0), A)
    case(lambda lib, b: lib.special.xlog1py(3.0, b), P)
    case(lambda lib, a, b: lib.special.xlog1py(a, b), np.array([0.0, 0.0, 1.0]), np.array([-1.0, -2.0, 0.5]))
    case(lambda lib, a, b: lib.special.xlogy(a, b), A, P)
    case(lambda lib, a: lib.special.zeta(a, 2.0), P + 1.5, grad=False)
    case(lambda lib, a, b: lib.special.zeta(a, b), P + 1.5, P, grad=False)
    case(lambda lib, a, b: lib.special.zeta(a.detach(), b), P + 1.5, P)  # the derivative in other
    case(lambda lib, b: lib.special.zeta(3.0, b), P)
    for name in ("gammainc", "gammaincc"):
        case(lambda lib, a, b: getattr(lib.special, name)(a.detach(), b), P, P * 2)
        case(lambda lib, a, b: getattr(lib.special, name)(a, b), P, P * 2, grad=False)


@pytest.mark.parametrize("fn,msg", [
    (lambda lib, a, b: lib.special.zeta(a, b), "the derivative for 'zeta' is not implemented."),
    (lambda lib, a, b: lib.special.gammainc(a, b), "the derivative for 'igamma: input' is not implemented."),
    (lambda lib, a, b: lib.special.gammaincc(a, b), "the derivative for 'igammac: input' is not implemented."),
])
def test_missing_derivatives_raise_as_torch(fn, msg):
    for lib in (torch, ember):
        a, b = lib.tensor(P + 1.5, requires_grad=True), lib.tensor(P)
        with pytest.raises(NotImplementedError, match=msg):
            fn(lib, a, b).sum().backward()


def test_integer_kernels_raise():
    for lib in (torch, ember):
        with pytest.raises(NotImplementedError, match="\"igamma_cpu\" not implemented for 'Long'"):
            lib.special.gammainc(lib.tensor([1, 2]), lib.tensor([1, 2]))


def test_multigammaln_polygamma_and_reductions():
    for p in (1, 2, 4):
        case(lambda lib, t: lib.special.multigammaln(t, p), P + 2, rtol=1e-6)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
            lib.special.multigammaln(lib.tensor(P), 0)
    for n in (0, 1, 3):
        case(lambda lib, t: lib.special.polygamma(n, t), P, rtol=1e-6)
    case(lambda lib, t: lib.special.softmax(t, 1), A)
    case(lambda lib, t: lib.special.log_softmax(t, 0, dtype=lib.float32), A, rtol=1e-5, atol=1e-6)
    case(lambda lib, t: lib.special.logsumexp(t, 1, keepdim=True), A)
    case(lambda lib, t: lib.special.logit(t, eps=0.2), U)


def test_gradcheck_float64():
    x = ember.tensor(A[0], requires_grad=True)
    for f in (ember.special.i0e, ember.special.i1, ember.special.i1e, ember.special.erfcx, ember.special.log_ndtr,
              ember.special.sinc, ember.special.ndtr, lambda t: ember.special.multigammaln(t.abs() + 3, 3)):
        assert gradcheck(f, (x,))
        assert gradgradcheck(f, (x,))
    u = ember.tensor(U[0], requires_grad=True)
    assert gradcheck(ember.special.ndtri, (u,)) and gradgradcheck(ember.special.ndtri, (u,))
    a, b = ember.tensor(P[0]), ember.tensor(P[1], requires_grad=True)
    assert gradcheck(lambda t: ember.special.gammainc(a, t), (b,))
    assert gradcheck(lambda t: ember.special.zeta(a + 1.5, t), (b,))


def test_lazy_module():
    import subprocess
    import sys

    code = "import sys, ember; assert 'ember.special' not in sys.modules; ember.special.erf; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_top_level_names_and_methods():
    case(lambda lib, a, b: lib.igamma(a.detach(), b), P, P * 2)
    case(lambda lib, a, b: a.detach().igammac(b), P, P * 2)
    case(lambda lib, a: lib.mvlgamma(a, 3), P + 2)
    case(lambda lib, a: a.mvlgamma(2), P + 2)
    e, t = ember.tensor(P + 2), torch.tensor(P + 2)
    e.mvlgamma_(2)
    t.mvlgamma_(2)
    np.testing.assert_allclose(e.numpy(), t.numpy())


_VALS = {"f32": np.array([0.5, 1.5, 0.1, 2.0], np.float32), "f64": np.array([0.3, 2.0, 0.9, 1.0]),
         "i64": np.array([3, 2, 1, 7]), "bool": np.array([True, False, True, True]), "f64_0d": np.array(0.7),
         "i64_0d": np.array(2), "u8": np.array([1, 2, 3, 4], np.uint8), "f16": np.array([1, 2, 0.5, 3], np.float16)}


def _outcome(lib, f):
    try:
        r = f(lib)
    except Exception as err:  # noqa: BLE001
        return ("err", type(err).__name__, str(err).replace("torch", "ember"))
    return ("ok", str(r.dtype).split(".")[1], tuple(r.shape), r.numpy().astype(float))


@pytest.mark.parametrize("name", sorted(n for n in ember.special.__all__ if n not in (
    "polygamma", "multigammaln", "softmax", "log_softmax", "logsumexp") and "polynomial" not in n))
def test_dtype_mix_matches_torch(name):
    """Result dtype and values, or torch's error (type and message), for each input dtype (and operand mix)."""
    binary = name in ("xlog1py", "xlogy", "zeta", "gammainc", "gammaincc")
    for an, a in _VALS.items():
        for bn, b in (list(_VALS.items()) + [("int", 2), ("float", 1.5)]) if binary else [("", None)]:
            def f(lib):
                x = lib.tensor(a)
                if not binary:
                    return getattr(lib.special, name)(x)
                return getattr(lib.special, name)(x, lib.tensor(b) if isinstance(b, np.ndarray) else b)

            t, e = _outcome(torch, f), _outcome(ember, f)
            assert t[:3] == e[:3], (name, an, bn, t[:3], e[:3])
            if t[0] == "ok":
                np.testing.assert_allclose(e[3], t[3], rtol=2e-3, atol=1e-5, equal_nan=True, err_msg=f"{an} {bn}")

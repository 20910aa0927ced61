"""Every family against torch.distributions: the same samples for the same seed, and the same
log_prob, entropy, moments, cdf/icdf and gradients, in float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as ED

from .cases import CASES, GAMMA_BASED, REPARAMETERISED, ROUNDING

CASE = {name: (make, value) for name, make, value in CASES}
TOL = {"float32": dict(rtol=2e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-12)}


def _build(name: str, lib: str, dtype: str):
    """(distribution, its leaf parameters) built in torch or ember."""
    make, _ = CASE[name]
    mod, D = (torch, TD) if lib == "torch" else (ember, ED)
    leaves = []

    def t(v):
        x = mod.tensor(v, dtype=getattr(mod, dtype), requires_grad=True)
        leaves.append(x)
        return x

    return make(D, t), leaves


def _value(name: str, lib: str, dtype: str, d_torch):
    _, value = CASE[name]
    mod = torch if lib == "torch" else ember
    if value is None:  # a discrete family: score a fixed draw of torch's
        torch.manual_seed(0)
        return mod.tensor(d_torch.sample((2,)).numpy())
    return mod.tensor(value(lambda v: np.array(v)), dtype=getattr(mod, dtype))


def _np(x) -> np.ndarray:
    return np.asarray(x.detach().numpy() if hasattr(x, "detach") else x)


def assert_same(e, t, **tol) -> None:
    a, b = _np(e), _np(t)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if tol:
        np.testing.assert_allclose(a, b, equal_nan=True, **tol)
    else:
        np.testing.assert_array_equal(a, b)


NAMES = [name for name, _, _ in CASES]


def assert_draws(e, t, name: str) -> None:
    """Samples equal torch's bit for bit (within a few ulps where rounding ops follow the draws)."""
    if name in ROUNDING:
        assert_same(e, t, rtol=64 * np.finfo(_np(t).dtype).eps, atol=0)
    else:
        assert_same(e, t)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_samples_follow_torchs_stream(name: str, dtype: str) -> None:
    dt, _ = _build(name, "torch", dtype)
    de, _ = _build(name, "ember", dtype)
    torch.manual_seed(7)
    ember.manual_seed(7)
    assert_draws(de.sample(), dt.sample(), name)
    assert_draws(de.sample((4, 2)), dt.sample((4, 2)), name)
    assert de.has_rsample == dt.has_rsample
    if dt.has_rsample:
        assert_draws(de.rsample((3,)), dt.rsample((3,)), name)
    # and the generator is left where torch's is
    assert_same(ember.rand(3), torch.rand(3))


def _call(obj, what: str, *args):
    try:
        return getattr(obj, what)(*args) if args or what in ("entropy",) else getattr(obj, what)
    except NotImplementedError as exc:
        return exc


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_scores_and_moments_match_torch(name: str, dtype: str) -> None:
    dt, _ = _build(name, "torch", dtype)
    de, _ = _build(name, "ember", dtype)
    vt = _value(name, "torch", dtype, dt)
    ve = _value(name, "ember", dtype, dt)
    assert de.batch_shape == tuple(dt.batch_shape)
    assert de.event_shape == tuple(dt.event_shape)
    checks = [("log_prob", (ve,), (vt,)), ("entropy", (), ()), ("mean", (), ()), ("mode", (), ()),
              ("variance", (), ()), ("stddev", (), ()), ("cdf", (ve,), (vt,))]
    if not dt.support.is_discrete:
        p = [0.3, 0.8] if dt.batch_shape == (2,) else 0.3
        checks.append(("icdf", (ember.tensor(p, dtype=getattr(ember, dtype)),),
                       (torch.tensor(p, dtype=getattr(torch, dtype)),)))
    for what, ea, ta in checks:
        expected = _call(dt, what, *ta)
        got = _call(de, what, *ea)
        if isinstance(expected, NotImplementedError):
            assert isinstance(got, NotImplementedError), f"{what}: torch raises NotImplementedError, ember gives {got}"
            continue
        assert_same(got, expected, **TOL[dtype])


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_and_entropy_gradients_match_torch(name: str) -> None:
    dt, lt = _build(name, "torch", "float64")
    de, le = _build(name, "ember", "float64")
    vt = _value(name, "torch", "float64", dt)
    ve = _value(name, "ember", "float64", dt)
    out_t = dt.log_prob(vt).sum()
    out_e = de.log_prob(ve).sum()
    try:
        out_t = out_t + dt.entropy().sum()
        out_e = out_e + de.entropy().sum()
    except NotImplementedError:
        pass
    assert_same(out_e, out_t, rtol=1e-12, atol=1e-12)
    gt = torch.autograd.grad(out_t, lt, allow_unused=True)
    ge = ember.autograd.grad(out_e, le, allow_unused=True)
    # the entropies of the gamma family differentiate digamma: torch's trigamma is good to ~1e-9
    # relative (ember's agrees with scipy's to the last bit)
    tol = dict(rtol=1e-8, atol=1e-12) if name in GAMMA_BASED + ["Kumaraswamy"] else dict(rtol=1e-10, atol=1e-12)
    for a, b in zip(ge, gt):
        assert (a is None) == (b is None)
        if a is not None:
            assert_same(a, b, **tol)


@pytest.mark.parametrize("name", REPARAMETERISED + GAMMA_BASED)
def test_rsample_gradients_match_torch(name: str) -> None:
    dt, lt = _build(name, "torch", "float64")
    de, le = _build(name, "ember", "float64")
    torch.manual_seed(3)
    ember.manual_seed(3)
    xt, xe = dt.rsample((5,)), de.rsample((5,))
    assert_draws(xe, xt, name)
    wt = torch.linspace(-1, 2, xt.numel(), dtype=torch.float64).reshape(xt.shape)
    we = ember.linspace(-1, 2, xe.numel(), dtype=ember.float64).reshape(xe.shape)
    gt = torch.autograd.grad((xt * wt).sum(), lt, allow_unused=True)
    ge = ember.autograd.grad((xe * we).sum(), le, allow_unused=True)
    # torch approximates d gamma-sample / d concentration with rational fits; ember computes it exactly
    tol = dict(rtol=2e-3, atol=1e-6) if name in GAMMA_BASED else dict(rtol=1e-10, atol=1e-12)
    for a, b in zip(ge, gt):
        assert (a is None) == (b is None)
        if a is not None:
            assert_same(a, b, **tol)


@pytest.mark.parametrize("name", [n for n in REPARAMETERISED if not n.startswith("MultivariateNormal")])
def test_rsample_gradcheck(name: str) -> None:
    _, leaves = _build(name, "ember", "float64")
    make, _ = CASE[name]

    def draw(*params):
        it = iter(params)
        ember.manual_seed(11)
        return make(ED, lambda v: next(it)).rsample((2,))

    assert ember.autograd.gradcheck(draw, tuple(leaves))


@pytest.mark.parametrize("param", ["covariance_matrix", "scale_tril", "precision_matrix"])
def test_multivariate_normal_rsample_and_log_prob_gradcheck(param: str) -> None:
    # the matrix is built from a free lower triangle, so every perturbation stays a valid parameter
    loc = ember.tensor([0.5, -0.5], dtype=ember.float64, requires_grad=True)
    raw = ember.tensor([[1.5, 0.0], [0.2, 0.7]], dtype=ember.float64, requires_grad=True)
    value = ember.tensor([[0.1, 0.2], [1.0, -1.0]], dtype=ember.float64)

    def f(loc, raw):
        L = raw.tril()
        m = L if param == "scale_tril" else L @ L.mT
        d = ED.MultivariateNormal(loc, **{param: m})
        ember.manual_seed(2)
        return d.rsample((3,)), d.log_prob(value), d.entropy()

    assert ember.autograd.gradcheck(f, (loc, raw))


def test_gamma_reparameterised_gradient_is_the_implicit_one() -> None:
    # d x / d alpha at fixed CDF value u = P(alpha, x): -(dP/dalpha) / pdf, checked by finite differences of P
    import scipy.special as sc

    alpha = ember.tensor([0.3, 1.0, 2.5, 9.0, 40.0], dtype=ember.float64, requires_grad=True)
    ember.manual_seed(5)
    x = ED.Gamma(alpha, 1.0).rsample()
    (g,) = ember.autograd.grad(x.sum(), alpha)
    a, xv = alpha.detach().numpy(), x.detach().numpy()
    h = 1e-6 * a
    dp = (sc.gammainc(a + h, xv) - sc.gammainc(a - h, xv)) / (2 * h)
    pdf = np.exp((a - 1) * np.log(xv) - xv - sc.gammaln(a))
    np.testing.assert_allclose(g.numpy(), -dp / pdf, rtol=1e-5)

"""ember.distributions' API against torch.distributions: argument checks and their messages, repr,
constraints, expand, enumerate_support, transforms and kl_divergence."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.distributions as TD

import ember
import ember.distributions as ED


def _outcome(fn, lib):
    try:
        return repr(fn(*lib))
    except Exception as exc:  # noqa: BLE001  (the point is to compare what each raises)
        return f"{type(exc).__name__}: {exc}"


def _same(fn) -> None:
    """``fn(module, distributions)`` gives torch's result (or error and message) in ember, with ember's
    names where torch prints its own (``ember.Size``)."""
    expected = _outcome(fn, (torch, TD)).replace("torch.Size", "ember.Size")
    assert _outcome(fn, (ember, ED)) == expected


BAD = {
    "negative scale": lambda t, D: D.Normal(t.tensor([0.0, 1.0]), t.tensor([1.0, -1.0])),
    "probs and logits": lambda t, D: D.Categorical(t.tensor([0.5, 0.5]), logits=t.tensor([0.0, 0.0])),
    "neither": lambda t, D: D.Bernoulli(),
    "0-d probs": lambda t, D: D.Categorical(t.tensor(0.5)),
    "0-d logits": lambda t, D: D.Categorical(logits=t.tensor(0.5)),
    "nan value": lambda t, D: D.Normal(0.0, 1.0).log_prob(t.tensor([float("nan")])),
    "value shape": lambda t, D: D.Normal(t.zeros(2), 1.0).log_prob(t.zeros(3)),
    "event shape": lambda t, D: D.MultivariateNormal(t.zeros(2), t.eye(2)).log_prob(t.zeros(3)),
    "outside support": lambda t, D: D.Categorical(t.ones(3)).log_prob(t.tensor(3)),
    "not boolean": lambda t, D: D.Bernoulli(t.tensor(0.5)).log_prob(t.tensor(0.5)),
    "not a tensor": lambda t, D: D.Normal(t.zeros(2), 1.0).log_prob([0.0, 0.0]),
    "mvn no matrix": lambda t, D: D.MultivariateNormal(t.zeros(2)),
    "mvn 0-d loc": lambda t, D: D.MultivariateNormal(t.tensor(0.0), t.eye(2)),
    "mvn 1-d cov": lambda t, D: D.MultivariateNormal(t.zeros(2), t.ones(2)),
    "mvn not pd": lambda t, D: D.MultivariateNormal(t.zeros(2), t.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "lowrank factor shape": lambda t, D: D.LowRankMultivariateNormal(t.zeros(3), t.ones(2, 1), t.ones(3)),
    "lowrank diag shape": lambda t, D: D.LowRankMultivariateNormal(t.zeros(3), t.ones(3, 1), t.ones(2)),
    "lowrank batch": lambda t, D: D.LowRankMultivariateNormal(t.zeros(2, 3), t.ones(4, 3, 1), t.ones(3)),
    "lowrank repr": lambda t, D: D.LowRankMultivariateNormal(t.zeros(2, 3), t.ones(3, 1), t.ones(3)),
    "independent ndims": lambda t, D: D.Independent(D.Normal(t.zeros(2), 1.0), 2),
    "probs above 1": lambda t, D: D.Bernoulli(t.tensor([1.5])),
    "dirichlet 0-d": lambda t, D: D.Dirichlet(t.tensor(1.0)),
    "transforms type": lambda t, D: D.TransformedDistribution(D.Normal(0.0, 1.0), 3),
    "mixture type": lambda t, D: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(0.0, 1.0)),
    "mixture k": lambda t, D: D.MixtureSameFamily(D.Categorical(t.ones(3)), D.Normal(t.zeros(2), 1.0)),
    "geometric zero": lambda t, D: D.Geometric(t.tensor([0.0, 0.5])),
    "multinomial tensor n": lambda t, D: D.Multinomial(t.tensor(3), t.ones(2)),
    "no kl": lambda t, D: D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(t.ones(2))),
    "bad default": lambda t, D: D.Distribution.set_default_validate_args(3),
    "binomial entropy": lambda t, D: D.Binomial(t.tensor([2.0, 3.0]), t.tensor([0.5, 0.5])).entropy(),
    "gamma int": lambda t, D: D.Gamma(t.tensor([1, 2]), t.tensor([1, 1])).sample(),
    "mode": lambda t, D: D.Cauchy(0.0, 1.0).mode,
    "no mode": lambda t, D: D.Binomial(3, t.tensor(0.5)).icdf(t.tensor(0.5)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_raise_torchs_errors(case: str) -> None:
    _same(BAD[case])


REPRS = {
    "scalars": lambda t, D: D.Normal(0.0, 1.0),
    "batched": lambda t, D: D.Normal(t.zeros(2), 1.0),
    "one element": lambda t, D: D.Bernoulli(t.tensor([0.25])),
    "categorical": lambda t, D: D.Categorical(logits=t.ones(2, 3)),
    "mvn": lambda t, D: D.MultivariateNormal(t.zeros(2), t.eye(2)),
    "mvn tril": lambda t, D: D.MultivariateNormal(t.zeros(2), scale_tril=t.eye(2)),
    "independent": lambda t, D: D.Independent(D.Normal(t.zeros(2), 1.0), 1),
    "mixture": lambda t, D: D.MixtureSameFamily(D.Categorical(t.ones(2)), D.Normal(t.zeros(2), 1.0)),
    "log normal": lambda t, D: D.LogNormal(0.0, 1.0),
    "beta": lambda t, D: D.Beta(1.0, 2.0),
    "uniform": lambda t, D: D.Uniform(t.zeros(3), 1.0),
    "expanded": lambda t, D: D.Normal(t.zeros(2), 1.0).expand([3, 2]),
    "constraints": lambda t, D: [D.constraints.positive, D.constraints.interval(0, 1), D.constraints.simplex,
                                 D.constraints.real_vector, D.constraints.integer_interval(0, 3),
                                 D.constraints.less_than(2), D.constraints.greater_than_eq(1),
                                 D.constraints.half_open_interval(0, 1), D.constraints.multinomial(3),
                                 D.constraints.nonnegative_integer, D.constraints.lower_cholesky,
                                 D.constraints.corr_cholesky, D.constraints.one_hot, D.constraints.boolean],
    "transforms": lambda t, D: [D.ExpTransform(), D.ExpTransform().inv, D.AffineTransform(0.0, 2.0),
                                D.ComposeTransform([D.ExpTransform(), D.TanhTransform()]), D.identity_transform,
                                D.IndependentTransform(D.SigmoidTransform(), 1)],
    "supports": lambda t, D: [D.Uniform(0.0, 2.0).support, D.Categorical(t.ones(4)).support,
                              D.Binomial(5, t.tensor(0.5)).support, D.Independent(D.Normal(t.zeros(2), 1.0), 1).support,
                              D.TransformedDistribution(D.Normal(0.0, 1.0), D.SigmoidTransform()).support,
                              D.MixtureSameFamily(D.Categorical(t.ones(2)), D.Normal(t.zeros(2), 1.0)).support],
    "shapes": lambda t, D: [(d.batch_shape, d.event_shape) for d in (
        D.Categorical(t.ones(4, 3)), D.Multinomial(3, t.ones(2, 3)), D.Dirichlet(t.ones(5, 2)),
        D.TransformedDistribution(D.Normal(t.zeros(4), 1.0), D.StickBreakingTransform()),
        D.TransformedDistribution(D.Normal(t.zeros(2, 3), 1.0), D.AffineTransform(t.zeros(3), 1.0, event_dim=1)),
        D.RelaxedOneHotCategorical(t.tensor(1.0), t.ones(2, 3)), D.Beta(t.ones(3), 1.0))],
}


@pytest.mark.parametrize("case", sorted(REPRS))
def test_repr_and_shapes_match_torch(case: str) -> None:
    _same(REPRS[case])


def test_validation_can_be_switched_off() -> None:
    ED.Normal(0.0, -1.0, validate_args=False)  # no check
    try:
        ED.Distribution.set_default_validate_args(False)
        d = ED.Normal(0.0, -1.0)
        assert not d._validate_args
    finally:
        ED.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        ED.Normal(0.0, -1.0)


@pytest.mark.parametrize("family", ["Categorical", "Bernoulli", "OneHotCategorical", "Binomial"])
def test_enumerate_support_matches_torch(family: str) -> None:
    def make(t, D):
        return {"Categorical": lambda: D.Categorical(t.ones(2, 3)), "Bernoulli": lambda: D.Bernoulli(t.ones(2) / 3),
                "OneHotCategorical": lambda: D.OneHotCategorical(t.ones(2, 3)),
                "Binomial": lambda: D.Binomial(4, t.ones(2) / 3)}[family]()

    for expand in (True, False):
        et, ee = make(torch, TD).enumerate_support(expand), make(ember, ED).enumerate_support(expand)
        np.testing.assert_array_equal(ee.numpy(), et.numpy())
        assert str(ee.dtype).split(".")[1] == str(et.dtype).split(".")[1]


def _kl_pairs(t, D):
    f64 = dict(dtype=t.float64)
    return {
        "normal": (D.Normal(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 2.0], **f64)),
                   D.Normal(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "categorical": (D.Categorical(t.tensor([[0.2, 0.8, 0.0], [0.3, 0.3, 0.4]], **f64)),
                        D.Categorical(logits=t.tensor([[0.1, 0.2, 0.3], [1.0, 0.0, -1.0]], **f64))),
        "categorical inf": (D.Categorical(t.tensor([0.5, 0.5], **f64)), D.Categorical(t.tensor([1.0, 0.0], **f64))),
        "bernoulli": (D.Bernoulli(t.tensor([0.2, 0.0, 1.0, 0.5], **f64)), D.Bernoulli(t.tensor([0.7, 0.3, 0.5, 1.0], **f64))),
        "mvn": (D.MultivariateNormal(t.tensor([0.5, -0.5], **f64), t.tensor([[2.0, 0.3], [0.3, 0.5]], **f64)),
                D.MultivariateNormal(t.zeros(3, 2, **f64), scale_tril=t.tensor([[1.0, 0.0], [0.4, 1.2]], **f64))),
        "uniform": (D.Uniform(t.tensor([0.0, 0.0], **f64), t.tensor([1.0, 3.0], **f64)),
                    D.Uniform(t.tensor([-1.0, 0.5], **f64), t.tensor([2.0, 3.0], **f64))),
        "uniform normal": (D.Uniform(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 3.0], **f64)),
                           D.Normal(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "beta": (D.Beta(t.tensor([0.5, 2.0], **f64), t.tensor([1.5, 3.0], **f64)),
                 D.Beta(t.tensor([1.0, 1.0], **f64), t.tensor([2.0, 0.5], **f64))),
        "gamma": (D.Gamma(t.tensor([0.5, 2.0], **f64), t.tensor([1.5, 3.0], **f64)),
                  D.Gamma(t.tensor([1.0, 1.0], **f64), t.tensor([2.0, 0.5], **f64))),
        "dirichlet": (D.Dirichlet(t.tensor([0.5, 2.0, 1.0], **f64)), D.Dirichlet(t.tensor([1.0, 3.0, 0.2], **f64))),
        "exponential": (D.Exponential(t.tensor([0.5, 2.0], **f64)), D.Exponential(t.tensor([1.5, 0.2], **f64))),
        "exponential gamma": (D.Exponential(t.tensor([0.5, 2.0], **f64)),
                              D.Gamma(t.tensor([1.0, 3.0], **f64), t.tensor([2.0, 0.5], **f64))),
        "laplace": (D.Laplace(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 2.0], **f64)),
                    D.Laplace(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "normal laplace": (D.Normal(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 2.0], **f64)),
                           D.Laplace(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "poisson": (D.Poisson(t.tensor([0.5, 4.0], **f64)), D.Poisson(t.tensor([2.0, 1.0], **f64))),
        "geometric": (D.Geometric(t.tensor([0.5, 0.2], **f64)), D.Geometric(t.tensor([0.3, 0.9], **f64))),
        "binomial": (D.Binomial(t.tensor([5.0, 7.0], **f64), t.tensor([0.5, 0.2], **f64)),
                     D.Binomial(t.tensor([5.0, 4.0], **f64), t.tensor([0.3, 0.9], **f64))),
        "cauchy": (D.Cauchy(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 2.0], **f64)),
                   D.Cauchy(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "one hot": (D.OneHotCategorical(t.tensor([0.2, 0.8], **f64)), D.OneHotCategorical(t.tensor([0.5, 0.5], **f64))),
        "independent": (D.Independent(D.Normal(t.zeros(3, **f64), 1.0), 1),
                        D.Independent(D.Normal(t.ones(3, **f64), 2.0), 1)),
        "exponential normal": (D.Exponential(t.tensor([0.5, 2.0], **f64)),
                               D.Normal(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "beta uniform": (D.Beta(t.tensor([0.5, 2.0], **f64), t.tensor([1.5, 3.0], **f64)),
                         D.Uniform(t.tensor([0.0, 0.5], **f64), t.tensor([1.0, 3.0], **f64))),
        "gumbel": (D.Gumbel(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 2.0], **f64)),
                   D.Gumbel(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
        "half normal": (D.HalfNormal(t.tensor([1.0, 2.0], **f64)), D.HalfNormal(t.tensor([0.3, 1.5], **f64))),
        "pareto": (D.Pareto(t.tensor([1.0, 2.0], **f64), t.tensor([1.0, 3.0], **f64)),
                   D.Pareto(t.tensor([0.5, 2.5], **f64), t.tensor([0.3, 1.5], **f64))),
        "continuous bernoulli": (D.ContinuousBernoulli(t.tensor([0.2, 0.4995, 0.9], **f64)),
                                 D.ContinuousBernoulli(t.tensor([0.6, 0.3, 0.5005], **f64))),
        "log normal": (D.LogNormal(t.tensor([0.0, 1.0], **f64), t.tensor([1.0, 2.0], **f64)),
                       D.LogNormal(t.tensor([0.5, -1.0], **f64), t.tensor([0.3, 1.5], **f64))),
    }


@pytest.mark.parametrize("pair", sorted(_kl_pairs(torch, TD)))
def test_kl_divergence_matches_torch(pair: str) -> None:
    pt, qt = _kl_pairs(torch, TD)[pair]
    pe, qe = _kl_pairs(ember, ED)[pair]
    expected = TD.kl_divergence(pt, qt)
    got = ED.kl_divergence(pe, qe)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)


def test_kl_gradient_matches_torch() -> None:
    def grads(t, D):
        loc = t.tensor([0.3, -1.0], dtype=t.float64, requires_grad=True)
        scale = t.tensor([0.7, 2.0], dtype=t.float64, requires_grad=True)
        kl = D.kl_divergence(D.Normal(loc, scale), D.Normal(t.zeros(2, dtype=t.float64), 1.0)).sum()
        return [g.numpy() for g in t.autograd.grad(kl, [loc, scale])]

    for a, b in zip(grads(ember, ED), grads(torch, TD)):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_register_kl_dispatches_on_the_most_specific_pair() -> None:
    class MyNormal(ED.Normal):
        pass

    @ED.register_kl(MyNormal, ED.Normal)
    def _kl(p, q):
        return ember.tensor(42.0)

    assert ED.kl_divergence(MyNormal(0.0, 1.0), ED.Normal(0.0, 1.0)).item() == 42.0
    assert ED.kl_divergence(ED.Normal(0.0, 1.0), MyNormal(1.0, 1.0)).item() == 0.5  # the base pair's formula
    with pytest.raises(TypeError):
        ED.register_kl(int, ED.Normal)


def test_exponential_family_entropy_by_bregman_divergence_equals_the_closed_form() -> None:
    # the base class's entropy (autograd through the log normaliser) against each family's formula
    for d in (ED.Normal(ember.tensor([0.3, 1.0]), ember.tensor([0.5, 2.0])), ED.Gamma(ember.tensor([2.0]), 3.0),
              ED.Exponential(ember.tensor([0.5, 2.0])), ED.Bernoulli(ember.tensor([0.3, 0.6]))):
        got = ED.ExponentialFamily.entropy(d)
        np.testing.assert_allclose(got.detach().numpy(), d.entropy().detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["ExpTransform", "SigmoidTransform", "TanhTransform", "SoftplusTransform",
                                  "AffineTransform", "PowerTransform", "StickBreakingTransform", "Compose"])
def test_transforms_match_torch(name: str) -> None:
    def run(t, D):
        make = {"AffineTransform": lambda: D.AffineTransform(t.tensor([1.0, -2.0], dtype=t.float64), 3.0),
                "PowerTransform": lambda: D.PowerTransform(t.tensor(2.5, dtype=t.float64)),
                "Compose": lambda: D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.SigmoidTransform(),
                                                       D.PowerTransform(t.tensor(0.5, dtype=t.float64))])}
        tr = make.get(name, lambda: getattr(D, name)())()
        x = t.tensor([0.3, 1.7], dtype=t.float64, requires_grad=True)
        y = tr(x)
        lad = tr.log_abs_det_jacobian(x, y)
        back = tr.inv(y.detach())
        (g,) = t.autograd.grad(y.sum() + lad.sum(), x)
        return [y, lad, back, g], (tr.domain, tr.codomain, tr.bijective)

    (vals_e, meta_e), (vals_t, meta_t) = run(ember, ED), run(torch, TD)
    for a, b in zip(vals_e, vals_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert repr(meta_e) == repr(meta_t)


def test_transform_cache_returns_the_input_and_inverse_is_shared() -> None:
    t = ED.ExpTransform(cache_size=1)
    x = ember.tensor([0.5, 1.0])
    y = t(x)
    assert t.inv(y) is x
    assert t.inv.inv is t
    assert ED.ExpTransform() == ED.ExpTransform() and ED.ExpTransform() != ED.SigmoidTransform()
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        ED.ExpTransform(cache_size=2)


def test_constraints_check_like_torch() -> None:
    values = [[0.0, 1.0, -1.0, 0.5, float("nan"), float("inf")]]
    checks = ["real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer", "positive_integer"]
    for name in checks:
        got = getattr(ED.constraints, name).check(ember.tensor(values))
        expected = getattr(TD.constraints, name).check(torch.tensor(values))
        np.testing.assert_array_equal(got.numpy(), expected.numpy(), err_msg=name)
    for name, mat in (("simplex", [[0.2, 0.8], [0.5, 0.6]]), ("one_hot", [[0.0, 1.0], [1.0, 1.0]]),
                      ("lower_cholesky", [[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.1], [0.5, 2.0]]]),
                      ("positive_definite", [[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
                      ("symmetric", [[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [0.0, 1.0]]])):
        got = getattr(ED.constraints, name).check(ember.tensor(mat))
        expected = getattr(TD.constraints, name).check(torch.tensor(mat))
        np.testing.assert_array_equal(got.numpy(), expected.numpy(), err_msg=name)
    assert ED.constraints.is_dependent(ED.constraints.dependent)
    assert ED.constraints.real_vector.event_dim == 1 and ED.constraints.one_hot.is_discrete


def test_utils_match_torch() -> None:
    from torch.distributions import utils as TU

    from ember.distributions import utils as EU

    p = [0.0, 0.25, 1.0]
    for fn, args in (("probs_to_logits", (p,)), ("clamp_probs", (p,)), ("logits_to_probs", ([-1.0, 0.0, 3.0],))):
        for binary in ((False, True) if fn != "clamp_probs" else (None,)):
            kw = {} if binary is None else {"is_binary": binary}
            got = getattr(EU, fn)(ember.tensor(*args), **kw)
            expected = getattr(TU, fn)(torch.tensor(*args), **kw)
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    a, b = EU.broadcast_all(ember.zeros(2, 1, dtype=ember.float64), 3)
    assert a.shape == b.shape == (2, 1) and b.dtype == ember.float64
    with pytest.raises(ValueError, match="Input arguments must all be instances of Number"):
        EU.broadcast_all("a")
    m = ember.arange(9.0).reshape(3, 3)
    v = EU.tril_matrix_to_vec(m)
    np.testing.assert_array_equal(v.numpy(), TU.tril_matrix_to_vec(torch.arange(9.0).reshape(3, 3)).numpy())
    np.testing.assert_array_equal(EU.vec_to_tril_matrix(v).numpy(), m.tril().numpy())


def test_expand_keeps_parameters_and_draws_like_torch() -> None:
    for make in (lambda t, D: D.Normal(t.tensor([0.0, 1.0]), 1.0), lambda t, D: D.Categorical(t.tensor([0.2, 0.8])),
                 lambda t, D: D.Gamma(t.tensor(2.0), 1.0), lambda t, D: D.StudentT(t.tensor([3.0, 4.0])),
                 lambda t, D: D.MultivariateNormal(t.zeros(2), t.eye(2)),
                 lambda t, D: D.LogNormal(t.zeros(2), 1.0), lambda t, D: D.Binomial(5, t.tensor([0.2, 0.8]))):
        de, dt = make(ember, ED).expand([3, 2]), make(torch, TD).expand([3, 2])
        assert de.batch_shape == tuple(dt.batch_shape) and type(de).__name__ == type(dt).__name__
        ember.manual_seed(1)
        torch.manual_seed(1)
        np.testing.assert_allclose(de.sample((2,)).numpy(), dt.sample((2,)).numpy(), rtol=1e-6)


def test_perplexity_and_sample_n() -> None:
    d = ED.Categorical(ember.tensor([0.25, 0.75]))
    np.testing.assert_allclose(d.perplexity().item(), math.exp(d.entropy().item()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert d.sample_n(4).shape == (4,)
    assert "sample_n will be deprecated" in str(caught[0].message)


def test_import_ember_does_not_load_distributions() -> None:
    code = "import sys, ember; assert 'ember.distributions' not in sys.modules; ember.distributions.Normal"
    subprocess.run([sys.executable, "-c", code], check=True)


CONSTRAINTS = {
    "real": lambda t, D: D.constraints.real,
    "positive": lambda t, D: D.constraints.positive,
    "greater_than": lambda t, D: D.constraints.greater_than(t.tensor([1.0, -2.0], dtype=t.float64)),
    "less_than": lambda t, D: D.constraints.less_than(3.0),
    "interval": lambda t, D: D.constraints.interval(-1.0, 2.0),
    "unit_interval": lambda t, D: D.constraints.unit_interval,
    "simplex": lambda t, D: D.constraints.simplex,
    "real_vector": lambda t, D: D.constraints.real_vector,
    "lower_cholesky": lambda t, D: D.constraints.lower_cholesky,
    "positive_definite": lambda t, D: D.constraints.positive_definite,
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraint_registry_maps_like_torch(registry: str, name: str) -> None:
    def run(t, D):
        try:
            tr = getattr(D, registry)(CONSTRAINTS[name](t, D))
        except NotImplementedError as exc:
            return str(exc), None
        x = t.tensor([[0.3, -1.2], [0.5, 2.0]], dtype=t.float64)
        y = tr(x)
        lad = tr.log_abs_det_jacobian(x, y) if tr.bijective else None
        return repr(tr), [v.numpy() for v in (y, tr.inv(y)) + ((lad,) if lad is not None else ())]

    (re_, ve), (rt, vt) = run(ember, ED), run(torch, TD)
    assert re_ == rt
    if vt is not None:
        for a, b in zip(ve, vt):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint subclass or instance"):
        ED.biject_to.register(int, lambda c: None)


def test_reshape_and_cdf_transforms_match_torch() -> None:
    def run(t, D):
        r = D.ReshapeTransform((4,), (2, 2))
        x = t.arange(8.0).reshape(2, 4)
        d = D.TransformedDistribution(D.Normal(t.zeros(3, 4), 1.0), r)
        c = D.CumulativeDistributionTransform(D.Normal(0.0, 1.0))
        z = t.tensor([0.3, -1.0])
        out = [r(x).shape, r.inv(r(x)).shape, d.batch_shape, d.event_shape, repr(c.domain),
               d.log_prob(t.ones(3, 2, 2)).tolist(), c(z).tolist(), c.inv(c(z)).tolist(),
               c.log_abs_det_jacobian(z, c(z)).tolist()]
        for bad in ((3, 5), (5,)):
            try:
                r.forward_shape(bad)
            except ValueError as exc:
                out.append(str(exc))
        try:
            D.ReshapeTransform((4,), (3,))
        except ValueError as exc:
            out.append(str(exc))
        return out

    got, expected = run(ember, ED), run(torch, TD)
    assert repr(got).replace("ember.", "torch.") == repr(expected)

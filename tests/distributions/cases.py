"""The families under test, each built the same way in torch and in ember.

A case is ``(name, make, value)``: ``make(D, t)`` builds the distribution from a distributions
module ``D`` (torch's or ember's) and a tensor factory ``t`` (of the chosen dtype, leaf tensors
that require grad), ``value(t)`` a point in its support to score.
"""

from __future__ import annotations

P2 = [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]
COV = [[2.0, 0.3], [0.3, 0.5]]

CASES = [
    ("Normal", lambda D, t: D.Normal(t([0.3, -1.2]), t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("Categorical", lambda D, t: D.Categorical(t(P2)), None),
    ("CategoricalLogits", lambda D, t: D.Categorical(logits=t(P2)), None),
    ("Bernoulli", lambda D, t: D.Bernoulli(t([0.2, 0.7])), lambda t: t([0.0, 1.0])),
    ("BernoulliLogits", lambda D, t: D.Bernoulli(logits=t([-0.3, 1.7])), lambda t: t([1.0, 1.0])),
    ("Uniform", lambda D, t: D.Uniform(t([0.0, 1.0]), t([2.0, 5.0])), lambda t: t([1.0, 1.5])),
    ("MultivariateNormal", lambda D, t: D.MultivariateNormal(t([0.5, -0.5]), covariance_matrix=t(COV)),
     lambda t: t([[0.1, 0.2], [1.0, -1.0]])),
    ("MultivariateNormalTril", lambda D, t: D.MultivariateNormal(t([0.5, -0.5]), scale_tril=t([[1.5, 0.0], [0.2, 0.7]])),
     lambda t: t([0.1, 0.2])),
    ("MultivariateNormalPrecision", lambda D, t: D.MultivariateNormal(t([0.5, -0.5]), precision_matrix=t(COV)),
     lambda t: t([0.1, 0.2])),
    ("LowRankMultivariateNormal", lambda D, t: D.LowRankMultivariateNormal(
        t([[0.5, -0.5, 1.0], [0.0, 0.2, 0.1]]), t([[1.0, 0.3], [0.0, -0.5], [0.4, 0.2]]), t([0.5, 1.5, 0.8])),
     lambda t: t([0.1, 0.2, -0.3])),
    ("Independent", lambda D, t: D.Independent(D.Normal(t([0.3, -1.2]), t([0.5, 2.0])), 1), lambda t: t([0.1, 3.0])),
    ("OneHotCategorical", lambda D, t: D.OneHotCategorical(t(P2)), lambda t: t([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])),
    ("Beta", lambda D, t: D.Beta(t([0.5, 2.0, 7.0]), t([1.5, 0.3, 3.0])), lambda t: t([0.2, 0.9, 0.5])),
    ("Gamma", lambda D, t: D.Gamma(t([0.5, 2.0, 7.0]), t([1.5, 0.3, 3.0])), lambda t: t([0.2, 4.0, 2.5])),
    ("Chi2", lambda D, t: D.Chi2(t([0.5, 3.0])), lambda t: t([0.2, 4.0])),
    ("Dirichlet", lambda D, t: D.Dirichlet(t([[0.5, 2.0, 7.0], [1.3, 1.1, 0.2]])), lambda t: t([0.2, 0.3, 0.5])),
    ("Exponential", lambda D, t: D.Exponential(t([0.5, 3.0])), lambda t: t([0.2, 4.0])),
    ("Laplace", lambda D, t: D.Laplace(t([0.3, -1.2]), t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("LogNormal", lambda D, t: D.LogNormal(t([0.3, -1.2]), t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("Poisson", lambda D, t: D.Poisson(t([0.5, 4.0, 25.0])), lambda t: t([0.0, 3.0, 20.0])),
    ("Binomial", lambda D, t: D.Binomial(t([5.0, 40.0, 100.0]), t([0.3, 0.6, 0.95])), lambda t: t([2.0, 20.0, 97.0])),
    ("BinomialLogits", lambda D, t: D.Binomial(10, logits=t([-0.5, 2.0])), lambda t: t([2.0, 9.0])),
    ("Multinomial", lambda D, t: D.Multinomial(6, t(P2)), lambda t: t([[1.0, 2.0, 3.0], [6.0, 0.0, 0.0]])),
    ("Cauchy", lambda D, t: D.Cauchy(t([0.3, -1.2]), t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("StudentT", lambda D, t: D.StudentT(t([0.7, 2.5, 6.0]), t([0.3, -1.2, 0.0]), t([0.5, 2.0, 1.0])),
     lambda t: t([0.1, 3.0, -0.5])),
    ("HalfNormal", lambda D, t: D.HalfNormal(t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("HalfCauchy", lambda D, t: D.HalfCauchy(t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("Gumbel", lambda D, t: D.Gumbel(t([0.3, -1.2]), t([0.5, 2.0])), lambda t: t([0.1, 3.0])),
    ("Weibull", lambda D, t: D.Weibull(t([0.5, 2.0]), t([1.5, 0.7])), lambda t: t([0.1, 3.0])),
    ("Pareto", lambda D, t: D.Pareto(t([0.5, 2.0]), t([1.5, 3.0])), lambda t: t([0.7, 3.0])),
    ("NegativeBinomial", lambda D, t: D.NegativeBinomial(t([3.0, 10.0]), t([0.4, 0.7])), lambda t: t([2.0, 15.0])),
    ("InverseGamma", lambda D, t: D.InverseGamma(t([0.5, 3.0]), t([1.5, 0.3])), lambda t: t([0.2, 4.0])),
    ("FisherSnedecor", lambda D, t: D.FisherSnedecor(t([0.5, 3.0]), t([1.5, 6.0])), lambda t: t([0.2, 4.0])),
    ("Kumaraswamy", lambda D, t: D.Kumaraswamy(t([0.5, 3.0]), t([1.5, 2.0])), lambda t: t([0.2, 0.7])),
    ("LogisticNormal", lambda D, t: D.LogisticNormal(t([0.3, -1.2]), t([0.5, 2.0])), lambda t: t([0.2, 0.3, 0.5])),
    ("ContinuousBernoulli", lambda D, t: D.ContinuousBernoulli(t([0.2, 0.4995, 0.9])), lambda t: t([0.3, 0.5, 0.99])),
    ("ContinuousBernoulliLogits", lambda D, t: D.ContinuousBernoulli(logits=t([-1.0, 0.0005, 2.0])),
     lambda t: t([0.3, 0.5, 0.99])),
    ("Geometric", lambda D, t: D.Geometric(t([0.2, 0.7])), lambda t: t([3.0, 0.0])),
    ("RelaxedBernoulli", lambda D, t: D.RelaxedBernoulli(t([0.5, 2.0]), probs=t([0.2, 0.7])), lambda t: t([0.3, 0.9])),
    ("RelaxedOneHotCategorical", lambda D, t: D.RelaxedOneHotCategorical(t(0.5), t(P2)), lambda t: t([0.1, 0.3, 0.6])),
    ("TransformedTanhAffine", lambda D, t: D.TransformedDistribution(
        D.Normal(t([0.3, -1.2]), t([0.5, 2.0])), [D.AffineTransform(t([1.0, 2.0]), t([0.5, 3.0])), D.TanhTransform()]),
     lambda t: t([0.6, -0.2])),
    ("TransformedSigmoidExp", lambda D, t: D.TransformedDistribution(
        D.Normal(t([0.3, -1.2]), t([0.5, 2.0])), D.ComposeTransform([D.SigmoidTransform(), D.ExpTransform()])),
     lambda t: t([1.5, 2.0])),
    ("MixtureSameFamily", lambda D, t: D.MixtureSameFamily(
        D.Categorical(t([0.3, 0.7])), D.Normal(t([-1.0, 2.0]), t([0.5, 1.5]))), lambda t: t([0.1, 3.0])),
    ("MixtureSameFamilyMVN", lambda D, t: D.MixtureSameFamily(
        D.Categorical(logits=t([0.3, 0.7, -1.0])),
        D.Independent(D.Normal(t([[-1.0, 2.0], [0.0, 0.0], [3.0, 1.0]]), t([[0.5, 1.5], [1.0, 1.0], [0.2, 2.0]])), 1)),
     lambda t: t([0.1, 3.0])),
]

# the families with a reparameterised sampler whose derivative is exact (gradcheck applies)
REPARAMETERISED = ["Normal", "Uniform", "MultivariateNormal", "MultivariateNormalTril", "LowRankMultivariateNormal", "Independent", "Exponential",
                   "Laplace", "LogNormal", "Cauchy", "RelaxedBernoulli", "RelaxedOneHotCategorical",
                   "TransformedTanhAffine", "HalfNormal", "HalfCauchy", "Kumaraswamy", "LogisticNormal", "ContinuousBernoulli",
                   "ContinuousBernoulliLogits"]

# samples computed from the draws with a matmul or a transcendental function whose last bit ember's op
# may round differently from torch's vectorised kernel: the draws are equal, the results within a few ulps
# (pow chains, as in Kumaraswamy, amplify one ulp a few times)
ROUNDING = ["MultivariateNormal", "MultivariateNormalTril", "MultivariateNormalPrecision", "LowRankMultivariateNormal", "Laplace", "LogNormal",
            "RelaxedBernoulli", "RelaxedOneHotCategorical", "TransformedTanhAffine", "TransformedSigmoidExp",
            "MixtureSameFamilyMVN", "Gumbel", "Weibull", "Pareto", "InverseGamma",
            "FisherSnedecor", "Kumaraswamy", "LogisticNormal", "ContinuousBernoulli", "ContinuousBernoulliLogits"]

# samplers differentiable through torch's approximations of d sample / d concentration
GAMMA_BASED = ["Beta", "Gamma", "Chi2", "Dirichlet", "StudentT", "InverseGamma", "FisherSnedecor"]

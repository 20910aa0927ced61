"""``ContinuousBernoulli(probs | logits)``: a density on ``[0, 1]`` shaped like a Bernoulli's mass
(Loaiza-Ganem and Cunningham, 2019), the likelihood some VAEs use for pixel intensities."""

from __future__ import annotations

import math
from numbers import Number
from typing import Any

from .._tensor import Size, Tensor
from . import _ops as ops
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli distribution: density proportional to ``p^x (1 - p)^(1 - x)`` on ``[0, 1]``.

    Near ``p = 1/2`` (inside ``lims``) the closed forms lose precision, so moments and the
    normaliser switch to Taylor expansions there, as torch's do. ``rsample`` inverts the CDF at
    ``torch.rand`` draws (torch's stream).

    >>> from ember.distributions import *
    >>> ContinuousBernoulli(ember.tensor([0.3])).log_prob(ember.tensor([0.5]))
    tensor([-0.0297])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs: Any = None, logits: Any = None, lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
            # checked here (only when validate_args is given), before the clamp would hide bad values
            if validate_args is not None and not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = clamp_probs(self.probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        self._lims = lims
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> ContinuousBernoulli:
        """The same distribution broadcast to ``batch_shape``."""
        new = self._expand_params(ContinuousBernoulli, batch_shape, _instance, ("probs", "logits"))
        new._lims = self._lims
        new._param = new.probs if "probs" in new.__dict__ else new.logits
        return new

    def _new(self, *args: Any, **kwargs: Any) -> Tensor:
        return self._param.new(*args, **kwargs)

    def _outside_unstable_region(self) -> Tensor:
        return self.probs.le(self._lims[0]) | self.probs.gt(self._lims[1])

    def _cut_probs(self) -> Tensor:
        return ops.where(self._outside_unstable_region(), self.probs, self._lims[0] * ops.ones_like(self.probs))

    def _cont_bern_log_norm(self) -> Tensor:
        """The log normalising constant as a function of ``probs``."""
        cut_probs = self._cut_probs()
        below_half = ops.where(cut_probs.le(0.5), cut_probs, ops.zeros_like(cut_probs))
        above_half = ops.where(cut_probs.ge(0.5), cut_probs, ops.ones_like(cut_probs))
        log_norm = ops.log(ops.abs(ops.log1p(-cut_probs) - ops.log(cut_probs))) - ops.where(
            cut_probs.le(0.5), ops.log1p(-2.0 * below_half), ops.log(2.0 * above_half - 1.0))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ops.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        """``p / (2p - 1) + 1 / (log1p(-p) - log p)`` (a Taylor series near 1/2)."""
        cut_probs = self._cut_probs()
        mus = cut_probs / (2.0 * cut_probs - 1.0) + 1.0 / (ops.log1p(-cut_probs) - ops.log(cut_probs))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x**2) * x
        return ops.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> Tensor:
        """The square root of the variance."""
        return self.variance.sqrt()

    @property
    def variance(self) -> Tensor:
        """The closed-form variance (a Taylor series near 1/2)."""
        cut_probs = self._cut_probs()
        variances = (cut_probs * (cut_probs - 1.0) / (1.0 - 2.0 * cut_probs) ** 2
                     + 1.0 / (ops.log1p(-cut_probs) - ops.log(cut_probs)) ** 2)
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ops.where(self._outside_unstable_region(), variances, taylor)

    @lazy_property
    def logits(self) -> Tensor:
        """``log(p) - log1p(-p)``."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """``sigmoid(logits)``, clamped away from 0 and 1."""
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    @property
    def param_shape(self) -> Size:
        """The shape of ``probs`` / ``logits``."""
        return self._param.size()

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        """The inverse CDF at uniform draws (no gradient)."""
        shape = self._extended_shape(sample_shape)
        u = ops.rand(shape, dtype=self.probs.dtype)
        with ops.no_grad():
            return self.icdf(u)

    def rsample(self, sample_shape: Any = Size()) -> Tensor:
        """The inverse CDF at uniform draws."""
        shape = self._extended_shape(sample_shape)
        u = ops.rand(shape, dtype=self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        """``-bce_with_logits(logits, value)`` plus the log normaliser."""
        from ..nn import functional as F

        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none") + self._cont_bern_log_norm()

    def cdf(self, value: Tensor) -> Tensor:
        """``(p^x (1 - p)^(1 - x) + p - 1) / (2p - 1)``, 0 below 0 and 1 above 1."""
        if self._validate_args:
            self._validate_sample(value)
        cut_probs = self._cut_probs()
        cdfs = (cut_probs**value * (1.0 - cut_probs) ** (1.0 - value) + cut_probs - 1.0) / (2.0 * cut_probs - 1.0)
        unbounded_cdfs = ops.where(self._outside_unstable_region(), cdfs, value)
        return ops.where(value.le(0.0), ops.zeros_like(value),
                         ops.where(value.ge(1.0), ops.ones_like(value), unbounded_cdfs))

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse CDF (the identity near ``p = 1/2``)."""
        cut_probs = self._cut_probs()
        inverted = ((ops.log1p(-cut_probs + value * (2.0 * cut_probs - 1.0)) - ops.log1p(-cut_probs))
                    / (ops.log(cut_probs) - ops.log1p(-cut_probs)))
        return ops.where(self._outside_unstable_region(), inverted, value)

    def entropy(self) -> Tensor:
        """``mean (log(1 - p) - log p) - log C(p) - log(1 - p)``."""
        log_probs0 = ops.log1p(-self.probs)
        log_probs1 = ops.log(self.probs)
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        """The log normaliser as a function of the natural parameter (the logits)."""
        out_unst_reg = x.le(self._lims[0] - 0.5) | x.gt(self._lims[1] - 0.5)
        cut_nat_params = ops.where(out_unst_reg, x, (self._lims[0] - 0.5) * ops.ones_like(x))
        log_norm = ops.log(ops.abs(ops.expm1(cut_nat_params))) - ops.log(ops.abs(cut_nat_params))
        taylor = 0.5 * x + x**2 / 24.0 - x**4 / 2880.0
        return ops.where(out_unst_reg, log_norm, taylor)

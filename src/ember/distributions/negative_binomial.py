"""``NegativeBinomial(total_count, probs | logits)``."""

from __future__ import annotations

from typing import Any

from .._tensor import Size, Tensor
from . import _ops as ops
from . import constraints
from ._binary_params import BinaryParams
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all, lazy_property

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryParams, Distribution):
    """Successes before ``total_count`` failures of Bernoulli(``probs``) trials.

    ``sample`` draws a Gamma-Poisson mixture as torch does (gamma rates, then ``torch.poisson``),
    so samples follow torch's stream.

    >>> from ember.distributions import *
    >>> NegativeBinomial(ember.tensor([3.0]), ember.tensor([0.5])).log_prob(ember.tensor([2.0]))
    tensor([-1.6740])
    """

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Any, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> NegativeBinomial:
        """The same distribution broadcast to ``batch_shape``."""
        new = self._expand_params(NegativeBinomial, batch_shape, _instance, ("total_count", "probs", "logits"))
        new._param = new.probs if "probs" in new.__dict__ else new.logits
        return new

    def _new(self, *args: Any, **kwargs: Any) -> Tensor:
        return self._param.new(*args, **kwargs)

    @property
    def mean(self) -> Tensor:
        """``total_count * exp(logits)``."""
        return self.total_count * ops.exp(self.logits)

    @property
    def mode(self) -> Tensor:
        """``floor((total_count - 1) exp(logits))``, at least 0."""
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        """``mean / sigmoid(-logits)``."""
        return self.mean / ops.sigmoid(-self.logits)

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(concentration=self.total_count, rate=ops.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        """Poisson counts at Gamma-distributed rates."""
        with ops.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return ops.poisson(rate)

    def log_prob(self, value: Tensor) -> Tensor:
        """The log mass, from logsigmoid of the logits and lgamma terms."""
        from ..nn import functional as F

        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        log_normalization = (-ops.lgamma(self.total_count + value) + ops.lgamma(1.0 + value)
                             + ops.lgamma(self.total_count))
        # the (total_count + value == 0) term is a 0 / 0 that is taken as 0
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization

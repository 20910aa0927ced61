"""``InverseGamma(concentration, rate)``: ``1 / X`` for ``X ~ Gamma(concentration, rate)``."""

from __future__ import annotations

import math
from typing import Any

from .._tensor import Tensor
from . import _ops as ops
from . import constraints
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """The inverse-gamma distribution: reciprocals of Gamma draws (torch's stream).

    >>> from ember.distributions import *
    >>> InverseGamma(ember.tensor([2.0]), ember.tensor([1.0])).log_prob(ember.tensor([1.0]))
    tensor([-1.])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive  # type: ignore[assignment]
    has_rsample = True  # type: ignore[assignment]
    base_dist: Gamma

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> InverseGamma:
        """The same distribution broadcast to ``batch_shape``."""
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def concentration(self) -> Tensor:
        """The Gamma's concentration."""
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        """The Gamma's rate."""
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        """``rate / (concentration - 1)``, infinite for ``concentration <= 1``."""
        result = self.rate / (self.concentration - 1)
        return ops.where(self.concentration > 1, result, math.inf)

    @property
    def mode(self) -> Tensor:
        """``rate / (concentration + 1)``."""
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        """``rate^2 / ((a - 1)^2 (a - 2))``, infinite for ``a <= 2``."""
        result = self.rate.square() / ((self.concentration - 1).square() * (self.concentration - 2))
        return ops.where(self.concentration > 2, result, math.inf)

    def entropy(self) -> Tensor:
        """``a + log(rate) + lgamma(a) - (1 + a) digamma(a)``."""
        return (self.concentration + self.rate.log() + self.concentration.lgamma()
                - (1 + self.concentration) * self.concentration.digamma())

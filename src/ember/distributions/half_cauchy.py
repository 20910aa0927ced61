"""``HalfCauchy(scale)``: ``|X|`` for ``X ~ Cauchy(0, scale)``."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import _ops as ops
from ._folded import _FoldedAtZero
from .cauchy import Cauchy

__all__ = ["HalfCauchy"]


class HalfCauchy(_FoldedAtZero):
    """The half-Cauchy distribution: the absolute value of a zero-location Cauchy with ``scale``.

    Samples are ``|x|`` of the Cauchy's draws (torch's stream).

    >>> from ember.distributions import *
    >>> HalfCauchy(ember.tensor([1.0])).log_prob(ember.tensor([1.0]))
    tensor([-1.1447])
    """

    _base = Cauchy
    _cast_value = True
    base_dist: Cauchy

    @property
    def mean(self) -> Tensor:
        """Infinite."""
        return ops.full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        """Infinite (the base's)."""
        return self.base_dist.variance

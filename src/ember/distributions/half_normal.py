"""``HalfNormal(scale)``: ``|X|`` for ``X ~ Normal(0, scale)``."""

from __future__ import annotations

import math

from .._tensor import Tensor
from ._folded import _FoldedAtZero
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(_FoldedAtZero):
    """The half-normal distribution: the absolute value of a zero-mean Normal with ``scale``.

    Samples are ``|x|`` of the Normal's draws (torch's stream).

    >>> from ember.distributions import *
    >>> HalfNormal(ember.tensor([1.0])).log_prob(ember.tensor([1.0]))
    tensor([-0.7258])
    """

    _base = Normal
    base_dist: Normal

    @property
    def mean(self) -> Tensor:
        """``scale * sqrt(2 / pi)``."""
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        """``scale^2 (1 - 2 / pi)``."""
        return self.scale.pow(2) * (1 - 2 / math.pi)

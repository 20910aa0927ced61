"""The distributions of ``|X|`` for a zero-centred ``X`` (HalfNormal, HalfCauchy): what they share."""

from __future__ import annotations

import math
from typing import Any

from .._tensor import Tensor
from . import _ops as ops
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


class _FoldedAtZero(TransformedDistribution):
    """``|X|`` for ``X ~ _base(0, scale)``: samples are ``|x|`` of the base's draws (torch's stream), the
    density twice the base's on ``[0, inf)``."""

    _base: Any  # the symmetric base distribution's class
    _cast_value = False  # (torch's HalfCauchy first casts the value to the scale's dtype; HalfNormal does not)
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative  # type: ignore[assignment]
    has_rsample = True  # type: ignore[assignment]

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base_dist = self._base(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Any:
        """The same distribution broadcast to ``batch_shape``."""
        new = self._get_checked_instance(type(self), _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self) -> Tensor:
        """The underlying distribution's scale."""
        return self.base_dist.scale  # type: ignore[attr-defined]

    @property
    def mode(self) -> Tensor:
        """0."""
        return ops.zeros_like(self.scale)

    def log_prob(self, value: Tensor) -> Tensor:
        """The base's log density plus ``log 2`` on ``[0, inf)``, ``-inf`` below."""
        if self._validate_args:
            self._validate_sample(value)
        if self._cast_value:
            value = ops.as_tensor(value, dtype=self.scale.dtype)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ops.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        """``2 F(value) - 1`` with F the base's CDF."""
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Tensor) -> Tensor:
        """The base's inverse CDF at ``(prob + 1) / 2``."""
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        """The base's entropy less ``log 2``."""
        return self.base_dist.entropy() - math.log(2)

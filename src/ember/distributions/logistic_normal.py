"""``LogisticNormal(loc, scale)``: a Normal pushed onto the simplex by stick breaking."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from . import constraints
from .independent import Independent
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """The logistic-normal distribution on the ``K``-simplex: the stick-breaking transform of
    ``K - 1`` independent Normals (their draws: torch's stream).

    >>> from ember.distributions import *
    >>> LogisticNormal(ember.zeros(2), ember.ones(2)).log_prob(ember.tensor([0.3, 0.3, 0.4]))
    tensor(1.4331)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex  # type: ignore[assignment]
    has_rsample = True  # type: ignore[assignment]
    base_dist: Independent

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base_dist: Any = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LogisticNormal:
        """The same distribution broadcast to ``batch_shape``."""
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def loc(self) -> Tensor:
        """The Normals' means."""
        return self.base_dist.base_dist.loc  # type: ignore[attr-defined]

    @property
    def scale(self) -> Tensor:
        """The Normals' standard deviations."""
        return self.base_dist.base_dist.scale  # type: ignore[attr-defined]

"""``StudentT(df, loc, scale)``."""

from __future__ import annotations

import math
from typing import Any

from .._tensor import Size, Tensor
from . import _ops as ops
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution
from .utils import _standard_normal, broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t-distribution with ``df`` degrees of freedom, location ``loc`` and scale ``scale``.

    ``rsample`` is ``loc + scale * X / sqrt(Z / df)`` with a standard normal ``X`` and a
    chi-squared ``Z``, drawn in torch's order (equal samples for the same seed).

    >>> from ember.distributions import *
    >>> StudentT(ember.tensor([2.0])).log_prob(ember.tensor([0.0]))
    tensor([-1.0397])
    """

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    @property
    def mean(self) -> Tensor:
        """``loc`` (NaN where ``df <= 1``)."""
        m = self.loc.clone(memory_format=ops.contiguous_format)
        m[self.df <= 1] = math.nan
        return m

    @property
    def mode(self) -> Tensor:
        """``loc``."""
        return self.loc

    @property
    def variance(self) -> Tensor:
        """``scale^2 df / (df - 2)``; infinite for ``1 < df <= 2``, NaN for ``df <= 1``."""
        m = self.df.clone(memory_format=ops.contiguous_format)
        big = self.df > 2
        m[big] = self.scale[big].pow(2) * self.df[big] / (self.df[big] - 2)
        m[(self.df <= 2) & (self.df > 1)] = math.inf
        m[self.df <= 1] = math.nan
        return m

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        """The same distribution broadcast to ``batch_shape``."""
        new = self._expand_params(StudentT, batch_shape, _instance, ("df", "loc", "scale"))
        new._chi2 = self._chi2.expand(Size(batch_shape))
        return new

    def rsample(self, sample_shape: Any = Size()) -> Tensor:
        """``loc + scale * X * rsqrt(Z / df)``."""
        shape = self._extended_shape(sample_shape)
        X = _standard_normal(shape, dtype=self.df.dtype, device=self.df.device)
        Z = self._chi2.rsample(sample_shape)
        Y = X * ops.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def log_prob(self, value: Tensor) -> Tensor:
        """The t log density."""
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi) + ops.lgamma(0.5 * self.df)
             - ops.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * ops.log1p(y**2.0 / self.df) - Z

    def entropy(self) -> Tensor:
        """The t entropy, from lgamma and digamma of ``df / 2``."""
        lbeta = ops.lgamma(0.5 * self.df) + math.lgamma(0.5) - ops.lgamma(0.5 * (self.df + 1))
        return (self.scale.log() + 0.5 * (self.df + 1) * (ops.digamma(0.5 * (self.df + 1))
                                                          - ops.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)

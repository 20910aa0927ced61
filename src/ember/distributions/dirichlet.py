"""``Dirichlet(concentration)``: distributions over the probability simplex."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from . import _ops as ops
from . import constraints
from ._samplers import sample_dirichlet
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]

class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution with concentrations over the last dimension of ``concentration``.

    ``rsample`` draws torch's ``_sample_dirichlet`` stream (equal samples for the same seed); its
    gradient is the implicit reparameterisation one of each Beta marginal, as torch's.

    >>> from ember.distributions import *
    >>> Dirichlet(ember.tensor([1.0, 1.0, 1.0])).log_prob(ember.tensor([0.2, 0.3, 0.5]))
    tensor(0.6931)
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        """The same distribution broadcast to ``batch_shape``."""
        return self._expand_params(Dirichlet, batch_shape, _instance, ("concentration",))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Normalised gamma draws, differentiable in ``concentration``."""
        shape = self._extended_shape(sample_shape)
        return sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """``sum((a - 1) log x) + lgamma(sum a) - sum lgamma(a)``."""
        if self._validate_args:
            self._validate_sample(value)
        return (ops.xlogy(self.concentration - 1.0, value).sum(-1) + ops.lgamma(self.concentration.sum(-1))
                - ops.lgamma(self.concentration).sum(-1))

    @property
    def mean(self) -> Tensor:
        """``concentration / sum(concentration)``."""
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Tensor:
        """``(a - 1)+ / sum((a - 1)+)``; where every ``a < 1``, the one-hot vertex of the largest."""
        from ..nn import functional as F

        concentrationm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concentrationm1 / concentrationm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        mode[mask] = F.one_hot(mode[mask].argmax(dim=-1), concentrationm1.shape[-1]).to(mode)
        return mode

    @property
    def variance(self) -> Tensor:
        """``a (a0 - a) / (a0^2 (a0 + 1))`` with ``a0 = sum(a)``."""
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self) -> Tensor:
        """The entropy, from lgamma and digamma of the concentrations."""
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (ops.lgamma(self.concentration).sum(-1) - ops.lgamma(a0) - (k - a0) * ops.digamma(a0)
                - ((self.concentration - 1.0) * ops.digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return x.lgamma().sum(-1) - ops.lgamma(x.sum(-1))

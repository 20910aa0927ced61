"""The parameters of a distribution over binary outcomes (Bernoulli, Binomial, NegativeBinomial,
LogitRelaxedBernoulli): ``probs`` or ``logits``, whichever was not given computed on first use."""

from __future__ import annotations

from typing import Any

from .._tensor import Size, Tensor
from .utils import lazy_property, logits_to_probs, probs_to_logits


class BinaryParams:
    """Mixin: ``logits`` and ``probs`` of one success probability each, and their shape."""

    _param: Any  # the one given (probs or logits), as the distribution stored it

    @lazy_property
    def logits(self) -> Tensor:
        """``log(p) - log1p(-p)``."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """``sigmoid(logits)``."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        """The shape of ``probs`` / ``logits``."""
        return self._param.size()

"""Gumbel-softmax: differentiable samples from a categorical distribution given by logits."""

from __future__ import annotations

import warnings

from .._tensor import Tensor
from ..ops import creation


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax distribution over ``dim``: softmax((logits + g) / tau) with
    g = -log(Exponential(1)) noise, drawn as torch draws it (same seed, same sample). With ``hard``
    the result is one-hot in the forward pass and the soft sample's gradient in the backward pass
    (the straight-through estimator).

    >>> _ = ember.manual_seed(0)
    >>> ember.nn.functional.gumbel_softmax(ember.zeros(3), hard=True)
    tensor([0., 0., 1.])
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -creation.empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft

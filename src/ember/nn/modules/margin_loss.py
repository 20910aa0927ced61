"""MultiLabelMarginLoss and TripletMarginWithDistanceLoss (modules over ember.nn.margin_losses)."""

from __future__ import annotations

from typing import Any, Callable

from ..._tensor import Tensor
from .. import margin_losses
from .distance import PairwiseDistance
from .loss import _Loss


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss; targets hold class indices, padded with -1."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return margin_losses.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function (a PairwiseDistance module by default, as in torch)."""

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None, margin: float = 1.0,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead")
        self.distance_function: Any = distance_function if distance_function is not None else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return margin_losses.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function, margin=self.margin, swap=self.swap,
            reduction=self.reduction)

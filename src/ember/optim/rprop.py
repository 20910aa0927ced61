"""torch.optim.rprop: resilient backpropagation, which adapts one step size per element from the
sign of successive gradients and ignores their magnitude."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .._typing import ParamsT
from ._algos import _buf, _f, _step
from .optimizer import Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: each element's step size grows by ``etas[1]`` while its gradient keeps its sign and
    shrinks by ``etas[0]`` when the sign flips (that step is then skipped), within ``step_sizes``;
    the parameter moves by its step size against the gradient's sign. Full-batch training only.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: tuple = (0.5, 1.2), step_sizes: tuple = (1e-6, 50),
                 *, capturable: bool = False, foreach: Any = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        _step(state)
        prev = _buf(state, "prev", x)
        size = _buf(state, "step_size", x, group["lr"])
        agree = np.sign(g * prev)
        factor = np.where(agree > 0, _f(x, etaplus), np.where(agree < 0, _f(x, etaminus), _f(x, 1.0)))
        size *= factor.astype(x.dtype, copy=False)
        np.clip(size, _f(x, lo), _f(x, hi), out=size)
        g = np.where(agree < 0, _f(x, 0.0), g)  # a flipped sign: no step now, and no sign memory next time
        x -= np.sign(g) * size
        prev[...] = g

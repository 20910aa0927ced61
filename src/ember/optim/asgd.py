"""torch.optim.asgd: averaged stochastic gradient descent (SGD with decaying step sizes that also
keeps a running average of the parameters in ``state['ax']``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .._typing import ParamsT
from ._algos import _buf, _f, _step
from .optimizer import Optimizer, _scalar

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD: x <- x (1 - lambd eta) - eta g with eta = lr / (1 + lambd lr t)^alpha, and
    ``ax`` the average of the iterates since step ``t0``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: Any = None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        lr, lambd = group["lr"], group["lambd"]
        if "step" not in state:  # (eta and mu are float32 scalars, as torch keeps them)
            state["step"] = _scalar(0.0)
            state["eta"] = _scalar(lr)
            state["mu"] = _scalar(1.0)
        step = _step(state)
        ax = _buf(state, "ax", x)
        eta, mu = float(state["eta"]._data), float(state["mu"]._data)
        if group["weight_decay"] != 0:
            g = g + _f(x, group["weight_decay"]) * x
        x *= _f(x, 1 - lambd * eta)
        x -= _f(x, eta) * g
        if mu != 1:
            ax += (x - ax) * _f(x, mu)
        else:
            ax[...] = x
        state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** group["alpha"])
        state["mu"]._data[...] = 1 / max(1, step - group["t0"])

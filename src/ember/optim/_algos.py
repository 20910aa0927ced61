"""The update rules, in NumPy on the parameters' arrays (torch's single-tensor CPU arithmetic)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from .._typing import ParamsT
from .optimizer import Optimizer, _scalar, required


def _buf(state: dict, key: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
    if key not in state:
        state[key] = _new(np.full(like.shape, fill, like.dtype))
    return state[key]._data


def _step(state: dict) -> float:
    if "step" not in state:
        state["step"] = _scalar(0.0)
    s = state["step"]._data
    s += 1
    return float(s)


def _check(name: str, value: float, lo_ok: bool = True) -> None:
    if value < 0.0 if lo_ok else value <= 0.0:
        raise ValueError(f"Invalid {name}: {value}")


def _f(x: np.ndarray, v: float) -> Any:
    return x.dtype.type(v)


def _lerp_(m: np.ndarray, g: np.ndarray, w: float) -> None:
    wf = _f(m, w)
    if w < 0.5:
        m += wf * (g - m)
    else:
        m[...] = g - (g - m) * _f(m, 1 - w)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    Each step: ``g = grad + weight_decay * p``; with momentum ``b = momentum * b + (1 - dampening) * g``
    and ``g = b`` (or ``g + momentum * b`` with ``nesterov``); then ``p -= lr * g``.

    >>> model = ember.nn.Linear(2, 1)
    >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> x = ember.ones(4, 2)
    >>> before = model(x).pow(2).mean().item()
    >>> opt.zero_grad(); model(x).pow(2).mean().backward(); opt.step()
    >>> model(x).pow(2).mean().item() < before
    True
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False, foreach: Any = None,
                 differentiable: bool = False, fused: Any = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        wd, mom = group["weight_decay"], group["momentum"]
        if wd != 0:
            g = g + _f(x, wd) * x
        if mom != 0:
            if "momentum_buffer" not in state or state["momentum_buffer"] is None:
                state["momentum_buffer"] = _new(np.array(g, copy=True))
                buf = state["momentum_buffer"]._data
            else:
                buf = state["momentum_buffer"]._data
                buf *= _f(x, mom)
                buf += _f(x, 1 - group["dampening"]) * g if group["dampening"] else g
            g = g + _f(x, mom) * buf if group["nesterov"] else buf
        x -= _f(x, group["lr"]) * g if group["lr"] != 1 else g


class Adam(Optimizer):
    """Adam: steps scaled by running estimates of the gradient's first and second moments.

    Args: ``lr``, ``betas`` (the moments' decay rates), ``eps`` (added to the denominator),
    ``weight_decay`` (L2 penalty added to the gradient; see ``AdamW`` for the decoupled form),
    ``amsgrad`` (use the maximum of the second moments seen), ``maximize``.

    >>> model = ember.nn.Linear(2, 1)
    >>> opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    >>> loss = model(ember.ones(4, 2)).pow(2).mean()
    >>> opt.zero_grad(); loss.backward(); opt.step()
    >>> opt.state[model.weight]["step"]
    tensor(1.)
    """

    _decoupled = False

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: Any = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False, fused: Any = None,
                 decoupled_weight_decay: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        m = _buf(state, "exp_avg", x)
        v = _buf(state, "exp_avg_sq", x)
        if group["amsgrad"]:
            vmax = _buf(state, "max_exp_avg_sq", x)
        step = _step(state)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= _f(x, 1 - lr * wd)
            else:
                g = g + _f(x, wd) * x
        _lerp_(m, g, 1 - beta1)
        v *= _f(x, beta2)
        v += _f(x, 1 - beta2) * g * g
        bc1 = 1 - beta1 ** step
        bc2 = 1 - beta2 ** step
        step_size = lr / bc1
        bc2_sqrt = bc2 ** 0.5
        if group["amsgrad"]:
            np.maximum(vmax, v, out=vmax)
            denom = np.sqrt(vmax) / _f(x, bc2_sqrt) + _f(x, group["eps"])
        else:
            denom = np.sqrt(v) / _f(x, bc2_sqrt) + _f(x, group["eps"])
        x += _f(x, -step_size) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: parameters shrink by ``lr * weight_decay`` each step instead of the
    decay entering the gradient (default ``weight_decay`` 0.01).
    """

    _decoupled = True

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False, foreach: Any = None,
                 capturable: bool = False, differentiable: bool = False, fused: Any = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients (``alpha`` its decay);
    ``centered`` subtracts the running mean first; optional ``momentum``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: Any = None, maximize: bool = False, differentiable: bool = False) -> None:
        for name, val in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                          ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if val < 0.0:
                raise ValueError(f"Invalid {name}: {val}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        alpha, lr, eps = group["alpha"], group["lr"], group["eps"]
        sq = _buf(state, "square_avg", x)
        if group["momentum"] > 0:
            mb = _buf(state, "momentum_buffer", x)
        if group["centered"]:
            ga = _buf(state, "grad_avg", x)
        _step(state)
        if group["weight_decay"] != 0:
            g = g + _f(x, group["weight_decay"]) * x
        sq *= _f(x, alpha)
        sq += _f(x, 1 - alpha) * g * g
        if group["centered"]:
            _lerp_(ga, g, 1 - alpha)
            avg = np.sqrt(sq - ga * ga)
        else:
            avg = np.sqrt(sq)
        avg += _f(x, eps)
        if group["momentum"] > 0:
            mb *= _f(x, group["momentum"])
            mb += g / avg
            x -= _f(x, lr) * mb
        else:
            x += _f(x, -lr) * g / avg


class Adagrad(Optimizer):
    """Adagrad: per-parameter steps scaled by the inverse square root of the sum of all past squared
    gradients; ``lr_decay`` lowers the rate over steps.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: Any = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: Any = None) -> None:
        for name, val in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                          ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps)):
            if val < 0.0:
                raise ValueError(f"Invalid {name}: {val}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                st["step"] = _scalar(0.0)
                st["sum"] = _new(np.full(p._data.shape, initial_accumulator_value, p._data.dtype))

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        step = _step(state)
        if group["weight_decay"] != 0:
            g = g + _f(x, group["weight_decay"]) * x
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = _buf(state, "sum", x)
        s += g * g
        std = np.sqrt(s) + _f(x, group["eps"])
        x += _f(x, -clr) * g / std


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS values of past updates and of gradients (``rho``
    their decay), multiplied by ``lr``.
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: Any = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        for name, val in (("learning rate", lr), ("epsilon value", eps), ("weight_decay value", weight_decay)):
            if val < 0.0:
                raise ValueError(f"Invalid {name}: {val}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        rho, eps = group["rho"], group["eps"]
        sq = _buf(state, "square_avg", x)
        acc = _buf(state, "acc_delta", x)
        _step(state)
        if group["weight_decay"] != 0:
            g = g + _f(x, group["weight_decay"]) * x
        sq *= _f(x, rho)
        sq += _f(x, 1 - rho) * g * g
        std = np.sqrt(sq + _f(x, eps))
        delta = np.sqrt(acc + _f(x, eps))
        delta /= std
        delta *= g
        acc *= _f(x, rho)
        acc += _f(x, 1 - rho) * delta * delta
        x -= _f(x, group["lr"]) * delta if group["lr"] != 1 else delta


class Adamax(Optimizer):
    """Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm."""

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: Any = None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        beta1, beta2 = group["betas"]
        m = _buf(state, "exp_avg", x)
        u = _buf(state, "exp_inf", x)
        step = _step(state)
        if group["weight_decay"] != 0:
            g = g + _f(x, group["weight_decay"]) * x
        _lerp_(m, g, 1 - beta1)
        u *= _f(x, beta2)
        np.maximum(u, np.abs(g) + _f(x, group["eps"]), out=u)
        clr = group["lr"] / (1 - beta1 ** step)
        x += _f(x, -clr) * m / u


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum, its momentum schedule set by ``momentum_decay``;
    ``decoupled_weight_decay`` applies weight decay as AdamW does.
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: Any = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        beta1, beta2 = group["betas"]
        lr, wd, md = group["lr"], group["weight_decay"], group["momentum_decay"]
        if "mu_product" not in state:
            state["mu_product"] = _scalar(1.0)
        m = _buf(state, "exp_avg", x)
        v = _buf(state, "exp_avg_sq", x)
        step = _step(state)
        bc2 = 1 - beta2 ** step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= _f(x, 1 - lr * wd)
            else:
                g = g + _f(x, wd) * x
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
        mp = state["mu_product"]._data
        mp *= np.float32(mu)
        mu_product = float(mp)
        _lerp_(m, g, 1 - beta1)
        v *= _f(x, beta2)
        v += _f(x, 1 - beta2) * g * g
        denom = np.sqrt(v / _f(x, bc2))
        mu_product_next = mu_product * mu_next
        denom += _f(x, group["eps"])
        x += _f(x, -lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        x += _f(x, -lr * mu_next / (1.0 - mu_product_next)) * m / denom


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is switched on only once the variance estimate is reliable
    (rectified), avoiding a warmup; ``decoupled_weight_decay`` as AdamW.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: Any = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        g = -g if group["maximize"] else g
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        m = _buf(state, "exp_avg", x)
        v = _buf(state, "exp_avg_sq", x)
        step = _step(state)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                x *= _f(x, 1 - lr * wd)
            else:
                g = g + _f(x, wd) * x
        _lerp_(m, g, 1 - beta1)
        v *= _f(x, beta2)
        v += _f(x, 1 - beta2) * g * g
        bc1 = 1 - beta1 ** step
        bc2 = 1 - beta2 ** step
        mhat = m / _f(x, bc1)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = _f(x, math.sqrt(bc2)) / (np.sqrt(v) + _f(x, group["eps"]))
            x -= mhat * _f(x, lr) * adaptive * _f(x, rect)
        else:
            x -= mhat * _f(x, lr)


# torch keeps each optimizer in a module of its own (torch.optim.adam.Adam): print them from there
for _cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam):
    _cls.__module__ = f"ember.optim.{_cls.__name__.lower()}"

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "required"]

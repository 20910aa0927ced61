"""Gradient clipping, as torch.nn.utils does it (one total norm over all gradients)."""

from __future__ import annotations

import math
import warnings
from typing import Any, Iterable

import numpy as np

from ..._tensor import Tensor, _new


def _params(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def get_total_norm(tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together as one vector (``inf``: the largest
    magnitude), e.g. of a model's gradients; ``error_if_nonfinite`` raises when it is nan or inf.

    >>> ember.nn.utils.get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])])
    tensor(5.)
    """
    ts = [t for t in _params(tensors) if t is not None]
    norm_type = float(norm_type)
    if not ts:
        return _new(np.array(0.0, np.float32))
    dt = ts[0]._data.dtype
    if norm_type == math.inf:
        norms = [np.abs(t._data).max() if t._data.size else dt.type(0) for t in ts]
        total = np.max(np.asarray(norms, dt))
    else:
        norms = [np.asarray(np.linalg.norm(t._data.ravel().astype(dt), norm_type) if norm_type != 2
                            else np.sqrt(np.sum(t._data.astype(dt) ** 2)), dt) for t in ts]
        total = np.asarray(np.linalg.norm(np.asarray(norms, dt), norm_type) if norm_type != 2
                           else np.sqrt(np.sum(np.asarray(norms, dt) ** 2)), dt)
    total = np.asarray(total, dt)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`")
    return _new(total)


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Tensor, foreach: Any = None) -> None:
    """Scale the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)`` when that is below 1
    (``total_norm`` as ``get_total_norm`` returns it)."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return
    total = np.asarray(total_norm._data if isinstance(total_norm, Tensor) else total_norm)
    dt = total.dtype
    clip_coef = dt.type(float(max_norm)) / (total + dt.type(1e-6))
    clip_coef_clamped = min(clip_coef, dt.type(1.0))
    for g in grads:
        g._data *= np.asarray(clip_coef_clamped, g._data.dtype)
        g._vc[0] += 1


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; returns the norm.

    The norm is the ``norm_type``-norm of all the gradients taken as one vector (``inf`` for the
    largest entry); ``error_if_nonfinite`` raises when it is nan or inf.

    >>> w = ember.tensor([3., 4.], requires_grad=True)
    >>> w.grad = ember.tensor([3., 4.])
    >>> ember.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    params = _params(parameters)
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    """The deprecated name of ``clip_grad_norm_`` (it warns, then does the same)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Iterable[Tensor], clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._vc[0] += 1

"""nn regressions found by the differential fuzzer against torch: each runs in ember and torch and
compares values, gradients, grad_fn names and errors."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy()


def _both(fn: Callable) -> tuple:
    """fn(lib) in ember and torch; an exception is returned as (type name, message)."""
    out = []
    for lib in (ember, torch):
        try:
            out.append(fn(lib))
        except Exception as e:  # noqa: BLE001 (the error itself is compared)
            out.append((type(e).__name__, str(e).replace("torch", "ember")))
    return tuple(out)


def _close(a: Any, b: Any) -> None:
    if isinstance(b, tuple) and b and isinstance(b[0], str):
        assert a == b
        return
    if isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    if isinstance(b, torch.Tensor):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6, equal_nan=True)
        return
    assert a == b


# ----------------------------------------------------------------- pooling after an in-place op on the output
def _pool_inplace(pool: str, op: str) -> Callable:
    def fn(L: Any) -> tuple:
        F = L.nn.functional
        x = L.arange(36.0).reshape(1, 1, 6, 6).requires_grad_()
        x2 = (x * 1).flip(-1)
        if pool == "max2d":
            y = F.max_pool2d(x2, 2)
        elif pool == "max2d_k3":
            y = F.max_pool2d(x2, 3)
        elif pool == "max1d":
            y = F.max_pool1d(x2.reshape(1, 6, 6), 2)
        else:
            y = F.max_pool2d(x2, 2, return_indices=True)[0]
        getattr(y, op)(2.0)
        y.sum().backward()
        return y, x.grad

    return fn


@pytest.mark.parametrize("pool", ["max2d", "max2d_k3", "max1d", "max2d_indices"])
@pytest.mark.parametrize("op", ["mul_", "add_"])
def test_max_pool_gradient_after_inplace_on_output(pool: str, op: str) -> None:
    e, t = _both(_pool_inplace(pool, op))
    _close(e, t)


def test_max_pool_inplace_on_input_is_caught() -> None:
    def fn(L: Any) -> Any:
        x = L.arange(16.0).reshape(1, 1, 4, 4).requires_grad_()
        h = x * 1
        y = L.nn.functional.max_pool2d(h, 2)
        h.mul_(2)
        y.sum().backward()
        return x.grad

    e, t = _both(fn)
    assert e[0] == t[0] == "RuntimeError"
    assert "modified by an inplace operation" in e[1]


# ----------------------------------------------------------------- edge inputs: torch's errors and 0-d activations
EDGE = {
    "linear_module_list": lambda L: L.nn.Linear(2, 3)([1.0, 2.0]),
    "linear_weight_list": lambda L: L.nn.functional.linear(L.ones(2), [1.0, 2.0]),
    "linear_bias_list": lambda L: L.nn.functional.linear(L.ones(2), L.ones(3, 2), [1.0, 2.0, 3.0]),
    "linear_input_float": lambda L: L.nn.functional.linear(3.0, L.ones(3, 2)),
    "pow_not_broadcastable": lambda L: L.ones(2).pow(L.ones(3)),
    "pow_broadcast": lambda L: L.pow(L.full((2, 1), 2.0), L.arange(3.0)),
}


@pytest.mark.parametrize("case", sorted(EDGE))
def test_edge_errors(case: str) -> None:
    e, t = _both(EDGE[case])
    _close(e, t)


@pytest.mark.parametrize("act", ["silu", "mish", "gelu", "hardswish", "elu", "softplus", "sigmoid", "relu"])
def test_activation_on_0d(act: str) -> None:
    def fn(L: Any) -> tuple:
        x = L.tensor(1.0, dtype=L.float64, requires_grad=True)
        y = getattr(L.nn.functional, act)(x)
        y.backward()
        return y, x.grad, type(y.grad_fn).__name__

    e, t = _both(fn)
    _close(e, t)


@pytest.mark.parametrize("affine", [(True, False), (True, True)])
def test_layer_norm_create_graph_with_weight(affine: tuple) -> None:
    def fn(L: Any) -> list:
        x = L.tensor([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]], dtype=L.float64, requires_grad=True)
        w = L.tensor([2.0, 0.5, -1.0], dtype=L.float64, requires_grad=True)
        b = L.tensor([0.1, 0.2, 0.3], dtype=L.float64, requires_grad=True) if affine[1] else None
        y = L.nn.functional.layer_norm(x, (3,), w, b)
        ins = [t for t in (x, w, b) if t is not None]
        gs = L.autograd.grad(y.pow(3).sum(), ins, create_graph=True)
        sum((g * g).sum() for g in gs).backward()
        return [t.grad for t in ins]

    e, t = _both(fn)
    _close(e, t)

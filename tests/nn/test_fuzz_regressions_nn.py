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

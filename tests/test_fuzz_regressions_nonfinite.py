"""Regressions found by the differential fuzzer against torch (issue 12) at NaN and infinite values
and at rows of equal values: each case runs in ember and torch and compares values and gradients,
NaN for NaN, infinities included."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import ember

NAN, INF = float("nan"), float("inf")


def _arrays(x: Any) -> Any:
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        a = x.detach()
        return np.asarray(a.numpy(force=True) if isinstance(a, torch.Tensor) else a.numpy(), dtype=np.float64)
    if isinstance(x, (tuple, list)):
        return tuple(_arrays(y) for y in x)
    return x


def _same(fn: Any, rtol: float = 1e-7, atol: float = 1e-12) -> None:
    """fn(lib) in ember and torch: the same arrays (NaN where torch has NaN, the same infinities)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e, t = _arrays(fn(ember)), _arrays(fn(torch))
    for a, b in zip(e if isinstance(e, tuple) else (e,), t if isinstance(t, tuple) else (t,)):
        if b is None or a is None:
            assert a is None and b is None, (a, b)
            continue
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


# ------------------------------------------------ smooth L1 / Huber double backward at non-finite values
def _smooth_l1_twice(huber: bool, reduction: str, beta: float, ggw: list) -> Any:
    def run(L: Any) -> Any:
        F = L.nn.functional
        x = L.tensor([0.5, 3.0, -2.0, INF, -INF, NAN, 0.3, 1.3], dtype=L.float64, requires_grad=True)
        y = L.full((8,), 0.3, dtype=L.float64, requires_grad=True)
        loss = F.huber_loss if huber else F.smooth_l1_loss
        out = loss(x, y, reduction=reduction, **{"delta" if huber else "beta": beta})
        go = L.ones_like(out, requires_grad=True)
        gx, gy = L.autograd.grad(out, (x, y), go, create_graph=True)
        w = L.tensor(ggw, dtype=L.float64)
        return (gx, gy) + L.autograd.grad((gx * w).sum() + (gy * w * 0.7).sum(), (x, y, go))
    return run


@pytest.mark.parametrize("huber", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("ggw", [[1.0] * 8, [NAN, INF, -INF, INF, NAN, INF, 2.0, 1.0], [INF] * 8])
def test_smooth_l1_second_derivative_multiplies_by_its_mask(huber: bool, reduction: str, ggw: list) -> None:
    # torch's double backward is grad * (|d| < beta) / beta: a NaN or infinite incoming gradient
    # gives NaN in the linear zone and at a non-finite d, where a select would give 0 (fuzz seeds 2818, 18979, 32383)
    _same(_smooth_l1_twice(huber, reduction, 0.5, ggw))


def test_smooth_l1_second_derivative_fuzz_seed_2818() -> None:
    def run(L: Any) -> Any:
        i0 = L.tensor([0.335], dtype=L.float64, requires_grad=True)
        i2 = L.tensor([-0.582], dtype=L.float64, requires_grad=True)
        v3 = L.nn.functional.huber_loss(L.acosh(i0), i2, reduction="none")
        g = L.autograd.grad(v3.sum(), (i0, i2), create_graph=True)
        return L.autograd.grad(g[0].sum() + g[1].sum(), (i0, i2))
    _same(run)

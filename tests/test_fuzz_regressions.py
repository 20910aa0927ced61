"""Regressions found by the differential fuzzer against torch: each runs in ember and torch and
compares values, gradients, grad_fn names and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close


def _name(t: object) -> str | None:
    fn = getattr(t, "grad_fn", None)
    return None if fn is None else type(fn).__name__


def _run(lib: object, fn: object, data: list, dtype: str = "float32") -> tuple:
    x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
    y = fn(lib, x)
    y.sum().backward()
    return y, x.grad


def _same(fn: object, data: list, dtype: str = "float32") -> None:
    ey, eg = _run(ember, fn, data, dtype)
    ty, tg = _run(torch, fn, data, dtype)
    assert_close(ey, ty, "value")
    assert _name(ey) == _name(ty)
    assert_close(eg, tg, "grad")


# --------------------------------------------------------------------- masks select, not multiply
def _F(lib: object) -> object:
    return lib.nn.functional


MASKED = {
    "relu": lambda L, x: _F(L).relu(x).sqrt(),
    "relu_inplace": lambda L, x: _F(L).relu(x * 1, inplace=True).sqrt(),
    "threshold": lambda L, x: _F(L).threshold(x, 0.0, 0.0).sqrt(),
    "clamp_min": lambda L, x: x.clamp(min=0).sqrt(),
    "clamp_both": lambda L, x: x.clamp(0, 3).sqrt(),
    "clamp_tensor": lambda L, x: x.clamp(min=L.zeros(3)).sqrt(),
    "hardtanh": lambda L, x: _F(L).hardtanh(x, 0.0, 5.0).sqrt(),
    "relu6": lambda L, x: _F(L).relu6(x).sqrt(),
    "hardsigmoid": lambda L, x: (_F(L).hardsigmoid(x * 10) * 0).sqrt(),
    "hardswish": lambda L, x: _F(L).hardswish(x * 10 - 30).sqrt(),
    "softshrink": lambda L, x: _F(L).softshrink(x, 1.0).sqrt(),
    "hardshrink": lambda L, x: _F(L).hardshrink(x, 1.0).abs().sqrt(),
    "maximum": lambda L, x: L.maximum(x, L.zeros(3)).sqrt(),
    "minimum": lambda L, x: L.minimum(x, L.zeros(3)).neg().add(0.0).sqrt(),
    "round": lambda L, x: x.round().sqrt(),
    "trunc": lambda L, x: x.trunc().clamp(min=0).sqrt(),
    "floor": lambda L, x: (x.floor() * 0).sqrt(),
    "sign": lambda L, x: (x.sign() * 0).sqrt(),
    "pow0": lambda L, x: (x.pow(0) - 1).sqrt(),
    "zero_": lambda L, x: (x * 1).zero_().sqrt(),
    "zero_view": lambda L, x: (x * 1)[1:].zero_().sqrt(),
    "fill_": lambda L, x: (x * 1).fill_(0.0).sqrt(),
}


@pytest.mark.parametrize("case", sorted(MASKED))
def test_masked_gradient_selects(case: str) -> None:
    # an inf upstream gradient where the mask is off gives 0, as torch's where does, not 0 * inf
    _same(MASKED[case], [-1.0, 0.0, 4.0])


@pytest.mark.parametrize("case", ["relu", "clamp_both", "hardtanh", "maximum", "hardswish"])
def test_masked_gradient_second_order(case: str) -> None:
    from oracle import check

    check(lambda L, x: MASKED[case](L, x), np.array([-1.0, 0.5, 4.0]), second=True)


# --------------------------------------------------------------------- overwrite ops: zero_, fill_, copy_
OVERWRITE = {
    "zero_": lambda L, x, v, s: (x * 1).zero_(),
    "fill_scalar": lambda L, x, v, s: (x * 1).fill_(3.0),
    "fill_tensor": lambda L, x, v, s: (x * 1).fill_(v),
    "copy_": lambda L, x, v, s: (x * 1).copy_(s),
    "copy_broadcast": lambda L, x, v, s: (x * 1).copy_(v),
    "copy_over_inf": lambda L, x, v, s: (x / 0).copy_(s),
    "copy_into_plain": lambda L, x, v, s: L.zeros(3).copy_(s),
    "copy_view": lambda L, x, v, s: (x * 1)[1:].copy_(s[:2]),
}


@pytest.mark.parametrize("case", sorted(OVERWRITE))
def test_overwrite_ops(case: str) -> None:
    outs = []
    for L in (ember, torch):
        x = L.tensor([-1.0, 0.0, 4.0], requires_grad=True)
        v = L.tensor(2.0, requires_grad=True)
        s = L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)
        y = OVERWRITE[case](L, x, v, s)
        names = [_name(y)] + [None if f is None else type(f).__name__ for f, _ in y.grad_fn.next_functions]
        (y * L.tensor([1.0, float("inf"), 2.0][:y.shape[0]], dtype=y.dtype)).sum().backward()
        outs.append((y, names, x.grad, v.grad, s.grad))
    (ey, en, *eg), (ty, tn, *tg) = outs
    assert_close(ey, ty)
    assert en == tn
    for a, b in zip(eg, tg):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b, "grad")

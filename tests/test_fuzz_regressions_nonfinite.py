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


# ------------------------------------------------ layer and group norm of a row of equal values
@pytest.mark.parametrize("value", [0.7615942, 0.1, -0.809, 1.805 * 1.805 * 0.5, 3.0e-3, 20.0855])
@pytest.mark.parametrize("n", [3, 5, 7, 100])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_and_group_norm_of_equal_values_is_exactly_zero(value: float, n: int, dtype: str) -> None:
    # torch's Welford mean of equal values is exact, so x - mean is 0; a sum over the count is an ulp
    # off and normalises that ulp to ~1e-5 (fuzz seeds 15610, 99075)
    def run(L: Any) -> Any:
        F = L.nn.functional
        x = L.cat([L.full((2, n), value, dtype=getattr(L, dtype)), L.linspace(-1, 2, n, dtype=getattr(L, dtype))[None]])
        return F.layer_norm(x, (n,)), F.group_norm(x.reshape(1, 3, n), 3)
    e, t = _arrays(run(ember)), _arrays(run(torch))
    assert not e[0][:2].any() and not e[1][0, :2].any()  # exactly 0, as torch
    _same(run, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6 if dtype == "float32" else 1e-12)
    assert not t[0][:2].any()


def test_layer_norm_of_equal_values_fuzz_seed_15610() -> None:
    def run(L: Any) -> Any:
        v0 = L.le(L.tensor([[[-2, 1, -2], [0, -2, -1]]], dtype=L.int32), 0)
        return L.nn.functional.layer_norm(L.tanh(v0), (3,))
    _same(run, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "two dims"])
def test_layer_norm_corrects_only_the_rows_of_equal_values(layout: str) -> None:
    # (a few equal rows among many take the row-by-row correction; the others keep their statistics)
    data = np.random.default_rng(0).standard_normal((12, 6)).astype(np.float32)
    data[3] = 0.7615942
    data[8] = -0.1

    def run(L: Any) -> Any:
        x = L.tensor(data.T.copy() if layout == "transposed" else data, requires_grad=True)
        x2 = x.t() if layout == "transposed" else x
        shape = (12, 2, 3) if layout == "two dims" else (12, 6)
        w = L.linspace(0.5, 1.5, 6).reshape(shape[1:])
        y = L.nn.functional.layer_norm(x2.reshape(shape), shape[1:], w, w)
        (y * L.arange(72.0).reshape(shape)).sum().backward()
        return y, x.grad
    e, t = _arrays(run(ember)), _arrays(run(torch))
    np.testing.assert_array_equal(e[0][[3, 8]], t[0][[3, 8]])  # the bias exactly: x - mean is 0
    _same(run, rtol=1e-5, atol=1e-5)


# ------------------------------------------------ cumprod's backward past a zero
@pytest.mark.parametrize(("xs", "g"), [
    ([-3.0, 0.0], [0.5, NAN]), ([-3.0, 0.0, 2.0], [0.5, 1.0, NAN]), ([2.0, -3.0, 0.0, 2.0, 0.0], [0.5, 1.0, NAN, 2.0, 3.0]),
    ([0.0, 0.0, 1.0], [1.0, NAN, NAN]), ([2.0, 0.0, 3.0, 0.0, 4.0], [INF, -INF, INF, NAN, 1.0]),
    ([2.0, 0.0, 3.0, 0.0, 4.0], [1.0, 2.0, INF, NAN, 1.0]), ([-3.0, 2.0], [0.5, NAN])])
def test_cumprod_backward_leaves_out_the_terms_past_a_zero(xs: list, g: list) -> None:
    # torch sums over the run before the first zero and the one after it: a NaN or infinite grad_j whose
    # product is 0 adds nothing (a product gave NaN; fuzz seed 10137)
    def run(L: Any) -> Any:
        x = L.tensor([xs, xs[::-1]], dtype=L.float64, requires_grad=True)
        return L.autograd.grad(x.cumprod(1), x, L.tensor([g, g[::-1]], dtype=L.float64))
    _same(run)


def test_cumprod_then_copysign_second_derivative_fuzz_seed_10137() -> None:
    def run(L: Any) -> Any:
        x = L.tensor([[-3.0, 0.0]], dtype=L.float64, requires_grad=True)
        w = L.tensor([[0.7, 1.3]], dtype=L.float64)
        g, = L.autograd.grad((L.copysign(x.cumprod(-1), 2) * w).sum(), x, create_graph=True)
        return L.autograd.grad((g * w).sum(), x)
    _same(run)


# ------------------------------------------------ prelu's second derivative where x > 0
@pytest.mark.parametrize("gs", [[1.0, 2.0, 3.0, 4.0], [NAN] * 4, [INF, -INF, INF, 1.0]])
@pytest.mark.parametrize("ggs", [[0.5, 1.5, 1.0, 2.0], [NAN, INF, 1.0, NAN]])
@pytest.mark.parametrize("xs", [[2.5, -1.0, 0.5, 3.0], [INF, -INF, 1.0, -2.0]])
def test_prelu_second_derivative_selects_where_x_is_positive(xs: list, gs: list, ggs: list) -> None:
    # torch's double backward is where(x >= 0, 0, ...): a NaN or infinite grad where x > 0 gives 0 in w and x,
    # where a product with the 0/1 mask gave NaN (fuzz seeds 16630, 56465; x = 0 is torch's own quirk, known.py)
    def run(L: Any) -> Any:
        x = L.tensor(xs, dtype=L.float64, requires_grad=True)
        w = L.tensor([0.3], dtype=L.float64, requires_grad=True)
        g = L.tensor(gs, dtype=L.float64, requires_grad=True)
        gx, gw = L.autograd.grad(L.nn.functional.prelu(x, w), (x, w), g, create_graph=True)
        gg = L.tensor(ggs, dtype=L.float64)
        return (gx, gw) + L.autograd.grad((gx * gg).sum() + gw.sum() * 0.7, (x, w, g))
    _same(run)


def test_prelu_then_std_second_derivative_fuzz_seed_16630() -> None:
    def run(L: Any) -> Any:
        i3 = L.tensor([-0.698], requires_grad=True)
        i4 = L.tensor([0.481], requires_grad=True)
        v2 = L.nn.functional.prelu(L.tensor([1.11]).sub(i3, alpha=2), i4).std(0)
        g = L.autograd.grad(v2, (i3, i4), create_graph=True)
        return L.autograd.grad(g[0].sum() + g[1].sum(), (i3, i4))
    _same(run)


# ------------------------------------------------ selections keep a -0.0 gradient and give +0.0 elsewhere
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "complex64"])
def test_relu_backward_is_an_exact_selection(dtype: str) -> None:
    # torch's threshold_backward is where(x <= 0, 0, grad): a kept -0.0 stays -0.0 (ember's mask product then
    # `+= 0` made it +0.0), a NaN or inf where x <= 0 gives +0.0
    def run(L: Any) -> Any:
        x = L.tensor([1.0, -2.0, 3.0, -1.0, 2.0, 0.0], requires_grad=True)
        g = L.tensor([-0.0, -5.0, NAN, INF, -2.0, -0.0])
        if dtype.startswith("complex"):
            return L.autograd.grad(L.relu(x), x, g)[0].double()  # (relu takes real numbers; the grad is real)
        xd = x.to(getattr(L, dtype)).detach().requires_grad_()
        return L.autograd.grad(L.relu(xd), xd, g.to(getattr(L, dtype)))[0].double()
    e, t = _arrays(run(ember)), _arrays(run(torch))
    np.testing.assert_array_equal(e, t)
    num = ~np.isnan(t)  # (the sign of a NaN means nothing)
    np.testing.assert_array_equal(np.signbit(e[num]), np.signbit(t[num]))


# ------------------------------------------------ the target's gradient is a product of its own
@pytest.mark.parametrize("loss", ["mse_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_loss_second_derivative_through_an_infinite_grad(loss: str, reduction: str) -> None:
    # torch differentiates the input's and the target's backward formulas apart, so an infinite grad gives
    # inf - inf = NaN where one product and its negative gave +-inf (fuzz seeds 96096, 79827, 95911)
    def run(L: Any) -> Any:
        x = L.tensor([-2.472, 1.352], dtype=L.float64, requires_grad=True)
        y = L.tensor([1.262, 1.3], dtype=L.float64, requires_grad=True)
        v = L.true_divide(getattr(L.nn.functional, loss)(x, y, reduction=reduction), 0)
        gx, gy = L.autograd.grad((v * L.tensor(1.5 if reduction == "sum" else [1.5, 0.7], dtype=L.float64)).sum(),
                                 (x, y), create_graph=True)
        return (gx, gy) + L.autograd.grad((gx * L.tensor([0.9, 1.1], dtype=L.float64)).sum() + 0.6 * gy.sum(), (x, y))
    _same(run)


# ------------------------------------------------ float16 norms differentiate twice in the forward's precision
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_layer_norm_second_derivative_of_float16_does_not_overflow(dtype: str) -> None:
    # the statistics are recomputed for the second derivative in the forward's precision (float64 for float16,
    # float32 for bfloat16): a float16 rstd^3 (3.2e7 for one element) overflowed to NaN. Expected: torch in
    # float64, where nothing overflows (fuzz seed 72139; torch's own float16 gives NaN, known.py)
    def run(L: Any, dt: str) -> Any:
        x = L.tensor([[1.403], [-0.5]], dtype=getattr(L, dt), requires_grad=True)
        w = L.tensor([2.565], dtype=getattr(L, dt), requires_grad=True)
        y = L.nn.functional.layer_norm(x.rad2deg(), (1,), w, L.tensor([-1.0], dtype=getattr(L, dt)))
        gx, gw = L.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        return tuple(t.double() for t in (gx, gw) + L.autograd.grad(gx.sum() + gw.sum(), (x, w)))
    e, t = _arrays(run(ember, dtype)), _arrays(run(torch, "float64"))
    for a, b in zip(e, t):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-3)


# ------------------------------------------------ elu's second derivative multiplies by its mask
@pytest.mark.parametrize("op", ["elu", "selu", "celu"])
@pytest.mark.parametrize("gs", [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [NAN, INF, -INF, NAN, 1.0, INF]])
def test_elu_second_derivative_is_torchs_elu_backward_times_mask(op: str, gs: list) -> None:
    # torch's elu_backward is an op whose input derivative is elu_backward(grad * grad_output * input_scale, self)
    # * (self < 0): NaN where a NaN grad_output meets x >= 0 or NaN, where a selection gave 0 (fuzz seed 41746)
    def run(L: Any) -> Any:
        x = L.tensor([-0.5, 0.5, NAN, INF, -INF, 0.0], dtype=L.float64, requires_grad=True)
        g0 = L.tensor(gs, dtype=L.float64, requires_grad=True)
        g, = L.autograd.grad(getattr(L.nn.functional, op)(x), x, g0, create_graph=True)
        return (g,) + L.autograd.grad((g * L.arange(1.0, 7.0, dtype=L.float64)).sum(), (x, g0))
    _same(run)
    assert type(_grad_fn_of(op)).__name__ == "EluBackwardBackward0"


def _grad_fn_of(op: str) -> Any:
    x = ember.tensor([-0.5, 0.5], requires_grad=True)
    return ember.autograd.grad(getattr(ember.nn.functional, op)(x).sum(), x, create_graph=True)[0].grad_fn

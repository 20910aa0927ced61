"""Regressions of ember's own gradient bugs found by the differential fuzzer against torch (issue 12):
each case runs in ember and torch and compares gradients (values, None-ness, requires_grad) or the
exception raised. Where torch itself is wrong, the test says so and takes maths instead."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import ember


def _outcome(fn: Any, lib: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(lib)
        except Exception as e:  # noqa: BLE001 (the error itself is compared)
            return (type(e).__name__, str(e).replace("torch", "ember").split(" Hint:")[0])


def _plain(x: Any) -> Any:
    """Tensors as (values, requires_grad); everything else as it is."""
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        return (np.asarray(x.detach().numpy(), dtype=np.float64), x.requires_grad)
    if isinstance(x, (tuple, list)):
        return tuple(_plain(y) for y in x)
    return x


def _same(fn: Any, rtol: float = 1e-7) -> None:
    e, t = _plain(_outcome(fn, ember)), _plain(_outcome(fn, torch))
    _compare(e, t, rtol)


def _compare(e: Any, t: Any, rtol: float) -> None:
    if isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], np.ndarray):
        assert isinstance(e, tuple) and isinstance(e[0], np.ndarray), (e, t)
        assert e[0].shape == t[0].shape
        np.testing.assert_allclose(e[0], t[0], rtol=rtol, atol=1e-12)
        assert e[1] == t[1], f"requires_grad {e[1]}, torch {t[1]}"
    elif isinstance(t, tuple) and not (t and isinstance(t[0], str)):
        assert isinstance(e, tuple) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            _compare(a, b, rtol)
    else:
        assert e == t


# ---------------------------------------------------------------- empty tensors keep their graph
def test_repeat_of_an_empty_tensor_keeps_the_gradient_graph() -> None:
    # fuzz seeds 17399, 36624, 54482, 55582: the first gradient required no grad under create_graph
    def fn(L: Any) -> Any:
        x = L.empty((1, 0, 1), dtype=L.float64, requires_grad=True)
        y = x.repeat(2, 1, 3).exp()
        g, = L.autograd.grad(y.sum(), x, create_graph=True)
        zero_reps, = L.autograd.grad(x.repeat(0, 1, 1).exp().sum(), x, create_graph=True)
        return g, zero_reps
    _same(fn)


def test_copy_of_a_leaf_into_itself_is_refused() -> None:
    # fuzz seed 36272
    def fn(L: Any) -> Any:
        x = L.empty((1, 0), requires_grad=True)
        return x.copy_(x)
    _same(fn)


def test_convolution_with_no_input_channels_saves_its_input() -> None:
    # fuzz seed 68831: an in-place change of the empty input before backward is caught
    def fn(L: Any) -> Any:
        x = L.empty((1, 0, 1), dtype=L.float64)
        w = L.empty((1, 0, 1), dtype=L.float64, requires_grad=True)
        y = L.nn.functional.conv1d(x, w, stride=2)
        x.fill_(1.0)
        y.sum().backward()
        return w.grad
    _same(fn)


def test_convolution_of_an_empty_input_gradients_and_second_derivatives() -> None:
    # (torch's result has no channels when the input has none, whatever the weight and bias; its
    # double backward of an empty input is None everywhere)
    def fn(L: Any) -> Any:
        F = L.nn.functional
        out = []
        for shape in ((1, 0, 3), (0, 2, 3)):
            x = L.empty(shape, dtype=L.float64, requires_grad=True)
            w = L.ones((2, shape[1], 1), dtype=L.float64, requires_grad=True)
            b = L.zeros(2, dtype=L.float64, requires_grad=True)
            y = F.conv1d(x, w, b)
            gx, gw, gb = L.autograd.grad((y * 2).sum(), (x, w, b), create_graph=True)
            out += [tuple(y.shape), gx, gw, gb, str(gw.grad_fn is not None)]
            out.append(L.autograd.grad(F.logsigmoid(F.conv1d(x.detach(), w)).sum(), w, create_graph=True)[0])
            # (not gb: torch's double backward fails expanding the zero-channel output's bias gradient)
            g2 = L.autograd.grad(gw.sum() + gx.sum(), (x, w, b), allow_unused=True)
            out.append(tuple(v is None for v in g2))
        return tuple(out)
    _same(fn)


# ---------------------------------------------------------------- writes through expanded views
def test_fill_through_an_expanded_view_fails_at_backward_as_torch() -> None:
    # fuzz seeds 15119, 42550 (and 30355, 97605 with masked_fill_): torch's CopySlices copies the
    # base's gradient into the repeated elements and refuses; a plain number fills forward
    for write in (lambda v: v.fill_(0.5), lambda v: v.zero_(), lambda v: v.masked_fill_(v > 0, 2.0)):
        def fn(L: Any, write: Any = write) -> Any:
            x = L.tensor([1.5, -2.0], requires_grad=True)
            v = (x * 1).expand(3, -1).mT
            write(v)
            return v.detach(), L.autograd.grad(v.sum(), x)
        _same(fn)


def test_fill_with_a_tensor_value_refuses_an_expanded_tensor() -> None:
    for rg in (False, True):
        _same(lambda L, rg=rg: L.zeros(2).expand(3, 2).fill_(L.tensor(2.0, requires_grad=rg)))


def test_index_put_through_an_expanded_view_takes_the_basic_view_first() -> None:
    # fuzz seed 45578: v[::2] no longer repeats v0's element, so the write overwrites all of v0
    def fn(L: Any) -> Any:
        x = L.tensor([3.0], requires_grad=True)
        v0 = L.nn.functional.elu(x)
        v1 = v0.expand(2, 1)
        v1[::2, [-1, 0]] = 2.0
        return v0.detach(), v1.detach(), L.autograd.grad((v0 * 3).sum() + v1.sum(), x)
    _same(fn)


# ---------------------------------------------------------------- views see their base's new history
def test_a_view_made_before_an_inplace_op_on_its_base_requires_grad() -> None:
    # fuzz seeds 9518, 19158 and 16 more: b -= y gives b a history; its older view v reads it anew
    def fn(L: Any) -> Any:
        b = L.tensor([0.6, -1.0])
        y = L.tensor([2.0, 3.0], requires_grad=True)
        v = b.unsqueeze(0)
        w = L.movedim(b[None], 0, 1)
        before = (v.requires_grad, v.is_leaf)
        b -= y
        after = (v.requires_grad, v.is_leaf, type(v.grad_fn).__name__, w.requires_grad)
        return before, after, L.autograd.grad((v * 3).sum() + (w * w).sum(), y)
    _same(fn)


# ---------------------------------------------------------------- in-place ops: what torch checks and records
def test_inplace_on_a_leaf_checks_argument_types_before_the_leaf() -> None:
    # fuzz seeds 24640, 26695 and 6 more: torch's argument parser speaks first (TypeError), then
    # the leaf check, before any shape or value check
    for call in (lambda x: x.lerp_(0, 0.5), lambda x: x.add_(x.new_ones(3)), lambda x: x.clamp_(min=x.new_ones(3))):
        def fn(L: Any, call: Any = call) -> Any:
            try:
                call(L.tensor([1.0, 2.0], requires_grad=True))
            except Exception as e:  # noqa: BLE001 (the kind of error is compared: the messages differ in wording)
                return type(e).__name__, "leaf Variable" in str(e)
            return None
        _same(fn)


def test_setitem_of_the_whole_tensor_with_a_number_is_a_fill() -> None:
    # fuzz seeds 10873, 53659, 80485, 97316: v[...] = 0 is v.fill_(0) in torch, whose zero gradient
    # to the old v has no graph under create_graph (a view-making key stays a CopySlices)
    for key in (Ellipsis, slice(None), (slice(None), Ellipsis), 0, None):
        for value in (1.0, True):
            def fn(L: Any, key: Any = key, value: Any = value) -> Any:
                x = L.tensor([[-3.0, 0.5]], requires_grad=True)
                v = x * 1.5
                v[key] = value
                g, = L.autograd.grad(L.nn.functional.selu(v).sum(), x, create_graph=True)
                return v.detach(), type(v.grad_fn).__name__, g
            _same(fn)


# ---------------------------------------------------------------- derivatives at poles and zeros
def test_trigamma_at_the_poles_is_torchs_rounded_reflection() -> None:
    # fuzz seeds 1475, 14159 and 39 more (digamma's gradient, lgamma's second derivative): torch's
    # trigamma reflects below 0.5 through sin(pi * x), which is rounding-small but not 0 at the
    # negative integers, so a user sees large finite values there (and NaN at -inf), not inf
    def fn(L: Any) -> Any:
        out = []
        for dt in (L.float32, L.float64):
            x = L.tensor([-3.0, -2.0, -1.0, 0.0, -0.0, 1.0, 2.5, -7.25, 0.3, 40.0, float("-inf"), float("inf")],
                         dtype=dt, requires_grad=True)
            g, = L.autograd.grad(x.digamma().sum(), x, create_graph=True)
            g2, = L.autograd.grad(g.sum(), x)
            h, = L.autograd.grad(x.lgamma().sum(), x, create_graph=True)
            h2, = L.autograd.grad(h.sum(), x)
            out += [L.polygamma(1, x.detach()), g, g2, h2, L.polygamma(3, x.detach())]
        return tuple(out)
    _same(fn, rtol=1e-6)


def test_std_double_backward_where_the_std_is_zero_is_nan_as_torch() -> None:
    # fuzz seed 61224: torch's std gradient zeroes grad / (2 * std) where std == 0, so the
    # derivative in grad there is 0 / 0 (the first derivative stays 0)
    def fn(L: Any) -> Any:
        x = L.tensor([[-1.597], [2.0]], requires_grad=True)
        w = L.tensor([3.151, 1.5], dtype=L.float64, requires_grad=True)
        y = L.tensor([[1.0, 2.0, 4.0]], dtype=L.float64, requires_grad=True)
        loss = (w * x.std(1, correction=0)).sum() + y.std(1).sum() * 2
        gx, gw, gy = L.autograd.grad(loss, (x, w, y), create_graph=True)
        return gx, gw, gy, L.autograd.grad((gx * gx).sum() + gy.pow(2).sum(), (x, w, y), allow_unused=True)
    _same(fn)


def test_smooth_l1_second_derivative_is_torchs_product_with_its_mask() -> None:
    # fuzz seeds 4856, 30870, 41741: torch's double backward is grad * (|d| < beta) / beta, so an
    # infinite incoming gradient in the linear zone gives NaN there, and beta = 0 runs l1_loss
    # (sign(NaN) = 0)
    def fn(L: Any) -> Any:
        F = L.nn.functional
        x = L.tensor([0.3, 2.0, -3.0, 0.5, float("nan")], dtype=L.float64, requires_grad=True)
        y = L.tensor([0.0, 0.0, 0.0, 0.5, 0.0], dtype=L.float64, requires_grad=True)
        out = []
        for loss in (lambda: F.smooth_l1_loss(x, y, reduction="none", beta=0.5),
                     lambda: F.huber_loss(x, y, reduction="none", delta=0.7)):
            for up in (1.5, float("inf")):
                gx, gy = L.autograd.grad(loss(), (x, y), L.full((5,), up, dtype=L.float64), create_graph=True)
                # (not at the NaN difference: there torch's NaN times an infinite grad stays a known gap)
                out += [gx, gy, tuple(h[:4] for h in L.autograd.grad((gx * 1.3).sum(), (x, y)))]
        out.append(L.autograd.grad(F.smooth_l1_loss(x, y, beta=0.0), x)[0])
        return tuple(out)
    _same(fn)


def test_prod_over_a_size_one_dim_with_zeros_passes_the_gradient_through() -> None:
    # fuzz seed 7245: torch's prod backward with zeros returns grad itself for a size-1 dim (no
    # graph through self under create_graph); without zeros it is grad * result / self
    def fn(L: Any) -> Any:
        out = []
        for vals in ([[2.0, 1.0, 0.0]], [[2.0, 1.0, 3.0]]):
            x = L.tensor(vals, requires_grad=True)
            g, = L.autograd.grad((x.prod(-2) * 1.5).sum(), x, create_graph=True)
            h, = L.autograd.grad((x.cumprod(-2) * 1.5).sum(), x, create_graph=True)
            out += [g, h]
        return tuple(out)
    _same(fn)


def test_i1_gradient_at_tiny_and_nan_inputs_is_torchs_half() -> None:
    # fuzz seed 941 (i0's second derivative): torch's i1 and i1e gradients take 0.5 wherever
    # |x| is not above epsilon, NaN included
    def fn(L: Any) -> Any:
        out = []
        for dt in (L.float32, L.float64):
            x = L.tensor([1.179, -2.051, 0.0, 1e-9, float("nan")], dtype=dt, requires_grad=True)
            g, = L.autograd.grad(L.i0(x).sum(), x, create_graph=True)
            out += [L.autograd.grad(g.sum(), x)[0], L.autograd.grad(L.special.i1e(x).sum(), x)[0]]
        return tuple(out)
    _same(fn, rtol=1e-5)  # (float32 i1e: last-bit differences)


def test_kl_div_target_gradient_where_the_target_is_zero_is_nan_as_torch() -> None:
    # fuzz seeds 49474, 53951, 66183, 98255: torch's kl_div is xlogy(target, target) - target *
    # input, whose target gradient at 0 is 0 / 0 (a softmax of -inf gives such a target)
    def fn(L: Any) -> Any:
        F = L.nn.functional
        x = L.tensor([0.544, 0.291, -float("inf")], requires_grad=True)
        t = F.softmax(x, -1)
        y = F.kl_div(F.log_softmax(L.tensor([0.0, 1.0, 2.0]), -1), t, reduction="none")
        neg = F.kl_div(L.tensor([0.1, 0.2]), L.tensor([-0.5, 0.5]), reduction="none")
        return y, neg, L.autograd.grad((y * L.tensor([1.1, 0.7, 1.3])).sum(), x)
    _same(fn)


def test_gelu_double_backward_is_one_factor_as_torchs() -> None:
    # fuzz seeds 15125, 47457, 80948: torch's gelu_backward is an op whose input derivative is
    # grad * grad_output * gelu''(x), so an infinite grad_output gives +-inf, not inf - inf
    for approximate in ("none", "tanh"):
        def fn(L: Any, approximate: str = approximate) -> Any:
            x = L.tensor([-1.1, 0.7, 2.0, -3.0, 0.0], dtype=L.float64, requires_grad=True)
            out = []
            for scale in (1.3, float("inf")):
                g, = L.autograd.grad((L.nn.functional.gelu(x, approximate=approximate) * scale).sum(), x,
                                     create_graph=True)
                g2, = L.autograd.grad((g * L.tensor([1.1, 0.7, 1.3, 0.9, 1.2], dtype=L.float64)).sum(), x,
                                      create_graph=True)
                out += [g, type(g.grad_fn).__name__, g2]
                if scale == 1.3:  # (a third derivative: gelu_backward's own derivative, differentiated)
                    out.append(L.autograd.grad(g2.sum(), x)[0])
            return tuple(out)
        _same(fn, rtol=1e-6)


def test_one_element_written_onto_itself_under_another_shape_is_refused() -> None:
    # fuzz seed 39864: x[None] = x for a one-element x (torch: a partial overlap); the same shape,
    # a 0-d target or more elements are allowed
    for shape in ((1,), (2,), (1, 1), (1, 2)):
        for key in (None, Ellipsis, slice(None), (None, slice(None)), 0):
            def fn(L: Any, shape: tuple = shape, key: Any = key) -> Any:
                x = L.ones(shape) * 2
                try:
                    x[key] = x
                except RuntimeError as e:
                    return "refused" if "single memory location" in str(e) else "other error"
                return x
            _same(fn)


def test_copy_refuses_a_partially_overlapping_source() -> None:
    # (the fuzz 'ops' entry x[1:].copy_(x[:-1])): torch's copy_ refuses a source that shares some of
    # the destination's memory, in another order or shifted; the same elements in order are fine
    cases = (lambda x: x[1:].copy_(x[:-1]), lambda x: x.view(2, 2).copy_(x.view(2, 2).t()), lambda x: x.copy_(x[:]),
             lambda x: x[:2].copy_(x[2:]), lambda x: x.view(2, 2).copy_(x), lambda x: x[::2].copy_(x[1::2]),
             lambda x: x.copy_(x[0]), lambda x: x[:1].copy_(x[:1]))
    for case in cases:
        _same(lambda L, case=case: case(L.arange(4.0)))


def test_inplace_through_an_empty_view_is_no_overlapping_write() -> None:
    # fuzz seeds 4034, 14464: an empty array's zero strides repeat no element
    def fn(L: Any) -> Any:
        F = L.nn.functional
        x = L.empty((2, 0), requires_grad=True)
        v = x.trunc().permute(0, 1)
        F.leaky_relu(v, inplace=True)
        w = F.leaky_relu(L.empty((1, 1, 0, 2), requires_grad=True), 0.2)[0, :-1, :-1]
        F.hardtanh(w, inplace=True)
        z = L.empty((0, 3)).expand(2, 0, 3)
        z.fill_(L.tensor(1.0))
        return v, w, z, L.autograd.grad(v.sum() + w.sum(), x, allow_unused=True)
    _same(fn)


def test_layer_norm_statistics_that_overflow_float32_are_taken_in_float64():
    # torch's float32 kernel gives NaN here; its float64 result is the exact answer ember must give
    x = [[-3.4e38, -0.58, 0.67], [3e38, 3e38, 1.0], [1.0, 2.0, 3.0]]
    w, b = [0.0, -1.0, 2.0], [1.491, 4.656, -0.237]
    want = torch.nn.functional.layer_norm(torch.tensor(x, dtype=torch.float64), (3,), torch.tensor(w, dtype=torch.float64),
                                          torch.tensor(b, dtype=torch.float64)).float()
    got = ember.nn.functional.layer_norm(ember.tensor(x), (3,), ember.tensor(w), ember.tensor(b))
    assert got.dtype == ember.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("key", [(2, slice(None, -1)), (slice(0, 0),), (Ellipsis, slice(1, 2)), (0, 1), (slice(None), 1)])
def test_a_basic_write_into_an_expanded_view_rewrites_only_what_it_writes(key):
    # torch writes x_expanded[key] = v through the view the key makes: an empty or non-repeating part
    # is fine and its gradient counts each element once (fuzz seed 95294: ember counted them 3x again)
    out = {}
    for L in (torch, ember):
        x = L.tensor([3.0, 4.0], requires_grad=True)
        v = (x * 1).reshape(1, 2).expand(3, 2)
        try:
            v[key] = 0.5
            v.mul(L.tensor([[1.0], [2.0], [3.0]])).sum().backward()
            out[L.__name__] = (x.grad.tolist(), v.tolist(), type(v.grad_fn).__name__)
        except RuntimeError as e:
            out[L.__name__] = str(e)
    assert out["ember"] == out["torch"]

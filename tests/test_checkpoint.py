"""utils.checkpoint against torch and against running without checkpointing: same outputs and
gradients, the forward re-run in backward with the same dropout mask, torch's grad_fn names,
warnings and errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch

import ember


def _block(lib: Any, calls: list) -> Any:
    def f(x: Any, w: Any) -> Any:
        calls.append(1)
        h = lib.nn.functional.dropout(lib.tanh(x @ w), 0.5, training=True)
        return (h.sin() * 2).sum(1)

    return f


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_same_values_and_grads_as_plain_and_rerun_with_same_mask(lib: Any, reentrant: bool) -> None:
    calls: list = []
    f = _block(lib, calls)
    lib.manual_seed(0)
    x = lib.randn(4, 3, requires_grad=True)
    w = lib.randn(3, 5, requires_grad=True)
    lib.manual_seed(1)
    y = f(x, w)
    y.sum().backward()
    gx, gw = x.grad.clone(), w.grad.clone()
    x.grad = w.grad = None
    lib.manual_seed(1)
    calls.clear()
    y2 = lib.utils.checkpoint.checkpoint(f, x, w, use_reentrant=reentrant)
    assert len(calls) == 1
    after = lib.rand(3)  # the stream continues where the forward left it
    y2.sum().backward()
    assert len(calls) == 2  # re-run in backward
    assert lib.equal(y, y2)
    # same dropout mask in the re-run (preserved RNG state): gradients equal the plain run's
    np.testing.assert_allclose(x.grad.numpy(), gx.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), gw.numpy(), rtol=1e-6)
    lib.manual_seed(1)
    f(x, w)
    expected_after = lib.rand(3)
    assert lib.equal(after, expected_after)
    assert not lib.equal(lib.rand(3), after)  # backward's re-run did not rewind the global stream


@pytest.mark.parametrize("reentrant", [True, False])
def test_matches_torch_values_grads_and_names(reentrant: bool) -> None:
    res = {}
    for lib in (torch, ember):
        calls: list = []
        lib.manual_seed(0)
        x = lib.randn(4, 3, requires_grad=True)
        w = lib.randn(3, 5, requires_grad=True)
        y = lib.utils.checkpoint.checkpoint(_block(lib, calls), x, w, use_reentrant=reentrant)
        y.sum().backward()
        res[lib] = (y, x.grad, w.grad, y.grad_fn.name())
    e, t = res[ember], res[torch]
    for a, b in zip(e[:3], t[:3]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert e[3] == t[3] == ("CheckpointFunctionBackward" if reentrant else "SumBackward1")


def test_preserve_rng_state_false_gives_a_different_mask() -> None:
    calls: list = []
    f = _block(ember, calls)
    ember.manual_seed(0)
    x = ember.randn(6, 3, requires_grad=True)
    w = ember.randn(3, 8, requires_grad=True)
    ember.manual_seed(1)
    f(x, w).sum().backward()
    g = x.grad.clone()
    x.grad = None
    ember.manual_seed(1)
    ember.utils.checkpoint.checkpoint(f, x, w, use_reentrant=True, preserve_rng_state=False).sum().backward()
    assert not np.allclose(x.grad.numpy(), g.numpy())


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_sequential_matches_torch(reentrant: bool) -> None:
    res = {}
    for lib in (torch, ember):
        lib.manual_seed(0)
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Dropout(0.3), nn.Linear(4, 2))
        inp = lib.randn(5, 3, requires_grad=True)
        opt = lib.optim.SGD(seq.parameters(), lr=0.1)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            out = lib.utils.checkpoint.checkpoint_sequential(seq, 3, inp, use_reentrant=reentrant)
            loss = out.pow(2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        res[lib] = (losses, inp.grad, seq[0].weight, out.grad_fn.name())
    e, t = res[ember], res[torch]
    np.testing.assert_allclose(e[0], t[0], rtol=1e-5)
    np.testing.assert_allclose(e[1].numpy(), t[1].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e[2].detach().numpy(), t[2].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert e[3] == t[3]


def _warned(lib: Any, fn: Any) -> list:
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        fn()
    return [(w.category.__name__, str(w.message)) for w in ws]


def test_warnings_match_torch() -> None:
    for make in (
        lambda lib: lambda: lib.utils.checkpoint.checkpoint(lambda a: a.exp(), lib.ones(2, requires_grad=True)),
        lambda lib: lambda: lib.utils.checkpoint.checkpoint(lambda a: a.exp(), lib.ones(2), use_reentrant=True),
        lambda lib: lambda: lib.utils.checkpoint.checkpoint_sequential(
            lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU()), 2, lib.ones(1, 2, requires_grad=True)),
    ):
        assert _warned(ember, make(ember)) == _warned(torch, make(torch))


def _errors(lib: Any) -> list:
    cp = lib.utils.checkpoint
    x = lib.ones(2, requires_grad=True)
    out = []
    cases = [
        lambda: cp.checkpoint(lambda a, b=1: a * b, x, b=2, use_reentrant=True),
        lambda: cp.checkpoint(lambda a: a, x, use_reentrant=True, debug=True),
        lambda: cp.checkpoint_sequential(lib.nn.Sequential(lib.nn.ReLU()), 1, x, use_reentrant=True, foo=1),
        lambda: lib.autograd.grad(cp.checkpoint(lambda a: a.sin(), x, use_reentrant=True).sum(), x),
        lambda: cp.checkpoint(lambda a: a.detach(), x, use_reentrant=True).sum().backward(),
    ]
    for case in cases:
        with pytest.raises(Exception) as info:
            case()
        out.append((info.type.__name__, str(info.value)))
    return out


def test_errors_match_torch() -> None:
    assert _errors(ember) == _errors(torch)


def test_non_reentrant_supports_grad_kwargs_and_retain_graph() -> None:
    res = {}
    for lib in (torch, ember):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = lib.utils.checkpoint.checkpoint(lambda a, b=1.0: (a * b).sin(), x, b=3.0, use_reentrant=False)
        (g,) = lib.autograd.grad(y.sum(), x, retain_graph=True)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        res[lib] = (g.numpy(), x.grad.numpy())
    np.testing.assert_allclose(res[ember][0], res[torch][0], rtol=1e-6)
    np.testing.assert_allclose(res[ember][1], res[torch][1], rtol=1e-6)


def test_non_reentrant_counts_saved_tensors() -> None:
    flip = [True]

    def f(a: Any) -> Any:
        flip[0] = not flip[0]
        return a.sin() if flip[0] else a.sin().cos()

    x = ember.ones(2, requires_grad=True)
    y = ember.utils.checkpoint.checkpoint(f, x, use_reentrant=False)
    with pytest.raises(ember.utils.checkpoint.CheckpointError, match="A different number of tensors was saved"):
        y.sum().backward()


def test_detach_variable_and_validity() -> None:
    cp = ember.utils.checkpoint
    a = ember.ones(2, requires_grad=True) * 2
    d = cp.detach_variable((a, 3))
    assert d[0].grad_fn is None and d[0].requires_grad and d[1] == 3
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported"):
        cp.detach_variable([a])


def test_non_reentrant_checks_recomputed_metadata_and_mode() -> None:
    res = {}
    for lib in (torch, ember):
        out = []
        state = {"n": 2}

        def f(a: Any, state: dict = state) -> Any:
            state["n"] += 1
            return (a.repeat(state["n"]) ** 2).sum()  # pow saves a tensor whose shape changes

        x = lib.ones(2, requires_grad=True)
        y = lib.utils.checkpoint.checkpoint(f, x, use_reentrant=False)
        try:
            y.sum().backward()
        except RuntimeError as exc:
            out.append((type(exc).__name__, str(exc).split("\n")[0]))
        y = lib.utils.checkpoint.checkpoint(lambda a: a.sin(), x, use_reentrant=False, determinism_check="none")
        y.sum().backward()
        with pytest.raises(ValueError) as info:
            lib.utils.checkpoint.checkpoint(f, x, use_reentrant=False, determinism_check="nope")
        out.append(str(info.value))
        res[lib] = out
    assert res[ember] == res[torch]
    assert res[torch][0] == ("CheckpointError", "torch.utils.checkpoint: Recomputed values for the following tensors "
                             "have different metadata than during the forward pass.")

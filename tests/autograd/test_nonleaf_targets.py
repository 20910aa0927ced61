"""autograd.grad towards a non-leaf stops at it, as torch's engine does: the target's own node
does not run, so the graph below it keeps what it saved and leaf hooks below it never fire.
backward(inputs=[non-leaf]) differs in torch: it runs (and frees) the target's node."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _run(lib, program):
    x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
    return program(lib, x)


def _grad_then_backward(lib, x):
    y = (x * x).exp()
    z = (y * y).sum()
    (gy,) = lib.autograd.grad(z, y)   # no retain_graph: torch frees only z's part
    y.sum().backward()                # y's own graph is still whole
    return [gy, x.grad]


def _grad_to_both(lib, x):
    h = x.sin() * 3
    out = (h * h * x).sum()
    return list(lib.autograd.grad(out, [h, x]))   # h's node must run to reach x


def _backward_inputs_nonleaf(lib, x):
    h = x.tanh()
    (h * h).sum().backward(inputs=[h])
    try:
        h.sum().backward()
    except RuntimeError as e:
        assert "backward through the graph a second time" in str(e)
        return [h.grad, lib.tensor(1.0)]
    return [h.grad, lib.tensor(0.0)]


def _hook_below_target(lib, x):
    seen = []
    x.register_hook(lambda g: seen.append(1))
    y = x.exp()
    lib.autograd.grad(y.sum(), y)
    return [lib.tensor(float(len(seen)))]


def _create_graph_second_order(lib, x):
    y = x.pow(3)
    (gy,) = lib.autograd.grad((y * y).sum(), y, create_graph=True)
    (gx,) = lib.autograd.grad(gy.sum(), x)
    return [gy, gx]


@pytest.mark.parametrize("program", [_grad_then_backward, _grad_to_both, _backward_inputs_nonleaf,
                                     _hook_below_target, _create_graph_second_order],
                         ids=lambda f: f.__name__.strip("_"))
def test_nonleaf_target_matches_torch(program):
    want = _run(torch, program)
    got = _run(ember, program)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-12, atol=0)

"""Calls a replay cannot serve run eagerly with eager's numbers: Python's own random draws, vmap's
batched tensors, forward-mode tangents, sparse arguments; and a compiled function whose input comes
from another compiled call replays, its backward ending at that call's node. (Found by running the
corpus of tests/programs with every outermost module call compiled.)"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fwAD


def _draws(source: str):
    draw = {"random": lambda: random.randint(1, 3), "random_c": lambda: 1 + int(3 * random.random()),
            "numpy": lambda: int(np.random.randint(1, 4))}[source]

    def f(x):
        for _ in range(draw()):
            x = x * 2
        return x.sum()
    return f


@pytest.mark.parametrize("source", ["random", "random_c", "numpy"])
def test_python_random_draws_break_the_graph_instead_of_being_frozen(source):
    # tutorials/dynamic_net: the depth is drawn with random.randint at every call; a replay would
    # have kept the first call's depth, silently
    f = _draws(source)
    cf = ember.compile(f)
    x = ember.ones(2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        random.seed(0)
        np.random.seed(0)
        got = [cf(x).item() for _ in range(12)]
    random.seed(0)
    np.random.seed(0)
    want = [f(x).item() for _ in range(12)]
    assert got == want and len(set(want)) > 1
    assert any("draws random numbers" in str(w.message) for w in seen)
    with pytest.raises(ember._compile.trace.Unsupported, match="draws random numbers (in Python|from NumPy)"):
        ember.compile(_draws(source), fullgraph=True)(x)


def test_ember_random_ops_still_replay():
    # (ember's own generator is replayed: dropout inside a compiled step is not a graph break)
    f = ember.compile(lambda x: ember.nn.functional.dropout(x, 0.5).sum())
    x = ember.ones(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.manual_seed(0)
        got = [f(x).item() for _ in range(3)]
    ember.manual_seed(0)
    assert got == [ember.nn.functional.dropout(x, 0.5).sum().item() for _ in range(3)]
    assert "draws a random number" not in f.source()


def test_vmap_of_a_compiled_function_is_vmap_of_the_function():
    # tutorials/per_sample_grads, ensembling, neural_tangent_kernels: vmap over a compiled model
    lin = ember.nn.Linear(3, 2)
    x = ember.randn(5, 3)
    cf = ember.compile(lambda v: lin(v).tanh())
    cf(x[:2])  # (traced and replayed outside vmap first)
    want = ember.func.vmap(lambda v: lin(v).tanh())(x.reshape(5, 1, 3))
    got = ember.func.vmap(cf)(x.reshape(5, 1, 3))
    assert got.shape == (5, 1, 2) and np.array_equal(got.detach().numpy(), want.detach().numpy())


def test_forward_mode_tangents_go_through_a_compiled_function():
    # tutorials/forward_ad_usage: a replay of arrays dropped the tangent (unpack_dual gave None)
    lin = ember.nn.Linear(3, 2)
    cf = ember.compile(lin)
    x, v = ember.randn(4, 3), ember.randn(4, 3)
    cf(x)
    with fwAD.dual_level():
        got = fwAD.unpack_dual(cf(fwAD.make_dual(x, v))).tangent
        want = fwAD.unpack_dual(lin(fwAD.make_dual(x, v))).tangent
    assert got is not None and np.array_equal(got.detach().numpy(), want.detach().numpy())


def test_a_sparse_argument_runs_eagerly():
    # examples/gcn: the adjacency matrix is a sparse COO tensor
    adj = ember.tensor([[0.0, 1.0], [1.0, 0.0]]).to_sparse()
    w = ember.randn(2, 3, requires_grad=True)
    f = lambda a, w: ember.sparse.mm(a, w).relu().sum()  # noqa: E731
    cf = ember.compile(f)
    for _ in range(2):
        assert cf(adj, w).item() == f(adj, w).item()


def test_a_compiled_function_of_a_compiled_functions_output_replays():
    # a compiled model, then a compiled loss: the loss's backward ends at the model's node
    def run(compiled):
        ember.manual_seed(0)
        lin = ember.nn.Linear(3, 2)
        loss = lambda z: (z * z).sum()  # noqa: E731
        f, g = (ember.compile(lin), ember.compile(loss)) if compiled else (lin, loss)
        x = ember.randn(4, 3)
        for _ in range(3):
            out = g(f(x))
            out.backward()
        return out, lin

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out_c, lin_c = run(True)
    out_e, lin_e = run(False)
    assert out_c.grad_fn.name() == "CompiledFunctionBackward"
    assert out_c.item() == out_e.item()
    for a, b in zip(lin_c.parameters(), lin_e.parameters()):
        assert a.grad.numpy().tobytes() == b.grad.numpy().tobytes()


def test_a_compiled_rnn_cell_fed_its_own_hidden_state_replays_as_eager():
    # tutorials/char_rnn_generation: the hidden state a compiled call returned is the next call's
    # input, computed from the parameters the call uses too; each call's backward covers its own
    # ops and ends at that input (the engine's ``frontier``), the outer backward going on from
    # there through the earlier calls' nodes: eager's gradients, to the bit, and no graph break
    class Cell(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.i2h, self.i2o = ember.nn.Linear(5, 3), ember.nn.Linear(5, 2)

        def forward(self, x, h):
            c = ember.cat((x, h), 1)
            return self.i2o(c).log_softmax(1), self.i2h(c).tanh()

    def run(compiled):
        ember.manual_seed(0)
        cell = Cell()
        f = ember.compile(cell) if compiled else cell
        out = []
        for _ in range(3):
            h, loss = ember.zeros(1, 3), 0
            for i in range(4):
                o, h = f(ember.ones(1, 2) * i, h)
                loss = loss + o.sum() * (i + 1) + h.sum()
            cell.zero_grad()
            loss.backward()
            out.append([p.grad.numpy().tobytes() for p in cell.parameters()])
        return out, f

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a graph break warns)
        got, f = run(True)
    assert got == run(False)[0]
    assert "2 cache entries" in f._compiled.explain()  # (the first call's h needs no grad: its own program)

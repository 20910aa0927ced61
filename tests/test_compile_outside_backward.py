"""``model = torch.compile(model)`` with ``loss.backward()`` outside the compiled call (torch's
AOTAutograd): the forward and its backward are traced at the first call and replayed after, the
backward as one ``CompiledFunctionBackward`` node that the ordinary engine runs. Every number must
equal eager's bit for bit (losses, every ``.grad``, optimizer updates, dropout's random stream)."""

import copy
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example_model(name: str):
    spec = importlib.util.spec_from_file_location(f"ember_example_{name}_model", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_model()


def _same(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _mlp(dropout: float = 0.0):
    ember.manual_seed(0)
    return ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Dropout(dropout),
                               ember.nn.Linear(16, 4))


def _batches(n: int, shape=(6, 8), classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(ember.tensor(rng.standard_normal(shape).astype(np.float32)), ember.tensor(rng.integers(0, classes, shape[0])))
            for _ in range(n)]


def _train(model, opt, batches, compiled: bool, seed: int = 5):
    """The ordinary training loop, with the model compiled or not: (losses, grads per step, params)."""
    run = ember.compile(model) if compiled else model
    ember.manual_seed(seed)
    losses, grads = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no graph break)
        for x, y in batches:
            opt.zero_grad()
            loss = F.cross_entropy(run(x), y)
            loss.backward()
            opt.step()
            losses.append(loss._data.copy())
            grads.append([p.grad._data.copy() for p in model.parameters()])
    after = ember.rand(4)._data  # (the random stream where the loop left it)
    return losses, grads, [p._data.copy() for p in model.parameters()], run, after


@pytest.mark.parametrize("make_opt", [lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9),
                                      lambda ps: ember.optim.Adam(ps, lr=1e-2)], ids=["sgd_momentum", "adam"])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_compiled_model_with_backward_outside_equals_eager_bit_for_bit(make_opt, dropout):
    batches = _batches(5)
    eager_model = _mlp(dropout)
    comp_model = copy.deepcopy(eager_model)
    e = _train(eager_model, make_opt(eager_model.parameters()), batches, compiled=False)
    c = _train(comp_model, make_opt(comp_model.parameters()), batches, compiled=True)
    assert all(_same(a, b) for a, b in zip(e[0], c[0]))
    assert all(_same(a, b) for ga, gb in zip(e[1], c[1]) for a, b in zip(ga, gb))
    assert all(_same(a, b) for a, b in zip(e[2], c[2]))
    assert _same(e[4], c[4])
    explain = c[3].explain()
    assert "1 cache entry" in explain and "replayed 4 times" in explain


def test_grad_fn_is_one_compiled_function_backward_node_like_torch():
    m = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU())
    om = ember.compile(m)
    om(ember.randn(2, 4))  # (traced: the first call runs eagerly)
    y = om(ember.randn(2, 4))
    tm = torch.compile(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()))
    assert y.grad_fn.name() == tm(torch.randn(2, 4)).grad_fn.name() == "CompiledFunctionBackward"
    assert y.requires_grad and not y.is_leaf
    edges = {n for n, _ in y.grad_fn.next_functions}
    assert {type(n).__name__ for n in edges} == {"AccumulateGrad"} and len(edges) == 2
    assert "def backward(grad_out0)" in om.source() and "one CompiledFunctionBackward node" in om.explain()


def test_the_first_call_already_has_the_node_and_its_gradients_are_eagers():
    # torch's first call returns a CompiledFunctionBackward output too; ember's runs the traced eager graph
    ember.manual_seed(0)
    m = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Tanh())
    ref = copy.deepcopy(m)
    x = ember.randn(2, 4)
    seen = []
    m[0].weight.register_hook(lambda g: seen.append(g.clone()))
    y = ember.compile(m)(x)
    assert y.grad_fn.name() == "CompiledFunctionBackward"
    y.sum().backward()
    ref(x).sum().backward()
    assert len(seen) == 1 and _same(seen[0].numpy(), ref[0].weight.grad.numpy())  # the leaf hook ran once
    assert _same(m[0].weight.grad.numpy(), ref[0].weight.grad.numpy()) and _same(m[0].bias.grad.numpy(), ref[0].bias.grad.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()


def test_multiple_outputs_share_one_node_and_an_unused_one_gets_zeros():
    lin = ember.nn.Linear(3, 4)

    def f(x):
        h = lin(x)
        return h.tanh(), h * 2.0

    c = ember.compile(f)
    x = ember.randn(2, 3)
    c(x)
    a, b = c(x)
    assert a.grad_fn is b.grad_fn and (a.output_nr, b.output_nr) == (0, 1)
    a.sum().backward()  # (b gets no gradient: zeros, as torch materializes them)
    got = lin.weight.grad._data.copy()
    lin.zero_grad()
    ea, _ = f(x)
    ea.sum().backward()
    assert _same(got, lin.weight.grad._data)


def test_autograd_grad_retain_graph_and_hooks_on_the_compiled_output():
    m = ember.nn.Sequential(ember.nn.Linear(4, 5), ember.nn.Tanh(), ember.nn.Linear(5, 2))
    c = ember.compile(m)
    x = ember.randn(3, 4, requires_grad=True)
    c(x)
    y = c(x)
    assert y.grad_fn.name() == "CompiledFunctionBackward"
    gx, gw = ember.autograd.grad(y.pow(2).sum(), [x, m[0].weight], retain_graph=True)
    ex, ew = ember.autograd.grad(m(x).pow(2).sum(), [x, m[0].weight])
    assert _same(gx._data, ex._data) and _same(gw._data, ew._data)
    assert x.grad is None and m[0].weight.grad is None  # (autograd.grad accumulates nothing)
    seen = []
    y.register_hook(lambda g: seen.append(g.shape))
    m[2].bias.register_hook(lambda g: g * 0)  # (a leaf's hook runs as the engine accumulates)
    y.sum().backward(retain_graph=True)
    y.sum().backward()  # (the retained graph runs again: .grad doubles)
    assert seen == [(3, 2), (3, 2)] and m[2].bias.grad.abs().sum().item() == 0
    twice = m[0].weight.grad._data.copy()
    m.zero_grad()
    m(x).sum().backward()
    assert _same(twice, m[0].weight.grad._data + m[0].weight.grad._data)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


@pytest.mark.parametrize("first", [True, False])  # the first (traced) call and a replayed one
def test_create_graph_through_a_compiled_function_gives_gradients_whose_backward_raises_as_torchs(first):
    torch._dynamo.reset()
    results = []
    for L in (torch, ember):
        L.manual_seed(0)
        c = L.compile(L.nn.Linear(3, 1))
        x = L.randn(4, 3, requires_grad=True)
        if not first:
            c(x)
        g, = L.autograd.grad((c(x) ** 2).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match="compile with aot_autograd does not currently support double backward"):
            g.sum().backward()
        results.append((g.detach().numpy(), g.requires_grad, type(g.grad_fn).__name__))
    (tg, trg, tname), (eg, erg, ename) = results
    np.testing.assert_allclose(eg, tg, rtol=1e-6)
    assert (erg, ename) == (trg, tname) == (True, "CompiledFunctionBackwardBackward")


def test_guards_retrace_only_when_requires_grad_grad_mode_or_training_change():
    m = _mlp(0.5)
    c = ember.compile(m)
    comp = c.__dict__["_compiled"]
    for _ in range(3):
        c(ember.randn(6, 8)).sum().backward()
    assert len(comp.entries) == 1
    x = ember.randn(6, 8, requires_grad=True)  # requires_grad of an input: a new program
    c(x).sum().backward()
    c(x).sum().backward()
    assert len(comp.entries) == 2 and x.grad is not None
    with ember.no_grad():  # grad mode: no graph needed
        out = c(ember.randn(6, 8))
        out = c(ember.randn(6, 8))
    assert out.grad_fn is None and len(comp.entries) == 3
    m.eval()  # the training flag (dropout off)
    c(ember.randn(6, 8))
    y = c(ember.randn(6, 8))
    assert len(comp.entries) == 4 and y.grad_fn.name() == "CompiledFunctionBackward"
    m[0].weight.requires_grad_(False)  # a frozen parameter: its requires_grad is guarded too
    c(ember.randn(6, 8))
    assert len(comp.entries) == 5
    edges = c(ember.randn(6, 8)).grad_fn.next_functions
    assert all(n.variable is not m[0].weight for n, _ in edges)


@pytest.mark.parametrize("name,shape", [("train_digits_mlp", (16, 64)), ("train_digits_cnn", (16, 1, 8, 8))])
def test_examples_models_train_compiled_as_eager(name, shape):
    ember.manual_seed(0)
    eager_model = _example_model(name)
    comp_model = copy.deepcopy(eager_model)
    batches = _batches(4, shape, 10)
    e = _train(eager_model, ember.optim.Adam(eager_model.parameters(), lr=1e-3), batches, compiled=False)
    c = _train(comp_model, ember.optim.Adam(comp_model.parameters(), lr=1e-3), batches, compiled=True)
    assert all(_same(a, b) for a, b in zip(e[0], c[0]))
    assert all(_same(a, b) for ga, gb in zip(e[1], c[1]) for a, b in zip(ga, gb))
    assert all(_same(a, b) for a, b in zip(e[2], c[2]))


def test_compiled_model_loop_matches_torch():
    batches = _batches(4)
    model = _mlp()
    tmodel = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Dropout(0.0), torch.nn.Linear(16, 4))
    with torch.no_grad():
        for p, q in zip(tmodel.parameters(), model.parameters()):
            p.copy_(torch.from_numpy(q._data.copy()))
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    tlosses = []
    for x, y in batches:
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x._data)), torch.from_numpy(y._data))
        loss.backward()
        topt.step()
        tlosses.append(loss.item())
    losses, _, params, _, _ = _train(model, ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), batches, True)
    np.testing.assert_allclose([float(v) for v in losses], tlosses, rtol=1e-5)
    for p, q in zip(params, tmodel.parameters()):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_outputs_without_a_graph_and_constants_come_back_plain():
    lin = ember.nn.Linear(3, 2)

    def f(x):
        return lin(x), lin(x).detach() * 2.0, 7

    c = ember.compile(f)
    x = ember.randn(4, 3)
    c(x)
    y, z, k = c(x)
    assert y.grad_fn.name() == "CompiledFunctionBackward" and z.grad_fn is None and not z.requires_grad and k == 7
    assert _same(z._data, (lin(x).detach() * 2.0)._data)


def test_compiler_reset_forgets_every_compiled_function_and_config_sets_the_limit():
    import ember._dynamo

    f = ember.compile(lambda x: x * 2.0 + 1.0)
    m = ember.compile(ember.nn.Linear(2, 2))
    f(ember.ones(3))
    m(ember.ones(1, 2))
    assert "1 cache entry" in f.explain() and "1 cache entry" in m.explain()
    ember.compiler.reset()
    assert "0 cache entries" in f.explain() and "0 cache entries" in m.explain()
    f(ember.ones(3))
    ember._dynamo.reset()
    assert "0 cache entries" in f.explain()
    old = ember._dynamo.config.recompile_limit
    try:
        ember._dynamo.config.cache_size_limit = 2  # (torch's other name for the same setting)
        assert ember._dynamo.config.recompile_limit == 2
        g = ember.compile(lambda x: x + 1.0, dynamic=False)
        g(ember.ones(1))
        g(ember.ones(2))
        with pytest.warns(UserWarning, match=r"hit config.recompile_limit \(2\)"):
            assert ember.equal(g(ember.ones(3)), ember.full((3,), 2.0))
        assert "recompile_limit 2" in g.explain()
    finally:
        ember._dynamo.config.recompile_limit = old


def test_elementwise_ops_without_their_own_kernel_trace_and_differentiate_as_eager():
    def f(L, x, y):
        return (L.sin(x) + L.cos(x) * y.abs() + L.special.erf(x).exp() + L.log1p(x.abs()) + L.atan(y) + L.maximum(x, y) - L.minimum(x, x * 0.5)).sum()

    c = ember.compile(lambda x, y: f(ember, x, y))
    rng = np.random.default_rng(3)
    xs, ys = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no graph break)
        c(ember.tensor(xs, requires_grad=True), ember.tensor(ys))
        x = ember.tensor(xs, requires_grad=True)
        c(x, ember.tensor(ys)).backward()
    ex = ember.tensor(xs, requires_grad=True)
    f(ember, ex, ember.tensor(ys)).backward()
    assert _same(x.grad._data, ex.grad._data)
    assert "unary(sin, x)" in c.source() and "np.abs(y)" in c.source()
    tx = torch.tensor(xs, requires_grad=True)
    f(torch, tx, torch.tensor(ys)).backward()
    np.testing.assert_allclose(x.grad._data, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_a_saved_tensor_changed_in_place_before_backward_raises_as_in_eager():
    m = ember.nn.Linear(3, 2)
    c = ember.compile(m)
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    x = ember.randn(4, 3, requires_grad=True)
    c(x)
    for run in (m, c):  # eager, then the compiled call: the same error
        y = run(x)
        y.sum().backward(retain_graph=True)
        opt.step()  # (changes the weight the input's gradient needs)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_a_function_that_returns_its_input_or_a_parameter_keeps_the_graph():
    c = ember.compile(lambda x: x)
    x = ember.randn(3, requires_grad=True)
    c(x)
    y = c(x)
    (y * 2.0).sum().backward()
    assert y.requires_grad and x.grad.tolist() == [2.0, 2.0, 2.0]
    lin = ember.nn.Linear(2, 2)
    d = ember.compile(lambda: lin.weight * 1.0)
    d()
    d().sum().backward()
    assert lin.weight.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]

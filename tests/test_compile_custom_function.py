"""A user's ``autograd.Function`` inside a compiled function: its forward (the user's ops, run under
no_grad) is traced like any other code, and its node's backward is replayed as a call of the
Function's own ``backward`` on Tensors around the replay's arrays. Compiled must equal eager bit
for bit, with no graph break, and both must give torch's numbers."""

import warnings

import numpy as np
import pytest
import torch

import ember


def _functions(L):
    class Softplus(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, beta):
            bx = x * beta
            ctx.save_for_backward(bx)
            ctx.beta = beta
            return bx.clamp(min=0) / beta + L.log1p(L.exp(-bx.abs())) / beta

        @staticmethod
        def backward(ctx, g):
            bx, = ctx.saved_tensors
            return g * L.sigmoid(bx), None

    class ScaleAndSum(L.autograd.Function):
        """Two outputs, a tensor kept on ctx (not saved), needs_input_grad read in backward."""

        @staticmethod
        def forward(ctx, x, w):
            ctx.w = w
            ctx.save_for_backward(x)
            return x * w, x.sum()

        @staticmethod
        def backward(ctx, g, gs):
            x, = ctx.saved_tensors
            gw = (g * x).sum(0) if ctx.needs_input_grad[1] else None
            return g * ctx.w + gs, gw

    return Softplus, ScaleAndSum


def _model(L, seed=0):
    Softplus, ScaleAndSum = _functions(L)

    class Net(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = L.nn.Linear(4, 5)
            self.w = L.nn.Parameter(L.linspace(0.5, 1.5, 5))

        def forward(self, x):
            a, s = ScaleAndSum.apply(self.lin(x), self.w)
            return Softplus.apply(a, 1.5), s

    L.manual_seed(seed)
    net = Net()
    with L.no_grad():  # the same weights in both libraries
        rng = np.random.default_rng(seed)
        for p in net.parameters():
            p.copy_(L.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return net


def _x(L):
    return L.tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32))


def _step_losses(L, compiled):
    net = _model(L)
    opt = L.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    x = _x(L)

    def step(x, with_sum):
        y, s = net(x)
        loss = (y ** 2).mean() + 0.01 * s if with_sum else (y ** 2).mean()  # (s's gradient None: materialized zeros)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = L.compile(step) if compiled else step
    losses = [run(x, k % 2 == 1).item() for k in range(6)]
    return losses, [p.detach().numpy().copy() for p in net.parameters()], run


def test_a_compiled_step_with_custom_functions_equals_eager_and_torch():
    eager, eager_params, _ = _step_losses(ember, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a graph break warns
        compiled, compiled_params, run = _step_losses(ember, True)
    assert compiled == eager
    assert all(a.tobytes() == b.tobytes() for a, b in zip(compiled_params, eager_params))
    theirs, torch_params, _ = _step_losses(torch, False)
    np.testing.assert_allclose(compiled, theirs, rtol=1e-5)
    for a, b in zip(compiled_params, torch_params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    src = run.source()
    assert "custom(" in src and "Softplus.backward" in src and "ScaleAndSumBackward" in src
    assert "clip_np(" in src  # (the Function's forward is traced: clamp among its ops)


def test_a_compiled_module_with_custom_functions_trains_with_backward_outside():
    grads = []
    for compiled in (False, True):
        net = _model(ember)
        run = ember.compile(net) if compiled else net
        x = _x(ember)
        got = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for k in range(3):
                y, s = run(x)
                ((y ** 2).sum() + s * k).backward()  # (the first call: s's gradient is zero)
                got.append([p.grad.numpy().copy() for p in net.parameters()])
        grads.append(got)
        if compiled:
            assert type(y.grad_fn).__name__ == "CompiledFunctionBackward"
    for a, b in zip(*grads):
        assert all(u.tobytes() == v.tobytes() for u, v in zip(a, b))


@pytest.mark.parametrize("keep", ["array", "list"])
def test_a_function_keeping_arrays_on_ctx_breaks_the_graph_and_runs_eagerly(keep):
    # (a replay would hand the backward what the traced call kept: the first call's values)
    class Keep(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.kept = np.asarray(x._data, np.float32).copy() if keep == "array" else [x * 1]
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * (ember.from_numpy(ctx.kept) if keep == "array" else ctx.kept[0])

    w = ember.ones(3, requires_grad=True)

    def step(x):
        loss = Keep.apply(x * w).sum()
        loss.backward()
        return loss

    c = ember.compile(step)
    what = "keeps a NumPy array on ctx" if keep == "array" else "keeps tensors inside a container on ctx"
    with pytest.warns(UserWarning, match=what):
        c(ember.ones(3))
    c(ember.full((3,), 2.0))
    # eager both times: d/dw of Keep(x w) is g * kept * x with kept = x w, so 1 * 1, then 2 * 2
    assert w.grad.tolist() == [5.0, 5.0, 5.0]

"""Each array kernel ember.compile replays (kernels.TEMPLATES) gives the eager op's result bit for bit
(so the two cannot drift apart), and that result is torch's."""

import re

import numpy as np
import pytest
import torch

import ember
from ember._compile.kernels import TEMPLATES


def _f(L):
    return L.nn.functional


# kernel -> (function of (L, *tensors), input shapes, positive inputs)
CASES = {
    "add": (lambda L, x, y: x + y, ((3, 4), (4,)), False),
    "add_scalar": (lambda L, x: x + 0.3, ((3, 4),), False),
    "sub": (lambda L, x, y: x - y, ((3, 4), (3, 4)), False),
    "sub_scalar": (lambda L, x: x - 1.5, ((5,),), False),
    "rsub_scalar": (lambda L, x: 2 - x, ((5,),), False),
    "mul": (lambda L, x, y: x * y, ((2, 3), (2, 3)), False),
    "mul_scalar": (lambda L, x: x * 3, ((2, 3),), False),
    "div": (lambda L, x, y: x / y, ((2, 3), (2, 3)), True),
    "div_scalar": (lambda L, x: x / 7.0, ((2, 3),), False),
    "neg": (lambda L, x: -x, ((4,),), False),
    "pow_scalar": (lambda L, x: x ** 3 + x ** 2 + x ** 0.5, ((4,),), True),
    "exp": (lambda L, x: x.exp(), ((3, 3),), False),
    "log": (lambda L, x: x.log(), ((3, 3),), True),
    "tanh": (lambda L, x: x.tanh(), ((3, 3),), False),
    "sigmoid": (lambda L, x: x.sigmoid(), ((3, 3),), False),
    "sqrt": (lambda L, x: x.sqrt(), ((3, 3),), True),
    "unary_fn": (lambda L, x: L.sin(x) + L.cos(x) + L.special.erf(x) + L.log1p(x) + L.atan(x) * L.expm1(x)
                 + L.rsqrt(x) + L.sinh(x).tan(), ((3, 3),), True),
    "abs": (lambda L, x: x.abs() * 1.0 + L.abs(x), ((3, 4),), False),
    "clamp": (lambda L, x: x.clamp(min=0) + L.clamp(x, -0.5, 0.25) + x.clamp(max=1) * x.clip(0.1, 2.0), ((3, 4),), False),
    "maximum": (lambda L, x, y: L.maximum(x, y) + x.maximum(y.abs()), ((3, 4), (4,)), False),
    "minimum": (lambda L, x, y: L.minimum(x, y) * 1.0, ((3, 4), (3, 4)), False),
    "relu": (lambda L, x: x.relu() + _f(L).relu(x), ((4, 16),), False),
    "mm": (lambda L, x, w: x @ w, ((4, 5), (5, 3)), False),
    "matmul_folded": (lambda L, x, w: L.matmul(x, w), ((2, 4, 5), (5, 3)), False),
    "linear": (lambda L, x, w, b: _f(L).linear(x, w, b), ((4, 5), (3, 5), (3,)), False),
    "reshape": (lambda L, x: x.reshape(6, 2) + x.view(2, 6).flatten().reshape(6, 2) + x.unsqueeze(0).squeeze().view_as(
        x).reshape(6, 2) + x.unsqueeze(-1).squeeze(2).reshape_as(x).reshape(6, 2), ((3, 4),), False),
    "expand": (lambda L, x, y: x.expand(2, 3, 4) * y.expand_as(x.expand(2, 3, 4)) + x.broadcast_to((2, 3, 4)),
               ((3, 1), (1, 4)), False),
    "transpose": (lambda L, x: x.transpose(0, 2).reshape(-1), ((2, 3, 4),), False),
    "t": (lambda L, x: x.t() * 1.0, ((2, 3),), False),
    "permute": (lambda L, x: x.permute(2, 0, 1) * 1.0, ((2, 3, 4),), False),
    "sum": (lambda L, x: x.sum(), ((30, 7),), False),
    "sum_dims": (lambda L, x: x.sum(1) + x.sum((0, 1), keepdim=True).reshape(1), ((5, 6),), False),
    "mean": (lambda L, x: x.mean(), ((30, 7),), False),
    "mean_dims": (lambda L, x: x.mean(-1, keepdim=True) * 1.0, ((5, 6),), False),
    "softmax": (lambda L, x: x.softmax(1), ((4, 6),), False),
    "log_softmax": (lambda L, x: _f(L).log_softmax(x, 0), ((4, 6),), False),
    "conv": (lambda L, x, w, b: _f(L).conv2d(x, w, b, stride=2, padding=1), ((2, 3, 7, 7), (4, 3, 3, 3), (4,)), False),
    "conv_nobias": (lambda L, x, w: _f(L).conv2d(x, w, padding=(1, 0)), ((2, 3, 6, 5), (4, 3, 3, 3)), False),
    "max_pool_tiled": (lambda L, x: _f(L).max_pool2d(x, 2) * 1.0, ((2, 3, 6, 4),), False),
    "max_pool": (lambda L, x: _f(L).max_pool2d(x, 3, stride=2, padding=1) * 1.0, ((2, 3, 7, 6),), False),
    "activation": (lambda L, x: _f(L).gelu(x) + _f(L).gelu(x, approximate="tanh") + _f(L).silu(x)
                   + _f(L).leaky_relu(x, 0.2) + _f(L).elu(x), ((4, 5),), False),
    "layer_norm": (lambda L, x, w, b: _f(L).layer_norm(x, (5,), w, b), ((3, 4, 5), (5,), (5,)), False),
    "layer_norm_plain": (lambda L, x: _f(L).layer_norm(x, (4, 5), eps=1e-3), ((3, 4, 5),), False),
    "getitem": (lambda L, x: x[1:, ::2] + x[..., None, 1:4:1].reshape(3, 3)[:2] + x[-1, :3], ((3, 5),), False),
    "stack": (lambda L, x, y: L.stack([x, y], 1) * 1.0, ((3, 4), (3, 4)), False),
    "cat": (lambda L, x, y: L.cat([x, y.t()], 0) * 1.0, ((3, 4), (4, 3)), False),
    "split": (lambda L, x: x.split(2, 1)[0] * 1.0 + x.split([3, 2], 1)[1][:, :1], ((3, 5),), False),
    "mse_loss": (lambda L, x, y: _f(L).mse_loss(x, y) + _f(L).mse_loss(x, y, reduction="sum"), ((4, 3), (4, 3)), False),
}


def _inputs(shapes, positive, seed, dtype):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return [np.abs(a) + 0.5 for a in arrs] if positive else arrs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", sorted(CASES))
def test_kernel_replay_equals_eager_and_torch(kernel, dtype):
    fn, shapes, positive = CASES[kernel]
    compiled = ember.compile(lambda *a: fn(ember, *a))
    compiled(*[ember.tensor(a) for a in _inputs(shapes, positive, 0, dtype)])  # traces
    arrs = _inputs(shapes, positive, 1, dtype)
    eager = fn(ember, *[ember.tensor(a) for a in arrs])
    replay = compiled(*[ember.tensor(a) for a in arrs])
    assert "graph break" not in compiled.explain() and "replayed 1 times" in compiled.explain()
    assert re.search(rf"\b{kernel}\b", compiled.explain()), compiled.explain()  # (the kernel under test ran)
    assert replay.dtype == eager.dtype and replay.shape == eager.shape
    assert replay._data.tobytes() == eager._data.tobytes()
    expected = fn(torch, *[torch.from_numpy(a) for a in arrs]).numpy()
    np.testing.assert_allclose(replay._data, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_kernel(reduction):
    compiled = ember.compile(lambda x, y: ember.nn.functional.cross_entropy(x, y, reduction=reduction))
    rng = np.random.default_rng(0)
    compiled(ember.tensor(rng.standard_normal((5, 4)).astype(np.float32)), ember.tensor(rng.integers(0, 4, 5)))
    x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.integers(0, 4, 5)
    eager = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(y), reduction=reduction)
    replay = compiled(ember.tensor(x), ember.tensor(y))
    assert "nll_loss" in compiled.source() and "replayed 1 times" in compiled.explain()
    assert replay._data.tobytes() == eager._data.tobytes()
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), reduction=reduction)
    np.testing.assert_allclose(replay._data, expected.numpy(), rtol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_kernel_over_sequences_and_with_class_weights(reduction, weighted):
    # d2l's MaskedSoftmaxCELoss: cross_entropy over (N, C, T) scores, reduction 'none'; its
    # NllLoss2DBackward0 kept coefficients the trace could not name (a graph break at every call)
    rng = np.random.default_rng(1)
    w = rng.random(4).astype(np.float32) + 0.5
    weights = {ember: ember.tensor(w), torch: torch.from_numpy(w)} if weighted else {ember: None, torch: None}

    def loss(lib, x, y):
        return lib.nn.functional.cross_entropy(x, y, weight=weights[lib], reduction=reduction, ignore_index=3)

    compiled = ember.compile(lambda x, y: loss(ember, x, y).sum())
    for _ in range(3):
        x, y = rng.standard_normal((2, 4, 5, 3)).astype(np.float32), rng.integers(0, 4, (2, 5, 3))
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = compiled(ex, ember.tensor(y))
        out.backward()
        rx = ember.tensor(x, requires_grad=True)
        eager = loss(ember, rx, ember.tensor(y)).sum()
        eager.backward()
        assert out._data.tobytes() == eager._data.tobytes() and ex.grad._data.tobytes() == rx.grad._data.tobytes()
        tout = loss(torch, tx, torch.from_numpy(y)).sum()
        tout.backward()
        np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(ex.grad._data, tx.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert ("nll_loss_weighted" if weighted else "nll_loss_nd") in compiled.explain()
    assert "graph break" not in compiled.explain() and "replayed 2 times" in compiled.explain()


def test_dropout_kernel_draws_eagers_mask():
    def f(x):
        return ember.nn.functional.dropout(x, 0.4) * 2.0

    compiled = ember.compile(f)
    x = ember.ones(8, 8)
    compiled(x)
    ember.manual_seed(3)
    eager, after_eager = f(x), ember.rand(2)
    ember.manual_seed(3)
    replay, after_replay = compiled(x), ember.rand(2)
    assert "dropout_noise((8, 8), 0.4, " in compiled.source()
    assert replay._data.tobytes() == eager._data.tobytes() and ember.equal(after_eager, after_replay)
    kept = (eager._data != 0).mean()
    assert 0.3 < kept < 0.9 and set(np.unique(eager._data)) <= {0.0, np.float32(2 / 0.6)}  # torch's scaling


def test_batched_matmul_is_the_mm_kernel():
    def f(x, w):
        loss = (x @ w).tanh().sum()
        loss.backward()
        return loss

    compiled = ember.compile(f)
    rng = np.random.default_rng(0)
    for _ in range(3):
        xa, wa = rng.standard_normal((2, 4, 5)).astype(np.float32), rng.standard_normal((3, 1, 5, 2)).astype(np.float32)
        te, tc = [ember.tensor(a, requires_grad=True) for a in (xa, wa)], [ember.tensor(a, requires_grad=True) for a in (xa, wa)]
        le, lc = f(*te), compiled(*tc)
        assert le._data.tobytes() == lc._data.tobytes()
        assert all(a.grad._data.tobytes() == b.grad._data.tobytes() for a, b in zip(te, tc))
        tt = [torch.tensor(a, requires_grad=True) for a in (xa, wa)]
        lt = f(*tt)
        np.testing.assert_allclose(lc._data, lt.detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(tc[1].grad._data, tt[1].grad.numpy(), rtol=1e-4, atol=1e-6)
    assert "mm0 = f32.matmul(x, w)" in compiled.source() and "replayed 2 times" in compiled.explain()


def test_embedding_kernel():
    def f(L, i, w):
        return _f(L).embedding(i, w, padding_idx=0) * 2.0

    compiled = ember.compile(lambda i, w: f(ember, i, w))
    w = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    compiled(ember.tensor([[1, 2, 4]]), ember.tensor(w))
    i = np.array([[3, 0, 5]])
    replay = compiled(ember.tensor(i), ember.tensor(w))
    assert replay._data.tobytes() == f(ember, ember.tensor(i), ember.tensor(w))._data.tobytes()
    assert "embedding_rows(i, w)" in compiled.source() and "replayed 1 times" in compiled.explain()
    np.testing.assert_array_equal(replay._data, f(torch, torch.from_numpy(i), torch.from_numpy(w)).numpy())
    with pytest.raises(IndexError, match="index out of range in self"):
        compiled(ember.tensor([[3, 0, 6]]), ember.tensor(w))


def test_every_kernel_has_a_case():
    # (the others' cases are above, the modules' in test_compile_modules.py: LSTM, batch norm, where, index;
    # fill_'s, which needs a value with a history, in test_compile_updates.py)
    assert set(TEMPLATES) - set(CASES) == {"nll_loss", "nll_loss_nd", "nll_loss_weighted", "dropout_noise", "embedding", "lstm", "lstm_nograd", "lstm_zeros",
                                           "batch_norm", "where", "where_scalar_other", "where_scalar_input", "index",
                                           "filled"}

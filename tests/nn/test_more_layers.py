"""Layers and functional calls real programs use, against torch: the padding modules, BatchNorm3d,
Dropout3d, CosineSimilarity, ChannelShuffle, F.gumbel_softmax (same random stream), F.pdist, the
in-place activation spellings, the pools that return indices and the deprecated upsampling calls."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

X = np.random.default_rng(0).standard_normal((2, 4, 5, 6))
X3 = np.random.default_rng(1).standard_normal((2, 4, 3, 4, 5))

PADS = [("ZeroPad1d", 2), ("ZeroPad2d", (1, 0, 2, 1)), ("ZeroPad3d", 1), ("ConstantPad1d", (2, 1)),
        ("ConstantPad2d", 1), ("ConstantPad3d", (1, 2, 0, 1, 1, 0)), ("ReflectionPad1d", (1, 2)),
        ("ReflectionPad2d", 2), ("ReflectionPad3d", 1), ("ReplicationPad1d", 3), ("ReplicationPad2d", (1, 2, 3, 0)),
        ("ReplicationPad3d", 1), ("CircularPad1d", 2), ("CircularPad2d", (1, 1, 2, 0)), ("CircularPad3d", 1)]


def _module(L, name, *args):
    cls = getattr(L.nn, name)
    return cls(*args, 3.5) if name.startswith("Constant") else cls(*args)


def _run_both(make, data, **grad):
    out = []
    for L in (torch, ember):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        m = make(L).double()
        y = m(x)
        (y * y).sum().backward()
        out.append((m, y, x.grad))
    return out


@pytest.mark.parametrize("name,padding", PADS, ids=[p[0] for p in PADS])
def test_padding_modules_match_torch(name, padding):
    data = {"1d": X[0], "2d": X, "3d": X3}[name[-2:]]
    (tm, ty, tg), (em, ey, eg) = _run_both(lambda L: _module(L, name, padding), data)
    assert repr(em) == repr(tm)
    assert em.padding == tm.padding
    assert isinstance(em, ember.nn.ConstantPad1d) == isinstance(tm, torch.nn.ConstantPad1d)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-14)


@pytest.mark.parametrize("make,data", [
    (lambda L: L.nn.BatchNorm3d(4), X3),
    (lambda L: L.nn.BatchNorm3d(4, affine=False, momentum=None), X3),
    (lambda L: L.nn.ChannelShuffle(2), X),
    (lambda L: L.nn.Dropout3d(0.5).eval(), X3),
], ids=["bn3d", "bn3d_cumulative", "channel_shuffle", "dropout3d_eval"])
def test_layers_match_torch(make, data):
    (tm, ty, tg), (em, ey, eg) = _run_both(make, data)
    assert repr(em) == repr(tm)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-10, atol=1e-12)
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(em.state_dict()[k].numpy(), v.numpy(), rtol=1e-12)
    if hasattr(ty.grad_fn, "name"):
        assert ey.grad_fn.name() == ty.grad_fn.name()


def test_dropout3d_training_draws_torch_stream():
    outs = []
    for L in (torch, ember):
        L.manual_seed(7)
        outs.append(L.nn.Dropout3d(0.4)(L.ones(2, 3, 2, 2, 2)).numpy())
    np.testing.assert_array_equal(outs[1], outs[0])


def test_cosine_similarity_module():
    a, b = X[0, 0], X[1, 1]
    for dim in (0, 1):
        t = torch.nn.CosineSimilarity(dim)(torch.tensor(a), torch.tensor(b))
        e = ember.nn.CosineSimilarity(dim)(ember.tensor(a), ember.tensor(b))
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)
    assert repr(ember.nn.CosineSimilarity(dim=0, eps=1e-6)) == repr(torch.nn.CosineSimilarity(dim=0, eps=1e-6))


@pytest.mark.parametrize("call", [
    lambda L: L.nn.BatchNorm3d(4)(L.ones(2, 4, 3)),
    lambda L: L.nn.functional.channel_shuffle(L.ones(1, 3, 2), 2),
    lambda L: L.nn.functional.channel_shuffle(L.ones(3), 1),
    lambda L: L.nn.functional.channel_shuffle(L.ones(1, 4, 2), 0),
    lambda L: L.nn.functional.pdist(L.ones(2, 3, 4)),
    lambda L: L.nn.functional.pdist(L.ones(2, 3), -1.0),
    lambda L: L.nn.ReflectionPad2d(2)(L.ones(1, 1, 2, 2)),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(Exception) as got:
        call(ember)
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("tau,dim", [(1.0, -1), (0.5, 0)])
def test_gumbel_softmax_same_stream_and_gradient(hard, tau, dim):
    logits = X[0, 0]
    res = []
    for L in (torch, ember):
        L.manual_seed(11)
        x = L.tensor(logits, requires_grad=True)
        y = L.nn.functional.gumbel_softmax(x, tau=tau, hard=hard, dim=dim)
        (y * L.arange(float(y.shape[-1]))).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, float("inf")])
def test_pdist_values_and_gradients(p):
    data = np.random.default_rng(2).standard_normal((5, 3))
    data[3] = data[1]  # a zero distance: torch's gradient there is 0
    res = []
    for L in (torch, ember):
        x = L.tensor(data, requires_grad=True)
        d = L.nn.functional.pdist(x, p)
        (d * L.arange(1.0, d.shape[0] + 1, dtype=L.float64)).sum().backward()
        res.append((d.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-13)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ember.pdist(ember.tensor(data), p).numpy(), res[0][0], rtol=1e-13) if hasattr(ember, "pdist") else None


@pytest.mark.parametrize("name,args", [("elu_", (0.7,)), ("hardtanh_", (-0.5, 0.5)), ("leaky_relu_", (0.2,)),
                                       ("selu_", ()), ("celu_", (1.3,)), ("threshold_", (0.1, -3.0)),
                                       ("rrelu_", ())])
def test_inplace_activation_spellings(name, args):
    outs = []
    for L in (torch, ember):
        x = L.tensor(X[0, 0])
        y = getattr(L.nn.functional, name)(x, *args)
        assert y is x
        outs.append(x.numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-14)


@pytest.mark.parametrize("name,data,args", [
    ("max_pool1d_with_indices", X[0], (2,)), ("max_pool2d_with_indices", X, (2, 1)),
    ("max_pool3d_with_indices", X3, (2,)), ("adaptive_max_pool1d_with_indices", X[0], (3,)),
    ("adaptive_max_pool2d_with_indices", X, ((2, 3),)), ("adaptive_max_pool3d_with_indices", X3, (2,)),
])
def test_pools_with_indices(name, data, args):
    t = getattr(torch.nn.functional, name)(torch.tensor(data), *args)
    e = getattr(ember.nn.functional, name)(ember.tensor(data), *args)
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["upsample_nearest", "upsample_bilinear"])
def test_deprecated_upsampling(name):
    res = []
    for L in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            y = getattr(L.nn.functional, name)(L.tensor(X), scale_factor=2)
        res.append((y.numpy(), [str(m.message) for m in w]))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12)
    assert res[1][1] == res[0][1]


@pytest.mark.parametrize("name,args,data", [
    ("LPPool1d", (2, 3), X[0]), ("LPPool1d", (3, 2, 1, True), X[0]),
    ("LPPool2d", (2, 2), X), ("LPPool2d", (1.5, (2, 3), 1, True), X),
    ("LPPool3d", (2, 2), X3),
], ids=["lp1d", "lp1d_ceil", "lp2d", "lp2d_rect", "lp3d"])
def test_lp_pool_matches_torch(name, args, data):
    data = np.abs(data) + 0.1  # (x^p of a negative x is NaN for fractional p, in both)
    (tm, ty, tg), (em, ey, eg) = _run_both(lambda L: getattr(L.nn, name)(*args), data)
    assert repr(em) == repr(tm)
    assert ey.grad_fn.name() == ty.grad_fn.name()
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-10)

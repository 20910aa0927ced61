"""nn.utils.get_total_norm / clip_grads_with_norm_, the batch-norm fusions and skip_init against torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember

G = [np.random.default_rng(i).standard_normal(s).astype(np.float32) for i, s in enumerate([(3, 4), (5,), (2, 2, 2)])]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
def test_get_total_norm_and_clip(norm_type):
    res = []
    for L in (torch, ember):
        ts = [L.tensor(g) for g in G]
        total = L.nn.utils.get_total_norm(ts, norm_type)
        ps = [L.nn.Parameter(L.zeros(g.shape)) for g in G]
        for p, g in zip(ps, G):
            p.grad = L.tensor(g)
        L.nn.utils.clip_grads_with_norm_(ps, 1.5, total)
        res.append((total, [p.grad.numpy() for p in ps]))
    (tt, tg), (et, eg) = res
    assert et.dtype.itemsize == tt.dtype.itemsize and et.shape == () and tuple(tt.shape) == ()
    np.testing.assert_allclose(et.numpy(), tt.numpy(), rtol=1e-6)
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_get_total_norm_nonfinite_error():
    for L in (torch, ember):
        with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
            L.nn.utils.get_total_norm([L.tensor([1.0, float("inf")])], error_if_nonfinite=True)
        assert float(L.nn.utils.get_total_norm([])) == 0.0


def _bn(L, n, seed):
    L.manual_seed(seed)
    bn = L.nn.BatchNorm2d(n) if n > 0 else None
    with L.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    return bn.eval()


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval(transpose):
    x = np.random.default_rng(5).standard_normal((2, 3, 6, 6)).astype(np.float32)
    res = []
    for L in (torch, ember):
        L.manual_seed(0)
        conv = (L.nn.ConvTranspose2d(3, 4, 3) if transpose else L.nn.Conv2d(3, 4, 3, bias=False)).eval()
        bn = _bn(L, 4, 1)
        fused = L.nn.utils.fuse_conv_bn_eval(conv, bn, transpose)
        assert type(fused.weight).__name__ == "Parameter" and fused.weight.requires_grad
        res.append((fused(L.tensor(x)).detach().numpy(), bn(conv(L.tensor(x))).detach().numpy(),
                    fused.weight.detach().numpy(), fused.bias.detach().numpy()))
    (t_out, t_ref, tw, tb), (e_out, e_ref, ew, eb) = res
    np.testing.assert_allclose(e_out, e_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ew, tw, rtol=1e-6)
    np.testing.assert_allclose(eb, tb, rtol=1e-6)


def test_fuse_linear_bn_eval_and_assertions():
    x = np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32)
    res = []
    for L in (torch, ember):
        L.manual_seed(0)
        lin = L.nn.Linear(3, 4).eval()
        bn = L.nn.BatchNorm1d(4)
        with L.no_grad():
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
        bn.eval()
        fused = L.nn.utils.fuse_linear_bn_eval(lin, bn)
        res.append((fused(L.tensor(x)).detach().numpy(), bn(lin(L.tensor(x))).detach().numpy()))
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            L.nn.utils.fuse_linear_bn_eval(lin.train(), bn)
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6)
    np.testing.assert_allclose(res[1][0], res[1][1], rtol=1e-5, atol=1e-6)


def test_skip_init_leaves_the_random_stream_alone():
    draws = []
    for L in (torch, ember):
        L.manual_seed(3)
        m = L.nn.utils.skip_init(L.nn.Linear, 4, 5)
        assert tuple(m.weight.shape) == (5, 4) and type(m).__name__ == "Linear"
        draws.append(L.rand(3).numpy())
        with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
            L.nn.utils.skip_init(L.nn.ReLU)
    np.testing.assert_array_equal(draws[1], draws[0])

"""embedding_bag / EmbeddingBag and bilinear / Bilinear against torch: values, grad_fn names,
gradients w.r.t. weight and per-sample weights (second order where torch has it), gradgradcheck,
module reprs and initialisation, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.oracle import check

import ember

R = np.random.default_rng(7)
IDX = np.array([1, 2, 4, 5, 4, 9, 4, 0])
OFF = np.array([0, 2, 2, 5])  # bags: [1 2] [] [4 5 4] [9 4 0]


def _bag(lib, w, *, idx=IDX, off=OFF, **kw):
    o = None if off is None else lib.tensor(off)
    return lib.nn.functional.embedding_bag(lib.tensor(idx), w, o, **kw)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 4}, {"include_last_offset": True}, {"padding_idx": -1}])
def test_modes_offsets(mode, kw) -> None:
    check(lambda lib, w: _bag(lib, w, mode=mode, **kw), R.standard_normal((10, 3)), second=True)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_2d_input(mode) -> None:
    idx = np.array([[1, 2, 4], [4, 4, 0], [7, 3, 3]])
    check(lambda lib, w: _bag(lib, w, idx=idx, off=None, mode=mode), R.standard_normal((10, 4)), second=True)
    check(lambda lib, w: _bag(lib, w, idx=idx, off=None, mode=mode, padding_idx=4), R.standard_normal((10, 4)),
          second=True)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_scale_grad_by_freq(mode) -> None:
    # each row's gradient divided by the row's count in the batch (as documented; torch 2.13's CPU
    # kernel gives some rows the count of a neighbouring repeated row, so the maths is the oracle)
    w0 = R.standard_normal((10, 3))
    grads = []
    for scale in (False, True):
        w = ember.tensor(w0, requires_grad=True)
        out = _bag(ember, w, mode=mode, scale_grad_by_freq=scale)
        out.backward(ember.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        grads.append(w.grad.numpy())
    counts = np.maximum(np.bincount(IDX, minlength=10), 1)[:, None]
    np.testing.assert_allclose(grads[1], grads[0] / counts, rtol=1e-12)


def test_max_ties() -> None:
    w = np.round(R.standard_normal((6, 3)))
    w[2] = w[3]
    check(lambda lib, w: _bag(lib, w, idx=np.array([2, 3, 3, 2, 5]), off=np.array([0, 3]), mode="max"), w)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 4}, {"include_last_offset": True}])
def test_per_sample_weights(kw) -> None:
    # (torch has no second derivative for the per-sample weights: first order here, gradgradcheck below)
    check(lambda lib, w, p: _bag(lib, w, mode="sum", per_sample_weights=p, **kw), R.standard_normal((10, 3)),
          R.standard_normal(IDX.shape))
    idx = np.array([[1, 2, 4], [4, 4, 0]])
    check(lambda lib, w, p: _bag(lib, w, idx=idx, off=None, mode="sum", per_sample_weights=p),
          R.standard_normal((10, 3)), R.standard_normal(idx.shape))


def test_gradgradcheck() -> None:
    F = ember.nn.functional
    w = ember.tensor(R.standard_normal((10, 3)), requires_grad=True)
    p = ember.tensor(R.standard_normal(IDX.shape), requires_grad=True)
    i, o = ember.tensor(IDX), ember.tensor(OFF)
    for f, args in ((lambda w, p: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=p, padding_idx=5), (w, p)),
                    (lambda w: F.embedding_bag(i, w, o, mode="mean") ** 2, (w,)),
                    (lambda w: F.embedding_bag(i, w, o, mode="max") ** 2, (w,))):
        assert ember.autograd.gradcheck(f, args)
        assert ember.autograd.gradgradcheck(f, args)


def test_module_repr_init_forward() -> None:
    res = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = lib.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=2)
        m2 = lib.nn.EmbeddingBag(10, 3, max_norm=1.0, mode="max", norm_type=1.0, scale_grad_by_freq=True)
        m3 = lib.nn.EmbeddingBag(10, 3, include_last_offset=True)
        out = m(lib.tensor(IDX), lib.tensor(OFF), lib.tensor(np.linspace(0, 1, IDX.size, dtype=np.float32)))
        out.square().sum().backward()
        out3 = m3(lib.tensor(np.array([[1, 2], [3, 2]])))
        res.append((repr(m), repr(m2), repr(m3), m.weight.detach().numpy(), out.detach().numpy(),
                    m.weight.grad.numpy(), out3.detach().numpy()))
    assert res[0][:3] == res[1][:3]
    for a, b in zip(res[0][3:], res[1][3:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_max_norm_renormalises_in_place() -> None:
    w0 = R.standard_normal((10, 3)) * 3
    outs = []
    for lib in (ember, torch):
        w = lib.tensor(w0.copy())
        out = _bag(lib, w, mode="mean", max_norm=1.5)
        outs.append((out.numpy(), w.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_from_pretrained() -> None:
    w0 = R.standard_normal((5, 2)).astype(np.float32)
    for freeze in (True, False):
        e = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(w0), freeze=freeze, mode="max")
        t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w0), freeze=freeze, mode="max")
        assert repr(e) == repr(t) and e.weight.requires_grad == t.weight.requires_grad
        x = np.array([[0, 3], [4, 1]])
        np.testing.assert_array_equal(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy())


ERRORS = [
    (dict(idx=np.array([[1, 2]]), off=np.array([0])), ValueError),  # 2d input with offsets
    (dict(off=None), ValueError),  # 1d input without offsets
    (dict(mode="mean", per_sample_weights=True), NotImplementedError),
    (dict(mode="sum", per_sample_weights=np.ones(3)), ValueError),  # wrong shape
    (dict(mode="avg"), ValueError),
    (dict(idx=np.array([1, 12]), off=np.array([0])), RuntimeError),
    (dict(off=np.array([1, 3])), RuntimeError),  # offsets[0] != 0
]


@pytest.mark.parametrize("kw, exc", ERRORS)
def test_errors(kw, exc) -> None:
    for lib in (ember, torch):
        kw2 = dict(kw)
        if "per_sample_weights" in kw2:
            p = kw2["per_sample_weights"]
            kw2["per_sample_weights"] = lib.ones(IDX.size) if p is True else lib.tensor(p)
        with pytest.raises(exc):
            _bag(lib, lib.tensor(R.standard_normal((10, 3))), **kw2)


@pytest.mark.parametrize("s1, s2", [((5, 2), (5, 3)), ((4, 5, 2), (4, 5, 3)), ((2,), (3,))])
def test_bilinear(s1, s2) -> None:
    check(lambda lib, a, b, w, bias: lib.nn.functional.bilinear(a, b, w, bias), R.standard_normal(s1),
          R.standard_normal(s2), R.standard_normal((4, 2, 3)), R.standard_normal(4), second=True)
    check(lambda lib, a, b, w: lib.nn.functional.bilinear(a, b, w), R.standard_normal(s1), R.standard_normal(s2),
          R.standard_normal((4, 2, 3)), second=True)


def test_bilinear_module_and_gradgradcheck() -> None:
    res = []
    x1, x2 = R.standard_normal((6, 2)).astype(np.float32), R.standard_normal((6, 3)).astype(np.float32)
    for lib in (ember, torch):
        lib.manual_seed(3)
        m = lib.nn.Bilinear(2, 3, 4)
        out = m(lib.tensor(x1), lib.tensor(x2))
        out.sum().backward()
        res.append((repr(m), repr(lib.nn.Bilinear(2, 3, 4, bias=False)), m.weight.detach().numpy(),
                    m.bias.detach().numpy(), out.detach().numpy(), m.weight.grad.numpy()))
    assert res[0][:2] == res[1][:2]
    for a, b in zip(res[0][2:], res[1][2:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    a, b = (ember.tensor(R.standard_normal(s), requires_grad=True) for s in ((3, 2), (3, 3)))
    w = ember.tensor(R.standard_normal((4, 2, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda *t: ember.nn.functional.bilinear(*t), (a, b, w))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            lib.nn.functional.bilinear(lib.ones(3, 2), lib.ones(4, 3), lib.ones(4, 2, 3))

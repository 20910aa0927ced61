"""lgamma, digamma and polygamma (SciPy-backed) against torch: values, dtypes, grad_fn names and
first and second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

FNS = {
    "lgamma": lambda L, x: L.lgamma(x), "lgamma_method": lambda L, x: x.lgamma(), "digamma": lambda L, x: L.digamma(x),
    "digamma_method": lambda L, x: x.digamma(), "polygamma0": lambda L, x: L.polygamma(0, x),
    "polygamma1": lambda L, x: L.polygamma(1, x), "polygamma3_method": lambda L, x: x.polygamma(3),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(FNS))
def test_matches_torch(name, dtype):
    x0 = np.array([0.3, 1.0, 2.5, 7.25, -0.5, -2.3], dtype)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = FNS[name](lib, x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        res.append((y.detach().numpy(), g.detach().numpy(), g2.numpy(), type(y.grad_fn).__name__))
    # (torch's own trigamma is good to ~5e-10 relative: polygamma(1, 1) = pi^2/6 = 1.6449340668482264,
    # torch gives 1.6449340676383375, SciPy 1.6449340668482266)
    tol = 1e-8 if dtype == np.float64 else 2e-5
    for a, b in zip(res[0][:3], res[1][:3]):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert res[0][3] == res[1][3]


def test_known_values():
    x = ember.tensor([1.0, 0.5], dtype=ember.float64)
    np.testing.assert_allclose(ember.polygamma(1, x).numpy(), [np.pi ** 2 / 6, np.pi ** 2 / 2], rtol=1e-14)
    np.testing.assert_allclose(ember.digamma(x).numpy(), [-0.5772156649015329, -0.5772156649015329 - 2 * np.log(2)],
                               rtol=1e-14)
    np.testing.assert_allclose(ember.lgamma(x).numpy(), [0.0, np.log(np.sqrt(np.pi))], atol=1e-15)


def test_poles_integers_and_in_place():
    for lib in (ember, torch):
        assert np.isinf(lib.lgamma(lib.tensor([0.0, -1.0])).numpy()).all()
        assert lib.digamma(lib.tensor([0.0])).item() == -np.inf
        assert str(lib.lgamma(lib.tensor([1, 2, 3])).dtype).endswith("float32")
        x = lib.tensor([0.5, 3.0])
        x.lgamma_()
        np.testing.assert_allclose(x.numpy(), [np.log(np.sqrt(np.pi)), np.log(2.0)], rtol=1e-6)  # log G(1/2), log G(3)
    with pytest.raises(RuntimeError, match="negative n"):
        ember.polygamma(-1, ember.tensor([1.0]))


def test_missing_scipy_names_the_extra(monkeypatch):
    import sys

    for name in ("scipy", "scipy.special", "scipy.linalg"):
        monkeypatch.setitem(sys.modules, name, None)  # importing SciPy now fails
    with pytest.raises(ImportError, match=r"pip install scipy \(from ember's checkout: pip install -e '\.\[special\]'\)"):
        ember.lgamma(ember.tensor([1.5]))
    # erf no longer needs SciPy (ops/_erf.py): torch's value to float32
    assert ember.erf(ember.tensor([0.5])).tolist() == torch.erf(torch.tensor([0.5])).tolist()
    with pytest.raises(ImportError, match="ember's matrix_exp needs SciPy"):
        ember.linalg.matrix_exp(ember.eye(2))


@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2), (1, 1)])
def test_matrix_exp_matches_torch_to_second_order(shape):
    a0 = np.random.default_rng(4).standard_normal(shape) * 0.7
    res = []
    for lib in (ember, torch):
        a = lib.tensor(a0, requires_grad=True)
        e = lib.linalg.matrix_exp(a)
        g, = lib.autograd.grad((e * e).sum(), a, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), a)
        res.append((e.detach().numpy(), g.detach().numpy(), g2.numpy(), type(e.grad_fn).__name__,
                    lib.matrix_exp(a).detach().numpy(), a.matrix_exp().detach().numpy()))
    for a, b in zip(res[0], res[1]):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
        else:
            assert a == b
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        ember.linalg.matrix_exp(ember.zeros(2, 3))


@pytest.mark.parametrize("p", [2, 1, 0, float("inf"), 3, 0.5])
def test_dist_matches_torch(p):
    x0, y0 = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]]), np.array([0.5, 2.0, -1.0])
    res = []
    for lib in (ember, torch):
        x, y = lib.tensor(x0, requires_grad=True), lib.tensor(y0, requires_grad=True)
        d = lib.dist(x, y, p) if p != 3 else x.dist(y, p)
        if p == 0:  # (torch's backward of the 0-"norm" returns no tensor; ember's gradient is zero)
            res.append((d.item(), np.zeros(2), np.zeros(2), type(d.grad_fn).__name__))
            continue
        gx, gy = lib.autograd.grad(d, (x, y))
        res.append((d.item(), gx.numpy(), gy.numpy(), type(d.grad_fn).__name__))
    assert res[0][0] == pytest.approx(res[1][0], rel=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-12, atol=1e-15)
    assert res[0][3] == res[1][3]


def test_vector_norm_p_below_one_at_zero_entries():
    # d|x|_p/dx is 0 at zero entries (torch), not 0 * inf
    for lib in (ember, torch):
        x = lib.tensor([0.0, 2.0, -1.0], requires_grad=True)
        lib.linalg.vector_norm(x, 0.5).backward()
        assert np.isfinite(x.grad.numpy()).all() and x.grad[0].item() == 0.0


def test_dist_second_order_matches_torch():
    x0, y0 = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]]), np.array([0.5, 2.0, -1.0])
    res = []
    for lib in (ember, torch):
        x, y = lib.tensor(x0, requires_grad=True), lib.tensor(y0, requires_grad=True)
        gx, gy = lib.autograd.grad(lib.dist(x, y) ** 3, (x, y), create_graph=True)
        res.append([t.numpy() for t in lib.autograd.grad((gx * gx).sum() + (gy * gy).sum(), (x, y))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

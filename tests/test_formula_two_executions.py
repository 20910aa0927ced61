"""The hottest derivatives run one formula two ways (ops/_grad_math.py): on the saved arrays in a
plain backward, on Tensors under create_graph=True. Both executions against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(5)

BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
}
UNARY = {
    "exp": lambda a: a.exp(), "log": lambda a: a.log(), "sqrt": lambda a: a.sqrt(), "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(), "relu": lambda a: a.relu(), "square": lambda a: a ** 2,
    "cube": lambda a: a ** 3, "pow2.5": lambda a: a ** 2.5, "pow0": lambda a: a ** 0, "powneg": lambda a: a ** -1.5,
    "scalar_mul": lambda a: a * 3, "scalar_div": lambda a: a / 0.7, "scalar_sub": lambda a: a - 2.0,
}


def _grads(lib, fn, arrays, needs, create_graph=False):
    ts = [lib.tensor(a, requires_grad=r) for a, r in zip(arrays, needs)]
    out = fn(*ts)
    w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(arrays[0].dtype))
    wrt = [t for t in ts if t.requires_grad]
    gs = lib.autograd.grad((out * w).sum(), wrt, create_graph=create_graph)
    return [g.detach().numpy() for g in gs]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("needs", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, needs, dtype):
    arrays = (R.uniform(0.5, 2, (3, 4)).astype(dtype), R.uniform(0.5, 2, (3, 4)).astype(dtype))
    e = _grads(ember, BINARY[name], arrays, needs)
    t = _grads(torch, BINARY[name], arrays, needs)
    e2 = _grads(ember, BINARY[name], arrays, needs, create_graph=True)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b, c in zip(e, t, e2):
        assert a.dtype == b.dtype == c.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5,), ()])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape, dtype):
    arrays = (R.uniform(-2, 2, shape).astype(dtype),)
    if name in ("log", "sqrt", "pow2.5", "powneg"):
        arrays = (np.abs(arrays[0]) + 0.1,)
    e = _grads(ember, UNARY[name], arrays, (True,))
    t = _grads(torch, UNARY[name], arrays, (True,))
    e2 = _grads(ember, UNARY[name], arrays, (True,), create_graph=True)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert e[0].shape == t[0].shape and e[0].dtype == t[0].dtype
    np.testing.assert_allclose(e[0], t[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(e[0], e2[0], rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["exp", "sqrt", "tanh", "sigmoid", "relu"])
def test_saved_result_modified_in_place_is_an_error(name):
    for lib in (ember, torch):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = UNARY[name](x)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_freed_graph_is_an_error_on_the_fast_path():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    y = (x * x).exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 4])
def test_relu_special_values_bit_exact(dtype, n):
    # -0.0 stays -0.0 and NaN stays NaN; short and long rows take different NumPy paths
    v = np.array([np.nan, -0.0, 0.0, -1.0, 2.0, np.inf, -np.inf, 1e-45, -1e-45] * n, dtype)
    assert ember.relu(ember.tensor(v)).numpy().tobytes() == torch.relu(torch.tensor(v)).numpy().tobytes()


MATRIX = {
    "mm": (lambda L, a, b, c: a @ b + c, ((3, 4), (4, 5), (5,))),
    "linear": (lambda L, a, b, c: L.nn.functional.linear(a, b, c), ((3, 4), (5, 4), (5,))),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
@pytest.mark.parametrize("name", list(MATRIX))
def test_matrix_products(name, needs, dtype):
    fn, shapes = MATRIX[name]
    arrays = tuple(R.standard_normal(s).astype(dtype) for s in shapes)
    e = _grads(ember, lambda a, b, c: fn(ember, a, b, c), arrays, needs)
    t = _grads(torch, lambda a, b, c: fn(torch, a, b, c), arrays, needs)
    e2 = _grads(ember, lambda a, b, c: fn(ember, a, b, c), arrays, needs, create_graph=True)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b, c in zip(e, t, e2):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2, 9])
def test_cross_entropy_common_case(dtype, reduction, ignore_index):
    # index 2 occurs among the targets (general path), 9 does not (fast path)
    z0 = R.standard_normal((7, 10)).astype(dtype)
    y0 = np.array([0, 2, 5, 9 if ignore_index != 9 else 1, 3, 2, 7])
    res = []
    for lib in (ember, torch):
        z = lib.tensor(z0, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(z, lib.tensor(y0), reduction=reduction, ignore_index=ignore_index)
        w = lib.tensor(np.cos(np.arange(loss.numel())).reshape(tuple(loss.shape)).astype(dtype))
        (loss * w).sum().backward()
        res.append((loss.detach().numpy(), z.grad.numpy(), type(loss.grad_fn).__name__))
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol, atol=tol)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=tol)
    assert res[0][2] == res[1][2]


def test_nll_out_of_range_target_still_raises():
    for lib in (ember, torch):
        with pytest.raises(IndexError, match="Target 10 is out of bounds"):
            lib.nn.functional.cross_entropy(lib.zeros(2, 10), lib.tensor([1, 10]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("e", [2, 3, -1, -2, 3.0])
def test_pow_special_exponents_bit_exact(dtype, e):
    # torch computes these as products / reciprocals (x**3 is (x*x)*x), not with pow(); so does ember
    x = (np.abs(R.standard_normal(5000)) + 0.1).astype(dtype)
    assert (ember.tensor(x) ** e).numpy().tobytes() == (torch.tensor(x) ** e).numpy().tobytes()


REDUCE = {
    "mean": lambda x: x.mean(), "mean1": lambda x: x.mean(1), "mean_keep": lambda x: x.mean(-1, keepdim=True),
    "mean02": lambda x: x.mean((0, 2)), "abs": lambda x: x.abs(),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(REDUCE))
def test_mean_and_abs(name, dtype):
    arrays = (R.standard_normal((3, 4, 5)).astype(dtype),)
    e = _grads(ember, REDUCE[name], arrays, (True,))
    t = _grads(torch, REDUCE[name], arrays, (True,))
    e2 = _grads(ember, REDUCE[name], arrays, (True,), create_graph=True)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert e[0].shape == t[0].shape and e[0].dtype == t[0].dtype
    np.testing.assert_allclose(e[0], t[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(e[0], e2[0], rtol=tol, atol=tol)

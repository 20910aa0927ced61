"""nn.RMSNorm and F.rms_norm against torch: values (float64, float32, float16), the grad_fn chain,
first and second derivatives, printing, state_dict and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

X = np.random.default_rng(0).standard_normal((2, 3, 4))
W = np.random.default_rng(1).standard_normal((3, 4))


def _chain(node, depth=0):
    if node is None:
        return []
    out = [(depth, type(node).__name__)]
    for nxt, _ in node.next_functions:
        out += _chain(nxt, depth + 1)
    return out


@pytest.mark.parametrize("shape,weight,eps", [((4,), False, None), ((3, 4), True, None), ((4,), False, 1e-3),
                                              ([4], False, 0.5)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_rms_norm_values_and_graph(shape, weight, eps, dtype):
    outs = []
    for L in (torch, ember):
        x = L.tensor(X, dtype=getattr(L, dtype), requires_grad=dtype != "float16")
        w = L.tensor(W if weight else None, dtype=getattr(L, dtype)) if weight else None
        y = L.nn.functional.rms_norm(x, shape, w, eps)
        outs.append((y, x))
    (ty, tx), (ey, ex) = outs
    assert ey.dtype.itemsize == ty.dtype.itemsize and tuple(ey.shape) == tuple(ty.shape)
    tol = {"float64": 1e-13, "float32": 1e-6, "float16": 1e-3}[dtype]
    np.testing.assert_allclose(ey.detach().float().numpy(), ty.detach().float().numpy(), rtol=tol, atol=tol)
    if dtype != "float16":
        # torch's C++ composite adds eps through add's Scalar overload (AddBackward1); ember has one add node
        assert _chain(ey.grad_fn) == [(d, n.replace("AddBackward1", "AddBackward0")) for d, n in _chain(ty.grad_fn)]
        (tg,) = torch.autograd.grad((ty * ty).sum(), tx)
        (eg,) = ember.autograd.grad((ey * ey).sum(), ex)
        np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=tol * 10, atol=tol * 10)


def test_rms_norm_second_order_gradcheck():
    x = ember.tensor(X, dtype=ember.float64, requires_grad=True)
    w = ember.tensor(W[0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: ember.nn.functional.rms_norm(a, (4,), b), (x, w))
    assert ember.autograd.gradgradcheck(lambda a, b: ember.nn.functional.rms_norm(a, (4,), b), (x, w))


def test_rms_norm_module_matches_torch():
    for args, kwargs in [((4,), {}), (([3, 4],), {"eps": 1e-6, "elementwise_affine": False})]:
        tm, em = torch.nn.RMSNorm(*args, **kwargs), ember.nn.RMSNorm(*args, **kwargs)
        assert repr(em) == repr(tm)
        assert list(em.state_dict()) == list(tm.state_dict())
        x = X.astype(np.float32)
        np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-6)
    assert str(ember.nn.RMSNorm(4)(ember.ones(2, 4)).grad_fn.name()) == "MulBackward0"
    np.testing.assert_allclose(ember.rms_norm(ember.tensor(X), [4]).numpy(), torch.rms_norm(torch.tensor(X), [4]).numpy())


@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.rms_norm(L.ones(2, 3), (4,)),
    lambda L: L.nn.functional.rms_norm(L.ones(3), (2, 3)),
    lambda L: L.nn.functional.rms_norm(L.ones(2, 3), (3,), L.ones(2)),
    lambda L: L.nn.functional.rms_norm(L.ones(2, 3), 3),
])
def test_rms_norm_errors_match_torch(call):
    with pytest.raises((RuntimeError, TypeError, ValueError)) as want:
        call(torch)
    with pytest.raises((RuntimeError, TypeError, ValueError)) as got:
        call(ember)
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value)

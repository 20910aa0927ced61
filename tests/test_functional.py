"""ember.autograd.functional against torch.autograd.functional."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.autograd.functional as TF

import ember
import ember.autograd.functional as EF

X = np.random.default_rng(0).uniform(-1, 1, (3,))
Y = np.random.default_rng(1).uniform(-1, 1, (2, 3))


def _pair():
    return ember.tensor(X), torch.tensor(X)


def _close(a, b) -> None:
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
        return
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert tuple(a.shape) == tuple(b.shape)


def f(lib, x):
    return (x.sin() * x.exp()).sum() + (x ** 3).sum()


def g(lib, x, y):
    return (y @ x).tanh(), x * 2


def test_jacobian_and_hessian() -> None:
    e, t = _pair()
    _close(EF.jacobian(lambda x: x.sin() * x[0], e), TF.jacobian(lambda x: x.sin() * x[0], t))
    ey, ty = ember.tensor(Y), torch.tensor(Y)
    _close(EF.jacobian(lambda x, y: g(ember, x, y), (e, ey)), TF.jacobian(lambda x, y: g(torch, x, y), (t, ty)))
    _close(EF.hessian(lambda x: f(ember, x), e), TF.hessian(lambda x: f(torch, x), t))
    _close(EF.hessian(lambda x, y: (y @ x).pow(2).sum(), (e, ey)), TF.hessian(lambda x, y: (y @ x).pow(2).sum(), (t, ty)))


def test_vjp_jvp_hvp_vhp() -> None:
    e, t = _pair()
    v = np.random.default_rng(3).standard_normal(3)
    ev, tv = ember.tensor(v), torch.tensor(v)
    _close(EF.vjp(lambda x: x.sin() * x, e, ev), TF.vjp(lambda x: x.sin() * x, t, tv))
    _close(EF.jvp(lambda x: x.sin() * x, e, ev), TF.jvp(lambda x: x.sin() * x, t, tv))
    _close(EF.hvp(lambda x: f(ember, x), e, ev), TF.hvp(lambda x: f(torch, x), t, tv))
    _close(EF.vhp(lambda x: f(ember, x), e, ev), TF.vhp(lambda x: f(torch, x), t, tv))
    _close(EF.vjp(lambda x: f(ember, x), e), TF.vjp(lambda x: f(torch, x), t))


def test_create_graph_and_strict() -> None:
    e = ember.tensor(X, requires_grad=True)
    _, jv = EF.jvp(lambda x: x.pow(3), e, ember.ones(3, dtype=ember.float64), create_graph=True)
    (gx,) = ember.autograd.grad(jv.sum(), e)
    np.testing.assert_allclose(gx.numpy(), 6 * X)
    try:
        EF.jacobian(lambda x, y: x * 2, (ember.tensor(X), ember.tensor(X)), strict=True)
    except RuntimeError as err:
        assert "independent of input 1" in str(err)
    else:
        raise AssertionError("strict mode did not raise")


def test_testing_assert_matches_torch() -> None:
    ember.testing.assert_matches_torch(lambda lib, x, y: (x.exp() * y).sum(1), Y, X, second_order=True)
    try:
        ember.testing.assert_matches_torch(lambda lib, x: x.exp() if lib is ember else x.exp() + 1e-3, X)
    except AssertionError as err:
        assert "output 0" in str(err)
    else:
        raise AssertionError("a mismatch was not reported")


def test_testing_assert_matches_torch_catches_a_missing_second_derivative() -> None:
    # same values and first gradient (2x), but ember's first gradient is built from detached x: its
    # second derivative is 0 where d2(x*x)/dx2 = 2
    def f(lib: Any, x: Any) -> Any:
        return x * x if lib is torch else x * x.detach() * 2 - x.detach() ** 2

    try:
        ember.testing.assert_matches_torch(f, np.array([1.0, 2.0, 3.0]), second_order=True, check_grad_fn=False)
    except AssertionError as err:
        assert "second grad of input 0" in str(err)
    else:
        raise AssertionError("a zero second derivative passed against torch's 2")

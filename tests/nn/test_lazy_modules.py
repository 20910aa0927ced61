"""Lazy modules (nn.LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*)
against torch: printing before and after the first call, the class they become, parameters drawn
from the same random stream at that call, optimizers built before it, load_state_dict, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

CASES = [
    ("LazyLinear", (4,), (3, 5)),
    ("LazyLinear", (2, False), (2, 3, 6)),
    ("LazyConv1d", (4, 3), (2, 3, 8)),
    ("LazyConv2d", (4, 3), (1, 2, 5, 5)),
    ("LazyConv2d", (4, 3, 2, 1, 1, 2), (1, 2, 6, 6)),
    ("LazyConv3d", (2, 2), (1, 3, 3, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3, 1, 0, 0, 2), (1, 2, 3, 3)),
    ("LazyConvTranspose3d", (2, 2), (1, 2, 2, 2, 2)),
    ("LazyBatchNorm1d", (), (3, 4)),
    ("LazyBatchNorm2d", (1e-3, None), (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), (2, 3, 5)),
    ("LazyInstanceNorm2d", (1e-5, 0.1, False, False), (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), (2, 3, 2, 2, 2)),
]


def _run(L, name, args, shape):
    L.manual_seed(0)
    m = getattr(L.nn, name)(*args)
    before = repr(m)
    params_before = [type(p).__name__ for p in m.parameters()]
    opt = L.optim.SGD(m.parameters(), lr=0.1) if params_before else None
    x = L.tensor(np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape), requires_grad=True)
    y = m(x)
    y.pow(2).sum().backward()
    if opt is not None:
        opt.step()
    return m, before, params_before, y, x.grad


@pytest.mark.parametrize("name,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_lazy_module_matches_torch(name, args, shape):
    tm, tb, tp, ty, tg = _run(torch, name, args, shape)
    em, eb, ep, ey, eg = _run(ember, name, args, shape)
    assert eb == tb
    assert ep == tp
    assert type(em).__name__ == type(tm).__name__
    assert repr(em) == repr(tm)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    # (float32 normalisation gradients cancel: torch and ember differ in the last bits there)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-4, atol=1e-5)
    ts, es = tm.state_dict(), em.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        np.testing.assert_allclose(es[k].numpy(), ts[k].numpy(), rtol=1e-5, atol=1e-6)


def test_uninitialized_parameter_behaviour():
    for L in (torch, ember):
        m = L.nn.LazyLinear(3)
        assert repr(m.weight) == "<UninitializedParameter>"
        assert isinstance(m.weight, L.nn.Parameter) and isinstance(m.weight, L.nn.UninitializedParameter)
        assert m.has_uninitialized_params()
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
            _ = m.weight.shape
        assert repr(L.nn.LazyBatchNorm1d().running_mean) == "<UninitializedBuffer>"
        w = m.weight
        m(L.ones(2, 5))
        assert m.weight is w and type(w) is L.nn.Parameter and tuple(w.shape) == (3, 5)
        assert not hasattr(m, "has_uninitialized_params") or not m.has_uninitialized_params()


def test_load_state_dict_materialises():
    for L in (torch, ember):
        src = L.nn.Linear(5, 3)
        m = L.nn.LazyLinear(3)
        m.load_state_dict(src.state_dict())
        assert type(m).__name__ == "LazyLinear" and repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
        assert tuple(m.weight.shape) == (3, 5)
        np.testing.assert_array_equal(m.weight.detach().numpy(), src.weight.detach().numpy())
        y = m(L.ones(1, 5))
        assert type(m).__name__ == "Linear"
        np.testing.assert_allclose(y.detach().numpy(), src(L.ones(1, 5)).detach().numpy())


def test_lazy_conv_groups_error_matches_torch():
    for L in (torch, ember):
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            L.nn.LazyConv2d(4, 3, groups=2)(L.ones(1, 3, 5, 5))

"""storage_offset and the as_strided family against torch: offsets, views into storage, bounds and errors,
overlapping outputs and inputs in the derivative."""

import pytest
import torch

import ember


def _run(lib, fn):
    try:
        out = fn(lib)
    except Exception as e:  # noqa: BLE001 (the exception is what is compared)
        return type(e).__name__, str(e)
    return "ok", repr(out).replace("torch.", "ember.")


CASES = {
    "offsets": lambda L: [v.storage_offset() for v in (L.arange(12.).reshape(3, 4)[1], L.arange(12.).reshape(3, 4)[:, 1],
                                                      L.arange(12.).reshape(3, 4)[1:, 2:], L.ones(3).expand(2, 3))],
    "window": lambda L: L.arange(16.).reshape(4, 4).as_strided((3, 3, 2, 2), (4, 1, 4, 1)).sum((-1, -2)),
    "view_meta": lambda L: (lambda y: (y, y.storage_offset(), y.stride(), y.is_contiguous()))(
        L.arange(12.).reshape(3, 4).as_strided((2, 2), (1, 4), 1)),
    "default_offset": lambda L: L.arange(6.)[1:].as_strided((2,), (2,)),
    "function": lambda L: L.as_strided(L.arange(12.), (3,), (5,)),
    "out_of_bounds": lambda L: L.arange(12.).as_strided((10,), (2,)),
    "offset_out_of_bounds": lambda L: L.arange(12.).as_strided((2,), (1,), 11),
    "length_mismatch": lambda L: L.arange(12.).as_strided((2,), (1, 1)),
    "negative_stride": lambda L: L.arange(12.).as_strided((2,), (-1,)),
    "writes_through": lambda L: (lambda z: (z.as_strided((2,), (2,)).add_(1), z)[1])(L.zeros(4)),
    "copy": lambda L: L.as_strided_copy(L.arange(6.), (2, 2), (1, 2)),
    "scatter": lambda L: L.as_strided_scatter(L.zeros(4), L.ones(2), (2,), (2,)),
    "in_place": lambda L: (lambda m: (m.as_strided_((2,), (2,), 1), m.storage_offset())[1])(L.zeros(5)),
    "overlapping_grad": lambda L: (lambda a: (a.as_strided((2, 3), (1, 1)).sum().backward(), a.grad)[1])(
        L.arange(6., requires_grad=True)),
    "grad_fn": lambda L: type(L.arange(6., requires_grad=True).as_strided((2,), (1,)).grad_fn).__name__,
}


@pytest.mark.parametrize("name", CASES)
def test_as_strided_matches_torch(name):
    assert _run(ember, CASES[name]) == _run(torch, CASES[name])


@pytest.mark.parametrize("make", [lambda L, x: x.t().as_strided((3, 2), (2, 1)),
                                  lambda L, x: x.reshape(-1)[2:].as_strided((2, 2), (1, 1)),
                                  lambda L, x: x.expand(3, 2, 3).as_strided((4,), (0,))])
def test_derivatives_match_torch_and_finite_differences(make):
    x = torch.randn(2, 3, dtype=torch.float64)
    w = torch.randn(make(torch, x).shape, dtype=torch.float64)
    tx = x.clone().requires_grad_()
    ex = ember.tensor(x.numpy(), requires_grad=True)
    (tg,) = torch.autograd.grad((make(torch, tx) * w).sum(), tx)
    (eg,) = ember.autograd.grad((make(ember, ex) * ember.tensor(w.numpy())).sum(), ex)
    assert eg.numpy() == pytest.approx(tg.numpy(), abs=1e-12)
    assert ember.autograd.gradcheck(lambda t: make(ember, t), (ex,))
    assert ember.autograd.gradgradcheck(lambda t: make(ember, t), (ex,))

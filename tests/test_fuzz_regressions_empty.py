"""Checks torch skips on empty tensors, which ember skips too (fuzz, issue 12): roll's and
cummax/cummin's dim check, the bound check of indices that select nothing, and the dtype check of
a batched matmul with nothing to multiply. Expected results come from torch."""

import pytest
import torch

import ember


def _both(f):
    """f(torch) and f(ember), or the exception each raises."""
    out = []
    for L in (torch, ember):
        try:
            out.append(f(L))
        except Exception as e:  # noqa: BLE001 - compared below
            out.append(e)
    return out


def _same(f):
    t, e = _both(f)
    if isinstance(t, Exception):
        assert type(e) is type(t), (e, t)
        return
    assert not isinstance(e, Exception), e
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert e.requires_grad == t.requires_grad
    assert e.detach().numpy().tolist() == t.detach().numpy().tolist()


@pytest.mark.parametrize("f", [
    lambda L: L.empty(0, 1).roll(1, 4),  # fuzz seed 1209
    lambda L: L.empty(0, 1, requires_grad=True).roll((1, 2), (4, -7)),
    lambda L: L.empty(0).roll(1, 4),
    lambda L: L.empty(0, 1).roll((1, 2), (4,)),  # (shifts and dims must still align)
    lambda L: L.ones(2, 1).roll(1, 4),  # (a non-empty tensor is checked)
])
def test_roll_of_empty_skips_the_dim_check(f):
    _same(f)


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("shape, dim", [((0,), 1), ((2, 0), 5), ((0, 3), -9), ((2,), 3)])
def test_cummax_cummin_of_empty_skip_the_dim_check(op, shape, dim):  # fuzz seed 8547
    _same(lambda L: getattr(L.empty(shape, requires_grad=True), op)(dim).values)
    _same(lambda L: getattr(L.empty(shape), op)(dim).indices)


def test_cummin_of_empty_differentiates():
    x = ember.empty(2, 0, requires_grad=True)
    x.cummin(5).values.sum().backward()
    assert tuple(x.grad.shape) == (2, 0)


@pytest.mark.parametrize("shape, key", [
    ((1, 1, 1, 1), (slice(None, -1), None, [-5, -1])),  # fuzz seed 6787
    ((1, 1, 1, 1), (slice(1, None), Ellipsis, [1, -1])),  # fuzz seed 39374
    ((1, 1, 1, 0), (None, [1, -1, 1])),  # fuzz seed 53768
    ((3, 3), (slice(0, 0), [7])),
    ((3, 0), (slice(None), [7])),  # (the indexed dim itself is empty: torch checks)
    ((0,), ([0],)),
    ((3, 1), (slice(None, -1), None, [-5])),  # (not empty: checked)
])
def test_indices_selecting_nothing_are_not_bound_checked(shape, key):
    _same(lambda L: L.ones(shape)[key])


def test_empty_selection_differentiates():
    x = ember.ones(3, 3, requires_grad=True)
    x[:0, [5]].sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 3


@pytest.mark.parametrize("value", [1e-3, "tensor"])
def test_assignment_to_an_empty_selection_writes_nothing(value):  # fuzz seed 94332
    def f(L):
        x = L.ones(1, 1, 1, 1) > 3
        x[None, 1:, [2]] = L.tensor(True) if value == "tensor" else value
        y = L.ones(2, 2, requires_grad=True) * 1
        y[:0, [7]] = L.ones(1) * 2
        return L.cat([x.reshape(-1).float(), y.reshape(-1)])

    _same(f)


@pytest.mark.parametrize("sa, da, sb, db", [
    ((0, 1, 1, 1), "float64", (0, 1, 1, 1), "float32"),  # fuzz seed 5383
    ((1, 1, 0), "float64", (1, 0, 0), "float32"),  # fuzz seed 94091
    ((1, 1, 0), "float64", (1, 0, 2), "float32"),  # (an empty contraction: zeros)
    ((1, 1, 0), "float32", (1, 0, 2), "int64"),
    ((1, 1, 0), "float64", (1, 0, 2), "bool"),
    ((0, 2, 3), "int64", (0, 3, 2), "float32"),
    ((1, 1, 1), "float64", (1, 1, 2), "float32"),  # (something to multiply: checked)
    ((0, 2, 2), "float64", (2, 2), "float32"),  # (folded into one mm: checked)
    ((0, 2, 3), "float64", (0, 2, 4), "float32"),  # (wrong inner size: raises)
])
def test_batched_matmul_with_nothing_to_multiply_skips_the_dtype_check(sa, da, sb, db):
    _same(lambda L: L.zeros(sa, dtype=getattr(L, da)) @ L.zeros(sb, dtype=getattr(L, db)))


def test_batched_matmul_with_nothing_to_multiply_differentiates():
    grads = []
    for L in (torch, ember):
        a = L.empty(1, 1, 0, dtype=L.float64, requires_grad=True)
        b = L.ones(1, 0, 2, requires_grad=True)
        r = a @ b
        r.sum().backward()
        grads.append((tuple(r.shape), str(r.dtype).split(".")[-1], str(a.grad.dtype).split(".")[-1], tuple(b.grad.shape)))
    assert grads[0] == grads[1]

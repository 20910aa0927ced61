"""``out=`` on ember's ops behaves as torch's: the result written into ``out`` (resized, with torch's
warning when it held elements), torch's dtype rules and errors per op, ``out`` returned, and no
autograd through out= calls. Every case runs in both libraries and is compared."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

A = [[0.6, 0.6, -1.7], [2.5, 0.2, 0.3]]
B = [[1.0, 2, 3, 4], [0.5, 0, 1, 2], [3, 1, 1, 0.25]]


# each case: (L, a, b, ar) -> result, where ar is A with requires_grad; dtype names resolved per library
CASES = {
    # autograd: an argument (out included) that requires grad is refused while grad mode is on
    "matmul needs grad": lambda L, a, b, ar: L.matmul(ar, b, out=L.empty(2, 4)),
    "add needs grad": lambda L, a, b, ar: L.add(ar, 1, out=L.empty(2, 3)),
    "exp needs grad": lambda L, a, b, ar: L.exp(ar, out=L.empty(2, 3)),
    "sum needs grad": lambda L, a, b, ar: L.sum(ar, 0, out=L.empty(3)),
    "cat needs grad": lambda L, a, b, ar: L.cat([ar, a], out=L.empty(4, 3)),
    "max needs grad": lambda L, a, b, ar: L.max(ar, 1, out=(L.empty(2), L.empty(2, dtype=L.int64))),
    "clamp needs grad": lambda L, a, b, ar: L.clamp(ar, 0, 1, out=L.empty(2, 3)),
    "where needs grad": lambda L, a, b, ar: L.where(a > 0, ar, a, out=L.empty(2, 3)),
    "pow needs grad": lambda L, a, b, ar: L.pow(ar, 2, out=L.empty(2, 3)),
    "out needs grad": lambda L, a, b, ar: L.exp(a, out=L.empty(2, 3, requires_grad=True)),
    # shapes: resized, warning only when out held elements
    "matmul resized": lambda L, a, b, ar: L.matmul(a, b, out=L.empty(5)),
    "matmul empty out": lambda L, a, b, ar: L.matmul(a, b, out=L.empty(0)),
    "matmul vector.vector": lambda L, a, b, ar: L.matmul(L.ones(3), L.ones(3), out=L.empty(5)),
    "matmul matrix.vector": lambda L, a, b, ar: L.matmul(L.ones(2, 3), L.ones(3), out=L.empty(2)),
    "matmul batched": lambda L, a, b, ar: L.matmul(L.ones(4, 2, 3), L.ones(3, 5), out=L.empty(0)),
    "mm": lambda L, a, b, ar: L.mm(a, b, out=L.empty(2, 4)),
    "bmm": lambda L, a, b, ar: L.bmm(a[None], b[None], out=L.empty(0)),
    "sum resized": lambda L, a, b, ar: L.sum(a, 0, out=L.empty(3, 4)),
    "sum keepdim": lambda L, a, b, ar: L.sum(a, 1, keepdim=True, out=L.empty(0)),
    "sum all dims": lambda L, a, b, ar: L.sum(a, (0, 1), out=L.empty(0)),
    "cat resized": lambda L, a, b, ar: L.cat([a, a], 1, out=L.empty(1)),
    "stack resized": lambda L, a, b, ar: L.stack([a, a], out=L.empty(1)),
    "max dim": lambda L, a, b, ar: L.max(a, 1, out=(L.empty(2), L.empty(2, dtype=L.int64))),
    "max dim, list out": lambda L, a, b, ar: L.max(a, 1, out=[L.empty(0), L.empty(0, dtype=L.int64)]),
    "max keepdim": lambda L, a, b, ar: L.max(a, 0, keepdim=True, out=(L.empty(0), L.empty(0, dtype=L.int64))),
    "min dim": lambda L, a, b, ar: L.min(a, 1, out=(L.empty(0), L.empty(0, dtype=L.int64))),
    "max all": lambda L, a, b, ar: L.max(a, out=L.empty(0, dtype=L.float64)),
    "max elementwise": lambda L, a, b, ar: L.max(a, a * 0, out=L.empty(0)),
    "clamp": lambda L, a, b, ar: L.clamp(a, 0, 1, out=L.empty(2, 3)),
    "clamp min only": lambda L, a, b, ar: L.clamp(a, min=0.0, out=L.empty(0)),
    "clamp tensor bounds": lambda L, a, b, ar: L.clamp(a, L.zeros(3), L.ones(3), out=L.empty(2, 3)),
    "where": lambda L, a, b, ar: L.where(a > 0, a, L.zeros(()), out=L.empty(2, 3)),
    "pow": lambda L, a, b, ar: L.pow(a, 2, out=L.empty(2, 3)),
    "pow tensor exponent": lambda L, a, b, ar: L.pow(a, a, out=L.empty(0)),
    "sqrt": lambda L, a, b, ar: L.sqrt(a.abs(), out=L.empty(7)),
    # dtypes: each family's rule and wording
    "matmul double out": lambda L, a, b, ar: L.matmul(a, b, out=L.empty(2, 4, dtype=L.float64)),
    "mm long out": lambda L, a, b, ar: L.mm(a, b, out=L.empty(2, 4, dtype=L.int64)),
    "mm half out": lambda L, a, b, ar: L.mm(a, b, out=L.empty(2, 4, dtype=L.float16)),
    "bmm double out": lambda L, a, b, ar: L.bmm(a[None], b[None], out=L.empty(1, 2, 4, dtype=L.float64)),
    "exp double out": lambda L, a, b, ar: L.exp(a, out=L.empty(2, 3, dtype=L.float64)),
    "exp long out": lambda L, a, b, ar: L.exp(a, out=L.empty(2, 3, dtype=L.int64)),
    "add long out": lambda L, a, b, ar: L.add(a, a, out=L.empty(2, 3, dtype=L.int64)),
    "add bool out": lambda L, a, b, ar: L.add(a, 1, out=L.empty(2, 3, dtype=L.bool)),
    "add int input, float out": lambda L, a, b, ar: L.add(L.tensor([1, 2]), 1, out=L.empty(2)),
    "sum double out": lambda L, a, b, ar: L.sum(a, 0, out=L.empty(3, dtype=L.float64)),
    "sum long out sums in long": lambda L, a, b, ar: L.sum(a, 1, out=L.empty(2, dtype=L.int64)),
    "sum bool out": lambda L, a, b, ar: L.sum(a, 1, out=L.empty(2, dtype=L.bool)),
    "sum dtype != out": lambda L, a, b, ar: L.sum(a, 1, dtype=L.float64, out=L.empty(2)),
    "sum dtype == out": lambda L, a, b, ar: L.sum(a, 1, dtype=L.float64, out=L.empty(2, dtype=L.float64)),
    "sum long input, float out": lambda L, a, b, ar: L.sum(L.tensor([1, 2]), 0, out=L.empty(())),
    "mean double out averages in double": lambda L, a, b, ar: L.mean(L.tensor([0.1, 0.2, 0.3]), 0, out=L.empty((), dtype=L.float64)),
    "mean half out": lambda L, a, b, ar: L.mean(a, 1, out=L.empty(2, dtype=L.float16)),
    "mean long out": lambda L, a, b, ar: L.mean(a, 0, out=L.empty(3, dtype=L.int64)),
    "mean long input": lambda L, a, b, ar: L.mean(L.tensor([1, 2]), 0, out=L.empty(())),
    "mean dtype != out": lambda L, a, b, ar: L.mean(a, 1, dtype=L.float64, out=L.empty(2)),
    "cat double out": lambda L, a, b, ar: L.cat([a, a], out=L.empty(4, 3, dtype=L.float64)),
    "cat long out": lambda L, a, b, ar: L.cat([a, a], out=L.empty(4, 3, dtype=L.int64)),
    "cat long input, float out": lambda L, a, b, ar: L.cat([L.tensor([1, 2])], out=L.empty(2)),
    "stack long out": lambda L, a, b, ar: L.stack([a, a], out=L.empty(2, 2, 3, dtype=L.int64)),
    "stack double out": lambda L, a, b, ar: L.stack([a, a], 1, out=L.empty(2, 2, 3, dtype=L.float64)),
    "max float indices": lambda L, a, b, ar: L.max(a, 1, out=(L.empty(2), L.empty(2))),
    "max double values": lambda L, a, b, ar: L.max(a, 1, out=(L.empty(2, dtype=L.float64), L.empty(2, dtype=L.int64))),
    "clamp double out": lambda L, a, b, ar: L.clamp(a, 0, 1, out=L.empty(2, 3, dtype=L.float64)),
    "clamp int out": lambda L, a, b, ar: L.clamp(a, 0, 1, out=L.empty(2, 3, dtype=L.int32)),
    "where double out": lambda L, a, b, ar: L.where(a > 0, a, L.zeros(()), out=L.empty(2, 3, dtype=L.float64)),
    "where long out": lambda L, a, b, ar: L.where(a > 0, a, a, out=L.empty(2, 3, dtype=L.int64)),
    "where long values, float out": lambda L, a, b, ar: L.where(a > 0, L.tensor(1), L.tensor(0), out=L.empty(2, 3)),
    "pow long out": lambda L, a, b, ar: L.pow(a, 2, out=L.empty(2, 3, dtype=L.int64)),
    "pow double out": lambda L, a, b, ar: L.pow(a, 2, out=L.empty(2, 3, dtype=L.float64)),
}

# the wider surface: each op family with an out of the result's dtype, a double, a long and a bool
MORE = {
    "abs": lambda L, a, out: L.abs(a, out=out),
    "neg": lambda L, a, out: L.neg(a, out=out),
    "sign": lambda L, a, out: L.sign(a, out=out),
    "square": lambda L, a, out: L.square(a, out=out),
    "maximum": lambda L, a, out: L.maximum(a, a.flip(0), out=out),
    "minimum": lambda L, a, out: L.minimum(a, a.flip(0), out=out),
    "eq": lambda L, a, out: L.eq(a, a.flip(0), out=out),
    "gt": lambda L, a, out: L.gt(a, 0, out=out),
    "logical_and": lambda L, a, out: L.logical_and(a, a > 0.5, out=out),
    "logical_not": lambda L, a, out: L.logical_not(a, out=out),
    "mv": lambda L, a, out: L.mv(a, L.ones(3), out=out),
    "dot": lambda L, a, out: L.dot(a[0], a[1], out=out),
    "outer": lambda L, a, out: L.outer(a[0], a[1], out=out),
    "addmm": lambda L, a, out: L.addmm(L.ones(2, 2), a, a.t(), beta=0.5, alpha=2, out=out),
    "hstack": lambda L, a, out: L.hstack([a, a], out=out),
    "vstack": lambda L, a, out: L.vstack([a, a[0]], out=out),
}
for _name, _fn in MORE.items():
    for _dt in ("float32", "float64", "int64", "bool"):
        CASES[f"{_name} {_dt} out"] = (lambda fn, dt: lambda L, a, b, ar: fn(L, a, L.empty(0, dtype=getattr(L, dt))))(_fn, _dt)
    CASES[f"{_name} needs grad"] = (lambda fn: lambda L, a, b, ar: fn(L, ar, L.empty(5)))(_fn)   # comparisons allow it

# factories: made in out's dtype (a dtype given must match it), resized silently, requires_grad marks out
FACTORIES = {
    "zeros": lambda L, out, **kw: L.zeros(3, out=out, **kw),
    "ones": lambda L, out, **kw: L.ones((2, 2), out=out, **kw),
    "full": lambda L, out, **kw: L.full((2,), 1.5, out=out, **kw),
    "arange": lambda L, out, **kw: L.arange(1, 7, 2, out=out, **kw),
    "linspace": lambda L, out, **kw: L.linspace(0, 1, 5, out=out, **kw),
    "eye": lambda L, out, **kw: L.eye(2, 3, out=out, **kw),
}
for _name, _fn in FACTORIES.items():
    for _dt in ("float32", "float64", "int64"):
        CASES[f"{_name} into {_dt} out"] = (lambda fn, dt: lambda L, a, b, ar: fn(L, L.empty(5, dtype=getattr(L, dt))))(_fn, _dt)
    CASES[f"{_name} dtype != out"] = (lambda fn: lambda L, a, b, ar: fn(L, L.empty(0, dtype=L.float64), dtype=L.float32))(_fn)
    CASES[f"{_name} requires_grad"] = (lambda fn: lambda L, a, b, ar: fn(L, L.empty(0), requires_grad=True))(_fn)
    CASES[f"{_name} out needs grad"] = (lambda fn: lambda L, a, b, ar: fn(L, L.empty(0, requires_grad=True)))(_fn)
for _name in ("rand", "randn"):
    CASES[f"{_name} into double out"] = (lambda n: lambda L, a, b, ar: (L.manual_seed(0), getattr(L, n)(2, 3, out=L.empty(0, dtype=L.float64)))[1])(_name)
    CASES[f"{_name} float out"] = (lambda n: lambda L, a, b, ar: (L.manual_seed(1), getattr(L, n)(4, out=L.empty(9)))[1])(_name)
CASES["normal into double out"] = lambda L, a, b, ar: (L.manual_seed(5), L.normal(0.0, 2.0, (3,), out=L.empty(0, dtype=L.float64)))[1]
CASES["normal, tensor mean"] = lambda L, a, b, ar: (L.manual_seed(5), L.normal(L.zeros(3), 2.0, out=L.empty(3)))[1]
CASES["norm"] = lambda L, a, b, ar: L.norm(a, out=L.empty(0))
CASES["norm dim resized"] = lambda L, a, b, ar: L.norm(a, dim=1, out=L.empty(5))
CASES["norm double out"] = lambda L, a, b, ar: L.norm(a, out=L.empty(0, dtype=L.float64))
CASES["norm needs grad"] = lambda L, a, b, ar: L.norm(ar, dim=1, out=L.empty(2))
CASES["tensordot"] = lambda L, a, b, ar: L.tensordot(a, a, dims=([1], [1]), out=L.empty(0))
CASES["tensordot double out"] = lambda L, a, b, ar: L.tensordot(a, a, dims=([1], [1]), out=L.empty(0, dtype=L.float64))
CASES["randint"] = lambda L, a, b, ar: (L.manual_seed(2), L.randint(0, 10, (6,), out=L.empty(0, dtype=L.int64)))[1]
CASES["randint into float out"] = lambda L, a, b, ar: (L.manual_seed(2), L.randint(3, 9, (2, 3), out=L.empty(0)))[1]
CASES["randint(high, size)"] = lambda L, a, b, ar: (L.manual_seed(3), L.randint(5, (4,), out=L.empty(4, dtype=L.int32)))[1]
CASES["randperm"] = lambda L, a, b, ar: (L.manual_seed(4), L.randperm(7, out=L.empty(7, dtype=L.int64)))[1]
CASES["randperm into double out"] = lambda L, a, b, ar: (L.manual_seed(4), L.randperm(5, out=L.empty(0, dtype=L.float64)))[1]


def outcome(L, case):
    a, b = L.tensor(A), L.tensor(B)
    ar = L.tensor(A, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = case(L, a, b, ar)
        except Exception as e:  # the error is part of the behaviour compared
            result = e
    messages = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    return result, messages


def _arrays(r):
    if isinstance(r, tuple):
        return [x for t in r for x in _arrays(t)]
    return [(r.detach().numpy(), str(r.dtype).split(".")[-1], r.requires_grad, r.grad_fn is None)]


@pytest.mark.parametrize("name", list(CASES))
def test_out_matches_torch(name):
    ours, our_warnings = outcome(ember, CASES[name])
    theirs, their_warnings = outcome(torch, CASES[name])
    assert our_warnings == their_warnings
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), ours
        assert str(ours) == str(theirs).replace("torch.", "ember."), ours
        return
    assert not isinstance(ours, Exception), ours
    assert type(ours).__name__ == type(theirs).__name__              # Tensor, or return_types.max_out ...
    for (ea, ed, erg, enofn), (ta, td, trg, tnofn) in zip(_arrays(ours), _arrays(theirs), strict=True):
        assert (ed, erg, enofn) == (td, trg, tnofn) and ea.shape == ta.shape
        np.testing.assert_allclose(ea.astype(np.float64), ta.astype(np.float64), rtol=1e-6, atol=1e-6)


def test_out_is_returned_written_in_place_and_versioned():
    a, b = ember.tensor(A), ember.tensor(B)
    o = ember.empty(2, 4)
    v = o._version
    assert ember.matmul(a, b, out=o) is o and o._version == v + 1
    with pytest.warns(UserWarning, match=r"resized since it had shape \[2, 4\]"):
        assert ember.sum(a, 0, out=o) is o and o.shape == (3,)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_out_writes_through_a_view(lib):
    a, b = lib.tensor(A), lib.tensor(B)
    base = lib.zeros(4, 4)
    lib.exp(a[:, :2], out=base[1:3, :2])                              # the view's memory is the base's
    lib.mm(a, b[:, :2], out=base[:2, 2:])
    lib.sum(a, 1, out=base[3, 1:3])
    expect = np.zeros((4, 4), np.float32)
    an, bn = np.array(A, np.float32), np.array(B, np.float32)
    expect[1:3, :2] = np.exp(an[:, :2])
    expect[:2, 2:] = an @ bn[:, :2]
    expect[3, 1:3] = an.sum(1)
    np.testing.assert_allclose(base.numpy(), expect, rtol=1e-6)


def test_no_grad_allows_out_with_inputs_that_require_grad():
    ar = ember.tensor(A, requires_grad=True)
    o = ember.empty(2, 3)
    with ember.no_grad():
        r = ember.clamp(ar, 0, 1, out=o)
    assert r is o and not o.requires_grad and o.grad_fn is None
    np.testing.assert_allclose(o.numpy(), np.clip(np.array(A, np.float32), 0, 1))


def test_max_out_prints_as_torch():
    ours = ember.max(ember.tensor(A), 1, out=(ember.empty(0), ember.empty(0, dtype=ember.int64)))
    theirs = torch.max(torch.tensor(A), 1, out=(torch.empty(0), torch.empty(0, dtype=torch.int64)))
    assert repr(ours) == repr(theirs).replace("torch.", "ember.")
    assert ours.values is ours[0] and ours.indices is ours[1]


def test_empty_with_out_resizes_out():
    o = ember.empty(5, dtype=ember.int64)
    assert ember.empty(2, 3, out=o) is o and o.shape == (2, 3) and o.dtype == ember.int64

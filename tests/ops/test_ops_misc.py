# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""In-place metadata ops, fill_diagonal_, cdist, logcumsumexp, unique_consecutive, and the tie rules
of kthvalue/topk, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops_oracle import case, raises_like, rnd

import ember

A = rnd(2, 3)


# ------------------------------------------------------------------ in-place metadata ops
META_OPS = [
    ("t_", lambda y: y.t_(), (2, 3)),
    ("t_1d", lambda y: y.t_(), (3,)),
    ("transpose_", lambda y: y.transpose_(0, -1), (2, 3, 4)),
    ("swapaxes_", lambda y: y.swapaxes_(1, 2), (2, 3, 4)),
    ("swapdims_", lambda y: y.swapdims_(0, 1), (2, 3)),
    ("squeeze_", lambda y: y.squeeze_(), (2, 1, 3, 1)),
    ("squeeze_dim", lambda y: y.squeeze_(1), (2, 1, 3)),
    ("squeeze_dim_noop", lambda y: y.squeeze_(0), (2, 1, 3)),
    ("squeeze_dims", lambda y: y.squeeze_((1, -1)), (2, 1, 3, 1)),
    ("unsqueeze_", lambda y: y.unsqueeze_(1), (2, 3)),
    ("unsqueeze_neg", lambda y: y.unsqueeze_(-1), (2, 3)),
]


@pytest.mark.parametrize(("name", "op", "shape"), META_OPS, ids=[m[0] for m in META_OPS])
def test_metadata_inplace_graph(name, op, shape) -> None:
    x = rnd(*shape)

    def fn(lib, t):
        y = t * t  # a non-leaf: its history is rewritten
        r = op(y)
        assert r is y
        assert y._version == 1
        return y * 1.5, y

    case(fn, x)
    case(fn, x, noncontig=True)


def test_metadata_inplace_on_views_and_bases() -> None:
    def through_view(lib, t):
        y = t * 2
        v = y.view(3, 2)
        v.t_()
        return v, y

    case(through_view, A)

    def base_then_view(lib, t):
        y = t * 2
        v = y.view(6)
        y.unsqueeze_(0)
        return y, v * 1

    case(base_then_view, A, names=False)  # torch regenerates v as AsStridedBackward0

    def twice(lib, t):
        y = t * 3  # (exp would save its result, which t_ modifies: torch then refuses backward too)
        y.t_()
        y.unsqueeze_(0)
        y.squeeze_()
        return y.sin()

    case(twice, A)


def test_metadata_inplace_without_grad_and_errors() -> None:
    for lib in (ember, torch):
        z = lib.zeros(2, 3)
        z.t_()
        assert tuple(z.shape) == (3, 2) and z._version == 1
        assert z.stride() == (1, 3) if hasattr(z, "stride") and lib is torch else True
        z.unsqueeze_(0).squeeze_(0)
        assert tuple(z.shape) == (3, 2)
        w = lib.zeros(2, 3)
        w[0].unsqueeze_(0)  # a temporary view: the base is unchanged
        assert tuple(w.shape) == (2, 3)
        x = lib.ones(2, 3, requires_grad=True)
        with lib.no_grad():
            x.t_()
        assert tuple(x.shape) == (3, 2) and x.grad_fn is None
        x.sum().backward()
        assert tuple(x.grad.shape) == (3, 2)
    leaf = np.ones((2, 3))
    for op in (lambda t: t.t_(), lambda t: t.transpose_(0, 5), lambda t: t.unsqueeze_(0), lambda t: t.squeeze_(),
               lambda t: t.swapaxes_(0, 1)):
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
                op(lib.tensor(leaf, requires_grad=True))
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
                op(lib.tensor(leaf, requires_grad=True).view(3, 2))
    raises_like(lambda lib, t: t.t_(), np.zeros((2, 2, 2)))
    raises_like(lambda lib, t: t.transpose_(0, 2), np.zeros((2, 2)))
    raises_like(lambda lib, t: t.unsqueeze_(3), np.zeros((2, 2)))
    raises_like(lambda lib, t: t.squeeze_(2), np.zeros((2, 2)))
    for lib in (ember, torch):
        s = lib.tensor(2.0)
        s.t_()
        s.unsqueeze_(0)
        assert tuple(s.shape) == (1,)
        s.squeeze_(0)
        assert tuple(s.shape) == ()


def test_metadata_inplace_saved_tensor_version_error() -> None:
    for lib in (ember, torch):
        x = lib.tensor(A, requires_grad=True)
        y = x * 2
        z = y * y  # saves y
        y.t_()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()


# ------------------------------------------------------------------------ fill_diagonal_
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (7, 3), (3, 7), (3, 3, 3), (1, 1), (0, 0)])
@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal(shape, wrap) -> None:
    x = rnd(*shape) if 0 not in shape else np.zeros(shape)

    def fn(lib, t):
        y = t * 2
        y.fill_diagonal_(0.5, wrap=wrap)
        assert y._version >= (1 if y.numel() else 0)  # (torch writes a wrapped diagonal in two steps)
        return y

    case(fn, x, names=bool(x.size))
    for dt in (np.int64, np.bool_):
        def nograd(lib, t):
            return t.clone().fill_diagonal_(2.7 if dt is np.int64 else 2, wrap=wrap)

        case(nograd, np.zeros(shape, dtype=dt), grad=False)


def test_fill_diagonal_views_noncontig_and_errors() -> None:
    def on_view(lib, t):
        y = t * 2
        v = y[1:]
        v.fill_diagonal_(-1.0)
        return y, v * 1

    case(on_view, rnd(4, 3), names=False)
    case(lambda lib, t: (t * 1).fill_diagonal_(3.0) * 1, rnd(3, 4), noncontig=True)
    case(lambda lib, t: (t * 1).fill_diagonal_(lib.tensor(3.0)), rnd(3, 3))
    raises_like(lambda lib, t: t.fill_diagonal_(1), np.zeros(3))
    raises_like(lambda lib, t: t.fill_diagonal_(1), np.zeros((3, 4, 3)))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
            lib.ones(2, 2, requires_grad=True).fill_diagonal_(0)


# ---------------------------------------------------------------------------------- cdist
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 0.5, float("inf")])
def test_cdist(p) -> None:
    for s1, s2 in [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((1, 4, 3), (3, 5, 3)), ((4, 3), (2, 5, 3)),
                   ((0, 3), (2, 3)), ((3, 0), (2, 0))]:
        case(lambda lib, a, b: lib.cdist(a, b, p=p), rnd(*s1), rnd(*s2, seed=1), second=False)
    # coincident points and ties of |diff| (the p=inf gradient goes to every maximum, p=2 gives 0 at 0)
    pts = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    case(lambda lib, a, b: lib.cdist(a, b, p=p), pts, pts[::-1].copy(), second=False)
    case(lambda lib, a: lib.cdist(a, a, p=p, compute_mode="donot_use_mm_for_euclid_dist"), pts, second=False)
    case(lambda lib, a, b: lib.cdist(a, b, p), rnd(3, 2), rnd(4, 2), noncontig=True, second=False)


def test_cdist_dtype_second_derivative_and_errors() -> None:
    case(lambda lib, a, b: lib.cdist(a.to(lib.float32), b.to(lib.float32)), rnd(3, 2), rnd(4, 2), rtol=1e-5, atol=1e-6, second=False)
    for lib in (ember, torch):
        a = lib.tensor(rnd(3, 2), requires_grad=True)
        b = lib.tensor(rnd(4, 2, seed=2), requires_grad=True)
        ga, gb = lib.autograd.grad(lib.cdist(a, b).sum(), (a, b), create_graph=True)
        assert type(ga.grad_fn).__name__ == type(gb.grad_fn).__name__ == "CdistBackwardBackward0"
        with pytest.raises(NotImplementedError, match="the derivative for '_cdist_backward' is not implemented"):
            lib.autograd.grad(ga.sum(), (a, b))
    raises_like(lambda lib, a, b: lib.cdist(a, b), rnd(3), rnd(3))
    raises_like(lambda lib, a, b: lib.cdist(a, b), rnd(3, 2), rnd(3, 3))
    raises_like(lambda lib, a, b: lib.cdist(a, b, p=-1.0), rnd(3, 2), rnd(3, 2))
    raises_like(lambda lib, a, b: lib.cdist(a, b), np.arange(6).reshape(3, 2), np.arange(6).reshape(3, 2))
    raises_like(lambda lib, a, b: lib.cdist(a.to(lib.float32), b), rnd(3, 2), rnd(3, 2))
    with pytest.raises(RuntimeError, match="X1 and X2 must have the same number of columns. X1: 2 X2: 3"):
        ember.cdist(ember.zeros(3, 2), ember.zeros(3, 3))


# --------------------------------------------------------------------------- logcumsumexp
def test_logcumsumexp() -> None:
    x = rnd(3, 4, 5)
    for d in (0, 1, -1):
        case(lambda lib, t: lib.logcumsumexp(t, d), x)
        case(lambda lib, t: t.logcumsumexp(d), x, noncontig=True)
    case(lambda lib, t: lib.logcumsumexp(t, 0), np.array(1.5))
    case(lambda lib, t: lib.logcumsumexp(t, 0), np.zeros((0, 3)))
    case(lambda lib, t: lib.logcumsumexp(t.to(lib.float32), 1), x, rtol=1e-5, atol=1e-6)
    # stable where exp overflows, and large magnitudes in the gradient
    big = np.array([[1000.0, 1.0, 1000.0, -1000.0], [-800.0, -799.0, 5.0, 700.0]])
    case(lambda lib, t: lib.logcumsumexp(t, 1), big)
    case(lambda lib, t: lib.logcumsumexp(t, 0), np.array([-np.inf, 1.0, np.inf, 2.0]), grad=False)
    raises_like(lambda lib, t: lib.logcumsumexp(t, 0), np.arange(4))
    raises_like(lambda lib, t: lib.logcumsumexp(t, 2), rnd(2, 2))
    a = ember.tensor(rnd(3, 4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.logcumsumexp(t, 1), (a,))
    assert ember.autograd.gradgradcheck(lambda t: ember.logcumsumexp(t, 0), (a,))


# ---------------------------------------------------------------------- unique_consecutive
def test_unique_consecutive() -> None:
    z = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    m = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3], [1, 1, 2]])
    for x in (z, m, np.array(3), np.zeros(0, np.int64), np.array([True, True, False]),
              np.array([np.nan, np.nan, 1.0, 1.0])):
        for inv in (False, True):
            for cnt in (False, True):
                case(lambda lib, t: lib.unique_consecutive(t, return_inverse=inv, return_counts=cnt), x, grad=False)
                for d in range(x.ndim):
                    case(lambda lib, t: t.unique_consecutive(inv, cnt, d), x, grad=False)
    case(lambda lib, t: t.unique_consecutive(dim=-1, return_counts=True), m.astype(float), grad=False)
    for lib in (ember, torch):
        w = lib.tensor([1.0, 1.0, 2.0], requires_grad=True)
        r = lib.unique_consecutive(w)
        assert type(r.grad_fn).__name__ == "UniqueConsecutiveBackward0"
        with pytest.raises(NotImplementedError, match="the derivative for 'unique_consecutive' is not implemented"):
            r.sum().backward()


# --------------------------------------------------------------------- kthvalue/topk ties
def _tie_rows(seed: int) -> list:
    rng = np.random.default_rng(seed)
    rows = [np.full(n, 2.0) for n in range(1, 12)]
    for _ in range(60):
        n = int(rng.integers(1, 30))
        x = rng.integers(0, int(rng.integers(1, 4)), n).astype(float)
        if rng.random() < 0.2:
            x[rng.integers(0, n)] = np.nan
        rows.append(x)
    return rows


def test_kthvalue_ties_match_torch() -> None:
    for x in _tie_rows(0):
        for k in range(1, x.size + 1):
            case(lambda lib, t: lib.kthvalue(t, k), x, second=False)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, (3, 7, 5)).astype(float)
    for d in (0, 1, 2):
        for k in (1, 3):
            case(lambda lib, t: t.kthvalue(k, d, keepdim=True), x)
            case(lambda lib, t: lib.kthvalue(t, k, d), x, noncontig=True)
    case(lambda lib, t: lib.kthvalue(t, 2, 1), np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 1.0, 1.0], [2.0] * 4]))
    case(lambda lib, t: lib.kthvalue(t.to(lib.float32), 2), np.full(5, 2.0))
    case(lambda lib, t: lib.kthvalue(t, 2), np.array([3, 3, 3, 1, 3]), grad=False)


def test_topk_distinct_values_and_gradcheck_fast_mode() -> None:
    x = rnd(3, 9)
    for k in (1, 4, 9):
        for largest in (True, False):
            case(lambda lib, t: lib.topk(t, k, largest=largest), x)
    a = ember.tensor(rnd(3, 4), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.logcumsumexp(t, 1), (a,), fast_mode=True)
    assert ember.autograd.gradgradcheck(lambda t: t.exp().sum(), (a,), fast_mode=True)

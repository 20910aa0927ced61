"""The seed's ops, each against torch (values, dtypes, grad_fn names, first and second grads)
and against float64 finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import check, finite_difference_check

rng = np.random.default_rng(0)


def R(*shape, lo=-2.0, hi=2.0, dtype=np.float64):
    return rng.uniform(lo, hi, shape).astype(dtype)


def P(*shape):  # positive
    return R(*shape, lo=0.5, hi=2.0)


UNARY = {
    "exp": (lambda L, x: x.exp(), R),
    "log": (lambda L, x: x.log(), P),
    "sqrt": (lambda L, x: L.sqrt(x), P),
    "sin": (lambda L, x: L.sin(x), R),
    "cos": (lambda L, x: x.cos(), R),
    "tanh": (lambda L, x: L.tanh(x), R),
    "sigmoid": (lambda L, x: L.sigmoid(x), R),
    "relu": (lambda L, x: L.relu(x), R),
    "abs": (lambda L, x: x.abs(), R),
    "neg": (lambda L, x: -x, R),
    "clamp": (lambda L, x: x.clamp(-0.5, 0.7), R),
    "clamp_min": (lambda L, x: L.clamp(x, min=0.1), R),
    "pow2": (lambda L, x: x ** 2, R),
    "pow3.5": (lambda L, x: x ** 3.5, P),
    "pow_neg": (lambda L, x: x ** -1.5, P),
    "rpow": (lambda L, x: 2 ** x, R),
    "rsub": (lambda L, x: 3 - x, R),
    "rdiv": (lambda L, x: 3 / x, P),
    "sum": (lambda L, x: x.sum(), R),
    "sum_dim": (lambda L, x: x.sum(1), R),
    "sum_dims_keep": (lambda L, x: x.sum((0, 2), keepdim=True), R),
    "mean": (lambda L, x: x.mean(), R),
    "mean_dim": (lambda L, x: x.mean(-1, keepdim=True), R),
    "max": (lambda L, x: x.max(), R),
    "min": (lambda L, x: x.min(), R),
    "max_dim": (lambda L, x: x.max(1), R),
    "min_dim_keep": (lambda L, x: x.min(dim=2, keepdim=True), R),
    "amax": (lambda L, x: x.amax(1), R),
    "amin": (lambda L, x: L.amin(x, (0, 1)), R),
    "softmax": (lambda L, x: L.softmax(x, 1), R),
    "log_softmax": (lambda L, x: L.log_softmax(x, -1), R),
    "logsumexp": (lambda L, x: L.logsumexp(x, 1), R),
    "reshape": (lambda L, x: x.reshape(6, -1), R),
    "view": (lambda L, x: x.view(-1), R),
    "transpose": (lambda L, x: x.transpose(0, 2), R),
    "permute": (lambda L, x: x.permute(2, 0, 1), R),
    "unsqueeze": (lambda L, x: x.unsqueeze(1), R),
    "squeeze": (lambda L, x: x.unsqueeze(0).squeeze(), R),
    "squeeze_dim": (lambda L, x: x.unsqueeze(2).squeeze(2), R),
    "expand": (lambda L, x: x[:, :1].expand(3, 2, 5, 4), R),
    "flatten": (lambda L, x: x.flatten(), R),
    "flatten_T": (lambda L, x: x.transpose(0, 1).flatten(1), R),
    "index0": (lambda L, x: x[0], R),
    "slice": (lambda L, x: x[:, 1:3], R),
    "slice2": (lambda L, x: x[1:, ::2, 1], R),
    "none": (lambda L, x: x[None], R),
    "ellipsis": (lambda L, x: x[..., -1], R),
    "fancy": (lambda L, x: x[[0, 1, 0]], R),
    "mask": (lambda L, x: x[x > 0], R),
    "where": (lambda L, x: L.where(x > 0, x, x * 2), R),
    "where_scalar": (lambda L, x: L.where(x > 0, x, 0.0), R),
    "cat": (lambda L, x: L.cat([x, x * 2], 1), R),
    "stack": (lambda L, x: L.stack([x, x.exp()], 0), R),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(name):
    fn, make = UNARY[name]
    check(fn, make(2, 3, 4), second=True)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "pow3.5", "softmax", "log_softmax",
                                  "logsumexp", "mean_dim", "slice2", "fancy", "cat", "stack", "expand"])
def test_unary_finite_differences(name):
    fn, make = UNARY[name]
    finite_difference_check(lambda L, x: fn(L, x) if not isinstance(fn(L, x), tuple) else fn(L, x)[0], make(2, 3, 4))


BROADCAST = [((3,), (3,)), ((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((4, 1), ())]
BINARY = {
    "add": lambda L, a, b: a + b,
    "sub": lambda L, a, b: a - b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / b,
    "pow": lambda L, a, b: a.abs() ** b,
    "add_alpha": lambda L, a, b: L.add(a, b, alpha=2.5),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "where": lambda L, a, b: L.where(a > b, a, b),
}


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting(name, shapes):
    a, b = R(*shapes[0]), R(*shapes[1], lo=0.5, hi=2.0) if name in ("div", "pow") else R(*shapes[1])
    check(BINARY[name], a, b, second=True)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_finite_differences(name):
    a, b = R(2, 3), R(3, lo=0.5, hi=2.0)
    finite_difference_check(BINARY[name], a, b)


MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
          ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,))]


@pytest.mark.parametrize("shapes", MATMUL, ids=str)
def test_matmul_ranks(shapes):
    check(lambda L, a, b: a @ b, R(*shapes[0]), R(*shapes[1]), second=True, check_names=len(shapes[0]) <= 2 and len(shapes[1]) <= 2)


def test_mm_and_finite_differences():
    check(lambda L, a, b: L.mm(a, b), R(2, 3), R(3, 4), second=True)
    finite_difference_check(lambda L, a, b: a @ b, R(5, 2, 3), R(3, 4))


def test_float32_paths():
    check(lambda L, a, b: (a * b).sigmoid().sum(1).log_softmax(0), R(3, 4, dtype=np.float32), R(4, dtype=np.float32),
          second=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(reduction):
    x, t = R(4, 3), R(4, 3)
    p = rng.uniform(0.05, 0.95, (4, 3))
    tt = rng.uniform(0, 1, (4, 3))
    labels = np.array([1, 0, 2, 1])
    F = "nn.functional"

    def f(name):
        return lambda L, *a: getattr(L.nn.functional, name)(*a, reduction=reduction)

    check(f("mse_loss"), x, t, second=True)
    check(f("binary_cross_entropy"), p, tt, second=True)
    check(f("binary_cross_entropy_with_logits"), x, tt, second=True)
    check(lambda L, a: L.nn.functional.cross_entropy(a, L.tensor(labels), reduction=reduction), x, second=True)
    check(lambda L, a: L.nn.functional.nll_loss(L.log_softmax(a, 1), L.tensor(labels), reduction=reduction), x,
          second=True)
    check(lambda L, a: L.nn.functional.nll_loss(a, L.tensor(labels), weight=L.tensor([1.0, 2.0, 0.5], dtype=L.float64),
                                                ignore_index=0, reduction=reduction), x, second=True)
    assert F


def test_loss_modules_and_options():
    x = R(4, 3)
    labels = np.array([1, 0, 2, 1])
    check(lambda L, a: L.nn.CrossEntropyLoss(label_smoothing=0.1)(a, L.tensor(labels)), x, check_names=False)
    check(lambda L, a, b: L.nn.CrossEntropyLoss()(a, L.softmax(b, 1)), x, R(4, 3), check_names=False)
    check(lambda L, a, b: L.nn.BCEWithLogitsLoss(pos_weight=L.tensor([1.0, 2.0, 3.0], dtype=L.float64))(a, b),
          x, rng.uniform(0, 1, (4, 3)))
    check(lambda L, a, b: L.nn.BCELoss(weight=L.tensor([1.0, 2.0, 3.0], dtype=L.float64))(a, b),
          rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0, 1, (4, 3)))
    check(lambda L, a: L.nn.NLLLoss()(a, L.tensor(np.array([[1, 0], [2, 1]]))), R(2, 3, 2))


def test_stable_at_extremes():
    big = np.array([[1e4, -1e4, 0.0]])
    check(lambda L, a: L.softmax(a, 1), big)
    check(lambda L, a: L.log_softmax(a, 1), big)
    check(lambda L, a: L.logsumexp(a, 1), big)
    check(lambda L, a: L.nn.functional.binary_cross_entropy_with_logits(a, L.ones_like(a)), big)
    check(lambda L, a: L.sigmoid(a), big)
    check(lambda L, a: L.nn.functional.cross_entropy(a, L.tensor([1])), big)


def test_max_ties_split_like_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check(lambda L, a: a.max(), x, second=True)
    check(lambda L, a: a.amax(1), x, second=True)
    check(lambda L, a: a.max(1), x, second=True)
    check(lambda L, a: L.maximum(a, a[:, [2, 1, 0]]), x)

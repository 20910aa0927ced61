"""MultiLabelMarginLoss / F.multilabel_margin_loss and TripletMarginWithDistanceLoss against torch.

Values, reductions, grad_fn names and gradients come from torch; gradients also from float64 finite
differences. torch does not differentiate multilabel_margin_loss twice: ember raises the same error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from oracle import check, finite_difference_check

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
Y = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, -1], [-1, 0, 0, 0, 0], [2, 2, -1, 0, 0]])  # padding, none, a duplicate
A, P, N = (RNG.standard_normal((6, 3)) for _ in range(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss_matches_torch(reduction: str) -> None:
    check(lambda lib, x, y: lib.nn.functional.multilabel_margin_loss(x, y, reduction=reduction), X, Y)
    check(lambda lib, x, y: lib.nn.MultiLabelMarginLoss(reduction=reduction)(x, y), X.astype(np.float32), Y)
    check(lambda lib, x, y: lib.nn.functional.multilabel_margin_loss(x, y, reduction=reduction), X[1], Y[0])


def test_multilabel_margin_loss_finite_differences() -> None:
    for reduction in ("mean", "sum", "none"):
        finite_difference_check(
            lambda lib, x, r=reduction: lib.nn.functional.multilabel_margin_loss(x, lib.tensor(Y), reduction=r), X)
    x = ember.tensor(X, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.multilabel_margin_loss(a, ember.tensor(Y)), (x,))


def test_multilabel_margin_loss_second_order_is_not_implemented_as_in_torch() -> None:
    def run(lib: object) -> tuple:
        x = lib.tensor(X, requires_grad=True)
        (g,) = lib.autograd.grad(lib.nn.functional.multilabel_margin_loss(x, lib.tensor(Y)), x, create_graph=True)
        with pytest.raises(RuntimeError) as err:
            g.sum().backward()
        return type(g.grad_fn).__name__, str(err.value), g.detach().numpy()

    e, t = run(ember), run(torch)
    assert e[:2] == t[:2]
    np.testing.assert_allclose(e[2], t[2], rtol=1e-12)


def test_multilabel_margin_loss_legacy_size_average() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x, y: lib.nn.MultiLabelMarginLoss(size_average=False)(x, y), X, Y)
        check(lambda lib, x, y: lib.nn.functional.multilabel_margin_loss(x, y, reduce=False), X, Y)


@pytest.mark.parametrize(("x", "y"), [
    (X, Y.astype(np.float32)), (X, Y.astype(np.int32)), (X, Y[:, :3]), (X, np.full((4, 5), 5)),
    (X, np.full((4, 5), -2)), (np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.int64)), (np.zeros((2, 0)), np.zeros((2, 0), np.int64)),
])
def test_multilabel_margin_loss_errors_match_torch(x: np.ndarray, y: np.ndarray) -> None:
    with pytest.raises(RuntimeError) as te:
        torch.nn.functional.multilabel_margin_loss(torch.tensor(x), torch.tensor(y))
    with pytest.raises(RuntimeError) as ee:
        ember.nn.functional.multilabel_margin_loss(ember.tensor(x), ember.tensor(y))
    assert str(ee.value) == str(te.value)


def test_multilabel_margin_loss_bad_reduction() -> None:
    for lib in (torch, ember):
        with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
            lib.nn.functional.multilabel_margin_loss(lib.tensor(X), lib.tensor(Y), reduction="bad")


def _l1(x: object, y: object) -> object:
    return (x - y).abs().sum(-1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss_matches_torch(reduction: str, swap: bool) -> None:
    check(lambda lib, a, p, n: lib.nn.functional.triplet_margin_with_distance_loss(
        a, p, n, swap=swap, reduction=reduction), A, P, N, second=True)
    check(lambda lib, a, p, n: lib.nn.TripletMarginWithDistanceLoss(
        distance_function=_l1, margin=0.5, swap=swap, reduction=reduction)(a, p, n), A, P, N)
    check(lambda lib, a, p, n: lib.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda x, y: 1 - lib.nn.functional.cosine_similarity(x, y), reduction=reduction)(a, p, n),
        A, P, N, second=True)


def test_triplet_margin_with_distance_loss_module_and_errors() -> None:
    assert repr(ember.nn.TripletMarginWithDistanceLoss()).replace("ember", "torch") == \
        repr(torch.nn.TripletMarginWithDistanceLoss())
    for lib in (torch, ember):
        F = lib.nn.functional
        a, p, n = lib.tensor(A), lib.tensor(P), lib.tensor(N)
        with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
            F.triplet_margin_with_distance_loss(a, p, n, margin=0)
        with pytest.raises(ValueError, match="TripletMarginWithDistanceLoss: expected margin to be greater than 0, got -1 instead"):
            lib.nn.TripletMarginWithDistanceLoss(margin=-1)
        with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
            F.triplet_margin_with_distance_loss(a, p, n[0])
        with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
            F.triplet_margin_with_distance_loss(a, p, n, reduction="bad")


def test_pairwise_distance_module() -> None:
    check(lambda lib, a, p: lib.nn.PairwiseDistance(p=1.0, keepdim=True)(a, p), A, P, second=True)
    assert repr(ember.nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())


CLS = np.array([1, 0, 4, 2])
W = RNG.uniform(0.5, 2.0, 5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_is_one_op_as_in_torch(reduction: str, p: int) -> None:
    check(lambda lib, x, y: lib.nn.functional.multi_margin_loss(x, y, p=p, margin=0.7, reduction=reduction), X, CLS)
    check(lambda lib, x, y, w: lib.nn.MultiMarginLoss(p=p, weight=w, reduction=reduction)(x, y), X, CLS, W, grad=False)
    check(lambda lib, x, y: lib.nn.functional.multi_margin_loss(x, y, p=p, reduction=reduction), X[0], CLS[:1])
    finite_difference_check(lambda lib, x: lib.nn.functional.multi_margin_loss(
        x, lib.tensor(CLS), p=p, weight=lib.tensor(W), reduction=reduction), X)


def test_multi_margin_loss_gradient_with_weight_and_second_order() -> None:
    def run(lib: object) -> tuple:
        x = lib.tensor(X, requires_grad=True)
        loss = lib.nn.functional.multi_margin_loss(x, lib.tensor(CLS), p=2, weight=lib.tensor(W))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        with pytest.raises(RuntimeError) as err:
            g.sum().backward()
        return type(g.grad_fn).__name__, str(err.value), g.detach().numpy()

    e, t = run(ember), run(torch)
    assert e[:2] == t[:2]
    np.testing.assert_allclose(e[2], t[2], rtol=1e-12)


@pytest.mark.parametrize("call", [
    "F.multi_margin_loss(x, y.float())", "F.multi_margin_loss(x, lib.tensor([0, 2, 5, 1]))", "F.multi_margin_loss(x, y[:2])",
    "F.multi_margin_loss(x, y, weight=lib.ones(3, dtype=lib.float64))", "F.multi_margin_loss(lib.zeros(2, 3, 4), y)",
    "F.multi_margin_loss(x, y, weight=lib.ones(5, dtype=lib.float64, requires_grad=True))", "F.multi_margin_loss(x, y, p=3)",
])
def test_multi_margin_loss_errors_match_torch(call: str) -> None:
    def err(lib: object) -> tuple:
        with pytest.raises((RuntimeError, ValueError)) as e:
            eval(call, {"F": lib.nn.functional, "lib": lib, "x": lib.tensor(X), "y": lib.tensor(CLS)})  # noqa: S307
        return type(e.value), str(e.value)

    assert err(ember) == err(torch)

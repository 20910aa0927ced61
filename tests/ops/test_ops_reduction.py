# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""Reductions against torch, including how ties route the gradient."""

from __future__ import annotations

import numpy as np
import pytest
from ops_oracle import case, pos, raises_like, rnd

import ember

A = rnd(3, 4, 5)
T = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]])  # ties

DIMS = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean_var_std(dim, keepdim) -> None:
    kw = {} if dim is None else {"dim": dim}
    case(lambda lib, x: lib.sum(x, keepdim=keepdim, **kw) if dim is not None else x.sum(), A)
    case(lambda lib, x: x.mean(keepdim=keepdim, **kw) if dim is not None else lib.mean(x), A)
    for corr in (0, 1, 2):
        case(lambda lib, x: lib.var(x, correction=corr, keepdim=keepdim, **kw), A)
        case(lambda lib, x: x.std(correction=corr, keepdim=keepdim, **kw), A)
    case(lambda lib, x: lib.var_mean(x, keepdim=keepdim, **kw), A)
    case(lambda lib, x: lib.std_mean(x, correction=0, keepdim=keepdim, **kw), A)
    case(lambda lib, x: lib.logsumexp(x, dim if dim is not None else (0, 1, 2), keepdim), A)
    case(lambda lib, x: lib.amax(x, dim if dim is not None else (), keepdim), A)
    case(lambda lib, x: x.amin(dim if dim is not None else (), keepdim), A)
    case(lambda lib, x: lib.nansum(x, keepdim=keepdim, **kw), A)


def test_var_overloads_and_dtypes() -> None:
    case(lambda lib, x: (lib.var(x, 1, True), lib.var(x, 1, False), lib.var(x, True), x.std(0, unbiased=False)), A)
    case(lambda lib, x: x.sum(dtype=lib.float32), A)
    case(lambda lib, x: (x.sum(), x.sum(0), x.prod(), x.cumsum(0), lib.cumprod(x, 1)), np.arange(6).reshape(2, 3),
         grad=False)
    case(lambda lib, x: (x.sum(), x.prod(1)), np.array([[True, False], [True, True]]), grad=False)
    raises_like(lambda lib, x: x.var(), np.arange(3))
    raises_like(lambda lib, x: x.mean(), np.arange(3))


@pytest.mark.parametrize("x", [pos(3, 4), np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [1.0, 2.0, 0.5]])],
                         ids=["nonzero", "zeros"])
def test_prod_and_cumprod(x) -> None:
    case(lambda lib, t: lib.prod(t), x)
    case(lambda lib, t: t.prod(1), x)
    case(lambda lib, t: t.prod(0, keepdim=True), x)
    case(lambda lib, t: lib.cumprod(t, 1), x)
    case(lambda lib, t: t.cumprod(0), x)
    case(lambda lib, t: lib.cumsum(t, -1), x)


def test_max_min_all_forms_and_ties() -> None:
    for x in (A, T):
        case(lambda lib, t: (t.max(), t.min()), x)
        case(lambda lib, t: lib.max(t, 1), x)
        case(lambda lib, t: t.min(1, keepdim=True), x)
        case(lambda lib, t: (t.amax(1), t.amin(0)), x)
        case(lambda lib, t: (t.argmax(), t.argmin(1), lib.argmax(t, 0, keepdim=True)), x, grad=False)
        case(lambda lib, t: lib.aminmax(t, dim=1), x)
        case(lambda lib, t: lib.aminmax(t), x)
    case(lambda lib, t, u: lib.max(t, u), T, T[::-1].copy())


def test_order_statistics_with_ties() -> None:
    for x in (A[0], T):
        case(lambda lib, t: lib.median(t), x)
        case(lambda lib, t: t.median(1), x)
        case(lambda lib, t: t.median(0, keepdim=True), x)
        if x is not T:  # torch's quickselect picks an unspecified index among equal values
            case(lambda lib, t: lib.kthvalue(t, 2, 1), x)
            case(lambda lib, t: t.kthvalue(3, 0, True), x)
        case(lambda lib, t: lib.mode(t, 1), x)
        case(lambda lib, t: t.mode(0), x)
        case(lambda lib, t: lib.sort(t, 1), x)
        case(lambda lib, t: t.sort(0, descending=True), x)
        case(lambda lib, t: lib.argsort(t, 1, descending=True), x, grad=False)
        case(lambda lib, t: lib.cummax(t, 1), x)
        case(lambda lib, t: lib.cummin(t, 0), x)
    case(lambda lib, t: lib.topk(t, 2), A[0])
    case(lambda lib, t: t.topk(3, dim=0, largest=False), A[0])
    case(lambda lib, t: lib.nanmedian(t), np.array([1.0, np.nan, 3.0, 2.0]))
    case(lambda lib, t: lib.median(t), np.array([1.0, np.nan, 3.0]))
    case(lambda lib, t: t.sort(descending=True), np.array([1.0, np.nan, 2.0, -np.inf]))


def test_unique_count_all_any() -> None:
    x = np.array([3, 1, 3, 2, 1, 1])
    case(lambda lib, t: lib.unique(t), x, grad=False)
    case(lambda lib, t: lib.unique(t, return_inverse=True, return_counts=True), x, grad=False)
    case(lambda lib, t: t.unique(return_counts=True), x, grad=False)
    m = np.array([[1, 0, 1], [1, 0, 1]])
    case(lambda lib, t: lib.unique(t, dim=0), m, grad=False)
    case(lambda lib, t: (lib.count_nonzero(t), t.count_nonzero(0)), m, grad=False)
    b = np.array([[True, False], [True, True]])
    case(lambda lib, t: (lib.all(t), lib.any(t), t.all(1), t.any(0, keepdim=True), lib.all(t, dim=0)), b, grad=False)
    case(lambda lib, t: (t.all(), lib.any(t)), np.array([1, 2], dtype=np.uint8), grad=False)
    case(lambda lib, t: lib.unique(t), A[0, 0], names=True, grad=False)


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, float("inf"), float("-inf"), 0])
def test_vector_norm(p) -> None:
    x = rnd(3, 4)
    case(lambda lib, t: lib.linalg.vector_norm(t, p), x, second=p not in (float("inf"), float("-inf")))
    case(lambda lib, t: lib.linalg.vector_norm(t, p, dim=1, keepdim=True), x)
    case(lambda lib, t: t.norm(p, dim=0), x)
    case(lambda lib, t: lib.norm(t, p), x)


def test_norm_zero_rows_and_fro() -> None:
    x = np.array([[-2.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    for p in (1, 2, 3, float("inf")):
        case(lambda lib, t: lib.linalg.vector_norm(t, p, dim=1), x, second=False)
    case(lambda lib, t: (t.norm(), lib.norm(t, "fro", dim=(0, 1))), rnd(3, 4))
    raises_like(lambda lib, t: lib.linalg.vector_norm(t), np.arange(3))


def test_nanmean_and_empty() -> None:
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]])
    case(lambda lib, t: (lib.nanmean(t), t.nanmean(1), lib.nansum(t, 0)), x)
    e = np.zeros((0, 3))
    case(lambda lib, t: (t.sum(), t.sum(0), t.mean(0), t.prod(0), t.amax(1)), e)
    raises_like(lambda lib, t: t.max(), e)
    raises_like(lambda lib, t: t.amax(0), e)


def test_zero_dim_inputs() -> None:
    x = np.array(1.5)
    case(lambda lib, t: (t.sum(), t.sum(0), t.mean(), t.prod(0), t.max(0), t.cumsum(0), t.cumprod(0)), x)
    case(lambda lib, t: (t.median(0), t.sort(0), t.topk(1), t.kthvalue(1), t.logsumexp(0)), x)
    # prod of one element that is zero (its gradient once indexed a dimension a 0-d tensor lacks)
    case(lambda lib, t: (t.relu().prod(0, keepdim=True), t.prod(0), t.prod()), np.array(0.0))


def test_reduction_errors() -> None:
    raises_like(lambda lib, t: t.sum(3), A)
    raises_like(lambda lib, t: t.sum((0, 0)), A)
    raises_like(lambda lib, t: t.kthvalue(9, 0), A)
    raises_like(lambda lib, t: t.topk(9, 0), A)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 5\)"):
        ember.tensor(A).sum(5)

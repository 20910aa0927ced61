# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""torch functions ember used to lack (index builders, quantiles, covariance, predicates, block and
triangular matrices) against torch: values, dtypes, grad_fn names, first and second gradients, and
float64 gradcheck / gradgradcheck."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from ops_oracle import case, close, raises_like, rnd

import ember


def _both(fn, *args):
    """fn on ember and on torch (tensors made from the same arrays), results compared."""
    e = fn(ember, *[ember.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    t = fn(torch, *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    e, t = (e, t) if isinstance(t, tuple) else ((e,), (t,))
    assert len(e) == len(t)
    for x, y in zip(e, t):
        close(x, y, "value")


def _gradcheck(fn, *arrays):
    ins = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, ins)
    assert ember.autograd.gradgradcheck(fn, ins)


# ------------------------------------------------------------------ index builders
@pytest.mark.parametrize("r,c,o", [(3, 3, 0), (3, 4, 1), (4, 3, -1), (0, 3, 0), (3, 5, -7), (2, 2, 5)])
def test_tri_indices(r, c, o) -> None:
    _both(lambda lib: lib.tril_indices(r, c, o))
    _both(lambda lib: lib.triu_indices(r, c, o))
    _both(lambda lib: lib.triu_indices(r, c, o, dtype=lib.int32))


def test_unravel_argwhere_isin() -> None:
    _both(lambda lib, i: lib.unravel_index(i, (3, 4)), np.array([5, 7, -1, 0]))
    _both(lambda lib, i: lib.unravel_index(i, (3, 4)), np.array(5))
    _both(lambda lib, i: lib.unravel_index(i, 12), np.array([[3, 11]]))
    with pytest.raises(RuntimeError):
        ember.unravel_index(ember.tensor([12]), (3, 4))
    with pytest.raises(TypeError):
        ember.unravel_index(ember.tensor([1.0]), (3, 4))
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    _both(lambda lib, a: (lib.argwhere(a), a.argwhere()), x)
    _both(lambda lib, a: lib.argwhere(a), np.array(3.0))
    e, t = np.array([[1, 2, 3], [4, 5, 6]]), np.array([2, 6, 9])
    _both(lambda lib, a, b: (lib.isin(a, b), lib.isin(a, b, invert=True),
                             lib.isin(a, 5), lib.isin(a, b, assume_unique=True)), e, t)


def test_combinations_cartesian() -> None:
    v = np.array([1, 2, 3, 4])
    for r in (0, 1, 2, 3, 5):
        _both(lambda lib, a: (lib.combinations(a, r), lib.combinations(a, r, with_replacement=True)), v)
    _both(lambda lib, a, b: (lib.cartesian_prod(a, b), lib.cartesian_prod(a), lib.cartesian_prod(a, b, a)), v, v[:2])
    case(lambda lib, a: lib.combinations(a, 2), rnd(4))
    case(lambda lib, a, b: lib.cartesian_prod(a, b), rnd(3), rnd(2, seed=1))
    with pytest.raises(RuntimeError):
        ember.combinations(ember.ones(2, 2))
    for bad in (lambda lib: lib.tril_indices(3, 3, dtype=lib.float32), lambda lib: lib.signbit(lib.ones(2, dtype=lib.complex64)),
                lambda lib: lib.block_diag(lib.ones(2, 2, 2)), lambda lib: lib.renorm(lib.ones(2, 2), 2, 0, -1),
                lambda lib: lib.linalg.cond(lib.ones(2, 3), 1), lambda lib: lib.cov(lib.ones(2, 2, 2))):
        raises_like(bad)


# ------------------------------------------------------------------ predicates
def test_predicates() -> None:
    x = np.array([-0.0, 0.0, -1.5, 2.0, np.inf, -np.inf, np.nan, -np.nan])
    for f in ("signbit", "isneginf", "isposinf", "isreal"):
        _both(lambda lib, a: (getattr(lib, f)(a), getattr(a, f)()), x)
        _both(lambda lib, a: getattr(lib, f)(a), np.array([-3, 0, 4]))
    _both(lambda lib, a: lib.isreal(a), np.array([1 + 0j, 1j, -2 + 0j]))


# ------------------------------------------------------------------ quantile
@pytest.mark.parametrize("mode", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_modes(mode) -> None:
    x = rnd(4, 5)
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    for fn in ("quantile", "nanquantile"):
        case(lambda lib, a: getattr(lib, fn)(a, 0.3, interpolation=mode), x)
        case(lambda lib, a: getattr(lib, fn)(a, 0.625, dim=1, interpolation=mode), x)
        case(lambda lib, a: getattr(a, fn)(0.5, dim=0, keepdim=True, interpolation=mode), x, names=False)
        case(lambda lib, a: getattr(lib, fn)(a, lib.tensor(q, dtype=lib.float64), dim=-1, interpolation=mode), x)
        case(lambda lib, a: getattr(lib, fn)(a, lib.tensor(q, dtype=lib.float64), keepdim=True, interpolation=mode), x, names=False)


def test_quantile_nan_and_errors() -> None:
    x = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan, np.nan, np.nan, np.nan], [4.0, 2.0, 1.0, 3.0]])
    _both(lambda lib, a: (lib.quantile(a, 0.4, dim=1), lib.nanquantile(a, 0.4, dim=1), lib.nanquantile(a, 0.7)), x)
    _both(lambda lib, a: lib.quantile(a, 0.5), np.array(2.0))
    for bad in (lambda lib: lib.quantile(lib.tensor([1, 2]), 0.5), lambda lib: lib.quantile(lib.tensor([1.0]), 1.5),
                lambda lib: lib.quantile(lib.tensor([1.0]), 0.5, interpolation="cubic"),
                lambda lib: lib.quantile(lib.tensor([1.0]), lib.tensor([0.5], dtype=lib.float64))):
        with pytest.raises(RuntimeError):
            bad(torch)
        with pytest.raises(RuntimeError):
            bad(ember)
    _gradcheck(lambda a: ember.quantile(a, ember.tensor([0.3, 0.8], dtype=ember.float64), dim=1), rnd(3, 4))


# ------------------------------------------------------------------ cov / corrcoef
def test_cov_corrcoef() -> None:
    x = rnd(3, 6)
    fw = np.array([1, 2, 1, 3, 1, 1])
    aw = np.abs(rnd(6, seed=3)) + 0.1
    case(lambda lib, a: lib.cov(a), x, names=False)
    case(lambda lib, a: a.cov(correction=0), x, names=False)
    case(lambda lib, a: lib.cov(a[0]), x, names=False)
    case(lambda lib, a, w: lib.cov(a, fweights=lib.tensor(fw)), x, aw, names=False)
    case(lambda lib, a, w: lib.cov(a, aweights=w), x, aw, names=False)
    case(lambda lib, a, w: lib.cov(a, fweights=lib.tensor(fw), aweights=w, correction=2), x, aw, names=False)
    case(lambda lib, a: (lib.corrcoef(a), a.corrcoef()), x)
    # integer input, float32 result: ember's is the correctly rounded -13/6; torch's summation order
    # (CPU-dependent) can land one ulp away
    e = ember.cov(ember.tensor([[1, 2, 4], [3, 1, 0]]))
    t = torch.cov(torch.tensor([[1, 2, 4], [3, 1, 0]]))
    assert e.dtype == ember.float32 and t.dtype == torch.float32
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=2.4e-7)
    np.testing.assert_array_equal(e.numpy(), np.array([[7 / 3, -13 / 6], [-13 / 6, 7 / 3]], np.float32))
    ec, tc = ember.corrcoef(ember.tensor([[1, 2, 4], [3, 1, 0]])), torch.corrcoef(torch.tensor([[1, 2, 4], [3, 1, 0]]))
    np.testing.assert_allclose(ec.numpy(), tc.numpy(), rtol=6e-7)  # (-13/14: each 2 ulps off, either side)
    _gradcheck(lambda a: ember.corrcoef(a), x)


# ------------------------------------------------------------------ assembled matrices
def test_block_diag_addr_vander() -> None:
    case(lambda lib, a, b, c: lib.block_diag(a, b, c), rnd(2, 3), rnd(3), np.array(0.7))
    _both(lambda lib, a, b: lib.block_diag(a, b), np.array([1, 2]), np.array([[1.5], [2.0]]))
    M, v, w = rnd(3, 4), rnd(3, seed=1), rnd(4, seed=2)
    case(lambda lib, m, a, b: (lib.addr(m, a, b), m.addr(a, b, beta=0.5, alpha=2)), M, v, w)
    case(lambda lib, m, a, b: lib.addr(m, a, b, beta=0), M, v, w)
    case(lambda lib, m, a, b: lib.addr(m, a, b), rnd(4), v, w)
    _both(lambda lib, a, b: lib.addr(lib.zeros(2, 2, dtype=lib.int64), a, b), np.array([1, 2]), np.array([3, 4]))
    for N in (None, 1, 4):
        # torch 2.13's own torch.vander backward fails (an in-place cumprod): values here, gradients by gradcheck
        case(lambda lib, a: (lib.vander(a, N), lib.vander(a, N, increasing=True)), v, grad=False)
    _both(lambda lib, a: lib.vander(a), np.array([1, 2, 3]))
    _gradcheck(lambda a: ember.vander(a, 4), v)
    case(lambda lib, a: lib.linalg.vander(a), rnd(2, 3), names=False, second=False)
    case(lambda lib, a: lib.linalg.vander(a, N=4), v, names=False, second=False)
    _gradcheck(lambda a: ember.linalg.vander(a), rnd(2, 3))


def test_chain_matmul_renorm() -> None:
    A, B, C = rnd(2, 3), rnd(3, 4, seed=1), rnd(4, 2, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case(lambda lib, a, b, c: lib.chain_matmul(a, b, c), A, B, C, names=False)
    with pytest.warns(UserWarning):
        ember.chain_matmul(ember.ones(2, 2), ember.ones(2, 2))
    x = rnd(3, 4) * 2
    for p, dim, mx in ((2, 0, 1.0), (1, 1, 2.0), (3, 0, 0.5), (2, -1, 100.0)):
        case(lambda lib, a: (lib.renorm(a, p, dim, mx), a.renorm(p, dim, mx)), x)
    _gradcheck(lambda a: ember.renorm(a, 2, 0, 1.0), x)
    _gradcheck(lambda a: ember.renorm(a, 3, 1, 0.7), rnd(2, 3, 2))


# ------------------------------------------------------------------ triangular solves
def test_solve_triangular() -> None:
    A = rnd(3, 3) + 3 * np.eye(3)
    B = rnd(3, 2, seed=5)
    for upper in (True, False):
        for unit in (True, False):
            case(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=upper, unitriangular=unit), A, B)
            case(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=upper, left=False, unitriangular=unit),
                 A, B.T.copy())
            for tr in (False, True):
                case(lambda lib, a, b: lib.triangular_solve(b, a, upper, tr, unit), A, B)
                case(lambda lib, a, b: b.triangular_solve(a, upper=upper, transpose=tr).solution, A, B)
    case(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), rnd(2, 3, 3) + 3 * np.eye(3), B)
    _gradcheck(lambda a, b: ember.linalg.solve_triangular(a, b, upper=False), A, B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _gradcheck(lambda a, b: ember.triangular_solve(b, a, transpose=True)[0], A, B)
    with pytest.warns(UserWarning, match="deprecated in favor of ember.linalg.solve_triangular"):
        ember.triangular_solve(ember.ones(2, 1), ember.eye(2))


def test_cholesky_inverse() -> None:
    S = rnd(3, 3) + 3 * np.eye(3)
    L = np.linalg.cholesky(S @ S.T)
    case(lambda lib, a: lib.cholesky_inverse(a), L)
    case(lambda lib, a: a.cholesky_inverse(upper=True), L.T.copy())
    _gradcheck(lambda a: ember.cholesky_inverse(a.tril()), L)  # the upper half is not read


# ------------------------------------------------------------------ linalg solvers
def test_solve_ex_lstsq() -> None:
    A, B = rnd(3, 3) + 3 * np.eye(3), rnd(3, 2, seed=1)
    case(lambda lib, a, b: lib.linalg.solve_ex(a, b), A, B)
    case(lambda lib, a, b: lib.linalg.solve_ex(a, b, left=False).result, A, B.T.copy(), names=False)
    _both(lambda lib, a, b: lib.linalg.solve_ex(a, b).info, np.zeros((2, 2)), np.ones((2, 1)))
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.solve_ex(ember.zeros(2, 2), ember.ones(2, 1), check_errors=True)
    T, C = rnd(5, 3), rnd(5, 2, seed=2)
    for drv in (None, "gelsy", "gelsd", "gelss", "gels"):
        case(lambda lib, a, b: lib.linalg.lstsq(a, b, driver=drv), T, C, names=False)
    case(lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), T, C[:, 0].copy(), names=False)
    case(lambda lib, a, b: lib.linalg.lstsq(a, b), rnd(2, 4, 3), rnd(2, 4, 1), names=False)
    r = ember.linalg.lstsq(ember.tensor(T), ember.tensor(C))
    assert type(r).__name__ == "linalg_lstsq" and r.rank.dtype == ember.int64
    _gradcheck(lambda a, b: ember.linalg.lstsq(a, b).solution, T, C)


def test_tensorinv_tensorsolve_rank_cond() -> None:
    A = rnd(4, 6, 8, 3).reshape(4, 6, 24)[:, :, :24].reshape(4, 6, 8, 3) + np.eye(24).reshape(4, 6, 8, 3)
    case(lambda lib, a: lib.linalg.tensorinv(a, ind=2), A, names=False)
    Q = rnd(2, 3, 6) + np.eye(6).reshape(2, 3, 6)
    case(lambda lib, a, b: lib.linalg.tensorsolve(a, b), Q, rnd(2, 3, seed=4), names=False)
    case(lambda lib, a, b: lib.linalg.tensorsolve(a, b, dims=(0,)), rnd(6, 2, 3) + np.eye(6).reshape(6, 2, 3),
         rnd(2, 3, seed=4), names=False)
    M = rnd(4, 5) @ np.diag([1, 1, 1, 0, 0.0]) @ rnd(5, 5, seed=1)
    _both(lambda lib, a: (lib.linalg.matrix_rank(a), lib.linalg.matrix_rank(a, atol=0.5),
                          lib.linalg.matrix_rank(a, rtol=0.9), lib.linalg.matrix_rank(a @ a.mT, hermitian=True)), M)
    _both(lambda lib, a: lib.linalg.matrix_rank(a), rnd(2, 3, 4))
    S = rnd(3, 3) + 2 * np.eye(3)
    for p in (None, 2, -2, "nuc"):
        case(lambda lib, a: lib.linalg.cond(a, p), S, names=False)
    for p in (1, -1, float("inf"), "fro"):  # torch 2.13's own backward fails here (in-place on inv's result)
        case(lambda lib, a: lib.linalg.cond(a, p), S, grad=False)
        _gradcheck(lambda a: ember.linalg.cond(a, p), S)


def test_lu_family() -> None:
    A = rnd(4, 4)
    _both(lambda lib, a: lib.linalg.lu_factor(a), A)
    _both(lambda lib, a: lib.linalg.lu_factor(a), rnd(2, 3, 3))
    _both(lambda lib, a: lib.linalg.lu(a), rnd(3, 5))
    _both(lambda lib, a: lib.linalg.lu(a), rnd(2, 5, 3))
    case(lambda lib, a: lib.linalg.lu_factor(a).LU, A)
    case(lambda lib, a: lib.linalg.lu(a)[1:], A)
    for left in (True, False):
        for adj in (False, True):
            case(lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=left, adjoint=adj), A,
                 rnd(4, 4, seed=3), names=False)
    _gradcheck(lambda a: ember.linalg.lu(a)[2], A)
    _gradcheck(lambda a, b: ember.linalg.lu_solve(*ember.linalg.lu_factor(a), b), A, rnd(4, 2))


def test_eig_eigvals() -> None:
    A = rnd(3, 3)
    # eigenvectors are unique up to a unit factor, which differs between LAPACK builds: compare |V|
    # and check A V = V diag(L)
    for M in (A, rnd(3, 3) + 1j * rnd(3, 3, seed=2)):
        _both(lambda lib, a: (lib.linalg.eig(a)[0], lib.linalg.eig(a)[1].abs()), M)
        L, V = ember.linalg.eig(ember.tensor(M))
        np.testing.assert_allclose(M @ V.numpy(), V.numpy() * L.numpy(), atol=1e-12)
    _both(lambda lib, a: lib.linalg.eigvals(a), rnd(2, 4, 4))
    case(lambda lib, a: lib.linalg.eigvals(a), A)
    case(lambda lib, a: lib.linalg.eig(a)[0], rnd(2, 3, 3))
    case(lambda lib, a: lib.linalg.eig(a)[1].abs(), A)  # |V| is gauge invariant
    case(lambda lib, a: (lib.linalg.eig(a)[1].abs() * 2 + lib.linalg.eig(a)[0].real), rnd(4, 4, seed=5))
    _gradcheck(lambda a: ember.linalg.eig(a)[1].abs(), A)
    _gradcheck(lambda a: ember.view_as_real(ember.linalg.eigvals(a)), A)
    with pytest.raises(RuntimeError):
        ember.linalg.eig(ember.ones(2, 3))


def test_householder_product() -> None:
    A, tau = rnd(5, 3), rnd(3, seed=1)
    case(lambda lib, a, t: lib.linalg.householder_product(a, t), A, tau, names=False)
    case(lambda lib, a, t: lib.linalg.householder_product(a, t), A, tau[:2].copy(), names=False)
    case(lambda lib, a, t: lib.linalg.householder_product(a, t), rnd(2, 4, 4), rnd(2, 3, seed=2), names=False)
    M = rnd(4, 3) + 1j * rnd(4, 3, seed=3)
    _both(lambda lib, a, t: lib.linalg.householder_product(a, t), M, rnd(3, seed=4) + 1j * rnd(3, seed=5))
    _gradcheck(lambda a, t: ember.linalg.householder_product(a, t), A, tau)
    for bad in ((rnd(2, 3), rnd(2)), (rnd(3, 2), rnd(3))):
        with pytest.raises(RuntimeError):
            ember.linalg.householder_product(ember.tensor(bad[0]), ember.tensor(bad[1]))


def test_cholesky_solve() -> None:
    S = rnd(3, 3) + 3 * np.eye(3)
    L = np.linalg.cholesky(S @ S.T)
    B = rnd(3, 2, seed=6)
    case(lambda lib, b, a: lib.cholesky_solve(b, a), B, L)
    case(lambda lib, b, a: b.cholesky_solve(a, upper=True), B, L.T.copy())
    case(lambda lib, b, a: lib.cholesky_solve(b, a), rnd(2, 3, 2), L)
    _gradcheck(lambda b, a: ember.cholesky_solve(b, a.tril()), B, L)


def test_lu_factor_ex_unpack() -> None:
    _both(lambda lib, a: lib.linalg.lu_factor_ex(a), rnd(2, 3, 3))
    _both(lambda lib, a: lib.linalg.lu_factor_ex(a).info, np.array([[1.0, 2.0], [2.0, 4.0]]))
    for shape in ((4, 4), (3, 5), (5, 3), (2, 3, 3)):
        _both(lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a)), rnd(*shape))
    case(lambda lib, a: lib.lu_unpack(*lib.linalg.lu_factor(a))[1:], rnd(4, 4), names=False)

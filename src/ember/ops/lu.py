"""LU factorization with partial pivoting: ``linalg.lu_factor`` (LAPACK's packed LU and 1-based
pivots), ``linalg.lu`` (P, L, U) and ``linalg.lu_solve``. The derivative (square matrices) is written
once in ember ops with triangular solves; ``lu_solve`` is built from them, so it differentiates in
both the factors and B."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import _c, node_class
from .lapack import _keep_outputs, _mH, _multi, _results, _square
from .reduction import _named
from .triangular import solve_triangular

_LuFactor = _named("linalg_lu_factor", ("LU", "pivots"))
_Lu = _named("linalg_lu", ("P", "L", "U"))


def _lu_np(a: np.ndarray) -> tuple:
    """(packed LU, 1-based int32 pivots, row permutation) of every matrix in ``a`` (Doolittle with
    partial pivoting, one column at a time across the whole batch)."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    lu = a.reshape((-1, m, n)).copy()
    nb = lu.shape[0]
    piv = np.zeros((nb, k), np.int32)
    perm = np.tile(np.arange(m), (nb, 1))
    rows = np.arange(nb)
    for j in range(k):
        p = np.argmax(np.abs(lu[:, j:, j]), axis=1) + j
        piv[:, j] = p + 1
        lu[rows, j], lu[rows, p] = lu[rows, p].copy(), lu[rows, j].copy()
        perm[rows, j], perm[rows, p] = perm[rows, p].copy(), perm[rows, j].copy()
        d = lu[:, j, j]
        nz = d != 0
        lu[nz, j + 1:, j] /= d[nz, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), perm.reshape(batch + (m,))


def _perm_matrix(perm: np.ndarray, dtype: Any) -> np.ndarray:
    # A[perm] = L U, so A = P L U with P[perm[i], i] = 1
    m = perm.shape[-1]
    eye = np.eye(m, dtype=dtype)
    return np.swapaxes(eye[perm], -1, -2).copy()


def _unpack(lu: np.ndarray) -> tuple:
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = np.tril(lu, -1)[..., :, :k]
    L[..., np.arange(k), np.arange(k)] = 1
    return L, np.triu(lu)[..., :k, :]


def _lu_grad(L: Tensor, U: Tensor, P: Tensor, gL: Tensor | None, gU: Tensor | None) -> Tensor:
    """gA = P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H for square A."""
    if L.shape[-1] != U.shape[-1] or L.shape[-2] != L.shape[-1]:
        raise NotImplementedError("ember: the derivative of linalg.lu / lu_factor is implemented for square matrices only")
    M = None
    if gL is not None:
        M = _mH(L).matmul(gL).tril(-1)
    if gU is not None:
        t = gU.matmul(_mH(U)).triu()
        M = t if M is None else M + t
    X = solve_triangular(_mH(L), M, upper=True, unitriangular=True)
    Y = solve_triangular(_mH(U), X, upper=False, left=False)
    return P.matmul(Y)


def _lu_factor_grads(n: Any, gs: list) -> Tensor:
    LU, _ = _results(n)
    P = _new(n.attrs[1])
    g = gs[0]
    if g is None:
        return None
    return _lu_grad(LU.tril(-1) + _new(np.eye(LU.shape[-1], dtype=LU._data.dtype)), LU.triu(), P, g.tril(-1), g.triu())


LinalgLuFactorExBackward0 = node_class("linalg_lu_factor_ex", _lu_factor_grads,
                                       "P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H", n_outputs=2)


def lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> tuple:
    """``(LU, pivots)``: L (unit diagonal, below) and U packed in one matrix, and LAPACK's 1-based
    row interchanges (row i was swapped with row pivots[i])."""
    a = _square(A, "lu_factor", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, piv, perm = _lu_np(a)
    outs = _multi(LinalgLuFactorExBackward0, [lu, piv], (A,))
    _keep_outputs(outs, _perm_matrix(perm, a.dtype))
    if outs[1].grad_fn is not None:  # integer pivots carry no gradient
        outs[1]._grad_fn, outs[1]._rg = None, False
    return _LuFactor(*outs)


def _lu_grads(n: Any, gs: list) -> Tensor:
    P, L, U = _results(n)
    return _lu_grad(L, U, P.detach(), gs[1], gs[2])


LinalgLuBackward0 = node_class("linalg_lu", _lu_grads, "P L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H", n_outputs=3)


def lu(A: Tensor, *, pivot: bool = True, out: Any = None) -> tuple:
    """``(P, L, U)`` with A = P @ L @ U, L unit lower triangular and U upper triangular."""
    a = _square(A, "lu", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    lu_, _, perm = _lu_np(a)
    L, U = _unpack(lu_)
    outs = _multi(LinalgLuBackward0, [_perm_matrix(perm, a.dtype), L, U], (A,))
    _keep_outputs(outs)
    return _Lu(*outs)


def _pivots_to_perm(piv: np.ndarray, m: int) -> np.ndarray:
    perm = np.tile(np.arange(m), piv.shape[:-1] + (1,)).reshape(-1, m)
    p = piv.reshape(-1, piv.shape[-1]).astype(np.int64) - 1
    rows = np.arange(perm.shape[0])
    for j in range(p.shape[1]):
        perm[rows, j], perm[rows, p[:, j]] = perm[rows, p[:, j]].copy(), perm[rows, j].copy()
    return perm.reshape(piv.shape[:-1] + (m,))


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False,  # noqa: N803
             out: Any = None) -> Tensor:
    """X with A X = B (A^H X = B with ``adjoint``; X A = B with ``left=False``) from
    :func:`lu_factor`'s output."""
    if not left:  # X A = B  <=>  A^H X^H = B^H
        return _mH(lu_solve(LU, pivots, _mH(B), adjoint=not adjoint))
    m = LU.shape[-1]
    if LU.shape[-2] != m:
        raise RuntimeError("linalg.lu_solve: Expected LU to be square")
    if B.shape[-2] != m:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({m}x{m} and {B.shape[-2]}x{B.shape[-1]})")
    P = _new(_perm_matrix(_pivots_to_perm(pivots._data, m), LU._data.dtype))
    if not adjoint:  # A = P L U
        y = solve_triangular(LU, _c(P).mT.matmul(B), upper=False, unitriangular=True)
        return solve_triangular(LU, y, upper=True)
    y = solve_triangular(_mH(LU), B, upper=False)  # U^H
    y = solve_triangular(_mH(LU), y, upper=True, unitriangular=True)  # L^H
    return P.matmul(y)


_LuFactorEx = _named("linalg_lu_factor_ex", ("LU", "pivots", "info"))
_LuUnpack = _named("lu_unpack", ("P", "L", "U"))


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out: Any = None) -> tuple:
    """:func:`lu_factor` plus LAPACK's status per matrix (the 1-based index of the first zero pivot, or 0)."""
    LU, piv = lu_factor(A, pivot=pivot)
    d = np.diagonal(LU._data, 0, -2, -1)
    zero = d == 0
    info = np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
    if check_errors and info.any():
        from .lapack import LinAlgError

        raise LinAlgError(f"linalg.lu_factor_ex: U[{int(info.flat[np.flatnonzero(info)[0]])},"
                          f"{int(info.flat[np.flatnonzero(info)[0]])}] is zero and using it on lu_solve would "
                          "result in a division by zero.")
    return _LuFactorEx(LU, piv, _new(info))


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True,  # noqa: N803
              *, out: Any = None) -> tuple:
    """``(P, L, U)`` from :func:`lu_factor`'s packed output (differentiable in ``LU_data``)."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    dt = LU_data._data.dtype
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + _new(np.eye(m, k, dtype=dt))
        U = LU_data[..., :k, :].triu()
    else:
        L = U = _new(np.zeros((0,), dt))
    P = (_new(_perm_matrix(_pivots_to_perm(LU_pivots._data, m), dt)) if unpack_pivots
         else _new(np.zeros((0,), dt)))
    return _LuUnpack(P, L, U)

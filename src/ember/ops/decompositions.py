"""Matrix decompositions (``ember.linalg``): cholesky, qr, eigh, svd (and eigvalsh, svdvals), and pinv through the SVD.

Forwards call NumPy's LAPACK wrappers; each derivative is written in ember ops (matmul, solve,
transposes), so it differentiates again. Real (float32/float64) inputs, batched over leading dims.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import node_class, record
from .lapack import _RT, LinAlgError, _keep_outputs, _mH, _multi, _results, _square
from .matrix_functions import inv, solve


# --------------------------------------------------------------------------- cholesky
def _phi(x: Tensor) -> Tensor:
    # the lower triangle with the diagonal halved
    return x.tril(-1) + x.diagonal(0, -2, -1).diag_embed() * 0.5


def _cholesky_grad(n: Any, g: Tensor) -> Tensor:
    L = n.result
    if n.attrs:  # upper: work with L = U^H
        L, g = _mH(L), _mH(g)
    P = _phi(_mH(L).matmul(g))
    Linv = inv(L)
    S = _mH(Linv).matmul(P).matmul(Linv)
    return (S + _mH(S)) * 0.5


LinalgCholeskyExBackward0 = node_class("linalg_cholesky_ex", _cholesky_grad,
                                       "herm(L^-H phi(L^H grad) L^-1), phi = tril with halved diagonal")


def _potf2(m: np.ndarray) -> tuple:
    """One matrix's Cholesky factor by LAPACK's column-by-column potf2, stopping at the first
    leading minor that is not positive-definite: (the lower triangle as far as it got, its order or 0)."""
    L = np.tril(m)
    for j in range(m.shape[0]):
        row = L[j, :j]
        d = (m[j, j] - row @ row.conj()).real
        if not d > 0:  # (NaN too)
            L[j, j] = d
            return L, j + 1
        L[j, j] = d = np.sqrt(d)
        L[j + 1:, j] = (m[j + 1:, j] - L[j + 1:, :j] @ row.conj()) / d
    return L, 0


def _cholesky_np(a: np.ndarray, name: str, check: bool) -> tuple:
    """(L, info) of a batch of matrices, as torch's cholesky_ex: info is the order of the first
    leading minor that is not positive-definite (0: factored), L that matrix's partial factor.
    ``check``: raise torch's LinAlgError for the first failed matrix instead."""
    try:
        L = np.linalg.cholesky(a)
        if not np.isnan(np.diagonal(L, 0, -2, -1)).any():  # (NumPy factors a NaN pivot; LAPACK stops there)
            return L, np.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        pass
    flat = a.reshape(-1, *a.shape[-2:])
    parts = [_potf2(m) for m in flat]
    info = np.array([k for _, k in parts], np.int32).reshape(a.shape[:-2])
    if check:
        b = int(np.flatnonzero(info)[0])
        where = f"(Batch element {b}): " if a.ndim > 2 else ""
        raise LinAlgError(f"linalg.{name}: {where}The factorization could not be completed because the input is not "
                          f"positive-definite (the leading minor of order {parts[b][1]} is not positive-definite).")
    return np.stack([L for L, _ in parts]).reshape(a.shape), info


def _cholesky(A: Tensor, upper: bool, name: str, check: bool) -> tuple:
    L, info = _cholesky_np(_square(A, name), name, check)
    if upper:
        L = np.swapaxes(L, -2, -1).copy()  # U = L^H
        if L.dtype.kind == "c":
            np.conjugate(L, out=L)
    return record(LinalgCholeskyExBackward0, L, (A,), save_result=True, attrs=upper), _new(info)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices (lower by default)."""
    return _cholesky(A, upper, "cholesky", True)[0]


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> tuple:
    return _RT["cholesky_ex"](*_cholesky(A, upper, "cholesky_ex", check_errors))


# --------------------------------------------------------------------------- qr
def _copyltu(m: Tensor) -> Tensor:
    from .complex import real  # (lazily: importing ops.complex early would reorder its Tensor methods)

    d = m.diagonal(0, -2, -1)
    return m.tril(-1) + _mH(m.tril(-1)) + (real(d) if d.is_complex() else d).diag_embed().to(m.dtype)


def _qr_grads(n: Any, gs: list) -> Tensor:
    Q, R = _results(n)
    mode = n.attrs[1]
    gQ, gR = gs
    m, k = Q.shape[-2], Q.shape[-1]
    if mode == "complete" and m > R.shape[-1]:
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                           "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
                           if mode == "r" else "ember: the derivative of linalg.qr(mode='complete') is only implemented "
                           "for m <= n")
    if R.shape[-1] < k or m < R.shape[-1]:
        raise RuntimeError("ember: the derivative of linalg.qr is implemented for inputs with m >= n")
    if gQ is None:
        gQ = Q * 0
    if gR is None:
        gR = R * 0
    M = R.matmul(_mH(gR)) - _mH(gQ).matmul(Q)
    b = gQ + Q.matmul(_copyltu(M))
    # gA = b @ R^{-H}: solve R X^H = b^H
    return _mH(solve(R, _mH(b)))


LinalgQrBackward0 = node_class("linalg_qr", _qr_grads, "(gQ + Q copyltu(M)) R^-H, M = R gR^H - gQ^H Q", n_outputs=2)


def qr(A: Tensor, mode: str = "reduced") -> tuple:
    """(Q, R) with Q orthonormal columns and R upper triangular."""
    a = _square(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'")
    q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = np.zeros((0,), a.dtype)
    outs = _multi(LinalgQrBackward0, [q, r], (A,))
    _keep_outputs(outs, mode)
    return _RT["qr"](*outs)


# --------------------------------------------------------------------------- eigh
def _inv_gaps(E: Tensor) -> Tensor:
    """1 / E off the diagonal and 0 on it, differentiably."""
    from .indexing import where

    eye = _new(np.eye(E.shape[-1], dtype=bool))
    return where(eye, 0.0, 1 / (E + _new(np.eye(E.shape[-1], dtype=E._data.dtype))))


def _eigh_grads(n: Any, gs: list) -> Tensor:
    L, V = _results(n)
    gL, gV = gs
    out = None
    if gV is not None:
        Fi = _inv_gaps(L.unsqueeze(-2) - L.unsqueeze(-1))  # 1 / (L_j - L_i), 0 on the diagonal
        VtgV = _mH(V).matmul(gV)
        out = (VtgV - _mH(VtgV)) * 0.5 * Fi
    if gL is not None:
        d = gL.diag_embed().to(V.dtype)  # (real eigenvalues of a complex Hermitian matrix)
        out = d if out is None else out + d
    return V.matmul(out).matmul(_mH(V))


LinalgEighBackward0 = node_class("linalg_eigh", _eigh_grads, "V (diag(gL) + skew(V^H gV) / E) V^H", n_outputs=2)


def eigh(A: Tensor, UPLO: str = "L") -> tuple:  # noqa: N803
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices (reading the ``UPLO`` triangle)."""
    a = _square(A, "eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError("Expected UPLO argument to be 'L' or 'U', but got " + str(UPLO))
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    outs = _multi(LinalgEighBackward0, [w, v], (A,))
    _keep_outputs(outs)
    return _RT["eigh"](*outs)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    return eigh(A, UPLO)[0]


# --------------------------------------------------------------------------- svd
def _svd_grads(n: Any, gs: list) -> Tensor:
    U, S, Vh = _results(n)
    full = n.attrs[1]
    gU, gS, gVh = (list(gs) + [None] * 3)[:3] if len(gs) == 3 else (None, gs[0], None)
    m, k, nn = U.shape[-2], S.shape[-1], Vh.shape[-1]
    if full and m != nn:
        # the columns past k are not determined by A: like torch, differentiate the reduced factors
        # and drop the gradients that reach the rest
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        gU = None if gU is None else gU[..., :, :k]
        gVh = None if gVh is None else gVh[..., :k, :]
        m, nn = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:
        return U.matmul((gS.diag_embed() if gS is not None else (S * 0).diag_embed()).to(U.dtype)).matmul(Vh)
    V = _mH(Vh)
    S2 = S * S
    Fi = _inv_gaps(S2.unsqueeze(-2) - S2.unsqueeze(-1))  # 1 / (s_j^2 - s_i^2), 0 on the diagonal
    Sm = S.diag_embed().to(U.dtype)
    inner = (gS.diag_embed().to(U.dtype) if gS is not None else Sm * 0)
    extra = None
    if gU is not None:
        UtgU = _mH(U).matmul(gU)
        inner = inner + ((UtgU - _mH(UtgU)) * Fi).matmul(Sm)
        if U.is_complex():  # the phase of each singular pair: the imaginary diagonal of U^H gU
            from .complex import imag

            inner = inner + (imag(UtgU.diagonal(0, -2, -1)) / S * 1j).diag_embed()
        if m > k:
            extra = (gU - U.matmul(UtgU)).matmul((1 / S).diag_embed().to(U.dtype)).matmul(Vh)
    if gVh is not None:
        gV = _mH(gVh)
        VtgV = _mH(V).matmul(gV)
        inner = inner + Sm.matmul((VtgV - _mH(VtgV)) * Fi)
        if nn > k:
            e2 = U.matmul((1 / S).diag_embed().to(U.dtype)).matmul(_mH(gV - V.matmul(VtgV)))
            extra = e2 if extra is None else extra + e2
    out = U.matmul(inner).matmul(Vh)
    return out if extra is None else out + extra


LinalgSvdBackward0 = node_class("linalg_svd", _svd_grads, "U (F o skew terms + diag(gS)) V^T + projections",
                                n_outputs=3)


def svd(A: Tensor, full_matrices: bool = True) -> tuple:
    """(U, S, Vh) with A = U diag(S) Vh; S descending."""
    a = _square(A, "svd", square=False)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    outs = _multi(LinalgSvdBackward0, [u, s, vh], (A,))
    _keep_outputs(outs, full_matrices)
    return _RT["svd"](*outs)


def svdvals(A: Tensor) -> Tensor:
    """Singular values (descending); the gradient flows through the full SVD node, as in torch."""
    return svd(A, full_matrices=False)[1]


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse through the SVD (differentiable where the rank is constant)."""
    U, S, Vh = svd(A, full_matrices=False)
    tol = (rtol if rtol is not None else max(A.shape[-2:]) * np.finfo(A._data.dtype).eps) * S._data[..., :1]
    keep = _new(S._data > tol)
    from .indexing import where

    Sinv = where(keep, 1 / where(keep, S, 1.0), 0.0)
    return _mH(Vh).matmul(Sinv.unsqueeze(-1) * _mH(U))

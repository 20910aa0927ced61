"""Matrix decompositions and functions (``ember.linalg``): inv, det, slogdet, solve, cholesky, qr,
eigh, svd, and the matrix norms.

Forwards call NumPy's LAPACK wrappers; each derivative is written in ember ops (matmul, solve,
transposes), so it differentiates again. Real (float32/float64) inputs, batched over leading dims.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import _c, attach, needs_grad, node_class, record
from .reduction import _LEGACY_NAMES, _named, vector_norm

_RT = {
    "slogdet": _named("slogdet", ("sign", "logabsdet")),
    "qr": _named("qr", ("Q", "R")),
    "eigh": _named("eigh", ("eigenvalues", "eigenvectors")),
    "svd": _named("svd", ("U", "S", "Vh")),
    "inv_ex": _named("inv_ex", ("inverse", "info")),
    "cholesky_ex": _named("cholesky_ex", ("L", "info")),
}


class LinAlgError(RuntimeError):
    """A matrix that is singular, not positive-definite, ... (``torch.linalg.LinAlgError``)."""


def _square(A: Tensor, name: str, square: bool = True) -> np.ndarray:
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_LEGACY_NAMES[A.dtype.name]}")
    return a


def _multi(cls: type, arrays: list, inputs: tuple, saved: tuple = (), attrs: Any = None, save_result: int | None = None) -> list:
    outs = [_new(a if a.flags.c_contiguous else a.copy()) for a in (np.asarray(x) for x in arrays)]
    if needs_grad(*inputs):
        node = attach(outs[0], cls, inputs, saved, attrs=attrs)
        node.n_outputs = len(outs)
        for i, o in enumerate(outs[1:], 1):
            o.grad_fn, o._rg, o._out_nr = node, True, i
    return outs


def _results(n: Any) -> tuple:
    """The node's saved outputs, attached to it (as ``result`` is) when building a higher-order graph."""
    from ..autograd import grad_mode

    out = []
    for k, (arr, vc) in enumerate(n.attrs[0]):
        t = _new(arr, n if grad_mode._state.enabled else None, vc)
        t._out_nr = k
        out.append(t)
    return tuple(out)


def _keep_outputs(outs: list, extra: Any = None) -> None:
    node = outs[0].grad_fn
    if node is not None:
        node.attrs = (tuple((o._data, o._vc) for o in outs), extra)


def _mT(t: Tensor) -> Tensor:
    return t.transpose(-2, -1)


def _mH(t: Tensor) -> Tensor:
    # the conjugate transpose: derivatives of complex matrices use it where real ones transpose
    return _c(t.transpose(-2, -1))


def _singular(name: str) -> RuntimeError:
    return LinAlgError(f"linalg.{name}: The diagonal element 1 is zero, the inversion could not be completed because "
                        "the input matrix is singular.")


# --------------------------------------------------------------------------- inv / det / slogdet
LinalgInvExBackward0 = node_class("linalg_inv_ex", lambda n, g: -_mH(n.result).matmul(g).matmul(_mH(n.result)),
                                  "-inverse^H @ grad @ inverse^H")


def inv(A: Tensor) -> Tensor:
    """The inverse of square matrices; singular input raises as in torch."""
    a = _square(A, "inv")
    try:
        r = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _singular("inv") from None
    return record(LinalgInvExBackward0, r, (A,), save_result=True)


def _matrix_exp_grad(n: Any, g: Tensor) -> Tensor:
    # the Frechet derivative's adjoint: the top-right block of exp([[A^T, G], [0, A^T]]); written
    # with matrix_exp itself, so gradients of any order follow
    from .creation import zeros_like
    from .shape import cat

    at = _mH(n.saved[0])
    top = cat([at, g], -1)
    bottom = cat([zeros_like(at), at], -1)
    k = at.shape[-1]
    return matrix_exp(cat([top, bottom], -2))[..., :k, k:]


LinalgMatrixExpBackward0 = node_class("linalg_matrix_exp", _matrix_exp_grad,
                                      "the upper-right block of exp([[A^T, grad], [0, A^T]])")


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of square matrices (SciPy's expm, batched)."""
    a = _square(A, "matrix_exp")
    from .pointwise import scipy_special

    r = np.asarray(scipy_special("expm", "linalg", "matrix_exp")(a), dtype=a.dtype) if a.size else a.copy()
    return record(LinalgMatrixExpBackward0, r, (A,), (A,))


def inv_ex(A: Tensor, *, check_errors: bool = False) -> tuple:
    return _RT["inv_ex"](inv(A), _new(np.zeros(A._data.shape[:-2], np.int32)))


inverse = inv


LinalgDetBackward0 = node_class(
    "linalg_det", lambda n, g: (g * _c(n.result)).unsqueeze(-1).unsqueeze(-1) * _mH(inv(n.saved[0])),
    "grad * det.conj() * inverse(A)^H")


def det(A: Tensor) -> Tensor:
    """The determinant (gradient via the inverse, so singular matrices give non-finite gradients)."""
    a = _square(A, "det")
    return record(LinalgDetBackward0, np.asarray(np.linalg.det(a)), (A,), (A,), save_result=True)


def _slogdet_grad(n: Any, gs: list) -> Tensor | None:
    A = n.saved[0]
    g_sign, c = gs
    if g_sign is not None and A._data.dtype.kind == "c":
        # the sign e^(i phi) turns with phi = Im log det: its gradient is the imaginary part
        from .complex import imag

        turn = imag(_c(g_sign) * det(A).sgn()) * -1j
        c = turn if c is None else c + turn
    if c is None:
        return None
    return c.unsqueeze(-1).unsqueeze(-1) * _mH(inv(A))


LinalgSlogdetBackward0 = node_class(
    "linalg_slogdet", _slogdet_grad, "(grad_logabsdet - i Im(grad_sign.conj() * sign)) * inverse(A)^H", n_outputs=2)


def slogdet(A: Tensor) -> tuple:
    """(sign, log|det|) of square matrices."""
    a = _square(A, "slogdet")
    s, l = np.linalg.slogdet(a)
    sign, logabs = _multi(LinalgSlogdetBackward0, [np.asarray(s), np.asarray(l)], (A,), (A,))
    return _RT["slogdet"](sign, logabs)


def logdet(input: Tensor) -> Tensor:
    """log det; NaN for a negative determinant."""
    s, l = slogdet(input)
    from .indexing import where

    return where(_new(s._data < 0), float("nan"), l)


# --------------------------------------------------------------------------- solve
def _is_vector_rhs(a: np.ndarray, b: np.ndarray) -> bool:
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def _solve_grads(n: Any, g: Tensor) -> tuple:
    A = n.saved[0]
    X = n.result
    vec, left = n.attrs
    if not left:
        raise RuntimeError("ember: linalg.solve(left=False) is computed through a transpose")
    gB = solve(_mH(A), g)
    gA = None
    if n.needs[0]:
        gA = -(gB.unsqueeze(-1).matmul(_c(X.unsqueeze(-2))) if vec else gB.matmul(_mH(X)))
    return gA, gB if n.needs[1] else None


LinalgSolveExBackward0 = node_class("linalg_solve_ex", _solve_grads, "gB = solve(A^H, grad), gA = -gB @ X^H")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A @ X = B (or X @ A = B with ``left=False``)."""
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    a = _square(A, "solve")
    b = B._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_LEGACY_NAMES[A.dtype.name]} and B of type {_LEGACY_NAMES[B.dtype.name]} instead")
    vec = _is_vector_rhs(a, b)
    try:
        if vec:
            if b.shape[-1] != a.shape[-1]:
                raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                                   f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-1]}x1)")
            r = np.linalg.solve(a, b[..., None])[..., 0]
        else:
            if b.shape[-2] != a.shape[-1]:
                raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                                   f"({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
            r = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.solve: The solver failed because the input matrix is singular.") from None
    return record(LinalgSolveExBackward0, np.asarray(r), (A, B), (A,), save_result=True, attrs=(vec, True))


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


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices (lower by default)."""
    a = _square(A, "cholesky")
    try:
        L = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                           "positive-definite.") from None
    if upper:
        L = np.swapaxes(L, -2, -1).copy()  # U = L^H
        if L.dtype.kind == "c":
            np.conjugate(L, out=L)
    return record(LinalgCholeskyExBackward0, L, (A,), save_result=True, attrs=upper)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> tuple:
    return _RT["cholesky_ex"](cholesky(A, upper=upper), _new(np.zeros(A._data.shape[:-2], np.int32)))


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
    if full and (gU is not None or gVh is not None) and m != nn:
        raise RuntimeError("linalg_svd_backward: The derivative of linalg.svd is not implemented when full_matrices=True "
                           "and the input is not square. Use full_matrices=False.")
    if full and m != nn:
        U, Vh = U[..., :, :k], Vh[..., :k, :]
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


# --------------------------------------------------------------------------- norms and friends
def matrix_norm(A: Tensor, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Frobenius, nuclear, or induced 1 / 2 / inf (and negative) matrix norms over ``dim``."""
    a = _square(A, "matrix_norm", square=False)
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (int(dim[0]) % a.ndim, int(dim[1]) % a.ndim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        An = A.movedim((d0, d1), (-2, -1))
        s = svdvals(An)
        r = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return r
    if ord in (1, -1, float("inf"), float("-inf")):
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = A.abs().sum(sum_dim, keepdim=keepdim)
        if not keepdim and sum_dim < red_dim:
            red_dim -= 1
        return s.amax(red_dim, keepdim) if ord > 0 else s.amin(red_dim, keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """linalg.norm: a vector norm for 1-D input (or int ``dim``), a matrix norm for 2-D (or 2-tuple ``dim``)."""
    if dim is not None and not isinstance(dim, int) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Order {ord} not supported.")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def matrix_power(A: Tensor, n: int) -> Tensor:
    _square(A, "matrix_power")
    if n == 0:
        from .creation import eye

        return eye(A.shape[-1], dtype=A.dtype).expand(A.shape).clone()
    base = inv(A) if n < 0 else A
    out = base
    for _ in range(abs(n) - 1):
        out = out.matmul(base)
    return out


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse through the SVD (differentiable where the rank is constant)."""
    U, S, Vh = svd(A, full_matrices=False)
    tol = (rtol if rtol is not None else max(A.shape[-2:]) * np.finfo(A._data.dtype).eps) * S._data[..., :1]
    keep = _new(S._data > tol)
    from .indexing import where

    Sinv = where(keep, 1 / where(keep, S, 1.0), 0.0)
    return _mH(Vh).matmul(Sinv.unsqueeze(-1) * _mH(U))

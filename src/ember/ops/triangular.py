"""Triangular solves and the inverse from a Cholesky factor: ``linalg.solve_triangular``,
``triangular_solve`` (torch's older spelling, returning the solution and a copy of A) and
``cholesky_inverse``. Derivatives are written once in ember ops, so they differentiate again."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor
from ._core import attach_methods, node_class, record
from .lapack import _keep_outputs, _mH, _multi, _results, _square
from .reduction import _named

_TriangularSolve = _named("triangular_solve", ("solution", "cloned_coefficient"))

# ---------------------------------------------------------------------- the forward on arrays


def _tri(a: np.ndarray, upper: bool, unit: bool) -> np.ndarray:
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        n = a.shape[-1]
        t = t.copy()
        t[..., np.arange(n), np.arange(n)] = 1
    return t


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # a triangular system solved by LU on the triangle (exact for triangular input); a zero pivot
    # gives inf/NaN as LAPACK's trtrs does, not an error
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a, b = np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(b, batch + b.shape[-2:])
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return _substitute(a, b)


def _substitute(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-by-row substitution (a zero pivot yields inf/NaN); only for singular triangles."""
    lower = not np.triu(a, 1).any()
    n = a.shape[-1]
    x = np.zeros(b.shape, np.result_type(a, b))
    with np.errstate(all="ignore"):
        for i in (range(n) if lower else range(n - 1, -1, -1)):
            x[..., i, :] = (b[..., i, :] - (a[..., i:i + 1, :] @ x)[..., 0, :]) / a[..., i, i, None]
    return x


def _tri_ember(A: Tensor, upper: bool, unit: bool) -> Tensor:
    """The triangle of ``A`` that the solve reads (diagonal dropped when unitriangular)."""
    t = A.triu() if upper else A.tril()
    if unit:
        t = A.triu(1) if upper else A.tril(-1)
    return t


# ---------------------------------------------------------------------- linalg.solve_triangular
def _solve_triangular_grads(n: Any, g: Tensor) -> tuple:
    A, = n.saved
    X = n.result
    upper, left, unit = n.attrs
    gB = gA = None
    if n.needs[0] or n.needs[1]:
        gB = solve_triangular(_mH(A), g, upper=not upper, left=left, unitriangular=unit)
    if n.needs[0]:
        gA = -gB.matmul(_mH(X)) if left else -_mH(X).matmul(gB)
        gA = _tri_ember(gA, upper, unit)
    return gA, gB


LinalgSolveTriangularBackward0 = node_class(
    "linalg_solve_triangular", _solve_triangular_grads,
    "gB = solve_triangular(A^H, grad), gA = tri(-gB X^H) (left) or tri(-X^H gB) (right)")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out: Any = None) -> Tensor:
    """X with A @ X = B (``left``) or X @ A = B, reading only A's upper or lower triangle (and taking
    its diagonal as ones with ``unitriangular``)."""
    a = _square(A, "solve_triangular")
    b = B._data
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{A.dtype} and B of type {B.dtype} instead".replace("torch.", "").replace("float64", "Double")
                           .replace("float32", "Float"))
    k = b.shape[-2] if left else b.shape[-1]
    if k != a.shape[-1]:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    t = _tri(a, upper, unitriangular)
    if left:
        r = _solve(t, b)
    else:
        r = np.swapaxes(_solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    return record(LinalgSolveTriangularBackward0, np.ascontiguousarray(r), (A, B), (A,), save_result=True,
                  attrs=(upper, left, unitriangular))


# ---------------------------------------------------------------------- triangular_solve
def _triangular_solve_grads(n: Any, gs: list) -> tuple:
    A, = n.saved
    X, _ = _results(n)
    upper, transpose, unit = n.attrs[1]
    gX, gM = gs
    gA = gB = None
    if gX is not None:
        opA = A.mT if transpose else A
        gB = solve_triangular(_mH(opA), gX, upper=upper == transpose, unitriangular=unit)
        if n.needs[1]:
            gA = -gB.matmul(_mH(X))
            if transpose:
                gA = gA.mT
            gA = _tri_ember(gA, upper, unit)
    if gM is not None and n.needs[1]:
        gA = gM if gA is None else gA + gM
    return gB, gA


TriangularSolveBackward0 = node_class("triangular_solve", _triangular_solve_grads,
                                      "gB = solve(op(A)^H, grad), gA = tri(-gB X^H) (transposed for transpose=True)",
                                      n_outputs=2)


def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: A002
                     unitriangular: bool = False, *, out: Any = None) -> tuple:
    """``(solution, cloned_coefficient)``: X with op(A) @ X = input, op(A) being A or its transpose,
    reading A's upper (default) or lower triangle; the second result is a copy of A."""
    warnings.warn("ember.triangular_solve is deprecated in favor of ember.linalg.solve_triangular and will be removed "
                  "in a future release.\nember.linalg.solve_triangular has its arguments reversed and does not return a "
                  "copy of one of the inputs.\nX = ember.triangular_solve(B, A).solution\nshould be replaced with\n"
                  "X = ember.linalg.solve_triangular(A, B).", UserWarning, stacklevel=2)
    a, b = A._data, input._data
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError("torch.triangular_solve: Expected b to have at least 2 dimensions, but it has "
                           f"{b.ndim} dimensions instead" if b.ndim < 2 else
                           f"torch.triangular_solve: Expected A to have at least 2 dimensions, but it has {a.ndim} dimensions instead")
    t = _tri(a, upper, unitriangular)
    if transpose:
        t = np.swapaxes(t, -1, -2)
    x = _solve(t, b)
    outs = _multi(TriangularSolveBackward0, [x, a.copy()], (input, A), (A,))
    _keep_outputs(outs, (upper, transpose, unitriangular))
    return _TriangularSolve(*outs)


# ---------------------------------------------------------------------- cholesky_inverse
def _cholesky_inverse_grad(n: Any, g: Tensor) -> Tensor:
    L, = n.saved
    R = n.result
    upper = n.attrs
    gA = -R.matmul(g).matmul(R)  # R is Hermitian: R^H g R^H = R g R
    gA = gA + _mH(gA)
    return L.matmul(gA) if upper else gA.matmul(L)


CholeskyInverseBackward0 = node_class("cholesky_inverse", _cholesky_inverse_grad,
                                      "gL = (gA + gA^H) L with gA = -R grad R (L gA... for upper)")


def cholesky_inverse(input: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: A002
    """The inverse of A = L L^H (or U^H U with ``upper``) from its Cholesky factor."""
    a = input._data
    if a.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor input must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"cholesky_inverse: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    t = _tri(a, upper, False)
    th = np.conj(np.swapaxes(t, -1, -2))
    full = th @ t if upper else t @ th
    try:
        r = np.linalg.inv(full)
    except np.linalg.LinAlgError:
        from .lapack import LinAlgError

        raise LinAlgError("cholesky_inverse: The diagonal element 1 is zero, the inversion could not be completed "
                          "because the input matrix is singular.") from None
    return record(CholeskyInverseBackward0, r, (input,), (input,), save_result=True, attrs=upper)


# ---------------------------------------------------------------------- cholesky_solve
def _cholesky_solve_grads(n: Any, g: Tensor) -> tuple:
    B, L = n.saved
    X = n.result
    upper = n.attrs
    gB = cholesky_solve(g, L, upper)
    gL = None
    if n.needs[1]:
        t = gB.matmul(_mH(X))
        t = t + _mH(t)
        gL = -L.matmul(t) if upper else -t.matmul(L)
    return (gB if n.needs[0] else None), gL


CholeskySolveBackward0 = node_class("cholesky_solve", _cholesky_solve_grads,
                                    "gB = cholesky_solve(grad, L), gL = -(gB X^H + X gB^H) L (U (...) for upper)")


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:  # noqa: N803
    """X with A X = B where A = L L^H (or U^H U with ``upper``), given the Cholesky factor."""
    lf, b = L._data, B._data
    if b.ndim < 2 or lf.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions instead" if b.ndim < 2
                           else f"u should have at least 2 dimensions, but has {lf.ndim} dimensions instead")
    if lf.shape[-1] != lf.shape[-2]:
        raise RuntimeError(f"A must be batches of square matrices, but they are {lf.shape[-2]} by {lf.shape[-1]} matrices")
    if b.dtype != lf.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {B.dtype} and A of type "
                           f"{L.dtype} instead.".replace("torch.", ""))
    t = _tri(lf, upper, False)
    th = np.conj(np.swapaxes(t, -1, -2))
    lo, hi = (th, t) if upper else (t, th)  # A = lo @ hi
    r = _solve(hi, _solve(lo, b))
    return record(CholeskySolveBackward0, np.ascontiguousarray(r), (B, L), (B, L), save_result=True, attrs=upper)


attach_methods(cholesky_inverse=cholesky_inverse, triangular_solve=triangular_solve, cholesky_solve=cholesky_solve)

"""Matrix functions (``ember.linalg``): inv, det, slogdet, logdet, solve, matrix_exp, matrix_power.

Forwards call NumPy's LAPACK wrappers; each derivative is written in ember ops (matmul, solve,
transposes), so it differentiates again. Real (float32/float64) inputs, batched over leading dims.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import _c, node_class, record
from .lapack import _RT, LinAlgError, _keep_outputs, _mH, _mT, _multi, _singular, _square
from .reduction import _LEGACY_NAMES

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
    from .elementary import (
        scipy_special,
    )

    r = np.asarray(scipy_special("expm", "linalg", "matrix_exp")(a), dtype=a.dtype) if a.size else a.copy()
    return record(LinalgMatrixExpBackward0, r, (A,), (A,))


def inv_ex(A: Tensor, *, check_errors: bool = False) -> tuple:
    return _RT["inv_ex"](inv(A), _new(np.zeros(A._data.shape[:-2], np.int32)))


inverse = inv


def _det_grad(n: Any, g: Tensor) -> Tensor:
    if n.saved[0]._data.shape[-1] == 1:  # det of 1x1 is the entry: grad itself, no graph (as torch)
        return g.unsqueeze(-1).unsqueeze(-1)
    return (g * _c(n.result)).unsqueeze(-1).unsqueeze(-1) * _mH(inv(n.saved[0]))


LinalgDetBackward0 = node_class("linalg_det", _det_grad, "grad * det.conj() * inverse(A)^H")


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
    _keep_outputs([sign, logabs])
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

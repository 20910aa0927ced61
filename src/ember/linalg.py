"""ember.linalg: torch.linalg's functions (decompositions, solves, norms), differentiable to any order."""

from __future__ import annotations

from collections.abc import Sequence

from ._tensor import Tensor
from .ops.decompositions import cholesky, cholesky_ex, eigh, eigvalsh, pinv, qr, svd, svdvals
from .ops.eig import eig, eigvals
from .ops.householder import householder_product
from .ops.lapack import LinAlgError
from .ops.linalg import cross, matmul, vdot
from .ops.lu import lu, lu_factor, lu_factor_ex, lu_solve
from .ops.matrices import linalg_vander as vander
from .ops.matrix_functions import det, inv, inv_ex, matrix_exp, matrix_power, slogdet, solve
from .ops.matrix_norms import matrix_norm, norm
from .ops.reduction import vector_norm
from .ops.solvers import cond, lstsq, matrix_rank, solve_ex, tensorinv, tensorsolve
from .ops.triangular import solve_triangular


def vecdot(x, y, *, dim: int = -1):
    """Dot products along ``dim`` (with broadcasting); the first operand is conjugated, as in torch."""
    return (x.conj() * y).sum(dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices, ``tensors[0] @ tensors[1] @ ...``.

    The first tensor may be 1-D (a row vector) and the last 1-D (a column vector); the others are 2-D.

    >>> ember.linalg.multi_dot([ember.ones(2, 3), ember.ones(3, 4), ember.ones(4)])
    tensor([12., 12.])
    """
    out = tensors[0]
    for t in tensors[1:]:
        out = out.matmul(t)
    return out


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset``-th diagonal of each matrix in ``A`` (over its last two dimensions by default), as a view."""
    return A.diagonal(offset, dim1, dim2)


__all__ = ["LinAlgError", "matrix_exp", "cholesky", "cholesky_ex", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "inv_ex", "matmul",
           "matrix_norm", "matrix_power", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
           "vdot", "vecdot", "vector_norm", "solve_triangular", "vander",
           "cond", "lstsq", "matrix_rank", "solve_ex", "tensorinv", "tensorsolve", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "eig", "eigvals",
           "householder_product"]

from .ops._numpy_names import install as _install_numpy_names  # noqa: E402

_install_numpy_names(globals())  # torch.linalg's functions take axis= / keepdims= as well

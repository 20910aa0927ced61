"""Matrix norms (``ember.linalg.matrix_norm`` and ``ember.linalg.norm``): Frobenius, nuclear, spectral
and the max-abs-sum norms, built from ember ops (the spectral ones from ``svdvals``).
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from .decompositions import svdvals
from .lapack import _square
from .reduction import vector_norm


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

"""More of torch.linalg's solvers, built from ember's differentiable decompositions: ``solve_ex``,
``lstsq``, ``tensorinv``, ``tensorsolve``, and ``matrix_rank`` and ``cond``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from .decompositions import pinv, svdvals
from .lapack import LinAlgError, _square
from .matrix_functions import inv, solve
from .matrix_norms import matrix_norm
from .reduction import _named

_SolveEx = _named("linalg_solve_ex", ("result", "info"))
_Lstsq = _named("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out: Any = None) -> tuple:
    """``(result, info)``: :func:`solve` plus LAPACK's status (0, or the 1-based index of a zero pivot
    of a singular matrix, whose result is then NaN unless ``check_errors`` raises)."""
    try:
        x = solve(A, B, left=left)
    except LinAlgError:
        if check_errors:
            raise
        a = A._data
        x = _new(np.full(np.broadcast_shapes(a.shape[:-2], B._data.shape[:-2]) + B._data.shape[-2:]
                         if B._data.ndim > 1 else a.shape[:-1], np.nan, a.dtype))
        return _SolveEx(x, _new(np.ones(a.shape[:-2], np.int32)))
    return _SolveEx(x, _new(np.zeros(A._data.shape[:-2], np.int32)))


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> tuple:
    """Least-squares solution of A X = B as ``(solution, residuals, rank, singular_values)``; which
    of the last three are filled depends on ``driver`` as in torch (CPU default ``gelsy``: rank only)."""
    a = _square(A, "lstsq", square=False)
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)"
                           .replace("torch.", ""))
    if B.dim() < 1 or not (0 <= A.dim() - B.dim() <= 1):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1".replace("torch.", ""))
    vec = A.dim() - B.dim() == 1
    b = B.unsqueeze(-1) if vec else B
    if b.shape[-2] != a.shape[-2]:
        raise RuntimeError("linalg.lstsq: input.size(-2) should match other.size(-2)")
    if a.dtype != b._data.dtype:
        raise RuntimeError(f"linalg.lstsq: Expected input and other to have the same dtype, but got input's dtype "
                           f"{A.dtype} and other's dtype {B.dtype}".replace("torch.", "ember."))
    m, n = a.shape[-2], a.shape[-1]
    s = np.linalg.svd(a, compute_uv=False) if a.size else np.zeros(a.shape[:-2] + (0,), a.real.dtype)
    eps = np.finfo(a.real.dtype).eps
    rc = eps * max(m, n) if rcond is None else rcond
    tol = (s[..., :1] if s.shape[-1] else 0) * rc
    rank = (s > tol).sum(-1).astype(np.int64)
    # the minimum-norm solution; pinv's derivative is torch's lstsq derivative
    x = pinv(A, rtol=rc if driver != "gels" else 0.0).matmul(b)
    full = bool((rank == min(m, n)).all())
    if driver != "gelsy" and m > n and full:
        r = A.matmul(x) - b
        res = (r.abs() ** 2 if r.is_complex() else r * r).sum(-2)  # a vector B keeps its one column here
    else:
        e = x.reshape(-1)[:0]  # empty, but part of the graph as torch's is
        res = e.real if e.is_complex() else e
    xs = x.squeeze(-1) if vec else x
    rk = _new(rank) if driver != "gels" else _new(np.zeros((0,), np.int64))
    sv = _new(s.astype(a.real.dtype)) if driver in ("gelsd", "gelss") else _new(np.zeros((0,), a.real.dtype))
    return _Lstsq(xs, res, rk, sv)


def tensorinv(A: Tensor, ind: int = 2, *, out: Any = None) -> Tensor:
    """The inverse of ``A`` seen as a linear map from its first ``ind`` dims to the rest
    (``tensordot(tensorinv(A, ind), A, ind)`` is the identity)."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    rows, cols = int(np.prod(out_shape)), int(np.prod(in_shape))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), "
                           f"but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(in_shape + out_shape)


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None, *, out: Any = None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) == B``; ``dims`` moves those dims of A to the end first."""
    if dims is not None:
        nd = A.dim()
        dims = [d % nd for d in dims]
        A = A.permute(*[i for i in range(nd) if i not in dims], *dims)
    rest = tuple(A.shape[B.dim():])
    n = int(np.prod(rest))
    if int(np.prod(A.shape[:B.dim()])) != n:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {n} != {int(np.prod(A.shape[:B.dim()]))}")
    return solve(A.reshape(n, n), B.reshape(n)).reshape(rest)


def matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None, rtol: Any = None,
                out: Any = None) -> Tensor:
    """The number of singular values above ``max(atol, rtol * largest)`` (int64; no gradient). With
    neither given, rtol is eps * max(m, n)."""
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    a = _square(A, "matrix_rank", square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    big = s.max(-1, initial=0.0)
    at = 0.0 if atol is None else (atol._data if isinstance(atol, Tensor) else atol)
    if rtol is None:
        rtol = np.finfo(a.real.dtype).eps * max(a.shape[-2:]) if atol is None or np.all(np.asarray(at) <= 0) else 0.0
    rt = rtol._data if isinstance(rtol, Tensor) else rtol
    thr = np.maximum(at, rt * big)
    return _new((s > np.asarray(thr)[..., None]).sum(-1).astype(np.int64))


def cond(A: Tensor, p: Any = None, *, out: Any = None) -> Tensor:
    """The condition number of ``A`` in norm ``p``: for None/2/-2 the ratio of extreme singular
    values, otherwise ``norm(A, p) * norm(inv(A), p)`` (square A)."""
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return r
    if p not in ("fro", "nuc", 1, -1, float("inf"), float("-inf")):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() > 1 else 1} by {A.shape[-1]} matrices")
    return matrix_norm(A, p) * matrix_norm(inv(A), p)

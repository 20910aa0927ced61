# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""Matrix products and ember.linalg against torch (values, names, first and second gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from ops_oracle import case, raises_like, rnd

import ember

S = rnd(4, 4) + 3 * np.eye(4)
SPD = S @ S.T + np.eye(4)
BS = rnd(2, 3, 3) + 3 * np.eye(3)


def test_products_all_ranks() -> None:
    v, w, M, N = rnd(4), rnd(4, seed=1), rnd(3, 4), rnd(4, 5)
    case(lambda lib, a, b: a @ b, v, w)
    case(lambda lib, a, b: a @ b, M, v)
    case(lambda lib, a, b: a @ b, v, N)
    case(lambda lib, a, b: a @ b, M, N)
    case(lambda lib, a, b: a @ b, rnd(2, 3, 4), N)
    case(lambda lib, a, b: a @ b, v, rnd(2, 4, 3))
    case(lambda lib, a, b: a @ b, rnd(2, 3, 4), v)
    case(lambda lib, a, b: lib.matmul(a, b), rnd(2, 1, 3, 4), rnd(5, 4, 2))
    case(lambda lib, a, b: (lib.mm(a, b), a.mm(b)), M, N)
    case(lambda lib, a, b: lib.bmm(a, b), rnd(2, 3, 4), rnd(2, 4, 5))
    case(lambda lib, a, b: (lib.mv(a, b), lib.dot(b, b), lib.outer(b, b), lib.vdot(b, b), lib.inner(b, b)), M, v)
    case(lambda lib, a, b: (lib.inner(a, b), lib.kron(a, b), a.kron(b[:2])), M, rnd(5, 4))
    case(lambda lib, a: lib.trace(a), S)
    case(lambda lib, a, b: lib.linalg.cross(a, b), rnd(2, 3), rnd(2, 3, seed=4))


def test_fused_products() -> None:
    M, N = rnd(3, 4), rnd(4, 5)
    case(lambda lib, c, a, b: lib.addmm(c, a, b), rnd(3, 5), M, N)
    case(lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2), rnd(5), M, N)
    case(lambda lib, c, a, b: c.addmm(a, b, beta=0), rnd(3, 5), M, N)
    case(lambda lib, c, a, b: lib.addmv(c, a, b, alpha=3), rnd(3), M, rnd(4))
    case(lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=2), rnd(2, 3, 5), rnd(2, 3, 4), rnd(2, 4, 5))
    case(lambda lib, c, a, b: lib.addbmm(c, a, b), rnd(3, 5), rnd(2, 3, 4), rnd(2, 4, 5))
    raises_like(lambda lib, c, a, b: lib.addmm(c, a, b), rnd(3, 5), M, rnd(3, 5))


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->i", [(4, 4)]), ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]), ("ij,ij->ij", [(3, 4), (3, 4)]), ("i,j->ij", [(3,), (4,)]), ("...ij,...jk", [(2, 3, 4), (4, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ijk->kj", [(2, 3, 4)]),
])
def test_einsum(eq, shapes) -> None:
    arrays = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    case(lambda lib, *ts: lib.einsum(eq, *ts), *arrays, names=False)
    case(lambda lib, *ts: lib.einsum(eq, list(ts)), *arrays, names=False, second=False)


def test_tensordot() -> None:
    case(lambda lib, a, b: lib.tensordot(a, b, 1), rnd(3, 4), rnd(4, 5))
    case(lambda lib, a, b: lib.tensordot(a, b, ([0, 2], [2, 0])), rnd(2, 3, 4), rnd(4, 5, 2))
    case(lambda lib, a, b: lib.tensordot(a, b, 0), rnd(2), rnd(3))


def test_inverse_det_solve() -> None:
    case(lambda lib, a: (lib.linalg.inv(a), lib.inverse(a), a.inverse()), S)
    case(lambda lib, a: lib.linalg.inv(a), BS)
    case(lambda lib, a: (lib.linalg.det(a), lib.det(a), a.det()), S)
    case(lambda lib, a: lib.linalg.det(a), BS)
    case(lambda lib, a: lib.linalg.slogdet(a), S - 3 * np.eye(4))
    case(lambda lib, a: (lib.slogdet(a), lib.logdet(a)), SPD)
    case(lambda lib, a, b: lib.linalg.solve(a, b), S, rnd(4, 2))
    case(lambda lib, a, b: lib.linalg.solve(a, b), S, rnd(4))
    case(lambda lib, a, b: lib.linalg.solve(a, b), BS, rnd(2, 3))
    case(lambda lib, a, b: lib.linalg.solve(a, b, left=False), S, rnd(2, 4), names=False)
    raises_like(lambda lib, a: lib.linalg.inv(a), np.ones((3, 3)))
    raises_like(lambda lib, a: lib.linalg.inv(a), rnd(3, 4))
    raises_like(lambda lib, a: lib.linalg.det(a), np.eye(3, dtype=np.int64))


def test_decompositions() -> None:
    case(lambda lib, a: lib.linalg.cholesky(a), SPD)
    case(lambda lib, a: lib.linalg.cholesky(a, upper=True), SPD)
    case(lambda lib, a: lib.linalg.cholesky(a @ a.mT + lib.eye(3, dtype=lib.float64)), BS)
    # Q, R, U, V are unique only up to signs: compare sign-invariant functions of them
    case(lambda lib, a: (lambda q, r: (q @ r, q @ q.mT, r.abs(), (q * r.diagonal().sign()) @ r))(*lib.linalg.qr(a)),
         rnd(5, 3), names=False)
    case(lambda lib, a: (lambda w, v: (w, (v * v), v @ lib.diag_embed(w) @ v.mT))(*lib.linalg.eigh(a)), SPD, names=False)
    case(lambda lib, a: lib.linalg.eigh(a)[0], SPD)
    case(lambda lib, a: (lambda u, s, vh: (s, u @ lib.diag_embed(s) @ vh, u * u, vh * vh))(
        *lib.linalg.svd(a, full_matrices=False)), rnd(4, 3), names=False)
    case(lambda lib, a: (lambda u, s, vh: (s, u[:, :1] @ vh[:1]))(*lib.linalg.svd(a, full_matrices=False)), rnd(3, 5),
         names=False)
    case(lambda lib, a: lib.linalg.svdvals(a), rnd(3, 5))
    raises_like(lambda lib, a: lib.linalg.cholesky(a), -np.eye(3))


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")])
def test_matrix_norm(ord) -> None:
    case(lambda lib, a: lib.linalg.matrix_norm(a, ord), rnd(3, 4), names=ord in ("fro", 1, float("inf"), "nuc"))
    case(lambda lib, a: lib.linalg.matrix_norm(a, ord, keepdim=True), rnd(2, 3, 4), names=False)
    case(lambda lib, a: lib.linalg.norm(a, ord), rnd(3, 4), names=False)


def test_linalg_norm_and_power() -> None:
    case(lambda lib, a: (lib.linalg.norm(a), lib.linalg.norm(a, dim=1), lib.linalg.norm(a[0], 3)), rnd(3, 4))
    case(lambda lib, a: lib.linalg.matrix_power(a, 3), S, names=False)
    case(lambda lib, a: lib.linalg.matrix_power(a, -2), S, names=False)


def test_matmul_errors() -> None:
    raises_like(lambda lib, a, b: a @ b, rnd(3, 4), rnd(3, 4))
    raises_like(lambda lib, a, b: a @ b, rnd(3), np.array(2.0))
    raises_like(lambda lib, a, b: lib.mm(a, b.float()), rnd(3, 4), rnd(4, 3))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x4\)"):
        ember.mm(ember.ones(3, 4), ember.ones(3, 4))

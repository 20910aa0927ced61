"""Matrix products, decompositions, solves and FFTs.

Decompositions return gauge-invariant quantities (eigenvector signs or phases are arbitrary): the
squared magnitudes of eigen- and singular vectors, which both libraries then agree on.
"""

from __future__ import annotations

from ._spec import WC, C, N, P, S


def _spd(m, a):  # symmetric positive definite from any square a (finite differences stay symmetric)
    return a @ a.mT + a.shape[-1] * m.eye(a.shape[-1], dtype=a.dtype)


_LU_WIDE = ("ember implements lu's derivative for square matrices only: "
            "a = ember.randn(3, 2, dtype=ember.float64, requires_grad=True); ember.linalg.lu(a)[1].sum().backward()")


def _eigh(m, a):
    L, V = m.linalg.eigh(a + a.mT)
    return L, V * V


def _svd(m, a):
    U, S_, Vh = m.linalg.svd(a, full_matrices=False)
    return S_, U * U, Vh * Vh


def _eig(m, a):
    L, V = m.linalg.eig(a)
    return L, (V * V.conj()).real


def _lu(m, a):
    P_, L, U_ = m.linalg.lu(a)
    return L, U_


def _tri_solve(m, a, b):
    return m.triangular_solve(b, a.triu(), upper=True)[0]


SAMPLES = [
    S("mm", lambda m, a, b: m.mm(a, b), (N(2, 3), N(3, 2)), (N(1, 1), N(1, 3))),
    S("mv", lambda m, a, v: m.mv(a, v), (N(2, 3), N(3)), (N(1, 1), N(1))),
    S("dot", lambda m, a, b: m.dot(a, b), (N(3), N(3)), (N(1), N(1))),
    S("vdot", lambda m, a, b: m.vdot(a, b), (N(3), N(3)), (C(3), C(3))),
    S("bmm", lambda m, a, b: m.bmm(a, b), (N(2, 2, 3), N(2, 3, 2)), (N(1, 1, 2), N(1, 2, 1))),
    S("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0), (N(2, 2), N(2, 3), N(3, 2)), (N(2), N(2, 3), N(3, 2))),
    S("addmv", lambda m, c, a, v: m.addmv(c, a, v, beta=0.5), (N(2), N(2, 3), N(3)), (N(1), N(2, 3), N(3))),
    S("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, alpha=0.5), (N(2, 2, 2), N(2, 2, 3), N(2, 3, 2)), (N(2), N(2, 2, 3), N(2, 3, 2))),
    S("addbmm", lambda m, c, a, b: m.addbmm(c, a, b), (N(2, 2), N(2, 2, 3), N(2, 3, 2)), (N(1), N(1, 1, 2), N(1, 2, 1))),
    S("addr", lambda m, c, a, b: m.addr(c, a, b, beta=2.0), (N(2, 3), N(2), N(3)), (N(3), N(2), N(3))),
    S("trace", lambda m, a: m.trace(a), N(3, 3), N(2, 3)),
    S("cross", lambda m, a, b: m.linalg.cross(a, b), (N(2, 3), N(2, 3)), (N(1, 3), N(2, 3))),
    S("block_diag", lambda m, a, b: m.block_diag(a, b), (N(2, 3), N(1, 2)), (N(2), N())),
    S("inv", lambda m, a: m.linalg.inv(a), WC(3, 3), WC(2, 2, 2)),
    S("inv_ex", lambda m, a: m.linalg.inv_ex(a)[0], WC(3, 3), WC(1, 1)),
    S("matrix_exp", lambda m, a: m.linalg.matrix_exp(a * 0.3), N(3, 3), N(1, 1)),
    S("det", lambda m, a: m.linalg.det(a), WC(3, 3), WC(2, 2, 2)),
    S("slogdet", lambda m, a: m.linalg.slogdet(a)[1], WC(3, 3), WC(2, 2, 2)),
    S("solve", lambda m, a, b: m.linalg.solve(a, b), (WC(3, 3), N(3, 2)), (WC(3, 3), N(3))),
    S("cholesky", lambda m, a: m.linalg.cholesky(_spd(m, a)), N(3, 3), N(2, 2, 2)),
    S("cholesky_inverse", lambda m, a: m.cholesky_inverse(m.linalg.cholesky(_spd(m, a))), N(3, 3), N(1, 1)),
    S("cholesky_solve", lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(_spd(m, a))), (N(3, 3), N(3, 2)), (N(2, 2, 2), N(2, 1))),
    S("qr", lambda m, a: m.linalg.qr(a), WC(3, 3), N(3, 2)),
    S("eigh", _eigh, N(3, 3), N(2, 2, 2)),
    S("svd", _svd, N(3, 2), N(2, 3)),
    S("svdvals", lambda m, a: m.linalg.svdvals(a), N(3, 2), N(2, 2, 3)),
    S("eig", _eig, WC(3, 3), WC(2, 2, 2)),
    S("lu", _lu, WC(3, 3), N(3, 2), xfail={c + ":1": _LU_WIDE for c in ("gradcheck", "gradgradcheck", "torch", "requires_grad")}),
    S("lu_factor", lambda m, a: m.linalg.lu_factor(a)[0], WC(3, 3), WC(1, 1)),
    S("solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a.triu(), b, upper=True), (WC(3, 3), N(3, 2)), (WC(2, 2, 2), N(2, 1))),
    S("triangular_solve", _tri_solve, (WC(3, 3), N(3, 2))),
    S("fft", lambda m, z: m.fft.fft(z), C(4), C(2, 3)),
    S("rfft", lambda m, x: m.fft.rfft(x), N(4), N(2, 5)),
    S("irfft", lambda m, z: m.fft.irfft(z), C(3), C(2, 4)),
    S("stft", lambda m, x: m.stft(x, 4, hop_length=2, return_complex=True, center=False), N(8)),
    S("pow_matrix", lambda m, a: m.linalg.matrix_power(a, 3), N(2, 2), N(1, 1)),
    S("pinv", lambda m, a: m.linalg.pinv(a), WC(3, 3), N(3, 2)),
    S("positive_scale", lambda m, a: m.linalg.det(a * 0.5), P(1, 1)),
]

EXEMPT: dict = {}

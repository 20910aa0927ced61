"""The general (non-Hermitian) eigendecomposition: ``linalg.eig`` and ``linalg.eigvals``, complex
results for real or complex input, differentiable (in torch's gauge: unit-norm eigenvectors)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import node_class
from .lapack import LinAlgError, _keep_outputs, _mH, _multi, _results, _square
from .matrix_functions import solve
from .reduction import _named

_Eig = _named("linalg_eig", ("eigenvalues", "eigenvectors"))


def _eig_grads(n: Any, gs: list) -> Tensor:
    from .complex import real

    L, V = _results(n)
    gL, gV = gs
    real_input = n.attrs[1]
    Vh = _mH(V)
    if gV is not None:
        VhgV = Vh.matmul(gV)
        d = VhgV.diagonal(0, -2, -1)
        if (np.abs(d._data.imag) > 1e-6 * np.maximum(1.0, np.abs(d._data))).any():
            raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                               "multiplication by e^{i phi}. The specified loss function depends on this quantity, "
                               "so it is ill-defined.")
        # keep the part that respects the unit-norm gauge, then divide by conj(L_j - L_i) off the diagonal
        VhgV = VhgV - Vh.matmul(V * real(d).unsqueeze(-2))
        Lc = L.conj()
        E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1)
        E = E + _new(np.eye(E.shape[-1], dtype=E._data.dtype))
        gA = VhgV / E
        gA = gA - gA.diagonal(0, -2, -1).diag_embed()  # the diagonal is fixed by the gauge (+ gL below)
        if gL is not None:
            gA = gA + gL.diag_embed()
    else:
        gA = gL.diag_embed()
    gA = solve(Vh, gA.matmul(Vh))
    return real(gA) if real_input else gA


LinalgEigBackward0 = node_class("linalg_eig", _eig_grads,
                                "V^-H (diag(gL) + (V^H gV - V^H V re(diag(V^H gV))) / conj(L_j - L_i)) V^H",
                                n_outputs=2)


def eig(A: Tensor, *, out: Any = None) -> tuple:
    """``(eigenvalues, eigenvectors)`` of square matrices, complex even for real input; the
    eigenvectors have unit norm (LAPACK's geev convention)."""
    a = _square(A, "eig")
    if not np.isfinite(a).all():
        raise LinAlgError("linalg.eig: The input tensor A must not contain infinities or NaNs")
    ct = np.result_type(a.dtype, np.complex64)
    w, v = np.linalg.eig(a)
    outs = _multi(LinalgEigBackward0, [w.astype(ct), v.astype(ct)], (A,))
    _keep_outputs(outs, a.dtype.kind != "c")
    return _Eig(*outs)


def eigvals(A: Tensor, *, out: Any = None) -> Tensor:
    """The eigenvalues of square matrices (complex), as :func:`eig`'s first result."""
    return eig(A)[0]

"""``linalg.householder_product``: the first n columns of H_1 ... H_k, with H_i = I - tau_i v_i v_i^H
and v_i read from column i of A below the diagonal (an implicit 1 on it), as LAPACK's orgqr/ungqr.
Built from ember ops, so it differentiates (to any order) in A and tau."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import _c


def householder_product(A: Tensor, tau: Tensor, *, out: Any = None) -> Tensor:
    """The product of the Householder reflectors stored in ``A`` (below its diagonal) and ``tau``."""
    from .indexing import where

    if A.dim() < 2:
        raise RuntimeError("torch.linalg.householder_product: input must have at least 2 dimensions.".replace("torch.", ""))
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]".replace("torch.", ""))
    k = tau.shape[-1] if tau.dim() else 0
    if n < k:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]".replace("torch.", ""))
    if tau.dim() != A.dim() - 1:
        raise RuntimeError("torch.linalg.householder_product: Expected tau to have one dimension less than input, "
                           f"but got tau.ndim equal to {tau.dim()} and input.ndim is equal to {A.dim()}".replace("torch.", ""))
    if A._data.dtype != tau._data.dtype:
        raise RuntimeError("torch.linalg.householder_product: tau dtype does not match input dtype".replace("torch.", ""))
    dt = A._data.dtype
    rows = np.arange(m)
    Q = _new(np.broadcast_to(np.eye(m, dtype=dt), tuple(A.shape[:-2]) + (m, m)).copy())
    for i in range(k):
        # v_i: zeros above row i, one at row i, A's column i below
        v = where(_new(rows > i), A[..., :, i], _new(np.asarray(rows == i, dt)))
        Qv = Q.matmul(v.unsqueeze(-1))
        Q = Q - (Qv * tau[..., i, None, None]).matmul(_c(v).unsqueeze(-2))
    return Q[..., :, :n]

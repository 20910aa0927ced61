"""torch.nn.utils.parametrizations: weight_norm, spectral_norm and orthogonal as parametrizations.

Each registers a small module with ``register_parametrization``; the originals live under
``module.parametrizations.<name>`` and the constrained tensor is recomputed on each access.
"""

from __future__ import annotations

import functools
from enum import Enum, auto
from typing import Any

import numpy as np

from ... import autograd, linalg, ops
from ..._tensor import Tensor, _new
from .. import functional as F
from ..modules.module import Module
from . import parametrize
from ._weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _mH(x: Tensor) -> Tensor:
    return x.mT.conj() if x.is_complex() else x.mT


# ---------------------------------------------------------------- Householder products and QR
def _householder_product(a: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H, where v_i is column i of ``a``
    below the diagonal with a 1 on it (LAPACK's orgqr), written in ember ops so it differentiates."""
    n, k = a.size(-2), a.size(-1)
    v_all = a.tril(-1) + ops.eye(n, k, dtype=a.dtype)
    q = ops.eye(n, k, dtype=a.dtype).expand(*a.shape[:-2], n, k)
    for i in range(k - 1, -1, -1):  # apply the reflectors right to left onto the identity's columns
        v = v_all[..., :, i:i + 1]
        t = tau[..., i:i + 1].unsqueeze(-1)
        q = q - (t * v) @ (_mH(v) @ q)
    return q


def _geqrf(a: np.ndarray) -> tuple:
    # LAPACK's geqrf through NumPy's raw QR (which returns the factor transposed), matrix by matrix
    flat = a.reshape(-1, *a.shape[-2:])
    hs, taus = zip(*(np.linalg.qr(m, mode="raw") for m in flat)) if len(flat) else ((), ())
    h = np.stack([x.T for x in hs]).reshape(a.shape) if hs else a.copy()
    tau = np.stack(taus).reshape(*a.shape[:-2], -1) if taus else np.zeros(a.shape[:-1], a.dtype)
    return np.ascontiguousarray(h), tau


def _make_orthogonal(a: np.ndarray) -> np.ndarray:
    # Q of A's QR with R's diagonal made non-negative (a unique orthogonal matrix near A)
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(q: np.ndarray) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return bool(np.allclose(np.swapaxes(q, -1, -2).conj() @ q, np.eye(k, dtype=q.dtype), rtol=1e-5, atol=eps))


# ---------------------------------------------------------------- orthogonal
class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Maps an unconstrained matrix (or batch) to an orthogonal one; with trivialization the map is
    taken around a stored orthogonal ``base``."""

    base: Tensor

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                X = ops.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - _mH(X)  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = ops.matrix_exp(A)
            else:
                Id = ops.eye(n, dtype=A.dtype)
                Q = linalg.solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """An unconstrained tensor that maps to ``Q``; with trivialization, ``Q`` (made orthogonal)
        becomes the base and the tensor maps to it."""
        with autograd.no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.size(-2), Q.size(-1)
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                              "or the Cayley parametrizations when use_trivialization=False.")
                a, tau = _geqrf(Q._data)
                d = np.diagonal(a, axis1=-2, axis2=-1).copy()
                d = np.sign(d)
                d[tau == 0.0] *= -1
                idx = np.arange(k)
                a[..., idx, idx] = d
                A = _new(a)
                return A.mT if transpose else A
            q = Q._data
            if n == k:
                q = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
            else:
                N = ops.randn(*(tuple(Q.size()[:-2]) + (n, n - k)), dtype=Q.dtype)
                q = _make_orthogonal(np.concatenate([q, N._data], axis=-1))
            self.base = _new(np.ascontiguousarray(q, dtype=Q._data.dtype))
            neg_id = np.zeros(Q_init.shape, Q_init._data.dtype)
            i = np.arange(min(n, k))
            neg_id[..., i, i] = -1.0
            return _new(neg_id)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain ``module.<name>`` to orthogonal (or unitary) matrices through ``orthogonal_map``:
    ``"matrix_exp"``, ``"cayley"`` or ``"householder"`` (default: matrix_exp when square, else householder)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.size(-2) == weight.size(-1) or weight.is_complex()
                          else "householder")
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---------------------------------------------------------------- weight norm
class _WeightNorm(Module):
    """weight = g * v / ||v||, the norm over every dimension but ``dim`` (all of them for None)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """Split ``module.<name>`` into a magnitude (``original0``) and a direction (``original1``)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    module._register_load_state_dict_pre_hook(functools.partial(_weight_norm_compat_hook, name))
    return module


def _weight_norm_compat_hook(name: str, state_dict: dict, prefix: str, *_: Any) -> None:
    """Load a state dict saved under the older ``nn.utils.weight_norm``: its ``<name>_g`` / ``<name>_v``
    entries are this parametrization's magnitude and direction."""
    g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
    if g_key in state_dict and v_key in state_dict:
        state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
        state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)


# ---------------------------------------------------------------- spectral norm
class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value estimated by power iteration (in training)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)  # start from a good estimate

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # updates the u / v buffers in place (they are state, outside the graph)
        with autograd.no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(ops.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(ops.mv(_mH(weight_mat), self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = ops.vdot(u, ops.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its spectral norm, estimated by ``n_power_iterations`` of power
    iteration per forward in training mode (u / v kept as buffers)."""
    from .spectral_norm import _transposed_conv_types

    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, _transposed_conv_types()) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


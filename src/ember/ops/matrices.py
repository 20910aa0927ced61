"""Matrices assembled from smaller pieces: ``block_diag``, ``addr``, ``vander`` (torch's and
``linalg.vander``), ``chain_matmul`` and ``renorm``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._core import _c, attach_methods, node_class, record, wrap_dim
from .reduction import vector_norm


# --------------------------------------------------------------------------- block_diag
def _block_diag_grads(n: Any, g: Tensor) -> tuple:
    out, r, c = [], 0, 0
    for shape in n.attrs:
        h, w = (shape + (1, 1))[:2] if len(shape) < 2 else shape
        if len(shape) == 1:
            h, w = 1, shape[0]
        elif len(shape) == 0:
            h, w = 1, 1
        out.append(g[r:r + h, c:c + w].reshape(shape))
        r, c = r + h, c + w
    return tuple(out)


BlockDiagBackward0 = node_class("block_diag", _block_diag_grads, "each block's slice of grad")


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix of the given tensors (0-d and 1-d ones taken as 1 x n rows)."""
    mats = []
    for i, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions".replace("torch.", "ember."))
        mats.append(t._data.reshape(1, -1) if t.dim() < 2 else t._data)
    dt = np.result_type(*[m.dtype for m in mats]) if mats else np.float32
    out = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)), dt)
    r = c = 0
    for m in mats:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    return record(BlockDiagBackward0, out, tensors, attrs=tuple(tuple(t.shape) for t in tensors))


# --------------------------------------------------------------------------- addr
def _addr_grads(n: Any, g: Tensor) -> tuple:
    v1, v2 = n.saved
    beta, alpha = n.attrs
    gi = g1 = g2 = None
    if n.needs[0]:
        gi = g if beta == 1 else g * _c(beta)
    if n.needs[1]:
        g1 = g.mv(_c(v2)) * _c(alpha)
    if n.needs[2]:
        g2 = g.t().mv(_c(v1)) * _c(alpha)
    return gi, g1, g2


AddrBackward0 = node_class("addr", _addr_grads, "beta grad, alpha grad @ v2^H, alpha grad^T @ v1^H")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Tensor:  # noqa: A002
    """``beta * input + alpha * outer(vec1, vec2)``; with ``beta == 0`` input is ignored (NaN too)."""
    if vec1.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D")
    if vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    o = np.multiply.outer(vec1._data, vec2._data)
    if alpha != 1:
        o = o * alpha
    if beta == 0:
        r = np.broadcast_to(o, np.broadcast_shapes(input._data.shape, o.shape)).astype(np.result_type(input._data, o))
    else:
        r = (input._data * beta if beta != 1 else input._data) + o
    dt = _dtype.promote_types(_dtype.promote_types(input.dtype, vec1.dtype), vec2.dtype).np
    return record(AddrBackward0, np.asarray(r, dt), (input, vec1, vec2), (vec1, vec2), attrs=(beta, alpha))


# --------------------------------------------------------------------------- vander
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D tensor: columns x^(N-1) ... x^0 (or x^0 ... x^(N-1))."""
    from .shape import flip

    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = x.shape[0]  # noqa: N806
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    out = _powers(x.unsqueeze(-1), N)
    return out if increasing else flip(out, [1])


def _powers(x: Tensor, n: int) -> Tensor:
    """x^0 ... x^(n-1) along the last dim, as a running product (x^0 = 1 carries no gradient)."""
    from .creation import ones_like
    from .shape import cat

    if n == 0:
        return x[..., :0]
    if x._data.dtype.kind in "bu" or x._data.dtype == np.bool_:
        x = x.long()
    one = ones_like(x)
    if n == 1:
        return one
    return cat([one, x.expand(*x.shape[:-1], n - 1).cumprod(-1)], -1)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803
    """``linalg.vander``: the Vandermonde matrix of the last dim in increasing powers (batched)."""
    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension.")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    return _powers(x.unsqueeze(-1), n)


# --------------------------------------------------------------------------- chain_matmul
def chain_matmul(*matrices: Tensor, out: Any = None) -> Tensor:
    """The product of two-dimensional matrices, left to right (deprecated in torch for linalg.multi_dot)."""
    warnings.warn("ember.chain_matmul is deprecated and will be removed in a future release. Use "
                  "ember.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        if t.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {t.dim()}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    r = matrices[0]
    for m in matrices[1:]:
        r = r.mm(m)
    return r


# --------------------------------------------------------------------------- renorm
def _renorm_factor(x: Tensor, p: float, dims: tuple, maxnorm: float) -> Tensor:
    from .indexing import where

    nrm = vector_norm(x, p, dims, keepdim=True)
    return where(nrm > maxnorm, maxnorm / (nrm + 1e-7), 1.0)


def _renorm_grad(n: Any, g: Tensor) -> Tensor:
    from .indexing import where

    x, = n.saved
    p, dims, maxnorm = n.attrs
    nrm = vector_norm(x, p, dims, keepdim=True)
    big = nrm > maxnorm
    f = where(big, maxnorm / (nrm + 1e-7), 1.0)
    # d/dx of x * maxnorm / (|x|_p + eps): the factor's own derivative through the norm
    s = (g * _c(x)).sum(dims, keepdim=True)
    dn = _norm_grad(x, nrm, p)
    corr = where(big, -maxnorm / (nrm + 1e-7) ** 2 * s, 0.0)
    return g * f + corr * dn


def _norm_grad(x: Tensor, nrm: Tensor, p: float) -> Tensor:
    """d|x|_p / dx for finite p > 0 (the norm given)."""
    if p == 2:
        return x / nrm
    if p == 1:
        return x.sgn()
    return x.sgn() * x.abs() ** (p - 1) / nrm ** (p - 1)


RenormBackward0 = node_class("renorm", _renorm_grad, "grad f + x-dependent correction through the norm", layout="contiguous")


def renorm(input: Tensor, p: float, dim: int, maxnorm: float, *, out: Any = None) -> Tensor:  # noqa: A002
    """Scale each slice ``input.select(dim, i)`` whose p-norm exceeds ``maxnorm`` to norm ``maxnorm``."""
    if input._data.dtype.kind in "biuc":
        raise RuntimeError("renorm: input needs to be floating point, got " + str(input.dtype).replace("torch.", ""))
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    d = wrap_dim(dim, input.dim())
    dims = tuple(i for i in range(input.dim()) if i != d)
    from ..autograd import grad_mode

    with grad_mode.no_grad():
        r = input * _renorm_factor(input, p, dims, maxnorm)
    return record(RenormBackward0, r._data, (input,), (input,), attrs=(p, dims, maxnorm))


def _addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """In-place :func:`addr`."""
    return self.copy_(addr(self, vec1, vec2, beta=beta, alpha=alpha))


def _renorm_(self: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """In-place :func:`renorm`."""
    return self.copy_(renorm(self, p, dim, maxnorm))


attach_methods(addr=addr, addr_=_addr_, renorm=renorm, renorm_=_renorm_)

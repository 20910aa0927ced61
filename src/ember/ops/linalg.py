"""Matrix products: matmul in its rank cases, mm, bmm, mv, dot."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._core import node_class, record

MmBackward0 = node_class(
    "mm", lambda n, g: (g.mm(n.saved[1].t()) if n.needs[0] else None, n.saved[0].t().mm(g) if n.needs[1] else None),
    "grad @ mat2^T, self^T @ grad")
MvBackward0 = node_class(
    "mv", lambda n, g: (g.unsqueeze(1) * n.saved[1] if n.needs[0] else None,
                        n.saved[0].t().mv(g) if n.needs[1] else None),
    "outer(grad, vec), self^T @ grad")
DotBackward0 = node_class(
    "dot", lambda n, g: (g * n.saved[1] if n.needs[0] else None, g * n.saved[0] if n.needs[1] else None),
    "grad * tensor, grad * self")
BmmBackward0 = node_class(
    "bmm", lambda n, g: (g.bmm(n.saved[1].transpose(1, 2)) if n.needs[0] else None,
                         n.saved[0].transpose(1, 2).bmm(g) if n.needs[1] else None),
    "grad @ mat2^T, self^T @ grad (per batch)")
# torch shows broadcast batched matmul as a reshape of a bmm; ember computes it in one node
UnsafeViewBackward0 = node_class(
    "_unsafe_view", lambda n, g: (g.matmul(n.saved[1].mT) if n.needs[0] else None,
                                  n.saved[0].mT.matmul(g) if n.needs[1] else None),
    "grad @ other^T, self^T @ grad (summed over broadcast batches)")


def _same_dtype(a: Tensor, b: Tensor, name: str) -> tuple:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{name}(): argument 'other' (position 1) must be Tensor, not {type(bad).__name__}")
    da, db = a._data, b._data
    if da.dtype != db.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_dt_name(da)} != {_dt_name(db)}")
    return da, db


def _dt_name(x: np.ndarray) -> str:
    from .reduction import _LEGACY_NAMES

    return _LEGACY_NAMES[_dtype._FROM_NP[x.dtype].name].lower()


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors."""
    a, b = _same_dtype(input, mat2, "mm")
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return record(MmBackward0, a @ b, (input, mat2), (input if mat2._rg else None, mat2 if input._rg else None))


def mv(input: Tensor, vec: Tensor) -> Tensor:
    a, v = _same_dtype(input, vec, "mv")
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
    return record(MvBackward0, a @ v, (input, vec), (input, vec))


def dot(input: Tensor, other: Tensor) -> Tensor:
    a, b = _same_dtype(input, other, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same "
            f"number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    return record(DotBackward0, np.asarray(np.dot(a, b)), (input, other), (input, other))


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    a, b = _same_dtype(input, mat2, "bmm")
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
            f"[{b.shape[0]}, {b.shape[1]}].")
    return record(BmmBackward0, np.matmul(a, b), (input, mat2), (input, mat2))


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``@``: dot, mv, mm or broadcast batched product depending on the ranks."""
    a, b = _same_dtype(input, other, "matmul")
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 1 and nb == 1:
        return dot(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    if na == 2 and nb == 2:
        return mm(input, other)
    if na == 1 and nb == 2:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied (1x{a.shape[0]} and {b.shape[0]}x{b.shape[1]})")
        from .shape import SqueezeBackward4

        r = mm(input.unsqueeze(0), other)
        return record(SqueezeBackward4, r._data.reshape(b.shape[1]), (r,))
    # batched, broadcasting over leading dims
    ka = a.shape[-1]
    kb = b.shape[-2] if nb > 1 else b.shape[0]
    if ka != kb:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{_batch(a, b)}, {ka}] but got: "
            f"[{_batch(a, b)}, {kb}].")
    if na == 1 or nb == 1:
        x = input.unsqueeze(0) if na == 1 else input
        y = other.unsqueeze(-1) if nb == 1 else other
        r = matmul(x, y)
        return r.squeeze(-2) if na == 1 else r.squeeze(-1)
    try:
        out = np.matmul(a, b)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({a.shape[-3]}) must match the size of tensor b ({b.shape[-3]}) at "
            f"non-singleton dimension {max(na, nb) - 3}") from None
    return record(UnsafeViewBackward0, out, (input, other), (input, other))


def _batch(a: np.ndarray, b: np.ndarray) -> int:
    n = 1
    for s in np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ()):
        n *= s
    return n


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.unsqueeze(1) * vec2.unsqueeze(0)


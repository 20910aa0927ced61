"""Matrix products: matmul in its rank cases, mm, bmm, mv, dot."""

from __future__ import annotations

import math

import numpy as np

from .. import _autocast, _dtype
from .._autocast import autocast_op
from .._sparse_tensor import IMPL as _SPARSE
from .._sparse_tensor import SparseCooTensor as _Sparse
from .._tensor import Tensor
from . import _float32 as _f32
from ._core import _c, _fw, check_broadcast, node_class, record, require_tensors, select_grad, wrap_dim
from ._forward import plus
from ._strides import contiguous
from .out import out_call
from .pointwise import not_implemented

MmBackward0 = node_class(
    "mm", lambda n, g: (g @ n.saved[1].T if n.needs[0] else None, n.saved[0].T @ g if n.needs[1] else None),
    "grad @ mat2^H, self^H @ grad", on_arrays=True, holomorphic=True,
    jvp=lambda n, ts: plus(None if ts[0] is None else ts[0] @ n.saved[1], None if ts[1] is None else n.saved[0] @ ts[1]))
MvBackward0 = node_class(
    "mv", lambda n, g: (g.unsqueeze(1) * _c(n.saved[1]) if n.needs[0] else None,
                        _c(n.saved[0].t()).mv(g) if n.needs[1] else None),
    "outer(grad, vec), self^T @ grad",
    jvp=lambda n, ts: plus(None if ts[0] is None else ts[0].mv(n.saved[1]), None if ts[1] is None else n.saved[0].mv(ts[1])))
DotBackward0 = node_class(
    "dot", lambda n, g: (g * _c(n.saved[1]) if n.needs[0] else None, g * _c(n.saved[0]) if n.needs[1] else None),
    "grad * tensor, grad * self")
BmmBackward0 = node_class(
    "bmm", lambda n, g: (g.bmm(_c(n.saved[1].transpose(1, 2))) if n.needs[0] else None,
                         _c(n.saved[0].transpose(1, 2)).bmm(g) if n.needs[1] else None),
    "grad @ mat2^T, self^T @ grad (per batch)",
    jvp=lambda n, ts: plus(None if ts[0] is None else ts[0].bmm(n.saved[1]), None if ts[1] is None else n.saved[0].bmm(ts[1])))
def _bmatmul_grads(n, g):
    # (each operand is saved only for the other's gradient, as torch's bmm: attrs holds their ranks)
    a, b = n.saved
    na, nb = n.attrs
    g1 = g.unsqueeze(-2) if na == 1 else g
    g1 = g1.unsqueeze(-1) if nb == 1 else g1
    ga = gb = None
    if nb == 2 and na > 2 and n.needs[1]:  # batches @ one matrix: fold the batches into rows,
        # as torch does: one GEMM instead of a product per batch and a sum over them
        rows = math.prod(a.shape[:-1])
        gb = _c(a.reshape(rows, a.shape[-1]).t()).mm(g.reshape(rows, g.shape[-1]))
        return (g.matmul(_c(b.mT)) if n.needs[0] else None), gb
    if n.needs[0]:
        ga = g1.matmul(_c((b.unsqueeze(-1) if nb == 1 else b).mT))
        if na == 1:
            ga = ga.squeeze(-2)
    if n.needs[1]:
        gb = _c((a.unsqueeze(0) if na == 1 else a).mT).matmul(g1)
        if nb == 1:
            gb = gb.squeeze(-1)
    return ga, gb


# torch shows broadcast batched matmul as a reshape of a bmm; ember computes it in one node
UnsafeViewBackward0 = node_class(
    "_unsafe_view", _bmatmul_grads, "grad @ other^T, self^T @ grad (summed over broadcast batches)")


def _same_dtype(a: Tensor, b: Tensor, name: str) -> tuple:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{name}(): argument 'other' (position 1) must be Tensor, not {type(bad).__name__}")
    da, db = a._data, b._data
    if da.dtype != db.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_dt_name(da)} != {_dt_name(db)}")
    return da, db


def _no_bool(a: np.ndarray, b: np.ndarray, kernel: str, empty_ok: bool = True) -> None:
    """torch's products have no bool kernel (an empty one is filled without it, except by dot)."""
    if a.dtype == np.bool_ and (not empty_ok or a.size and b.size):
        raise not_implemented(kernel, a.dtype)


def _dt_name(x: np.ndarray) -> str:
    return _dtype.LEGACY_NAMES[_dtype._FROM_NP[x.dtype].name].lower()


@autocast_op("lower")
def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product of two 2-D tensors."""
    if type(input) is _Sparse or type(mat2) is _Sparse:  # (a sparse operand: ember.sparse computes it)
        return _SPARSE["mm"](input, mat2, out=out)
    if out is not None:
        return out_call(mm, "mm", (input, mat2), {}, out, "exact")
    a, b = _same_dtype(input, mat2, "mm")
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _no_bool(a, b, "addmm_impl_cpu_")
    return record(MmBackward0, _f32.matmul(a, b), (input, mat2), (input if mat2._rg or _fw.on else None, mat2 if input._rg or _fw.on else None))


# matmul's own autocast wrapper has already cast the operands: its mm skips a second wrapper
_mm_cast_done = mm.__wrapped__


def mv(input: Tensor, vec: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix-vector product."""
    if out is not None:
        return out_call(mv, "mv", (input, vec), {}, out, "exact")
    a, v = _same_dtype(input, vec, "mv")
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {a.ndim}, {v.ndim}")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec ({v.shape[0]})")
    _no_bool(a, v, "addmv_impl_cpu")
    return record(MvBackward0, _f32.matmul(a, v), (input, vec), (input, vec))


def dot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inner product of two 1-D tensors."""
    if out is not None:
        return out_call(dot, "dot", (input, other), {}, out, "dot")
    a, b = _same_dtype(input, other, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] to have the same "
            f"number of elements, but got {a.shape[0]} and {b.shape[0]} elements respectively")
    _no_bool(a, b, "dot", empty_ok=False)
    return record(DotBackward0, np.asarray(np.dot(a, b)), (input, other), (input, other))


@autocast_op("lower")
def bmm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Batched matrix product of two 3-D tensors."""
    if out is not None:
        return out_call(bmm, "bmm", (input, mat2), {}, out, "exact")
    a, b = _same_dtype(input, mat2, "bmm")
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
            f"[{b.shape[0]}, {b.shape[1]}].")
    _no_bool(a, b, "bmm")
    return record(BmmBackward0, _f32.matmul(a, b), (input, mat2), (input, mat2))


@autocast_op("lower")
def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``@``: dot, mv, mm or broadcast batched product depending on the ranks."""
    if type(input) is _Sparse or type(other) is _Sparse:  # (a sparse operand: ember.sparse computes it)
        return _SPARSE["matmul"](input, other, out=out)
    if out is not None:
        return out_call(matmul, "matmul", (input, other), {}, out, "exact")
    if _empty_bmm(input, other):  # torch's bmm returns before its dtype check: other's dtype, zeros
        return matmul(input.to(other.dtype), other)
    a, b = _same_dtype(input, other, "matmul")
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 1 and nb == 1:
        return dot(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    if na == 2 and nb == 2:
        return _mm_cast_done(input, other)
    if na == 1 and nb == 2:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied (1x{a.shape[0]} and {b.shape[0]}x{b.shape[1]})")
        from .inplace_shape import squeeze_

        return squeeze_(_mm_cast_done(input.unsqueeze(0), other), 0)  # (torch squeezes in place: SqueezeBackward4)
    # batched, broadcasting over leading dims (torch checks the batch dims first)
    if nb > 2:
        check_broadcast(a.shape[:-2], b.shape[:-2])
    ka = a.shape[-1]
    kb = b.shape[-2] if nb > 1 else b.shape[0]
    if ka != kb and nb == 2:  # (torch folds the batch into the rows of one product)
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({math.prod(a.shape[:-1])}x{ka} and "
                           f"{kb}x{b.shape[1]})")
    if ka != kb:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{_batch(a, b)}, {ka}] but got: "
            f"[{_batch(a, b)}, {kb}].")
    _no_bool(a, b, "addmm_impl_cpu_" if nb == 2 else "addmv_impl_cpu" if nb == 1 else "bmm")
    try:
        if nb == 2:  # batches @ one matrix: one GEMM over the folded rows (torch folds the same way)
            out = _f32.matmul(a.reshape(math.prod(a.shape[:-1]), ka), b).reshape(*a.shape[:-1], b.shape[1])
        else:
            out = _f32.matmul(a, b)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({a.shape[-3]}) must match the size of tensor b ({b.shape[-3]}) at "
            f"non-singleton dimension {max(na, nb) - 3}") from None
    return record(UnsafeViewBackward0, contiguous(out), (input, other),
                  (input if other._rg or _fw.on else None, other if input._rg or _fw.on else None), attrs=(na, nb))


def _empty_bmm(a: Tensor, b: Tensor) -> bool:
    """Whether ``a @ b`` of two batched (3-D or more) operands of different dtypes is one torch
    computes without its dtype check: a bmm with nothing to multiply (an empty result or an empty
    contraction) only fills its result."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.dim() < 3 or b.dim() < 3 or a.dtype == b.dtype:
        return False
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        return False
    return a.shape[-1] == b.shape[-2] and (a.shape[-1] == 0 or 0 in (*batch, a.shape[-2], b.shape[-1]))


def _batch(a: np.ndarray, b: np.ndarray) -> int:
    n = 1
    for s in np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ()):
        n *= s
    return n


def outer(input: Tensor, vec2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Outer product of two 1-D tensors."""
    if out is not None:
        return out_call(outer, "mul", (input, vec2), {}, out)   # torch names the op it runs
    for name, v in (("self", input), ("vec2", vec2)):
        if v.dim() != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.dim()}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)



# =========================================================================== fused products
def _mat_args(*ts: Tensor, name: str) -> list:
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor arguments, got {type(t).__name__}")
    dt = ts[0]._data.dtype
    for t in ts[1:]:
        if t._data.dtype != dt:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_dt_name(ts[0]._data)} != {_dt_name(t._data)}")
    return [t._data for t in ts]


def _scaled(t, k):
    return t if k == 1 else t * _c(k)


AddmmBackward0 = node_class(
    "addmm", lambda n, g: (_scaled(g, n.attrs[0]) if n.needs[0] else None,
                           _scaled(g.mm(_c(n.saved[1].t())), n.attrs[1]) if n.needs[1] else None,
                           _scaled(_c(n.saved[0].t()).mm(g), n.attrs[1]) if n.needs[2] else None),
    "grad * beta, alpha * grad @ mat2^T, alpha * mat1^T @ grad",
    jvp=lambda n, ts: plus(None if ts[0] is None else _scaled(ts[0], n.attrs[0]),
                           None if ts[1] is None else _scaled(ts[1].mm(n.saved[1]), n.attrs[1]),
                           None if ts[2] is None else _scaled(n.saved[0].mm(ts[2]), n.attrs[1])))


def _add_scaled(c: np.ndarray, prod: np.ndarray, beta, alpha) -> np.ndarray:
    p = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return np.broadcast_to(np.zeros((), prod.dtype), prod.shape) + p
    return (c if beta == 1 else c * beta) + p


def _check_bcast(c: np.ndarray, shape: tuple, name: str) -> None:
    try:
        if np.broadcast_shapes(c.shape, shape) != tuple(shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({shape[-1] if shape else 1}) must match the existing size "
                           f"({c.shape[-1] if c.ndim else 1}) at non-singleton dimension {len(shape) - 1}.  Target sizes: "
                           f"{list(shape)}.  Tensor sizes: {list(c.shape)}") from None


@autocast_op("lower")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out: Tensor | None = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    if type(mat1) is _Sparse or type(mat2) is _Sparse or type(input) is _Sparse:  # (ember.sparse computes it)
        return _SPARSE["addmm"](input, mat1, mat2, beta=beta, alpha=alpha, out=out)
    if out is not None:
        return out_call(addmm, "addmm", (input, mat1, mat2), {"beta": beta, "alpha": alpha}, out, "exact")
    c, a, b = _mat_args(input, mat1, mat2, name="addmm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor" if a.ndim != 2 else f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    _check_bcast(c, (a.shape[0], b.shape[1]), "addmm")
    _no_bool(a, b, "addmm_impl_cpu_")
    res = _add_scaled(c, a @ b, beta, alpha)
    return record(AddmmBackward0, np.asarray(res), (input, mat1, mat2),
                  (mat1 if mat2._rg or _fw.on else None, mat2 if mat1._rg or _fw.on else None), attrs=(beta, alpha))  # (as torch saves them)


AddmvBackward0 = node_class(
    "addmv", lambda n, g: (_scaled(g, n.attrs[0]) if n.needs[0] else None,
                           _scaled(g.unsqueeze(1) * _c(n.saved[1]), n.attrs[1]) if n.needs[1] else None,
                           _scaled(_c(n.saved[0].t()).mv(g), n.attrs[1]) if n.needs[2] else None),
    "grad * beta, alpha * outer(grad, vec), alpha * mat^T @ grad")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    c, a, v = _mat_args(input, mat, vec, name="addmv")
    if a.ndim != 2 or v.ndim != 1 or a.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({c.shape[0] if c.ndim else 1}), mat ({a.shape[0]}x{a.shape[-1]}), vec ({v.shape[0]})")
    _check_bcast(c, (a.shape[0],), "addmv")
    return record(AddmvBackward0, np.asarray(_add_scaled(c, a @ v, beta, alpha)), (input, mat, vec), (mat, vec),
                  attrs=(beta, alpha))


BaddbmmBackward0 = node_class(
    "baddbmm", lambda n, g: (_scaled(g, n.attrs[0]) if n.needs[0] else None,
                             _scaled(g.bmm(_c(n.saved[1].transpose(1, 2))), n.attrs[1]) if n.needs[1] else None,
                             _scaled(_c(n.saved[0].transpose(1, 2)).bmm(g), n.attrs[1]) if n.needs[2] else None),
    "grad * beta, alpha * grad @ batch2^T, alpha * batch1^T @ grad")


def _bmm_check(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, {a.shape[2]}] but got: "
            f"[{b.shape[0]}, {b.shape[1]}].")


@autocast_op("lower")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2), per batch."""
    c, a, b = _mat_args(input, batch1, batch2, name="baddbmm")
    _bmm_check(a, b)
    _check_bcast(c, (a.shape[0], a.shape[1], b.shape[2]), "baddbmm")
    return record(BaddbmmBackward0, np.asarray(_add_scaled(c, np.matmul(a, b), beta, alpha)), (input, batch1, batch2),
                  (batch1, batch2), attrs=(beta, alpha))


AddbmmBackward0 = node_class(
    "addbmm", lambda n, g: (_scaled(g, n.attrs[0]) if n.needs[0] else None,
                            _scaled(g.unsqueeze(0).expand(n._in_meta[1][0][0], *g.shape).bmm(_c(n.saved[1].transpose(1, 2))),
                                    n.attrs[1]) if n.needs[1] else None,
                            _scaled(_c(n.saved[0].transpose(1, 2)).bmm(g.unsqueeze(0).expand(n._in_meta[1][0][0], *g.shape)),
                                    n.attrs[1]) if n.needs[2] else None),
    "grad * beta, alpha * grad @ batch2^T, alpha * batch1^T @ grad")


@autocast_op("lower")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    c, a, b = _mat_args(input, batch1, batch2, name="addbmm")
    _bmm_check(a, b)
    _check_bcast(c, (a.shape[1], b.shape[2]), "addbmm")
    return record(AddbmmBackward0, np.asarray(_add_scaled(c, np.matmul(a, b).sum(0), beta, alpha)),
                  (input, batch1, batch2), (batch1, batch2), attrs=(beta, alpha))


# (a selection, not grad * eye: a NaN or inf grad leaves the off-diagonal 0, as torch's scatter)
TraceBackward0 = node_class("trace", lambda n, g: select_grad(g, np.eye(*n._in_meta[0][0], dtype=bool)),
                            "grad on the diagonal, 0 elsewhere")


def trace(input: Tensor) -> Tensor:
    x = input._data
    if x.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(x.ndim))
    if x.dtype == np.bool_:
        raise not_implemented("trace", x.dtype)
    return record(TraceBackward0, np.asarray(np.trace(x)), (input,))


VdotBackward0 = node_class(
    "vdot", lambda n, g: (_c(g) * n.saved[1] if n.needs[0] else None, g * n.saved[0] if n.needs[1] else None),
    "grad.conj() * other, grad * self")


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of 1-D tensors (conjugating the first, for complex ones)."""
    r = dot(input, other)  # (its checks; for complex tensors the first operand is conjugated)
    val = np.asarray(np.vdot(input._data, other._data)) if r._data.dtype.kind == "c" else r._data
    return record(VdotBackward0, val, (input, other), (input, other))


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract ``dims`` (a count, or two lists of dims) of ``a`` with those of ``b``."""
    if out is not None:
        return out_call(tensordot, "tensordot", (a, b, dims), {}, out, "tensordot")
    na, nb = a.ndim, b.ndim
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        ca, cb = list(range(na - dims, na)), list(range(dims))
    else:
        if isinstance(dims, Tensor):
            dims = dims.tolist()
        ca, cb = dims
        ca = [ca] if isinstance(ca, int) else list(ca)
        cb = [cb] if isinstance(cb, int) else list(cb)
        ca, cb = [d % na for d in ca], [d % nb for d in cb]
    if len(ca) != len(cb):
        raise RuntimeError("both dimension lists should have same length")
    for x, y in zip(ca, cb):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    fa = [d for d in range(na) if d not in ca]
    fb = [d for d in range(nb) if d not in cb]
    k = int(np.prod([a.shape[d] for d in ca])) if ca else 1
    ma = a.permute(fa + ca).reshape(-1, k) if na else a.reshape(1, 1)
    mb = b.permute(cb + fb).reshape(k, -1) if nb else b.reshape(1, 1)
    r = ma.mm(mb)
    return r.reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


def inner(input: Tensor, other: Tensor) -> Tensor:
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product."""
    require_tensors("kron", input, other)
    from .views import UnsafeViewBackward0 as _UV

    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape)) if input.ndim < nd else input
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape)) if other.ndim < nd else other
    sa, sb = tuple(a.shape), tuple(b.shape)
    ia, ib = [], []
    for x, y in zip(sa, sb):
        ia += [x, 1]
        ib += [1, y]
    p = a.reshape(ia) * b.reshape(ib)
    return record(_UV, p._data.reshape([x * y for x, y in zip(sa, sb)]), (p,))


LinalgCrossBackward0 = node_class(
    "linalg_cross", lambda n, g: (cross(_c(n.saved[1]), g, dim=n.attrs) if n.needs[0] else None,
                                  cross(g, _c(n.saved[0]), dim=n.attrs) if n.needs[1] else None),
    "other x grad, grad x self")


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """The 3-vector cross product along ``dim`` (the first dim of size 3 when None, as torch.cross does)."""
    require_tensors("cross", input, other)
    a, b = input._data, other._data
    shp = np.broadcast_shapes(a.shape, b.shape)
    if dim is None:
        dims = [i for i, s in enumerate(shp) if s == 3]
        if not dims:
            raise RuntimeError("no dimension of size 3 in input")
        dim = dims[0]
    d = wrap_dim(dim, len(shp))
    if shp[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[d] if a.ndim > d else 1} "
                           f"and {b.shape[d] if b.ndim > d else 1}")
    res = np.cross(np.broadcast_to(a, shp), np.broadcast_to(b, shp), axis=d)
    return record(LinalgCrossBackward0, np.asarray(res, np.result_type(a, b)), (input, other), (input, other), attrs=d)


# --------------------------------------------------------------------------- einsum
def _parse_einsum(eq: str, shapes: list) -> tuple:
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    subs = lhs.split(",")
    if len(subs) != len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation" if len(shapes) > len(subs)
                           else "einsum(): fewer operands were provided than specified in the equation")
    # expand '...' into fresh capital letters
    used = set(eq)
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    ell_n = 0
    for s, shp in zip(subs, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    new = []
    for s, shp in zip(subs, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:] if k else "")
        if len(s) != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does not match the number "
                               f"of dimensions ({len(shp)}) for operand and no ellipsis was given")
        new.append(s)
    if out is None:
        counts = {}
        for s in new:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new, out


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, decomposed as torch's is (diagonal / permute / sum / mul / bmm / view), so the
    graph and its grad_fn names are torch's and every derivative comes from those ops."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subs, out = _parse_einsum(equation, [o._data.shape for o in operands])
    for c in out:
        if not any(c in sub for sub in subs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    if _autocast.state.cpu and len(operands) > 1 and _autocast.einsum_contracts(subs, out):
        # torch's einsum contracts through bmm, which autocast runs in the lower precision
        operands = tuple(_autocast._cast(o, _autocast.get_dtype("cpu")) for o in operands)
    sizes: dict = {}
    for i, (sub, o) in enumerate(zip(subs, operands)):
        for c, k in zip(sub, o._data.shape):
            if sizes.get(c, 1) not in (1, k) and k != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {k} for operand {i} which does "
                                   f"not broadcast with previously seen size {sizes[c]}")
            sizes[c] = max(sizes.get(c, 1), k)
    # every operand goes to one layout: the output's letters, then the summed ones (size 1 where absent)
    summed = [c for c in dict.fromkeys("".join(subs)) if c not in out]
    order = list(out) + summed
    ops = [_einsum_layout(o, sub, order) for sub, o in zip(subs, operands)]
    if len(ops) == 1:
        dims = [order.index(c) for c in summed]
        return ops[0].sum(dims) if dims else ops[0]
    res = ops[0]
    for k in range(1, len(ops)):
        later = set("".join(subs[k + 1:]))
        done = [d for d, c in enumerate(order) if c in summed and c not in later]
        res = _sumproduct_pair(res, ops[k], done)
    return res.view([sizes[c] for c in out]) if summed else res


def _einsum_layout(x: Tensor, sub: str, order: list) -> Tensor:
    """``x`` (subscripts ``sub``) with repeated letters reduced to their diagonal, size-1 dims for the
    letters it lacks, permuted to ``order``."""
    labels = list(sub)
    for c in dict.fromkeys(sub):
        while labels.count(c) > 1:
            d1 = labels.index(c)
            d2 = labels.index(c, d1 + 1)
            x = x.diagonal(0, d1, d2)  # the diagonal becomes the last dim
            labels = [lab for i, lab in enumerate(labels) if i not in (d1, d2)] + [c]
    missing = [c for c in order if c not in labels]
    if missing:
        x = x.reshape(list(x.shape) + [1] * len(missing))
        labels += missing
    return x.permute([labels.index(c) for c in order])


def _sumproduct_pair(a: Tensor, b: Tensor, sum_dims: list) -> Tensor:
    """sum over ``sum_dims`` of a * b (same rank, broadcasting size-1 dims); the summed dims stay, size 1.
    Without dims to sum it is a product; otherwise one bmm over (batch, a's, summed) x (batch, summed, b's)."""
    if not sum_dims:
        return a * b
    sa, sb = list(a.shape), list(b.shape)
    only_a = [d for d in sum_dims if sa[d] != 1 and sb[d] == 1]
    only_b = [d for d in sum_dims if sb[d] != 1 and sa[d] == 1]
    if only_a:  # a dim only one side has is summed there first
        a = a.sum(only_a, keepdim=True)
    if only_b:
        b = b.sum(only_b, keepdim=True)
    sa, sb = list(a.shape), list(b.shape)
    rest = [d for d in range(len(sa)) if d not in sum_dims]
    batch = [d for d in rest if sa[d] != 1 and sb[d] != 1]
    lo = [d for d in rest if d not in batch and sa[d] != 1]
    ro = [d for d in rest if d not in batch and d not in lo]
    n = lambda shape, dims: int(np.prod([shape[d] for d in dims], dtype=np.int64))  # noqa: E731
    # each side's dims the other one owns are size 1 there: they ride along at the end
    a3 = a.permute(batch + lo + sum_dims + ro).reshape(n(sa, batch), n(sa, lo), n(sa, sum_dims))
    b3 = b.permute(batch + sum_dims + ro + lo).reshape(n(sb, batch), n(sb, sum_dims), n(sb, ro))
    r = a3.bmm(b3)
    dims = batch + lo + sum_dims + ro
    r = r.view([sa[d] for d in batch] + [sa[d] for d in lo] + [1] * len(sum_dims) + [sb[d] for d in ro])
    return r.permute([dims.index(d) for d in range(len(sa))])

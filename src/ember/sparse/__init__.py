"""ember.sparse: sparse COO tensors, as ``torch.sparse`` has them (``layout=ember.sparse_coo``).

Make one with ``ember.sparse_coo_tensor(indices, values, size)`` or ``dense.to_sparse()``; back with
``.to_dense()``. Supported: coalesce, indices/values, transpose of a matrix, dtype conversion,
dense + sparse, sparse + sparse, products with numbers and same-shape tensors, division by a number,
the pointwise functions with f(0) = 0 (``abs sin sqrt tanh relu ...``), sums, and sparse x dense
matrix products (``mm``, ``@``, ``ember.spmm``, ``sparse.mm``, ``sparse.addmm``), all
differentiable (a sparse tensor's gradient holds its own indices). Other ops raise ``ember does not
implement X for sparse tensors``; ``.to_dense()`` first.

Where ember differs from torch 2.13: ``torch.mm``/``matmul``/``@`` give a sparse leaf a dense
gradient, ember a sparse one with the leaf's places (equal there); ``type(s)`` is
``ember._sparse_tensor.SparseCooTensor``, a subclass of ``ember.Tensor`` (torch: ``torch.Tensor``);
indices outside ``size`` are always refused (torch checks only with ``check_invariants=True``);
second derivatives through sparse values exist (torch's are 0, and ``sum(sparse, dim)`` has no
backward there). Not implemented: broadcasting in sparse ``mul``, the zero-preserving pointwise ops
outside ``_ops._ZERO_PRESERVING`` (``sign``, ``floor``, ``square`` ...), sparse @ sparse,
CSR/CSC/BSR layouts, ``sparse.softmax``, indexing.
"""

from __future__ import annotations

from typing import Any

from .. import _namespace
from .._sparse_tensor import SparseCooTensor
from .._tensor import Tensor
from . import _coo, _ops
from ._coo import to_dense, to_sparse
from ._ops import SparseAddmmBackward0
from ._ops import sparse_sum as sum  # noqa: A001


def mm(mat1: Tensor, mat2: Tensor, *, reduce: str | None = None) -> Tensor:
    """``mat1 @ mat2`` with one sparse matrix (either side); its gradient keeps the sparse operand's
    pattern (recorded as SparseAddmmBackward0, as torch)."""
    if reduce is not None:
        raise NotImplementedError("ember does not implement torch.sparse.mm(reduce=...)")
    return _ops.sparse_addmm(None, mat1, mat2, 0, 1, SparseAddmmBackward0)


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` with a sparse ``mat1`` and dense ``mat2``."""
    return _ops.addmm(mat, mat1, mat2, beta=beta, alpha=alpha)


def _rsub(self: SparseCooTensor, other: Any) -> Tensor:
    return _ops.sub(other, self)


def _install() -> None:
    """Tensor.to_sparse/to_dense/is_sparse for every tensor, and the sparse tensor's own methods."""
    Tensor.to_sparse = to_sparse  # type: ignore[attr-defined]
    Tensor.to_dense = to_dense  # type: ignore[attr-defined]
    Tensor.is_sparse = False  # type: ignore[attr-defined]
    methods = dict(
        coalesce=_coo.coalesce, values=_coo.values, t=_coo.t, transpose=_coo.transpose, to=_coo.to,
        clone=_coo.clone, add=_ops.add, sub=_ops.sub, mul=_ops.mul, div=_ops.div, neg=_ops.neg, sum=_ops.sum,
        mm=_ops.mm, matmul=_ops.matmul, __add__=_ops.add, __sub__=_ops.sub, __rsub__=_rsub,
        __radd__=lambda self, other: _ops.add(other, self), __mul__=_ops.mul, __rmul__=_ops.mul,
        __truediv__=_ops.div, __neg__=_ops.neg, __matmul__=_ops.mm, __rmatmul__=lambda self, other: _ops.mm(other, self),
        negative=_ops.neg, multiply=_ops.mul, divide=_ops.div, subtract=_ops.sub,
    )
    for name, fn in methods.items():
        setattr(SparseCooTensor, name, fn)


_install()

__all__ = ["mm", "addmm", "sum"]
_namespace.tidy(__name__)

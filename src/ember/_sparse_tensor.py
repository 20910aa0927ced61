"""The sparse COO tensor: its storage, metadata and printing (``layout=ember.sparse_coo``).

A sparse tensor of shape ``sparse_shape + dense_shape`` stores the places of its nonzero entries,
``indices`` (int64, shape ``(sparse_dim, nnz)``), and their contents, ``values`` (shape
``(nnz, *dense_shape)``). Uncoalesced tensors may name a place twice; its entries then add up.

Autograd rides on the values: ``values`` is an ordinary dense Tensor, and every sparse op computes
its result's values from its inputs' values with recorded ops, so the engine never sees a sparse
tensor. A sparse tensor's ``requires_grad``, ``grad_fn`` and ``is_leaf`` are its values'; its
``.grad`` is the values' gradient placed at its indices.

The ops live in ``ember.sparse``, which fills ``IMPL`` (the dense ops' ``add``, ``mm`` ... call
these when an operand is sparse) and attaches the methods. Everything else that reaches for a
sparse tensor's dense array (``_data``) raises ``ember does not implement X for sparse tensors``.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from . import _dtype, _layout
from ._printing import _OPTS, _contents, _is_default_dtype
from ._tensor import _PACKAGE_DIR, Size, Tensor

# the sparse implementations of dense ops, by name ("add", "mm", "sum" ...), filled by ember.sparse
IMPL: dict[str, Callable[..., Any]] = {}


# frames whose function name says little: the op makers' inner functions (which keep the op's
# name in a local ``name``) and the indexing entry points
_READABLE = {"getitem": "indexing", "__getitem__": "indexing", "setitem": "index assignment",
             "__setitem__": "index assignment"}


def _public_caller() -> str:
    """The name of the ember function the user called (the outermost ember frame, public if any)."""
    f: Any = sys._getframe(2)
    name = None
    while f is not None:
        if f.f_code.co_filename.startswith(_PACKAGE_DIR):
            n = f.f_code.co_name
            if n in ("op", "wrapper", "fn", "inner") and isinstance(f.f_locals.get("name"), str):
                n = f.f_locals["name"]
            n = _READABLE.get(n, n)
            if name is None or not n.startswith("_") or name.startswith("_"):
                name = n
        f = f.f_back
    return name or "this operation"


class SparseCooTensor(Tensor):
    """A sparse COO tensor (``layout=ember.sparse_coo``): indices of the nonzero entries and their values."""

    __slots__ = ("_ind", "_v", "_shape", "_coal")

    if TYPE_CHECKING:
        _ind: np.ndarray  # int64, (sparse_dim, nnz)
        _v: Tensor  # (nnz, *dense_shape): the values, which carry autograd
        _shape: tuple
        _coal: bool  # known to be coalesced

    is_sparse = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("sparse tensors are made by ember.sparse_coo_tensor or Tensor.to_sparse")

    @property
    def _data(self) -> Any:  # type: ignore[override]
        # the dense array every dense op reads: a sparse tensor has none
        raise NotImplementedError(
            f"ember does not implement {_public_caller()} for sparse tensors (layout=ember.sparse_coo); "
            "convert with .to_dense() first")

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._shape)
        return self._shape[self._wrap_dim(dim, len(self._shape))]

    @property
    def dtype(self) -> Any:
        return self._v.dtype

    @property
    def layout(self) -> Any:
        return _layout.sparse_coo

    @property
    def device(self) -> Any:
        return self._v.device  # (the values' device: the CPU, or meta)

    @property
    def is_meta(self) -> bool:
        """Whether the values are a meta tensor's (shapes without data)."""
        return self._v.is_meta

    @property
    def is_cpu(self) -> bool:
        return self._v.is_cpu

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)

    ndimension = dim

    def numel(self) -> int:
        return math.prod(self._shape)

    nelement = numel

    def element_size(self) -> int:
        return self._v.element_size()

    def is_floating_point(self) -> bool:
        return self._v.is_floating_point()

    def is_complex(self) -> bool:
        return self._v.is_complex()

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return False

    def sparse_dim(self) -> int:
        """The number of leading dimensions the indices address."""
        return self._ind.shape[0]

    def dense_dim(self) -> int:
        """The number of trailing dimensions each value holds."""
        return self._v.dim() - 1

    def _nnz(self) -> int:
        return self._ind.shape[1]

    def is_coalesced(self) -> bool:
        """Whether the indices are known to be sorted and free of repeats."""
        return self._coal

    def _indices(self) -> Tensor:
        from ._tensor import _new

        return _new(self._ind)

    def _values(self) -> Tensor:
        return self._v.detach()

    def indices(self) -> Tensor:
        """The indices of a coalesced tensor, shape ``(sparse_dim, nnz)``."""
        if not self._coal:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    # ------------------------------------------------------------------ autograd state (the values')
    @property
    def _rg(self) -> bool:  # type: ignore[override]
        return self._v._rg

    @property
    def requires_grad(self) -> bool:
        return self._v.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._v.requires_grad = value

    @property  # type: ignore[misc]  # (read-only, as on Tensor)
    def grad_fn(self) -> Any:
        return self._v.grad_fn

    @property
    def grad(self) -> Tensor | None:
        """The gradient: a sparse tensor with this tensor's (coalesced) indices, read from the values' gradient."""
        g = self._v.grad
        if g is None or self._coal:
            return None if g is None else make(self._ind, g, self._shape, self._coal)
        # every entry at one place has the same gradient (the place's): torch gives it once per place
        sd = self._ind.shape[0]
        lin = np.ravel_multi_index(tuple(self._ind), self._shape[:sd]) if sd else np.zeros(self._ind.shape[1], int)
        places, first = np.unique(lin, return_index=True)
        ind = np.array(np.unravel_index(places, self._shape[:sd]), np.int64).reshape(sd, places.size)
        return make(ind, g[first], self._shape, True)

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is None:
            self._v.grad = None
            return
        if not isinstance(value, SparseCooTensor) or not np.array_equal(value._ind, self._ind):
            raise RuntimeError("ember's sparse tensors take only a gradient with their own indices")
        self._v.grad = value._v

    def detach(self) -> "SparseCooTensor":
        return make(self._ind, self._v.detach(), self._shape, self._coal)

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        return sparse_repr(self)

    def numpy(self, *, force: bool = False) -> Any:
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]


def make(indices: np.ndarray, values: Tensor, shape: tuple, coalesced: bool) -> SparseCooTensor:
    """Wrap checked parts as a sparse tensor (no copies): int64 ``indices``, ``values`` a Tensor."""
    t = object.__new__(SparseCooTensor)
    t._ind = indices
    t._v = values
    t._shape = tuple(int(s) for s in shape)
    t._coal = bool(coalesced)
    t._out_nr = 0
    t._vc = [0]
    t._accum = None
    t._meta = None
    t._grad = None
    return t


def _inner(data: np.ndarray, dtype: Any, indent: int) -> str:
    text = _contents(data, dtype, indent) if data.size else "[]"
    return text + (f", size={tuple(data.shape)}" if data.size == 0 else "")


def sparse_repr(t: SparseCooTensor) -> str:
    """``repr`` as torch prints a sparse COO tensor: indices, values, then size, nnz, dtype, layout."""
    indent = len("tensor(")
    dtype = t.dtype
    suffixes = [f"size={tuple(t._shape)}", f"nnz={t._nnz()}"]
    if not _is_default_dtype(dtype):
        suffixes.append(f"dtype={dtype!r}")
    suffixes.append(f"layout={_layout.sparse_coo!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    ip, vp = "indices=tensor(", "values=tensor("
    text = ("tensor(" + ip + _inner(t._ind, _dtype.int64, indent + len(ip)) + "),\n" + " " * indent
            + vp + _inner(t._v.detach().numpy(), dtype, indent + len(vp)) + ")")
    # torch starts the suffixes on a new line, then wraps them at linewidth
    parts = [text]
    line_len = len(text) - text.rfind("\n") + 1
    force = True
    for s in suffixes:
        if force or line_len + len(s) + 2 > _OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + s)
            line_len = indent + len(s)
            force = False
        else:
            parts.append(", " + s)
            line_len += len(s) + 2
    return "".join(parts) + ")"


__all__ = ["SparseCooTensor", "IMPL", "make", "sparse_repr"]

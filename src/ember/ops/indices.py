"""Index-producing and combinatorial functions: ``tril_indices``, ``triu_indices``, ``unravel_index``,
``argwhere``, ``isin``, ``combinations`` and ``cartesian_prod``."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from ._core import attach_methods


def _index_dtype(dtype: Any, name: str) -> Any:
    from .reduction import _LEGACY_NAMES

    dt = _dtype.int64 if dtype is None else dtype
    if dt not in (_dtype.int64, _dtype.int32):
        raise NotImplementedError(f"\"{name}\" not implemented for '{_LEGACY_NAMES.get(dt.name, dt.name)}'")
    return dt


def _tri_indices(row: int, col: int, offset: int, dtype: Any, lower: bool, **kw: Any) -> Tensor:
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    r, c = np.nonzero(np.tri(row, col, offset, dtype=bool) if lower else ~np.tri(row, col, offset - 1, dtype=bool))
    dt = _index_dtype(dtype, "tril_indices" if lower else "triu_indices")
    return _new(np.stack([r, c]).astype(dt.np).reshape(2, -1))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, **kw: Any) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row x col`` matrix (row-major
    order), ``offset`` diagonals above (positive) or below (negative) the main one included."""
    return _tri_indices(row, col, offset, dtype, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, **kw: Any) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row x col`` matrix."""
    return _tri_indices(row, col, offset, dtype, False)


def unravel_index(indices: Any, shape: Any) -> tuple:
    """Flat indices into a tuple of per-dimension index tensors for a tensor of ``shape``."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices)}")
    x = indices._data
    if x.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    n = int(np.prod(shape))
    if x.size and ((x < -n).any() or (x >= n).any()):
        raise RuntimeError("'indices' must be in range [-" + str(n) + ", " + str(n - 1) + "]")
    x = np.where(x < 0, x + n, x).astype(np.int64)
    return tuple(_new(np.asarray(a, np.int64)) for a in np.unravel_index(x, shape)) if shape else ()


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """The (N, ndim) indices of the non-zero elements, like ``nonzero``."""
    return _new(np.argwhere(input._data).astype(np.int64))


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each of ``elements`` is among ``test_elements`` (a bool tensor of ``elements``' shape)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: at least one of "
                        "elements and test_elements must be a Tensor")
    e = elements._data if isinstance(elements, Tensor) else np.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return _new(np.isin(e, t, assume_unique=assume_unique, invert=invert))


def _check_1d(t: Any, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument must be a Tensor, not {type(t).__name__}")
    if t.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """The length-``r`` combinations of a 1-D tensor's elements, one per row (as itertools)."""
    from .shape import stack

    _check_1d(input, "combinations")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _new(np.empty((0,), input._data.dtype))
    n = input.shape[0]
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(gen(range(n), r)), dtype=np.int64).reshape(-1, r)
    # one gathered column per position, stacked, so the gradient flows as torch's (StackBackward0)
    return stack([input[_new(idx[:, k].copy())] for k in range(r)], 1)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """The cartesian product of 1-D tensors, one tuple per row (a single tensor is returned as is)."""
    from .shape import meshgrid, stack

    for t in tensors:
        _check_1d(t, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.flatten() for g in grids], 1)


attach_methods(argwhere=argwhere)  # torch has no Tensor.isin

"""``Tensor.fill_diagonal_``: fill the main diagonal in place (a CopySlices node under autograd)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new, bump_version
from ._core import _state, attach_methods, view_root
from .inplace import apply_inplace


def _diagonal_positions(shape: tuple, wrap: bool) -> np.ndarray:
    """Flat C-order positions of the main diagonal (wrapping after each block in a tall matrix)."""
    if len(shape) == 2 and wrap:
        return np.arange(0, shape[0] * shape[1], shape[1] + 1)
    n = min(shape)
    step = sum(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
    return np.arange(n) * step


def _filled(s: Tensor, value: Any) -> Tensor:
    # ``value`` everywhere, with a zero gradient to ``s`` (no ``s * 0``: that is NaN where s is inf)
    from .indexing import where

    return where(_new(np.zeros(s._data.shape, dtype=bool)), s, value)


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (all indices equal) with ``fill_value``; ``wrap`` continues the diagonal
    of a tall 2-D matrix after every ``ncols + 1`` rows, as NumPy's ``fill_diagonal`` does."""
    x = self._data
    if x.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if x.ndim > 2 and len(set(x.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    if self._rg and _state.enabled:
        root = view_root(self)
        if root._rg and root.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    pos = _diagonal_positions(x.shape, wrap)
    if not (self._rg and _state.enabled):
        x[np.unravel_index(pos, x.shape)] = fill_value
        bump_version(self)
        return self
    if x.flags.c_contiguous and pos.size:
        # torch writes through a strided view of the diagonal: the graph gets a CopySlices node
        step = int(pos[1] - pos[0]) if pos.size > 1 else 1
        diag = self.view(-1)[int(pos[0]):int(pos[-1]) + 1:step]
        apply_inplace(diag, _filled, fill_value)
        return self
    from .inplace import setitem

    setitem(self, tuple(_new(i) for i in np.unravel_index(pos, x.shape)), fill_value)
    return self


attach_methods(fill_diagonal_=fill_diagonal_)

"""``unique_consecutive``: collapse runs of equal consecutive elements (or slices)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods, not_implemented_node, record, wrap_dim

UniqueConsecutiveBackward0 = not_implemented_node("unique_consecutive",
                                                  "the derivative for 'unique_consecutive' is not implemented.")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Collapse each run of equal consecutive elements (or slices along ``dim``) into one."""
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        starts = np.ones(flat.shape[0], dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        vals = flat[starts]
        inv_shape = x.shape
    else:
        d = wrap_dim(dim, x.ndim)
        rows = np.moveaxis(x, d, 0).reshape(x.shape[d], x.size // x.shape[d] if x.shape[d] else 0) if x.ndim else x.reshape(1, 1)
        starts = np.ones(rows.shape[0], dtype=bool)
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        vals = np.compress(starts, x, axis=d) if x.ndim else x.reshape(1)
        inv_shape = (rows.shape[0],)
    inverse = (np.cumsum(starts) - 1).astype(np.int64).reshape(inv_shape)
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, starts.shape[0])).astype(np.int64)
    out = record(UniqueConsecutiveBackward0, np.ascontiguousarray(vals), (input,))
    if not (return_inverse or return_counts):
        return out
    res = [out]
    if return_inverse:
        res.append(_new(inverse))
    if return_counts:
        res.append(_new(counts))
    return tuple(res)


attach_methods(unique_consecutive=unique_consecutive)

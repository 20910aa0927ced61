"""How torch reads an index key: which items are advanced (index tensors, lists, masks) and how
a key mixing basic and advanced items splits into a view followed by an advanced index (torch's
order, which differs from NumPy's when an int sits among index arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ._strides import iterator_order, laid_out


def _is_advanced(k: Any) -> bool:
    return isinstance(k, (Tensor, list, range, np.ndarray)) or (isinstance(k, (bool, np.bool_)))


def _np_index(k: Any) -> Any:
    if isinstance(k, Tensor):
        a = k._data
    elif isinstance(k, (list, tuple, range)):
        a = np.array([x._data if isinstance(x, Tensor) else x for x in k])
    elif isinstance(k, np.ndarray):
        a = k
    else:
        return k
    if a.dtype.kind not in "iub" and a.size:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.dtype.kind == "f":
        a = a.astype(np.int64)
    return a


def _int_like(k: Any) -> bool:
    # torch reads a 0-d integer tensor in an index as a Python int (a select), not as an index tensor
    if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
        return True
    return isinstance(k, Tensor) and k._data.ndim == 0 and k._data.dtype.kind in "iu"


def _dims_used(k: Any) -> int:
    """How many of the indexed tensor's dimensions an index item consumes."""
    if k is None or k is Ellipsis or isinstance(k, (bool, np.bool_)):
        return 0
    if _int_like(k) or isinstance(k, slice):
        return 1
    a = _np_index(k)
    return max(a.ndim, 1) if a.dtype.kind == "b" else 1


def _split_key(key: tuple, ndim: int) -> tuple | None:
    """torch's reading of a key mixing basic and advanced parts: first the ints, slices, None and
    Ellipsis as views, then the index tensors on the result (NumPy instead treats an int as one
    more index array, which moves the indexed dimensions to the front when a slice separates it
    from a tensor). Returns (basic key, advanced key on the basic result), or None when the basic
    part is a no-op."""
    dims = [_dims_used(k) for k in key]
    nontrivial = sum(1 for k in key if k is Ellipsis) > 1  # (NumPy refuses a second ellipsis)
    basic, adv, rest = [], [], max(ndim - sum(dims), 0)
    for k, nd in zip(key, dims):
        if k is Ellipsis:
            basic.append(Ellipsis)
            adv.extend([slice(None)] * rest)
            rest = 0  # (only the first ellipsis stands for dimensions)
        elif isinstance(k, (bool, np.bool_)):  # torch: a new dimension, indexed by [0] (True) or [] (False)
            basic.append(None)
            adv.append(np.arange(1 if k else 0))
            nontrivial = True
        elif k is None:
            basic.append(None)
            adv.append(slice(None))
            nontrivial = True
        elif _int_like(k):
            basic.append(int(k))
            nontrivial = True
        elif isinstance(k, slice):
            basic.append(k)
            adv.append(slice(None))
            nontrivial = nontrivial or k != slice(None)
        else:  # an index array (a bool mask spans its ndim dimensions)
            basic.extend([slice(None)] * nd)
            adv.append(_np_index(k))
    if not nontrivial:
        return None
    return tuple(basic), tuple(adv)


def _basic_view(x: np.ndarray, key: tuple) -> np.ndarray:
    """``x[key]`` for a basic key, always as a view (an array, even 0-d) that writes through; only
    the first ellipsis is kept (later ones stand for no dimensions, as torch reads them)."""
    k, seen = [], False
    for item in _basic_np_key(key):
        if item is Ellipsis:
            if seen:
                continue
            seen = True
        k.append(item)
    return x[tuple(k) if seen else tuple(k) + (Ellipsis,)]


def _basic_np_key(key: tuple) -> tuple:
    return tuple(int(k) if isinstance(k, Tensor) else k for k in key)


def _index_layout(x: np.ndarray, key: tuple, res: np.ndarray) -> np.ndarray:
    """``res = x[key]`` (``key``: full slices, Ellipsis and index arrays) in the memory order torch's
    index kernel gives it: its iterator reads the source restrided (0 along the indexed dims) and
    the index tensors, and orders the output's dims by their strides."""
    if res.ndim < 2 or res.size == 0:
        return res
    items: list = []
    for k in key:
        if k is Ellipsis:
            items.extend([slice(None)] * (x.ndim - sum(1 if not isinstance(j, np.ndarray) or j.dtype != np.bool_
                                                       else j.ndim for j in key if j is not Ellipsis)))
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_:
            nz = np.nonzero(k)
            items.extend(np.lib.stride_tricks.as_strided(c, strides=(len(nz) * c.itemsize,)) for c in nz)
        else:
            items.append(k)
    items.extend([slice(None)] * (x.ndim - len(items)))
    pos = [i for i, k in enumerate(items) if isinstance(k, np.ndarray)]
    if not pos or len(items) != x.ndim:
        return res
    idx = np.broadcast_arrays(*[items[i] for i in pos])
    bnd = idx[0].ndim
    adjacent = pos == list(range(pos[0], pos[-1] + 1))
    lead = pos[0] if adjacent else 0  # result dims before the index dims
    src_dims = [i for i in range(x.ndim) if i not in pos]
    if res.ndim != len(src_dims) + bnd:
        return res
    order = src_dims[:lead] + [None] * bnd + src_dims[lead:]  # source dim behind each result dim
    src = [0 if d is None else abs(x.strides[d]) // x.itemsize for d in order]
    ops = [src]
    for a in idx:
        st = [abs(s) // a.itemsize for s in a.strides]
        ops.append([0] * lead + st + [0] * (res.ndim - lead - bnd))
    return laid_out(res, iterator_order(res.shape, ops))


def empty_selection(x: np.ndarray, key: tuple) -> tuple | None:
    """``key`` with its index arrays zeroed when ``x[key]`` selects no element (NumPy refused the
    key for an out-of-range index): torch bound-checks the indices of the elements it reads or
    writes only, so an empty selection passes whatever its index values (``x[:0, [5]]``), and
    the zeroed key selects the same nothing. None when the selection is not empty."""
    zeroed = tuple(np.zeros_like(k) if isinstance(k, np.ndarray) and k.dtype.kind in "iu" else k for k in key)
    try:
        return zeroed if x[zeroed].size == 0 else None
    except IndexError:
        return None

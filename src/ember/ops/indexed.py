"""index_add, index_copy, index_fill and index_put along a dimension, masked_select and
masked_scatter, take and take_along_dim: each with its derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import IndexBackwardBackward0, _embed, _embed_cls, node_class, preserve_copy, record, wrap_dim
from ._index_keys import _np_index
from .indexing import (
    IndexPutBackward0,
    gather,
    where,
)


def _index_dim_prep(input: Tensor, dim: int, index: Tensor, name: str) -> tuple:
    x = input._data
    d = wrap_dim(dim, x.ndim)
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{name}_(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexError("index out of range in self" if name in ("index_select", "index_add", "index_reduce") else
                         f"index {bad} is out of bounds for dimension {d} with size {n}" if name == "index_fill" else
                         f"{name}_(): index {bad} is out of bounds for dimension {d} with size {n}")
    return x, d, idx


def _dim_key(d: int, idx: np.ndarray) -> tuple:
    return (slice(None),) * d + (idx,)


IndexAddBackward0 = node_class(
    "index_add", lambda n, g: (g if n.needs[0] else None,
                               _maybe_scale(g.index_select(n.attrs[0], n.attrs[1]), n.attrs[2]).reshape(n._in_meta[1][0])
                               if n.needs[1] else None),
    "grad, grad.index_select(dim, index) * alpha")


def _maybe_scale(t: Tensor, alpha: Any) -> Tensor:
    return t if alpha == 1 else t * alpha


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """Add ``alpha * source`` into a copy of ``input`` at positions ``index`` along ``dim``."""
    x, d, idx = _index_dim_prep(input, dim, index, "index_add")
    s = source._data
    if s.dtype != x.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must have the same scalar type")
    res = x.copy()
    expected = x.shape[:d] + (idx.size,) + x.shape[d + 1:] if x.ndim else (idx.size,)
    if s.shape != expected and not (s.ndim == 0 and idx.size == 1):
        raise RuntimeError(f"index_add_(): Source/destination tensor must have same slice shapes. Destination slice "
                           f"shape: {list(x.shape)} at dimension {d} and source slice shape: {list(s.shape)} at dimension {d}.")
    if x.ndim:
        np.add.at(res, _dim_key(d, idx), (s.reshape(expected)) * alpha if alpha != 1 else s.reshape(expected))
    else:
        res = res + s.reshape(()) * alpha
    return record(IndexAddBackward0, np.asarray(res, x.dtype), (input, source), attrs=(d, _new(idx), alpha))


IndexCopyBackward0 = node_class(
    "index_copy", lambda n, g: (g.index_fill(n.attrs[0], n.attrs[1], 0.0) if n.needs[0] else None,
                                g.index_select(n.attrs[0], n.attrs[1]).reshape(n._in_meta[1][0]) if n.needs[1] else None),
    "grad with zeros at the index, grad.index_select(dim, index)")


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """Copy ``source`` into a copy of ``input`` at positions ``index`` along ``dim``."""
    x, d, idx = _index_dim_prep(input, dim, index, "index_copy")
    res = x.copy()
    expected = x.shape[:d] + (idx.size,) + x.shape[d + 1:]
    res[_dim_key(d, idx)] = source._data.reshape(expected).astype(x.dtype, copy=False)
    return record(IndexCopyBackward0, res, (input, source), attrs=(d, _new(idx)))


IndexFillBackward0 = node_class("index_fill", lambda n, g: g.index_fill(n.attrs[0], n.attrs[1], 0.0),
                                "grad with zeros at the index")
IndexFillBackward1 = node_class(
    "index_fill", lambda n, g: (g.index_fill(n.attrs[0], n.attrs[1], 0.0) if n.needs[0] else None,
                                g.index_select(n.attrs[0], _new(np.unique(n.attrs[1]._data))).sum() if n.needs[1] else None),
    "grad with zeros at the index, sum of grad at the index", suffix=1)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """Fill the slices ``index`` along ``dim`` of a copy of ``input`` with ``value``."""
    x, d, idx = _index_dim_prep(input, dim, index, "index_fill")
    res = preserve_copy(x)  # (torch clones, in the input's layout, and fills in place)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if x.ndim:
            res[_dim_key(d, idx)] = value._data
        elif idx.size:
            res[...] = value._data
        return record(IndexFillBackward1, res, (input, value), attrs=(d, _new(idx)))
    if x.ndim:
        res[_dim_key(d, idx)] = value
    elif idx.size:
        res[...] = value
    return record(IndexFillBackward0, res, (input,), attrs=(d, _new(idx)))


_IndexPutAccBackward = node_class(
    "index_put", lambda n, g: (g if n.needs[0] else None, g[n.attrs] if n.needs[1] else None),
    "grad, grad read at the index")


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or, with ``accumulate``, added) at ``indices``."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    key = tuple(_np_index(k) for k in indices)
    x = input._data
    v = values._data if isinstance(values, Tensor) else np.asarray(values)
    if v.dtype != x.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {input.dtype.name.capitalize()} "
                           f"for the destination and {_dtype_name(v)} for the source.")
    res = preserve_copy(x)  # (torch clones, in the input's layout, and writes in place)
    try:
        if accumulate:
            np.add.at(res, key, np.broadcast_to(v, res[key].shape))
        else:
            res[key] = v
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to indexing "
                           f"result of shape {list(res[key].shape)}") from None
    cls = _IndexPutAccBackward if accumulate else IndexPutBackward0
    return record(cls, res, (input, values if isinstance(values, Tensor) else None), attrs=key)


def _dtype_name(a: np.ndarray) -> str:
    from .._dtype import _FROM_NP

    return _FROM_NP[a.dtype].name.capitalize()


MaskedSelectBackwardBackward0 = _embed_cls("masked_select_backward")


def _mask_broadcast(x: np.ndarray, m: np.ndarray, name: str) -> tuple:
    if m.dtype != np.bool_:
        raise RuntimeError(f"{name}: expected BoolTensor for mask")
    try:
        shp = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        from ._core import broadcast_shape_error

        raise broadcast_shape_error(m.shape, x.shape) from None
    return shp, np.broadcast_to(m, shp)


MaskedSelectBackward0 = node_class(
    "masked_select", lambda n, g: _embed(g, (n.attrs[0], n._in_meta[0][1]), n.attrs[1], MaskedSelectBackwardBackward0),
    "grad scattered into zeros where mask")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast) is True, as a 1-D tensor."""
    x = input._data
    shp, mb = _mask_broadcast(x, mask._data, "masked_select")
    res = np.broadcast_to(x, shp)[mb]
    # .copy(), not ascontiguousarray, which turns a 0-d mask into a 1-d one
    # (input and mask are saved as torch saves them: only to catch an in-place change before backward)
    return record(MaskedSelectBackward0, np.ascontiguousarray(res), (input,), (input, mask), attrs=(shp, mb.copy()))


def _masked_scatter_grads(n: Any, g: Tensor) -> tuple:
    mb, count = n.attrs
    gx = gs = None
    if n.needs[0]:
        gx = where(_new(mb), 0.0, g)
    if n.needs[1]:
        shape = n._in_meta[1][0]
        total = int(np.prod(shape))
        sel = g[_new(mb)]
        if total > count:
            from .joining import cat

            sel = cat([sel, _new(np.zeros(total - count, g._data.dtype))])
        gs = sel.reshape(shape)
    return gx, gs


MaskedScatterBackward0 = node_class("masked_scatter", _masked_scatter_grads,
                                    "grad with zeros where mask, grad read where mask into source's leading elements")


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Copy the leading elements of ``source`` into ``input`` where ``mask`` is True (row-major order)."""
    x = input._data
    shp, mb = _mask_broadcast(x, mask._data, "masked_scatter_")
    if source._data.dtype != x.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got {input.dtype.name.capitalize()}"
                           f" and {source.dtype.name.capitalize()}")
    count = int(mb.sum())
    src = source._data.reshape(-1)
    if src.size < count:
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as ones in mask")
    res = np.array(np.broadcast_to(x, shp), order="C")  # (torch's result is contiguous)
    res[mb] = src[:count]
    return record(MaskedScatterBackward0, res, (input, source), attrs=(np.ascontiguousarray(mb), count))


TakeBackward0 = node_class(
    "take", lambda n, g: _embed(g, ((int(np.prod(n._in_meta[0][0])),), n._in_meta[0][1]), n.attrs,
                                IndexBackwardBackward0, accumulate=True).reshape(n._in_meta[0][0]),
    "grad summed into the taken (flattened) positions")


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``input`` at ``index`` (result has ``index``'s shape)."""
    idx = index._data
    if idx.dtype != np.int64:
        raise RuntimeError("take(): Expected a long tensor for index, but got " + _dtype_name(idx))
    x = input._data
    n = x.size
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    key = np.where(idx < 0, idx + n, idx)
    return record(TakeBackward0, x.reshape(-1)[key], (input,), attrs=key)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Values at ``indices`` along ``dim`` (flattened when dim is None), broadcasting the other dims."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    x, idx = input._data, indices._data
    if x.ndim != idx.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {x.ndim} dimensions for input, and {idx.ndim} dimensions for indices")
    d = wrap_dim(dim, x.ndim)
    xs, ish = list(x.shape), list(idx.shape)
    xs[d] = ish[d] = 1
    b = list(np.broadcast_shapes(tuple(xs), tuple(ish)))
    bi, bx = list(b), list(b)
    bi[d], bx[d] = idx.shape[d], x.shape[d]
    inp = input if tuple(bx) == x.shape else input.expand(bx)
    ind = indices if tuple(bi) == idx.shape else indices.expand(bi)
    return gather(inp, d, ind)

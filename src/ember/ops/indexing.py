"""Indexing: ``x[key]`` (decomposed into select/slice/unsqueeze views as torch does, or one
advanced-index op), item assignment, where, gather, index_select, masked_fill.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import _state, attach, binary_operands, node_class, record, result_dtype, wrap_dim
from .shape import AliasBackward0, UnsqueezeBackward0, _view_of


# ``embed`` places a gradient into zeros at ``key``: the backward of every read-by-index op,
# itself differentiable (its derivative reads the same key back).
def _embed_derivative(n: Any, g: Tensor) -> Tensor:
    return g[n.attrs[1]]


def _embed_cls(name: str) -> type:
    return node_class(name, _embed_derivative, "grad read back at the index")


SelectBackwardBackward0 = _embed_cls("select_backward")
SliceBackwardBackward0 = _embed_cls("slice_backward")
IndexBackwardBackward0 = _embed_cls("index_backward")


def _embed(g: Tensor, meta: tuple, key: Any, cls: type, accumulate: bool = False) -> Tensor:
    shape, npd = meta
    z = np.zeros(shape, dtype=g._data.dtype if g._data.dtype.kind in "fc" else npd)
    if accumulate:
        np.add.at(z, key, g._data)
    else:
        z[key] = g._data
    return record(cls, z, (g,), attrs=(shape, key))


SelectBackward0 = node_class(
    "select", lambda n, g: _embed(g, n._in_meta[0], n.attrs, SelectBackwardBackward0), "grad placed at the index")
SliceBackward0 = node_class(
    "slice", lambda n, g: _embed(g, n._in_meta[0], n.attrs, SliceBackwardBackward0), "grad placed in the slice")
IndexBackward0 = node_class(
    "index", lambda n, g: _embed(g, n._in_meta[0], n.attrs, IndexBackwardBackward0, accumulate=True),
    "grad summed into the indexed positions")


def _select(t: Tensor, dim: int, i: int) -> Tensor:
    size = t._data.shape[dim]
    if not -size <= i < size:
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
    key = (slice(None),) * dim + (int(i) % size if size else int(i),)
    return _view_of(t, t._data[key], SelectBackward0, key)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    if input._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    return _select(input, wrap_dim(dim, input._data.ndim), int(index))


def _slice_op(t: Tensor, dim: int, start: Any, stop: Any, step: Any, key: Any = None) -> Tensor:
    if key is None:
        key = (slice(None),) * dim + (slice(start, stop, step),)
    return _view_of(t, t._data[key], SliceBackward0, key)


def _is_advanced(k: Any) -> bool:
    return isinstance(k, (Tensor, list, np.ndarray)) or (isinstance(k, (bool, np.bool_)))


def _np_index(k: Any) -> Any:
    if isinstance(k, Tensor):
        a = k._data
    elif isinstance(k, (list, tuple)):
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


def getitem(self: Tensor, key: Any) -> Tensor:
    """``x[key]``: ints, slices, None, Ellipsis as views; tensors, lists and masks as a gather."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(_is_advanced(k) for k in key):
        return _advanced(self, key)
    if key == (Ellipsis,):
        return _view_of(self, self._data.view(), AliasBackward0)
    nd = self._data.ndim
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if consumed > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    t, dim, applied = self, 0, False
    for k in key:
        if k is Ellipsis:
            dim += nd - consumed
        elif k is None:
            t = _view_of(t, np.expand_dims(t._data, dim), UnsqueezeBackward0, dim)
            dim += 1
            applied = True
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            if k != slice(None):
                t = _slice_op(t, dim, k.start, k.stop, k.step)
                applied = True
            dim += 1
        elif isinstance(k, (int, np.integer)) or (isinstance(k, Tensor) and k._data.ndim == 0):
            t = _select(t, dim, int(k))
            applied = True
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                f"(got {type(k).__name__})")
    if not applied:
        t = _slice_op(t, 0, None, None, None) if nd else _view_of(t, t._data.view(), AliasBackward0)
    return t


def _advanced(self: Tensor, key: tuple) -> Tensor:
    k2 = tuple(_np_index(k) for k in key)
    x = self._data
    try:
        res = x[k2]
    except IndexError as e:
        msg = str(e)
        if "out of bounds" in msg:
            raise IndexError(msg.replace("axis", "dimension")) from None
        raise IndexError(msg) from None
    return record(IndexBackward0, np.array(res, copy=True) if res.base is x else res, (self,), attrs=k2)


# --------------------------------------------------------------------------- assignment
IndexPutBackward0 = node_class(
    "index_put", lambda n, g: (_zero_at(g, n.attrs) if n.needs[0] else None,
                               g[n.attrs] if n.needs[1] else None),
    "grad with zeros at the index, grad read at the index")
CopySlices = node_class(
    "copy_slices", lambda n, g: (_zero_at(g, n.attrs) if n.needs[0] else None,
                                 g[n.attrs] if n.needs[1] else None),
    "grad with zeros at the index, grad read at the index")
CopySlices.__name__ = CopySlices.__qualname__ = "CopySlices"


def _zero_at(g: Tensor, key: Any) -> Tensor:
    from .pointwise import mul

    m = np.ones(g._data.shape, dtype=bool)
    m[key] = False
    return mul(g, _new(m))


def check_inplace(self: Tensor) -> None:
    """torch's rules for writing into a tensor that takes part in autograd."""
    if self._rg and _state.enabled:
        if self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        if self._meta is not None and "base" in self._meta:
            raise RuntimeError(
                "ember does not support in-place modification of a view of a tensor that requires grad "
                "(torch rewrites the base's graph here); use an out-of-place op instead, e.g. torch.cat or "
                "torch.where.")


def setitem(self: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value``: writes in place, bumps the version, and rewrites the graph when needed."""
    check_inplace(self)
    tkey = key if isinstance(key, tuple) else (key,)
    advanced = any(_is_advanced(k) for k in tkey)
    k2 = tuple(_np_index(k) for k in tkey) if advanced else _basic_np_key(tkey)
    if isinstance(value, Tensor):
        v = value._data
        if v.dtype != self._data.dtype:
            v = v.astype(self._data.dtype)
    else:
        v = value
    x = self._data
    if not x.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    record_graph = _state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))
    try:
        x[k2] = v
    except ValueError:
        target = x[k2].shape
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to indexing "
            f"result of shape {list(target)}") from None
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    self._vc[0] += 1
    if record_graph:
        # the old self becomes an input of the new node; self takes the node as its grad_fn
        old = None
        if self._rg:
            old = _new(x, None, None)
            old._rg, old.grad_fn, old._out_nr, old._accum = True, self.grad_fn, self._out_nr, self._accum
        val = value if isinstance(value, Tensor) else None
        node = attach(_new(x), IndexPutBackward0 if advanced else CopySlices, (old, val), attrs=k2)
        self.grad_fn, self._rg, self._out_nr = node, True, 0


def _basic_np_key(key: tuple) -> tuple:
    return tuple(int(k) if isinstance(k, Tensor) else k for k in key)


# --------------------------------------------------------------------------- where / gather / ...
WhereBackward0 = node_class(
    "where", lambda n, g: (where(n.attrs, g, 0.0) if n.needs[0] else None,
                           where(n.attrs, 0.0, g) if n.needs[1] else None),
    "grad where condition else 0, 0 where condition else grad")


def _as_like(v: Any, like: Tensor) -> Tensor:
    if isinstance(v, Tensor):
        return v
    return _new(np.asarray(v, dtype=like._data.dtype))


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    c = condition._data
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype.name.capitalize()}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        rt = result_dtype(input, other).np
        return _new(np.where(c, np.asarray(input, rt), np.asarray(other, rt)))
    xa, xb, ta, tb, rt = binary_operands(input, other)
    try:
        res = np.where(c, xa, xb)
    except ValueError:
        shapes = [list(np.shape(a)) for a in (c, xa, xb)]
        raise RuntimeError(f"shape mismatch: condition, input and other could not be broadcast together: {shapes}") from None
    if res.dtype != rt:
        res = res.astype(rt)
    return record(WhereBackward0, res, (ta, tb), attrs=condition)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_new(a.astype(np.int64)) for a in nz)
    return _new(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


def _scatter_add_np(shape: tuple, dim: int, idx: np.ndarray, src: np.ndarray, dtype: Any) -> np.ndarray:
    z = np.zeros(shape, dtype=dtype)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[dim] = idx
    np.add.at(z, tuple(grid), src[tuple(slice(0, s) for s in idx.shape)])
    return z


ScatterAddBackward0 = node_class(
    "scatter_add", lambda n, g: gather(g, n.attrs[0], n.attrs[1]), "grad gathered at the index")
GatherBackward0 = node_class(
    "gather", lambda n, g: record(ScatterAddBackward0,
                                  _scatter_add_np(n._in_meta[0][0], n.attrs[0], n.attrs[1]._data, g._data, g._data.dtype),
                                  (g,), attrs=n.attrs),
    "grad scatter-added into zeros at the index")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` along ``dim`` at ``index`` (``out[i][j] = input[index[i][j]][j]`` for dim 0)."""
    x, idx = input._data, index._data
    if idx.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    d = wrap_dim(dim, x.ndim)
    if idx.ndim != x.ndim and not (x.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > x.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(idx.shape)} to be no larger than "
                f"self {list(x.shape)} apart from dimension {d}")
    if idx.size and (idx.max() >= x.shape[d] or idx.min() < -x.shape[d]):
        bad = int(idx.max() if idx.max() >= x.shape[d] else idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {x.shape[d]}")
    sub = x[tuple(slice(0, s) if k != d else slice(None) for k, s in enumerate(idx.shape))]
    res = np.take_along_axis(sub, idx, axis=d)
    return record(GatherBackward0, res, (input,), attrs=(d, index))


IndexSelectBackward0 = node_class(
    "index_select", lambda n, g: _embed(g, n._in_meta[0], (slice(None),) * n.attrs[0] + (n.attrs[1],),
                                        IndexBackwardBackward0, accumulate=True),
    "grad summed into the selected positions")


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    n = input._data.shape[d]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError("index out of range in self")
    res = np.take(input._data, idx.reshape(-1), axis=d)
    return record(IndexSelectBackward0, res, (input,), attrs=(d, idx.reshape(-1)))


MaskedFillBackward0 = node_class(
    "masked_fill", lambda n, g: (where(n.attrs, 0.0, g) if n.needs[0] else None,
                                 where(n.attrs, g, 0.0).sum() if len(n.needs) > 1 and n.needs[1] else None),
    "grad with zeros where mask")


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    m = mask._data
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype.name}")
    v = value._data if isinstance(value, Tensor) else value
    res = np.where(m, np.asarray(v, dtype=input._data.dtype), input._data)
    if res.shape != input._data.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(m.shape)} does not broadcast to {list(input._data.shape)}")
    inputs = (input, value) if isinstance(value, Tensor) else (input,)
    return record(MaskedFillBackward0, res, inputs, attrs=mask)



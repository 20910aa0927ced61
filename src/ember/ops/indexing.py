"""Indexing: ``x[key]`` (decomposed into select/slice/unsqueeze views as torch does, or one
advanced-index op), item assignment, where, gather, index_select, masked_fill.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import (
    IndexBackwardBackward0,
    SelectBackwardBackward0,
    _embed,
    _state,
    binary_operands,
    check_broadcast,
    node_class,
    record,
    result_dtype,
    select_grad,
    where_np,
    wrap_dim,
)
from ._index_keys import _basic_view, _index_layout, _is_advanced, _np_index, _split_key, empty_selection
from ._strides import iterated
from .out import out_call
from .views import AliasBackward0, UnsqueezeBackward0, _slice_op, _view_of

SelectBackward0 = node_class(
    "select", lambda n, g: _embed(g, n._in_meta[0], n.attrs, SelectBackwardBackward0), "grad placed at the index",
    jvp=lambda n, ts: _select(ts[0], len(n.attrs) - 1, n.attrs[-1]))
IndexBackward0 = node_class(
    "index", lambda n, g: _embed(g, n._in_meta[0], n.attrs, IndexBackwardBackward0, accumulate=True),
    "grad summed into the indexed positions", jvp=lambda n, ts: _advanced(ts[0], n.attrs))


def _select(t: Tensor, dim: int, i: int) -> Tensor:
    size = t._data.shape[dim]
    if not -size <= i < size:
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
    key = (slice(None),) * dim + (int(i) % size if size else int(i),)
    # (the trailing Ellipsis makes NumPy return a 0-d view, not a copied scalar, for the last dim)
    return _view_of(t, t._data[key + (Ellipsis,)], SelectBackward0, key)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    if input._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= int(index) < size:  # (x[i] words it differently: _select)
        raise IndexError(f"select(): index {int(index)} out of range for tensor of size {list(input._data.shape)} "
                         f"at dimension {d}")
    return _select(input, d, int(index))


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
    # torch accepts several ellipses: the first stands for the unindexed dimensions, later ones for none
    t, dim, applied, rest = self, 0, False, nd - consumed
    for k in key:
        if k is Ellipsis:
            dim += rest
            rest = 0
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
        elif isinstance(k, (str, bytes)):  # torch tries to make a tensor of it first
            raise TypeError(f"new(): invalid data type '{type(k).__name__}'")
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                f"(got {type(k).__name__})")
    if not applied:
        t = _slice_op(t, 0, None, None, None) if nd else _view_of(t, t._data.view(), AliasBackward0)
    return t


def _advanced(self: Tensor, key: tuple) -> Tensor:
    split = _split_key(key, self._data.ndim)
    if split is not None:
        t = getitem(self, split[0])
        return _advanced(t, split[1]) if any(_is_advanced(k) for k in split[1]) else t
    k2 = tuple(_np_index(k) for k in key)
    x = self._data
    try:
        res = x[k2]
    except IndexError as e:
        zeroed = empty_selection(x, k2) if "out of bounds" in str(e) else None
        if zeroed is None:
            raise IndexError(_torch_index_message(str(e), x, k2)) from None
        k2, res = zeroed, x[zeroed]
    res = _index_layout(x, k2, res)  # (torch's memory order; also never a view of x)
    return record(IndexBackward0, np.array(res, copy=True) if res.base is x else res, (self,), attrs=k2)


def _torch_index_message(msg: str, x: np.ndarray, key: tuple) -> str:
    """NumPy's words for a bad index key, in torch's."""
    if "out of bounds" in msg:
        return msg.replace("axis", "dimension")
    m = re.match(r"too many indices for array: array is (\d+)-dimensional", msg)
    if m:
        return f"too many indices for tensor of dimension {m.group(1)}"
    m = re.match(r"boolean index did not match indexed array along (?:axis|dimension) (\d+)", msg)
    if m:
        mask = next(k for k in key if isinstance(k, np.ndarray) and k.dtype == np.bool_)
        return (f"The shape of the mask {list(mask.shape)} at index {m.group(1)} does not match the shape of the "
                f"indexed tensor {list(x.shape[int(m.group(1)):])} at index {m.group(1)}")
    if msg.startswith("shape mismatch: indexing arrays could not be broadcast"):
        shapes = [k.shape for k in key if isinstance(k, np.ndarray)]
        return ("shape mismatch: indexing tensors could not be broadcast together with shapes "
                + ", ".join(str(list(s)) for s in shapes))
    return msg


# --------------------------------------------------------------------------- assignment
def _value_grad(n: Any, g: Tensor) -> Tensor:
    """The written value's gradient: grad read at the index, with the leading size-1 dims torch
    lets a value have beyond the slot's (``v0d[...] = x_of_shape_1``) put back."""
    r = g[n.attrs]
    extra = len(n._in_meta[1][0]) - r.dim()
    return r.reshape((1,) * extra + tuple(r.shape)) if extra > 0 else r


IndexPutBackward0 = node_class(
    "index_put", lambda n, g: (_zero_at(g, n.attrs) if n.needs[0] else None,
                               _value_grad(n, g) if n.needs[1] else None),
    "grad with zeros at the index, grad read at the index")
class ViewKey(tuple):
    """The key of a CopySlices written through a view: the view's positions in its base, made from
    the shapes and strides alone (ember.compile keeps it as a constant of the program)."""


class OverlappingKey(ViewKey):
    """The key of a CopySlices written through a view that repeats elements (an expanded tensor):
    torch's backward copies the base's gradient into that view and refuses, so ember's does too."""


def _copy_slices_grads(n: Any, g: Tensor) -> tuple:
    if type(n.attrs) is OverlappingKey:
        if n.needs[0]:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.")
        return None, g[tuple(n.attrs)] if n.needs[1] else None
    return (_zero_at(g, n.attrs) if n.needs[0] else None, _value_grad(n, g) if n.needs[1] else None)


CopySlices = node_class("copy_slices", _copy_slices_grads, "grad with zeros at the index, grad read at the index")
CopySlices.__name__ = CopySlices.__qualname__ = "CopySlices"


def _zero_at(g: Tensor, key: Any) -> Tensor:
    # torch writes zeros there (an inf gradient at an overwritten place gives 0, not NaN)
    m = np.ones(g._data.shape, dtype=bool)
    split = _split_key(key, m.ndim) if isinstance(key, tuple) else None
    if split is not None:
        _basic_view(m, split[0])[split[1]] = False
    else:
        m[key] = False
    return select_grad(g, m)


def check_inplace(self: Tensor) -> None:
    """torch's rules for writing into a tensor that takes part in autograd."""
    if self._rg and _state.enabled and self.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


# --------------------------------------------------------------------------- where / gather / ...
WhereBackward0 = node_class(
    "where", lambda n, g: (where(n.attrs, g, 0.0) if n.needs[0] else None,
                           where(n.attrs, 0.0, g) if n.needs[1] else None),
    "grad where condition else 0, 0 where condition else grad")


def _as_like(v: Any, like: Tensor) -> Tensor:
    if isinstance(v, Tensor):
        return v
    return _new(np.asarray(v, dtype=like._data.dtype))


def where(condition: Tensor, input: Any = None, other: Any = None, *, out: Tensor | None = None) -> Any:
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    if out is not None:
        return out_call(where, "where", (condition, input, other), {}, out, "where")
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    c = condition._data
    if c.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype.name.capitalize()}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        rt = result_dtype(input, other).np
        return _new(iterated(where_np(c, np.asarray(input, rt), np.asarray(other, rt)), c))
    xa, xb, ta, tb, rt = binary_operands(input, other)
    shape = c.shape  # torch broadcasts condition, input, other in turn and names the first clash
    for a in (xa, xb):
        check_broadcast(shape, np.shape(a))
        shape = np.broadcast_shapes(shape, np.shape(a))
    res = where_np(c, xa, xb)
    if res.dtype != rt:
        res = res.astype(rt)
    # (torch's iterator reads the condition first, as it is)
    return record(WhereBackward0, iterated(res, c, input, other, uncast=0), (ta, tb), attrs=condition)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_new(a.astype(np.int64)) for a in nz)
    return _new(np.stack(nz, axis=1).astype(np.int64) if nz else np.zeros((0, 0), np.int64))


def _scatter_add_np(shape: tuple, dim: int, idx: np.ndarray, src: np.ndarray, dtype: Any) -> np.ndarray:
    if not shape:  # a 0-d target (torch reads it as one element): every index is 0
        return np.asarray(src[tuple(slice(0, s) for s in idx.shape)].sum(), dtype=dtype)
    z = np.zeros(shape, dtype=dtype)
    grid = list(np.indices(idx.shape, sparse=True))
    grid[dim] = idx
    np.add.at(z, tuple(grid), src[tuple(slice(0, s) for s in idx.shape)])
    return z


ScatterAddBackward0 = node_class(
    "scatter_add", lambda n, g: (gather(g, n.attrs[0], n.attrs[1]),) if len(n.needs) == 1 else (
        g if n.needs[0] else None, _pad_to(gather(g, n.attrs[0], n.attrs[1]), n._in_meta[1][0]) if n.needs[1] else None),
    "grad, grad gathered at the index")
GatherBackward0 = node_class(
    "gather", lambda n, g: record(ScatterAddBackward0,
                                  _scatter_add_np(n._in_meta[0][0], n.attrs[0], n.attrs[1]._data, g._data, g._data.dtype),
                                  (g,), attrs=n.attrs),
    "grad scatter-added into zeros at the index")


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values of ``input`` along ``dim`` at ``index`` (``out[i][j] = input[index[i][j]][j]`` for dim 0)."""
    x, idx = input._data, index._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    d = wrap_dim(dim, x.ndim)
    if idx.ndim != x.ndim and not (x.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    xs = x.reshape(1) if x.ndim == 0 else x  # torch reads a 0-d input as one element along dim 0
    for k in range(idx.ndim if idx.size else 0):  # (torch checks no sizes for an empty index)
        if k != d and idx.shape[k] > xs.shape[k]:
            raise RuntimeError(
                f"Size does not match at dimension {k} expected index {list(idx.shape)} to be no larger than "
                f"self {list(x.shape)} apart from dimension {d}")
    # torch's gather takes no negative indices
    if idx.size and (idx.max() >= xs.shape[d] or idx.min() < 0):
        bad = int(idx.max() if idx.max() >= xs.shape[d] else idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {xs.shape[d]}")
    if x.ndim == 0:
        return record(GatherBackward0, xs[idx.reshape(-1)].reshape(idx.shape), (input,), (input, index), attrs=(d, index))
    sub = x[tuple(slice(0, s) if k != d else slice(None) for k, s in enumerate(idx.shape))]
    res = np.take_along_axis(sub, idx, axis=d)
    # (input and index saved as torch saves them: an in-place change to either is caught in backward)
    return record(GatherBackward0, res, (input,), (input, index), attrs=(d, index))


def _index_select_grad(n: Any, g: Tensor) -> Tensor:
    if not n._in_meta[0][0]:  # a 0-d input: its one element was selected every time
        return g.sum()
    return _embed(g, n._in_meta[0], (slice(None),) * n.attrs[0] + (n.attrs[1],), IndexBackwardBackward0,
                  accumulate=True)


IndexSelectBackward0 = node_class("index_select", _index_select_grad, "grad summed into the selected positions")


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:  # torch reads a 0-d input as one element along dim 0
        idx = np.asarray(index._data).reshape(-1)
        if idx.dtype.kind not in "iu":
            raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        if idx.size and (idx.max() >= 1 or idx.min() < 0):
            raise IndexError("index out of range in self")
        res = input._data.reshape(1)[idx].reshape(()) if idx.size == 1 else input._data.reshape(1)[idx]
        return record(IndexSelectBackward0, np.array(res), (input,), (index,), attrs=(0, idx))
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    n = input._data.shape[d]
    if idx.size and (idx.max() >= n or idx.min() < 0):  # torch takes no negative indices here
        if input._data.ndim > 1 and input._data.size == 0 and n == 0:  # (torch's empty-input branch)
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        empty = input._data.ndim > 1 and input._data.size == 0
        if not (d == 1 or empty):  # torch's kernel along dim 1 words it otherwise
            raise IndexError("index out of range in self")
        bad = int(idx.min() if idx.min() < 0 else idx.max())
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
    res = np.take(input._data, idx.reshape(-1), axis=d)
    return record(IndexSelectBackward0, res, (input,), (index,), attrs=(d, idx.reshape(-1)))  # (index saved, as torch)


MaskedFillBackward0 = node_class(
    "masked_fill", lambda n, g: (where(n.attrs, 0.0, g) if n.needs[0] else None,
                                 where(n.attrs, g, 0.0).sum() if len(n.needs) > 1 and n.needs[1] else None),
    "grad with zeros where mask", layout="contiguous")


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    m = mask._data
    if m.dtype != np.bool_:
        cpp = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
               "int8": "signed char", "uint8": "unsigned char", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{cpp.get(mask.dtype.name, mask.dtype.name)}")
    check_broadcast(m.shape, input._data.shape)
    v = value._data if isinstance(value, Tensor) else value
    res = where_np(m, np.asarray(v, dtype=input._data.dtype), input._data)
    if res.shape != input._data.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(m.shape)} does not broadcast to {list(input._data.shape)}")
    inputs = (input, value) if isinstance(value, Tensor) else (input,)
    return record(MaskedFillBackward0, res, inputs, attrs=mask)




# =========================================================================== scatter / index_* / masked_* / take
def _index_arg(index: Any, name: str) -> np.ndarray:
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    idx = index._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    return idx


def _check_scatter(x: np.ndarray, d: int, idx: np.ndarray, src: np.ndarray | None, name: str) -> None:
    if idx.ndim != x.ndim and not (idx.size == 0 or (x.ndim == 0 and idx.ndim <= 1)):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    for k in range(idx.ndim):
        if k != d and x.ndim and idx.shape[k] > x.shape[k]:
            raise RuntimeError(
                f"Expected index {list(idx.shape)} to be no larger than self {list(x.shape)} apart from dimension {d}"
                + (f" and to be no larger size than src {list(src.shape)}" if src is not None else ""))
        if src is not None and src.ndim and idx.shape[k] > src.shape[k]:
            raise RuntimeError(
                f"Expected index {list(idx.shape)} to be no larger than self {list(x.shape)} apart from dimension {d}"
                f" and to be no larger size than src {list(src.shape)}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {n}")


def _grid(idx: np.ndarray, d: int) -> tuple:
    grid = list(np.indices(idx.shape, sparse=True))
    grid[d] = idx
    return tuple(grid)


def _src_part(src: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return src[tuple(slice(0, s) for s in idx.shape)]


def _scatter_prep(input: Tensor, dim: int, index: Tensor, src: Any, name: str) -> tuple:
    x = input._data
    d = wrap_dim(dim, x.ndim)
    idx = _index_arg(index, name)
    s = src._data if isinstance(src, Tensor) else None
    if s is not None and s.dtype != x.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    _check_scatter(x, d, idx, s, name)
    return x, d, idx, s


ScatterBackward0 = node_class(
    "scatter", lambda n, g: (g.scatter(n.attrs[0], n.attrs[1], 0.0) if n.needs[0] else None,
                             _pad_to(g.gather(n.attrs[0], n.attrs[1]), n._in_meta[1][0]) if n.needs[1] else None),
    "grad with zeros at the index, grad gathered at the index")
ScatterBackward1 = node_class("scatter", lambda n, g: g.scatter(n.attrs[0], n.attrs[1], 0.0),
                              "grad with zeros at the index", suffix=1)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: str | None = None) -> Tensor:
    """Write ``src`` (a tensor or a scalar ``value``) into a copy of ``input`` at ``index`` along ``dim``."""
    if src is None:
        src = value
    x, d, idx, s = _scatter_prep(input, dim, index, src, "scatter")
    res = x.copy()
    if idx.size:
        v = _src_part(s, idx) if s is not None else np.asarray(src, dtype=x.dtype)
        if reduce is None:
            res[_grid(idx, d)] = v
        elif reduce == "add":
            np.add.at(res, _grid(idx, d), v)
        elif reduce == "multiply":
            np.multiply.at(res, _grid(idx, d), v)
        else:
            raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    if s is not None:
        return record(ScatterBackward0, res, (input, src), attrs=(d, index))
    return record(ScatterBackward1, res, (input,), attrs=(d, index))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Add ``src`` into a copy of ``input`` at ``index`` along ``dim`` (repeated indices accumulate)."""
    x, d, idx, s = _scatter_prep(input, dim, index, src, "scatter_add")
    res = x.copy()
    if idx.size:
        np.add.at(res, _grid(idx, d), _src_part(s, idx))
    return record(ScatterAddBackward0, res, (input, src), attrs=(d, index))


def _scatter_reduce_grad(n: Any, g: Tensor) -> tuple:
    d, index, reduce, include_self, counts = n.attrs
    x, src = n.saved[0], n.saved[1]
    idx = index._data
    gs = gx = None
    if reduce == "sum":
        gx = g if include_self else g.scatter(d, index, 0.0)
        gs = g.gather(d, index)
    elif reduce == "mean":
        c = _new(counts)
        gx = g / c if include_self else g.scatter(d, index, 0.0)
        gs = (g / c).gather(d, index)
    elif reduce in ("amax", "amin"):
        r = n.result._data
        if include_self:
            xs = x._data == r
        else:  # positions nothing was scattered into keep self's value
            xs = np.ones(r.shape, bool)
            if idx.size:
                xs[_grid(idx, d)] = False
        ss = _src_part(src._data, idx) == np.take_along_axis(r, idx, d) if idx.size else np.zeros(idx.shape, bool)
        cnt = xs.astype(r.dtype)
        if idx.size:
            np.add.at(cnt, _grid(idx, d), ss.astype(r.dtype))
        gd = g / _new(np.maximum(cnt, 1))
        gx = gd * _new(xs)
        gs = gd.gather(d, index) * _new(ss)
    elif reduce == "prod":
        if (x._data == 0).any() or (src._data == 0).any():
            raise RuntimeError("ember: the gradient of scatter_reduce(reduce='prod') is not implemented for inputs with zeros")
        gr = g * n.result
        gx = gr / x if include_self else g.scatter(d, index, 0.0)
        sp = src if src._data.shape == idx.shape else src[tuple(slice(0, k) for k in idx.shape)]
        gs = gr.gather(d, index) / sp
    if gs is not None and src._data.shape != idx.shape:
        gs = _pad_to(gs, src._data.shape)
    return (gx if n.needs[0] else None, gs if n.needs[1] else None)


def _pad_to(t: Tensor, shape: tuple) -> Tensor:
    """Zero-pad ``t`` at the end of each dim to ``shape`` (differentiably)."""
    from .joining import cat

    for k, s in enumerate(shape):
        have = t._data.shape[k]
        if have < s:
            zshape = list(t._data.shape)
            zshape[k] = s - have
            t = cat([t, _new(np.zeros(zshape, t._data.dtype))], k)
    return t


ScatterReduceBackward0 = node_class("scatter_reduce", _scatter_reduce_grad, "per-reduction gradient routing")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
    """Reduce ``src`` into a copy of ``input`` at ``index`` with 'sum', 'prod', 'mean', 'amax' or 'amin'."""
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    x, d, idx, s = _scatter_prep(input, dim, index, src, "scatter_reduce")
    res = x.copy()
    g = _grid(idx, d) if idx.size else None
    v = _src_part(s, idx) if idx.size else None
    counts = np.ones(x.shape, x.dtype) if include_self else np.zeros(x.shape, x.dtype)
    if g is not None:
        np.add.at(counts, g, 1)
        if not include_self:
            touched = np.zeros(x.shape, bool)
            touched[g] = True
            init = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min,
                    "amin": np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max}[reduce]
            res[touched] = init
        if reduce in ("sum", "mean"):
            np.add.at(res, g, v)
        elif reduce == "prod":
            np.multiply.at(res, g, v)
        elif reduce == "amax":
            np.maximum.at(res, g, v)
        else:
            np.minimum.at(res, g, v)
        if reduce == "mean":
            c = np.maximum(counts, 1)
            res = (res / c).astype(x.dtype) if x.dtype.kind == "f" else res // c.astype(x.dtype)
    return record(ScatterReduceBackward0, res, (input, src), (input, src), save_result=True,
                  attrs=(d, index, reduce, include_self, np.maximum(counts, 1)))

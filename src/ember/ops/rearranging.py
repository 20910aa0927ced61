"""Copies that rearrange or repeat elements: repeat, tile, repeat_interleave, flip, roll, rot90,
tril/triu, and the diagonal family (diagonal is a view, diag/diag_embed copies).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _new
from ._core import node_class, preserve_copy, record, wrap_dim, wrap_dims
from .views import ViewBackward0, _needs_dims, _shape_arg, _view_of, expand, flatten, unsqueeze

Rot90Backward0 = node_class("rot90", lambda n, g: rot90(g, -n.attrs[0], n.attrs[1]), "grad rotated back")


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of ``dims``, from the first towards the second."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = wrap_dim(dims[0], x.ndim), wrap_dim(dims[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    # laid out as torch's: a flip (in the input's layout), then a transposed view of it
    q = k % 4
    res = (np.array(x, order="C", copy=True) if q == 0 else preserve_copy(np.flip(x, (d0, d1))) if q == 2
           else preserve_copy(np.flip(x, d1 if q == 1 else d0)).swapaxes(d0, d1))
    return record(Rot90Backward0, res, (input,), attrs=(k, (d0, d1)))


def _repeat_grad(n: Any, g: Tensor) -> Tensor:
    reps, in_shape = n.attrs, n._in_meta[0][0]
    lead = len(reps) - len(in_shape)
    full = (1,) * lead + tuple(in_shape)
    inter = []
    for r, s in zip(reps, full):
        inter += [r, s]
    if 0 in reps:  # (torch's: zeros only for a zero repeat; an empty input sums the empty grad, keeping its graph)
        from .creation import zeros

        return zeros(in_shape, dtype=_dt(g))
    gs = g.reshape(inter)
    gs = gs.sum(tuple(range(0, 2 * len(reps), 2)))
    return gs.reshape(in_shape)


def _dt(g: Tensor) -> Any:
    return g.dtype


RepeatBackward0 = node_class("repeat", _repeat_grad, "grad summed over the repeated copies", layout="contiguous")


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (leading new dims allowed)."""
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    reps = _shape_arg(sizes)
    x = input._data
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: {list(reps)}")
    res = np.tile(x.reshape((1,) * (len(reps) - x.ndim) + x.shape), reps)
    return record(RepeatBackward0, res, (input,), attrs=reps)


def tile(input: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
    """repeat, with missing leading repetitions taken as 1 (``x.tile(2)``, ``x.tile(2, 1)``,
    ``x.tile((2, 1))``, ``tile(x, dims=(2, 1))`` all work, as in torch)."""
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"tile() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if not dims:
        raise TypeError('tile() missing 1 required positional arguments: "dims"')
    dims = _shape_arg(dims)
    nd = input._data.ndim
    if len(dims) < nd:
        dims = (1,) * (nd - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per element along ``dim``)."""
    if repeats is None:  # repeat_interleave(repeats_tensor): indices repeated by their counts
        r = input._data
        return _new(np.repeat(np.arange(r.shape[0], dtype=np.int64), r))
    x = input._data
    if dim is None:
        input = flatten(input)
        x = input._data
        d = 0
    else:
        d = wrap_dim(dim, x.ndim)
    if isinstance(repeats, Tensor) and repeats._data.size != 1:
        r = repeats._data
        if r.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if r.shape[0] != x.shape[d]:
            raise RuntimeError("repeats must have the same size as input along dim")
        if (r < 0).any():
            raise RuntimeError("repeats can not be negative")
        from .indexing import index_select

        return index_select(input, d, _new(np.repeat(np.arange(x.shape[d], dtype=np.int64), r)))
    k = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    if k < 0:
        raise RuntimeError("Repeats must be non-negative")
    e = expand(unsqueeze(input, d + 1), x.shape[:d + 1] + (k,) + x.shape[d + 1:])
    shp = x.shape[:d] + (x.shape[d] * k,) + x.shape[d + 1:]
    return record(ViewBackward0, np.reshape(e._data, shp).copy(), (e,))


FlipBackward0 = node_class("flip", lambda n, g: g.flip(n.attrs), "grad flipped back")


def flip(input: Tensor, dims: Any) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in torch)."""
    if isinstance(dims, int):
        dims = (dims,)
    ds = wrap_dims(tuple(dims), input._data.ndim)
    if input._data.ndim == 0:
        ds = ()
    # a copy in the input's layout (torch's preserve_format; never the view, which a one-element
    # flip would be with ascontiguousarray)
    return record(FlipBackward0, preserve_copy(np.flip(input._data, ds)), (input,), attrs=ds)


def fliplr(input: Tensor) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


RollBackward0 = node_class("roll", lambda n, g: roll(g, tuple(-s for s in n.attrs[0]), n.attrs[1]),
                           "grad rolled back", layout="suggested")


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Rotate elements along ``dims`` by ``shifts`` (the flattened tensor when dims is None)."""
    sh = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    x = input._data
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        res = np.roll(x.reshape(-1), sh[0]).reshape(x.shape)
        return record(RollBackward0, res, (input,), attrs=(sh, None))
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(sh) != len(ds):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(ds)}")
    if x.size == 0:  # torch returns an empty tensor's copy before checking the dims
        return record(RollBackward0, x.copy(), (input,), attrs=(sh, ds))
    _needs_dims(x, ds[0] if ds else 0)
    ds = tuple(wrap_dim(d, x.ndim) for d in ds)
    return record(RollBackward0, np.roll(x, sh, ds), (input,), attrs=(sh, ds))


TrilBackward0 = node_class("tril", lambda n, g: g.tril(n.attrs), "grad.tril(diagonal)", layout="contiguous")
TriuBackward0 = node_class("triu", lambda n, g: g.triu(n.attrs), "grad.triu(diagonal)", layout="contiguous")


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (of the last two dims); the rest zeroed."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return record(TrilBackward0, np.tril(input._data, diagonal), (input,), attrs=diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return record(TriuBackward0, np.triu(input._data, diagonal), (input,), attrs=diagonal)


def _diag_view(x: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """A strided view of a diagonal, moved to the last dimension (as torch's diagonal)."""
    n1, n2 = x.shape[d1], x.shape[d2]
    length = max(min(n1, n2 - offset), 0) if offset >= 0 else max(min(n1 + offset, n2), 0)
    rest = [i for i in range(x.ndim) if i not in (d1, d2)]
    shape = tuple(x.shape[i] for i in rest) + (length,)
    if length == 0 or x.size == 0:
        return np.empty(shape, x.dtype)
    idx = [slice(None)] * x.ndim
    if offset >= 0:
        idx[d2] = slice(offset, None)
    else:
        idx[d1] = slice(-offset, None)
    sub = x[tuple(idx)]  # the offset is applied by slicing, the diagonal by strides
    strides = tuple(sub.strides[i] for i in rest) + (sub.strides[d1] + sub.strides[d2],)
    return np.lib.stride_tricks.as_strided(sub, shape, strides, writeable=bool(x.flags.writeable))


def _diag_embed_np(g: np.ndarray, shape: tuple, offset: int, d1: int, d2: int) -> np.ndarray:
    z = np.zeros(shape, g.dtype)
    v = _diag_view(z, offset, d1, d2)
    if v.size:
        v[...] = g
    return z


DiagonalBackwardBackward0 = node_class("diagonal_backward", lambda n, g: g.diagonal(*n.attrs),
                                       "grad's diagonal read back")


def _diagonal_grad(n: Any, g: Tensor) -> Tensor:
    offset, d1, d2 = n.attrs
    return record(DiagonalBackwardBackward0, _diag_embed_np(g._data, n._in_meta[0][0], offset, d1, d2), (g,),
                  attrs=(offset, d1, d2))


DiagonalBackward0 = node_class("diagonal", _diagonal_grad, "grad placed on the diagonal of zeros",
                               jvp=lambda n, ts: ts[0].diagonal(*n.attrs))
DiagonalCopyBackward = node_class("diagonal", _diagonal_grad, "grad placed on the diagonal of zeros", suffix="0_copy")


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal over ``dim1``, ``dim2`` (appended as the last dimension)."""
    x = input._data
    d1, d2 = wrap_dim(dim1, x.ndim), wrap_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _view_of(input, _diag_view(x, offset, d1, d2), DiagonalBackward0, (offset, d1, d2))


DiagEmbedBackward0 = node_class("diag_embed", lambda n, g: g.diagonal(*n.attrs), "grad's diagonal")


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Place the last dimension of ``input`` on the diagonal of new dims ``dim1``, ``dim2``."""
    x = input._data
    nd = x.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = x.shape[-1] + abs(offset) if x.ndim else 1 + abs(offset)
    rest = list(x.shape[:-1])
    shape = []
    for i in range(nd):
        shape.append(n if i in (d1, d2) else rest.pop(0))
    return record(DiagEmbedBackward0, _diag_embed_np(x, tuple(shape), offset, d1, d2), (input,), attrs=(offset, d1, d2))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor becomes a diagonal matrix; a matrix gives its diagonal (a copy)."""
    x = input._data
    if x.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if x.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{x.ndim}D")
    return record(DiagonalCopyBackward, _diag_view(x, diagonal, 0, 1).copy(), (input,), attrs=(diagonal, 0, 1))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    return diag(input.reshape(-1), offset)

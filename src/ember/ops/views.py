"""Views and reshapes: view/reshape, flatten, transpose/permute, squeeze/unsqueeze, expand and
broadcasting, unfold, narrow, atleast_nd; clone and contiguous (the copies a view is compared with).

Views share their input's memory and version counter, so an in-place change to one is seen
(and version-checked) through the other.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .._tensor import Size, Tensor, _new, track_view
from ._core import SliceBackwardBackward0, _embed, _fw, _propagate, _state, attach, node_class, preserve_copy, record, wrap_dim, wrap_dims
from ._forward import out_shape


def _view_of(base: Tensor, arr: np.ndarray, cls: type, attrs: Any = None) -> Tensor:
    """Record a view op: the output shares ``base``'s data and version counter, and remembers its
    base (and the version it was made at) so in-place writes through it can rewrite the base's graph."""
    t = _new(arr, None, base._vc)
    if _state.enabled:
        if base._rg:
            attach(t, cls, (base,), attrs=attrs)
        else:
            track_view(base, t)
    t._meta = {"base": base, "v": base._vc[0]}
    if _fw.on:
        _propagate(cls, (t,), (base,), attrs=attrs)
    return t


def _needs_dims(x: np.ndarray, dim: Any) -> None:
    """torch's error for an op along a dimension of a 0-d tensor (roll, unbind)."""
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")


def _shape_arg(shape: Sequence) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"view(): argument 'size' must be tuple of ints, but found element of type {type(s).__name__}")
        out.append(int(s))
    return tuple(out)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for i, s in enumerate(shape):
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
            known *= s
    if neg:
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                               "unspecified dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


# a view op's forward derivative is the same view of the tangent (so it aliases the base's tangent)
_RESHAPED = lambda n, ts: ts[0].reshape(out_shape(n))  # noqa: E731
ViewBackward0 = node_class("view", lambda n, g: g.reshape(n._in_meta[0][0]), "grad reshaped to self's shape",
                           jvp=_RESHAPED)
UnsafeViewBackward0 = node_class("_unsafe_view", lambda n, g: g.reshape(n._in_meta[0][0]),
                                 "grad reshaped to self's shape")
AliasBackward0 = node_class("alias", lambda n, g: g, "grad", jvp=_RESHAPED)


def view(input: Tensor, *shape: Any) -> Tensor:
    """The same data with a new shape; fails when the strides do not allow a view."""
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)\n")
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size, Tensor)):
        from .._dtype import dtype as _dt

        if isinstance(shape[0], _dt):
            return _new(input._data.view(shape[0].np))
    shp = _infer_shape(_shape_arg(shape), input._data.size)
    try:
        arr = np.reshape(input._data, shp, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension "
            "spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return _view_of(input, arr, ViewBackward0)


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """A tensor with the given shape: a view when possible, otherwise a copy."""
    if not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
    shp = _infer_shape(_shape_arg(shape), input._data.size)
    x = input._data
    if shp == x.shape:
        return _view_of(input, x.view(), ViewBackward0)
    try:
        arr = np.reshape(x, shp, copy=False)
    except ValueError:
        return record(UnsafeViewBackward0, np.reshape(x, shp), (input,))
    return _view_of(input, arr, ViewBackward0)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other._data.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input._data.shape
    # the merged size spelled out: -1 is ambiguous when another dimension is 0
    return reshape(input, shp[:s] + (int(np.prod(shp[s:e + 1])),) + shp[e + 1:])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    known = math.prod(s for s in sizes if s != -1)
    if (shp[d] != known if -1 not in sizes else known == 0 or shp[d] % known):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({shp[d]}) in the input tensor")
    return view(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def _inverse_perm(perm: Sequence[int]) -> tuple:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


TransposeBackward0 = node_class("transpose", lambda n, g: g.transpose(*n.attrs), "grad transposed back",
                                jvp=lambda n, ts: ts[0].transpose(*n.attrs))
TBackward0 = node_class("t", lambda n, g: g.t(), "grad transposed back", jvp=lambda n, ts: ts[0].t())
PermuteBackward0 = node_class("permute", lambda n, g: g.permute(_inverse_perm(n.attrs)), "grad permuted back",
                              jvp=lambda n, ts: ts[0].permute(n.attrs))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = input._data.ndim
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    arr = np.swapaxes(input._data, d0, d1) if nd else input._data.view()  # (0-d: dims 0 and -1 are itself)
    return _view_of(input, arr, TransposeBackward0, (d0, d1))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _view_of(input, input._data.T, TBackward0)


def permute(input: Tensor, *dims: Any) -> Tensor:
    if not dims:  # (torch's argument parser: no dims at all is a missing argument, not an empty ordering)
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
            f"the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    perm = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(perm)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_of(input, np.transpose(input._data, perm), PermuteBackward0, perm)


def _T(input: Tensor) -> Tensor:
    nd = input._data.ndim
    return permute(input, tuple(range(nd - 1, -1, -1))) if nd != 2 else permute(input, (1, 0))


def _mT(input: Tensor) -> Tensor:
    if input._data.ndim == 0:  # torch: deprecated, the tensor itself
        warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.", UserWarning, stacklevel=2)
        return input
    if input._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    nd = input._data.ndim
    src = wrap_dims(source, nd)
    dst = wrap_dims(destination, nd)
    if nd == 0:  # (a 0-d tensor has nothing to move: torch returns an alias)
        return _view_of(input, input._data.view(), AliasBackward0)
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim

UnsqueezeBackward0 = node_class("unsqueeze", lambda n, g: g.squeeze(n.attrs), "grad squeezed at dim",
                                jvp=lambda n, ts: ts[0].unsqueeze(n.attrs))
SqueezeBackward0 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad reshaped to self's shape",
                              jvp=_RESHAPED)
SqueezeBackward1 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad unsqueezed at dim", suffix=1,
                              jvp=_RESHAPED)
SqueezeBackward2 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad unsqueezed at dims", suffix=2,
                              jvp=_RESHAPED)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = wrap_dim(dim, input._data.ndim + 1)
    return _view_of(input, np.expand_dims(input._data, d), UnsqueezeBackward0, d)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    x = input._data
    if dim is None:
        return _view_of(input, x.reshape(tuple(s for s in x.shape if s != 1)), SqueezeBackward0)
    dims = wrap_dims(dim, x.ndim) if x.ndim else (() if dim in (0, -1, (0,), (-1,)) else wrap_dims(dim, 0))
    keep = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    cls = SqueezeBackward2 if isinstance(dim, (tuple, list)) else SqueezeBackward1
    return _view_of(input, x.reshape(keep), cls)


ExpandBackward0 = node_class("expand", lambda n, g: g.sum_to_size(n._in_meta[0][0]), "grad summed to self's shape",
                             jvp=lambda n, ts: ts[0].expand(out_shape(n)))


def expand(input: Tensor, *sizes: Any) -> Tensor:
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    shp = _shape_arg(sizes)
    x = input._data
    if len(shp) < x.ndim:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(shp)}): the number of sizes provided "
            f"({len(shp)}) must be greater or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(shp) - x.ndim
    target = []
    for i, s in enumerate(shp):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}")
            target.append(s)
        else:
            cur = x.shape[i - lead]
            if s == -1:
                s = cur
            elif cur != 1 and s != cur:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                    f"non-singleton dimension {i}.  Target sizes: {list(shp)}.  Tensor sizes: {list(x.shape)}")
            target.append(s)
    return _view_of(input, np.broadcast_to(x, tuple(target)), ExpandBackward0)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return expand(input, tuple(size))


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """Sum broadcast dimensions away so the result has ``size`` (the inverse of expand)."""
    shp = _shape_arg(size)
    x = input._data
    if x.shape == shp:
        return input
    lead = x.ndim - len(shp)
    if lead < 0 or any(s != 1 and s != x.shape[lead + i] for i, s in enumerate(shp)):
        raise RuntimeError(f"size {{{list(shp)}}} is not expandable to size {{{list(x.shape)}}}.")
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shp) if s == 1 and x.shape[lead + i] != 1)
    out = input.sum(dims, keepdim=True) if dims else input
    return out.reshape(shp) if lead else out

def _unfold_grad(n: Any, g: Tensor) -> Tensor:
    # each window element came from position window * step + offset along the dim: add it back there
    # (index_add is an op above this module: called as the Tensor method the op table installs)
    from .creation import zeros

    d, size, step, shape = n.attrs
    if len(shape) == 0:
        return g.reshape(())
    windows = g.shape[d]
    pos = (np.arange(windows)[:, None] * step + np.arange(size)[None, :]).ravel()
    gm = g.movedim(-1, d + 1)
    gm = gm.reshape(tuple(gm.shape[:d]) + (windows * size,) + tuple(gm.shape[d + 2:]))
    return zeros(shape, dtype=g.dtype).index_add(d, _new(pos), gm)


UnfoldBackward0 = node_class("unfold", _unfold_grad, "grad of each window added back at its source positions",
                             jvp=lambda n, ts: ts[0].unfold(*n.attrs[:3]) if ts[0].dim() else ts[0].reshape(1))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view of every ``size``-long slice along ``dimension``, ``step`` apart, as a new last dim."""
    x = input._data
    if x.ndim == 0:
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        return _view_of(input, x.reshape(1), UnfoldBackward0, (0, size, step, ()))
    d = wrap_dim(dimension, x.ndim)
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > x.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {x.shape[d]} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    windows = (x.shape[d] - size) // step + 1
    shape = x.shape[:d] + (windows,) + x.shape[d + 1:] + (size,)
    strides = x.strides[:d] + (x.strides[d] * step,) + x.strides[d + 1:] + (x.strides[d],)
    # overlapping windows (step < size) are read-only: in-place writes raise torch's overlap error
    view = np.lib.stride_tricks.as_strided(x, shape, strides, writeable=x.flags.writeable and step >= size)
    return _view_of(input, view, UnfoldBackward0, (d, size, step, x.shape))


SliceBackward0 = node_class(
    "slice", lambda n, g: _embed(g, n._in_meta[0], n.attrs, SliceBackwardBackward0), "grad placed in the slice",
    jvp=lambda n, ts: _slice_op(ts[0], 0, None, None, None, n.attrs))


def _slice_op(t: Tensor, dim: int, start: Any, stop: Any, step: Any, key: Any = None) -> Tensor:
    if key is None:
        key = (slice(None),) * dim + (slice(start, stop, step),)
    return _view_of(t, t._data[key], SliceBackward0, key)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The ``length`` elements from ``start`` along ``dim`` (a view); a negative start counts from the end."""
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    return _slice_op(input, d, start, start + length, 1, key)


CloneBackward0 = node_class("clone", lambda n, g: g, "grad", jvp=lambda n, ts: ts[0].clone())


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return record(CloneBackward0, preserve_copy(input._data), (input,))


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return record(CloneBackward0, np.ascontiguousarray(input._data), (input,))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Expand all tensors to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    try:
        shp = np.broadcast_shapes(*(t._data.shape for t in tensors))
    except ValueError:
        from ._core import broadcast_shape_error

        raise broadcast_shape_error(tensors[0]._data.shape, tensors[1]._data.shape) from None
    return tuple(t if t._data.shape == shp else expand(t, shp) for t in tensors)


def broadcast_shapes(*shapes: Any) -> Size:
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape: {list(shapes)}") from None


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors ('ij' indexing by default, as torch does today)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings

        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t_ in tensors:
        if t_._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: " + str(t_))
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    sizes = tuple(max(t_._data.size, 1) if t_._data.ndim == 0 else t_._data.shape[0] for t_ in ts)
    outs = []
    for i, t_ in enumerate(ts):
        shp = [1] * len(ts)
        shp[i] = -1
        outs.append(expand(view(t_, shp), sizes))
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)


def atleast_1d(*tensors: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_1d(t_) for t_ in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_1d(t_) for t_ in tensors)
    t_ = tensors[0]
    return reshape(t_, 1) if t_._data.ndim == 0 else t_


def atleast_2d(*tensors: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_2d(t_) for t_ in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_2d(t_) for t_ in tensors)
    t_ = tensors[0]
    nd = t_._data.ndim
    return reshape(t_, 1, 1) if nd == 0 else unsqueeze(t_, 0) if nd == 1 else t_


def atleast_3d(*tensors: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(atleast_3d(t_) for t_ in tensors[0])
    if len(tensors) > 1:
        return tuple(atleast_3d(t_) for t_ in tensors)
    t_ = tensors[0]
    nd = t_._data.ndim
    if nd == 0:
        return reshape(t_, 1, 1, 1)
    if nd == 1:
        return unsqueeze(unsqueeze(t_, 0), -1)
    if nd == 2:
        return unsqueeze(t_, -1)
    return t_

def ravel(input: Tensor) -> Tensor:
    return view(contiguous(input), -1)

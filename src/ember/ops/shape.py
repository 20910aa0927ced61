"""Shape and view ops: reshape/view, transpose, permute, squeeze/unsqueeze, expand, cat, stack ...

Views share their input's memory and version counter, so an in-place change to one is seen
(and version-checked) through the other.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .._tensor import Size, Tensor, _new
from ._core import _state, attach, node_class, record, wrap_dim, wrap_dims
from .out import out_call


def _view_of(base: Tensor, arr: np.ndarray, cls: type, attrs: Any = None) -> Tensor:
    """Record a view op: the output shares ``base``'s data and version counter, and remembers its
    base (and the version it was made at) so in-place writes through it can rewrite the base's graph."""
    t = _new(arr, None, base._vc)
    if base._rg and _state.enabled:
        attach(t, cls, (base,), attrs=attrs)
    t._meta = {"base": base, "v": base._vc[0]}
    return t


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
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


ViewBackward0 = node_class("view", lambda n, g: g.reshape(n._in_meta[0][0]), "grad reshaped to self's shape")
UnsafeViewBackward0 = node_class("_unsafe_view", lambda n, g: g.reshape(n._in_meta[0][0]),
                                 "grad reshaped to self's shape")
AliasBackward0 = node_class("alias", lambda n, g: g, "grad")


def view(input: Tensor, *shape: Any) -> Tensor:
    """The same data with a new shape; fails when the strides do not allow a view."""
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
    return view(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def _inverse_perm(perm: Sequence[int]) -> tuple:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


TransposeBackward0 = node_class("transpose", lambda n, g: g.transpose(*n.attrs), "grad transposed back")
TBackward0 = node_class("t", lambda n, g: g.t(), "grad transposed back")
PermuteBackward0 = node_class("permute", lambda n, g: g.permute(_inverse_perm(n.attrs)), "grad permuted back")


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

UnsqueezeBackward0 = node_class("unsqueeze", lambda n, g: g.squeeze(n.attrs), "grad squeezed at dim")
SqueezeBackward0 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad reshaped to self's shape")
SqueezeBackward1 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad unsqueezed at dim", suffix=1)
SqueezeBackward2 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad unsqueezed at dims", suffix=2)
SqueezeBackward4 = node_class("squeeze", lambda n, g: g.reshape(n._in_meta[0][0]), "grad unsqueezed at dim", suffix=4)


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


ExpandBackward0 = node_class("expand", lambda n, g: g.sum_to_size(n._in_meta[0][0]), "grad summed to self's shape")


def expand(input: Tensor, *sizes: Any) -> Tensor:
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


CatBackward0 = node_class(
    "cat", lambda n, g: tuple(
        g.narrow(n.attrs[0], n.attrs[1][i], n.attrs[2][i]) if n.needs[i] else None
        for i in range(len(n.needs))),
    "grad split back into the pieces")


def _non_empty(tensors: Sequence[Tensor], name: str) -> None:
    if isinstance(tensors, (list, tuple)) and len(tensors) == 0:
        raise RuntimeError(f"{name} expects a non-empty TensorList")


def _promoted_arrays(tensors: Sequence[Tensor], name: str) -> list:
    from ._core import result_dtype

    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if len(tensors) == 0:
        if name == "cat":
            raise ValueError("ember.cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    for t_ in tensors:
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element of argument 'tensors', but got {type(t_).__name__}")
    dt = tensors[0]._data.dtype
    if all(t_._data.dtype == dt for t_ in tensors):
        return [t_._data for t_ in tensors]
    rt = result_dtype(*[t_ if t_._data.ndim else t_ for t_ in tensors]).np
    return [t_._data.astype(rt) for t_ in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Any = None) -> Tensor:
    """Join tensors along an existing dimension."""
    if out is not None:
        return out_call(cat, "cat", (tensors, dim), {}, out, "cat")
    arrs = _promoted_arrays(tensors, "cat")
    ref = next((a for a in arrs if not (a.ndim == 1 and a.shape[0] == 0)), arrs[0])
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    keep = [(t_, a) for t_, a in zip(tensors, arrs) if not (a.ndim == 1 and a.shape[0] == 0) or a is ref]
    for i, (_, a) in enumerate(keep):
        if a.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref.shape[k]} but "
                    f"got size {a.shape[k]} for tensor number {i} in the list.")
    res = np.concatenate([a for _, a in keep], axis=d)
    ts = [t_ for t_, _ in keep]
    sizes = [a.shape[d] for _, a in keep]
    starts = list(np.cumsum([0] + sizes[:-1]))
    return record(CatBackward0, res, ts, attrs=(d, [int(s) for s in starts], sizes))


concat = concatenate = cat

StackBackward0 = node_class(
    "stack", lambda n, g: tuple(g.select(n.attrs, i) if n.needs[i] else None for i in range(len(n.needs))),
    "grad unstacked into the pieces")


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Any = None) -> Tensor:
    """Join tensors along a new dimension."""
    if out is not None:
        return out_call(stack, "stack", (tensors, dim), {}, out, "cat")
    arrs = _promoted_arrays(tensors, "stack")
    for i, a in enumerate(arrs):
        if a.shape != arrs[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(arrs[0].shape)} at entry 0 and "
                f"{list(a.shape)} at entry {i}")
    d = wrap_dim(dim, arrs[0].ndim + 1)
    return record(StackBackward0, np.stack(arrs, axis=d), list(tensors), attrs=d)


def hstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Join along the first dimension of 1-D tensors, else the second (torch's hstack)."""
    if out is not None:
        return out_call(hstack, "cat", (tensors,), {}, out, "cat")
    _non_empty(tensors, "hstack")
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Join along the first dimension, 1-D tensors as rows."""
    if out is not None:
        return out_call(vstack, "cat", (tensors,), {}, out, "cat")
    _non_empty(tensors, "vstack")
    return cat([t_.unsqueeze(0) if t_.dim() == 1 else t_ for t_ in tensors], 0)


UnbindBackward0 = node_class(
    "unbind", lambda n, gs: _stack_grads(gs, n.attrs, n._in_meta[0]), "grads stacked back", n_outputs=0)


def _stack_grads(gs: list, dim: int, meta: tuple) -> Tensor:
    shape, npd = meta
    parts = []
    for g in gs:
        if g is None:
            sub = shape[:dim] + shape[dim + 1:]
            g = _new(np.zeros(sub, npd))
        parts.append(g)
    return stack(parts, dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` as a tuple of views."""
    x = input._data
    _needs_dims(x, dim)
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d]
    outs = tuple(_new(x[(slice(None),) * d + (i, Ellipsis)], None, input._vc)
                 for i in range(n))
    for o in outs:
        o._meta = {"base": input, "v": input._vc[0], "multi": "Unbind"}
    if input._rg and _state.enabled:
        cls = UnbindBackward0
        node = attach(outs[0], cls, (input,), attrs=d) if n else None
        if node is not None:
            node.n_outputs = n
            for i, o in enumerate(outs[1:], 1):
                o.grad_fn, o._rg, o._out_nr = node, True, i
    return outs


SplitBackward0 = node_class(
    "split", lambda n, gs: cat([g if g is not None else _new(np.zeros(s, n._in_meta[0][1]))
                                for g, s in zip(gs, n.attrs[1])], n.attrs[0]),
    "grads concatenated back", n_outputs=0)


SplitWithSizesBackward0 = node_class(
    "split_with_sizes", lambda n, gs: cat([g if g is not None else _new(np.zeros(s, n._in_meta[0][1]))
                                           for g, s in zip(gs, n.attrs[1])], n.attrs[0]),
    "grads concatenated back", n_outputs=0)


def split(input: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        sizes = [min(s, n - i) for i in range(0, n, s)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension "
                f"{d}), but got split_sizes={sizes}")
    starts = np.cumsum([0] + sizes[:-1])
    outs = tuple(_new(x[(slice(None),) * d + (slice(int(a), int(a) + b),)], None, input._vc)
                 for a, b in zip(starts, sizes))
    for o in outs:
        o._meta = {"base": input, "v": input._vc[0], "multi": "SplitBackward0"}
    if input._rg and _state.enabled:
        shapes = [o._data.shape for o in outs]
        cls = SplitBackward0 if isinstance(split_size_or_sections, int) else SplitWithSizesBackward0
        node = attach(outs[0], cls, (input,), attrs=(d, shapes))
        node.n_outputs = len(outs)
        for i, o in enumerate(outs[1:], 1):
            o.grad_fn, o._rg, o._out_nr = node, True, i
    return outs


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input._data.shape[wrap_dim(dim, input._data.ndim)]
    size = -(-n // chunks) if chunks > 0 else 0
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: 0")
    return split(input, max(size, 1), dim)


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
    return record(Rot90Backward0, np.rot90(x, k, (d0, d1)).copy(), (input,), attrs=(k, (d0, d1)))


def _unfold_grad(n: Any, g: Tensor) -> Tensor:
    # each window element came from position window * step + offset along the dim: add it back there
    from .creation import zeros
    from .indexing import index_add

    d, size, step, shape = n.attrs
    if len(shape) == 0:
        return g.reshape(())
    windows = g.shape[d]
    pos = (np.arange(windows)[:, None] * step + np.arange(size)[None, :]).ravel()
    gm = g.movedim(-1, d + 1)
    gm = gm.reshape(tuple(gm.shape[:d]) + (windows * size,) + tuple(gm.shape[d + 2:]))
    return index_add(zeros(shape, dtype=g.dtype), d, _new(pos), gm)


UnfoldBackward0 = node_class("unfold", _unfold_grad, "grad of each window added back at its source positions")


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
    from .indexing import _slice_op

    return _slice_op(input, d, start, start + length, 1, key)


CloneBackward0 = node_class("clone", lambda n, g: g, "grad")


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return record(CloneBackward0, np.array(input._data, copy=True), (input,))


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return record(CloneBackward0, np.ascontiguousarray(input._data), (input,))


# =========================================================================== more shape ops
def _repeat_grad(n: Any, g: Tensor) -> Tensor:
    reps, in_shape = n.attrs, n._in_meta[0][0]
    lead = len(reps) - len(in_shape)
    full = (1,) * lead + tuple(in_shape)
    inter = []
    for r, s in zip(reps, full):
        inter += [r, s]
    if 0 in inter:
        from .creation import zeros

        return zeros(in_shape, dtype=_dt(g))
    gs = g.reshape(inter)
    gs = gs.sum(tuple(range(0, 2 * len(reps), 2)))
    return gs.reshape(in_shape)


def _dt(g: Tensor) -> Any:
    return g.dtype


RepeatBackward0 = node_class("repeat", _repeat_grad, "grad summed over the repeated copies")


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (leading new dims allowed)."""
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
        raise RuntimeError("repeats can not be negative")
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
    # .copy(), not ascontiguousarray: NumPy calls a one-element flip contiguous and would return the view
    return record(FlipBackward0, np.flip(input._data, ds).copy(),
                  (input,), attrs=ds)


def fliplr(input: Tensor) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


RollBackward0 = node_class("roll", lambda n, g: roll(g, tuple(-s for s in n.attrs[0]), n.attrs[1]),
                           "grad rolled back")


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
    _needs_dims(x, ds[0] if ds else 0)
    ds = tuple(wrap_dim(d, x.ndim) for d in ds)
    return record(RollBackward0, np.roll(x, sh, ds), (input,), attrs=(sh, ds))


def _needs_dims(x: np.ndarray, dim: Any) -> None:
    """torch's error for an op along a dimension of a 0-d tensor (roll, unbind)."""
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")


TrilBackward0 = node_class("tril", lambda n, g: g.tril(n.attrs), "grad.tril(diagonal)")
TriuBackward0 = node_class("triu", lambda n, g: g.triu(n.attrs), "grad.triu(diagonal)")


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


DiagonalBackward0 = node_class("diagonal", _diagonal_grad, "grad placed on the diagonal of zeros")
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


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    _non_empty(tensors, "dstack")
    return cat(atleast_3d(tuple(tensors)), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    _non_empty(tensors, "column_stack")
    return cat([reshape(t_, -1, 1) if t_._data.ndim <= 1 else t_ for t_ in tensors], 1)


def ravel(input: Tensor) -> Tensor:
    return view(contiguous(input), -1)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds = list(np.cumsum([0] + sizes))
    else:
        idx = [int(i) for i in indices_or_sections]
        bounds = [0] + [min(max(i, 0), n) for i in idx] + [n]
    from .indexing import _slice_op

    return tuple(_slice_op(input, d, bounds[i], max(bounds[i + 1], bounds[i]), 1) for i in range(len(bounds) - 1))

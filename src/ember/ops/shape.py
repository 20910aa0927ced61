"""Shape and view ops: reshape/view, transpose, permute, squeeze/unsqueeze, expand, cat, stack ...

Views share their input's memory and version counter, so an in-place change to one is seen
(and version-checked) through the other.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._tensor import Size, Tensor, _new
from ._core import _state, attach, node_class, record, wrap_dim, wrap_dims


def _view_of(base: Tensor, arr: np.ndarray, cls: type, attrs: Any = None) -> Tensor:
    """Record a view op: the output shares ``base``'s data and version counter."""
    t = _new(arr, None, base._vc)
    if base._rg and _state.enabled:
        attach(t, cls, (base,), attrs=attrs)
        t._meta = {"base": base}
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
    return reshape(input, shp[:s] + (-1 if 0 not in shp[s:e + 1] else 0,) + shp[e + 1:])


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
    return _view_of(input, np.swapaxes(input._data, d0, d1), TransposeBackward0, (d0, d1))


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
    if input._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(input, -2, -1)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    nd = input._data.ndim
    src = wrap_dims(source, nd)
    dst = wrap_dims(destination, nd)
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


def _promoted_arrays(tensors: Sequence[Tensor], name: str) -> list:
    from ._core import result_dtype

    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if len(tensors) == 0:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
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
    arrs = _promoted_arrays(tensors, "stack")
    for i, a in enumerate(arrs):
        if a.shape != arrs[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(arrs[0].shape)} at entry 0 and "
                f"{list(a.shape)} at entry {i}")
    d = wrap_dim(dim, arrs[0].ndim + 1)
    return record(StackBackward0, np.stack(arrs, axis=d), list(tensors), attrs=d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
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
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d]
    outs = tuple(_new(x[(slice(None),) * d + (i,)], None, input._vc)
                 for i in range(n))
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


def split(input: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    x = input._data
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
    if input._rg and _state.enabled:
        shapes = [o._data.shape for o in outs]
        node = attach(outs[0], SplitBackward0, (input,), attrs=(d, shapes))
        node.n_outputs = len(outs)
        for i, o in enumerate(outs[1:], 1):
            o.grad_fn, o._rg, o._out_nr = node, True, i
    return outs


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    n = input._data.shape[wrap_dim(dim, input._data.ndim)]
    size = -(-n // chunks) if chunks > 0 else 0
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: 0")
    return split(input, max(size, 1), dim)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (slice(start, start + length),)
    from .indexing import _slice_op

    return _slice_op(input, d, start, start + length, 1, key)


CloneBackward0 = node_class("clone", lambda n, g: g, "grad")


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    return record(CloneBackward0, np.array(input._data, copy=True), (input,))


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return clone(input)

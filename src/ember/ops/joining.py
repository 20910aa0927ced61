"""Joining and splitting: cat, stack (and h/v/d/column_stack), unbind, split, chunk, tensor_split."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _new, track_view
from ._core import _fw, _propagate, _state, attach, node_class, record, wrap_dim
from .out import out_call
from .views import _needs_dims, _slice_op, atleast_3d, reshape


def _pieces(n: Any, ts: list) -> list:  # (the tangents, zeros for the pieces without one)
    return [t if t is not None else _new(np.zeros(*n._in_meta[i])) for i, t in enumerate(ts)]


CatBackward0 = node_class(
    "cat", lambda n, g: tuple(
        None if not n.needs[i] else g.new_zeros(n._in_meta[i][0]) if n.attrs[2][i] is None  # (a skipped empty)
        else g.narrow(n.attrs[0], n.attrs[1][i], n.attrs[2][i])
        for i in range(len(n.needs))),
    "grad split back into the pieces", jvp=lambda n, ts: cat(_pieces(n, ts), n.attrs[0]))


def _non_empty(tensors: Sequence[Tensor], name: str) -> None:
    if isinstance(tensors, (list, tuple)) and len(tensors) == 0:
        raise RuntimeError(f"{name} expects a non-empty TensorList")


def _promoted_arrays(tensors: Sequence[Tensor], name: str) -> list:
    from ._core import result_dtype

    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if len(tensors) == 0:
        if name == "cat":
            raise ValueError("ember.cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t_).__name__}")
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
    if not all(a.ndim in (4, 5) and a.strides[1] == a.itemsize < min(a.strides[2:]) for _, a in keep):
        # torch's cat output is contiguous unless every input is channels-last (NumPy's follows
        # the inputs' order: cat of transposes came out transposed)
        res = np.ascontiguousarray(res)
    # every input is in the graph, as in torch: a legacy empty (0,) tensor that was skipped gets an empty gradient
    kept = {id(a) for _, a in keep}
    sizes = [a.shape[d] if id(a) in kept else None for a in arrs]
    starts, at = [], 0
    for sz in sizes:
        starts.append(at)
        at += sz or 0
    return record(CatBackward0, res, tensors, attrs=(d, starts, sizes))


concat = concatenate = cat

StackBackward0 = node_class(
    "stack", lambda n, g: tuple(g.select(n.attrs, i) if n.needs[i] else None for i in range(len(n.needs))),
    "grad unstacked into the pieces", jvp=lambda n, ts: stack(_pieces(n, ts), n.attrs))


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
    # (contiguous, as torch's cat of the unsqueezed inputs; NumPy's follows transposed inputs)
    return record(StackBackward0, np.ascontiguousarray(np.stack(arrs, axis=d)), list(tensors), attrs=d)


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
    "unbind", lambda n, gs: _stack_grads(gs, n.attrs, n._in_meta[0]), "grads stacked back", n_outputs=0,
    jvp=lambda n, ts: unbind(ts[0], n.attrs))


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
        if _state.enabled and not input._rg:
            track_view(input, o)
    if input._rg and _state.enabled:
        cls = UnbindBackward0
        node = attach(outs[0], cls, (input,), attrs=d) if n else None
        if node is not None:
            node.n_outputs = n
            for i, o in enumerate(outs[1:], 1):
                o._grad_fn, o._rg, o._out_nr = node, True, i
    if _fw.on:
        _propagate(UnbindBackward0, outs, (input,), attrs=d)
    return outs


def _split_jvp(n: Any, ts: list) -> tuple:  # (the same split of the tangent: views of it)
    d, shapes = n.attrs
    return split(ts[0], [s[d] for s in shapes], d)


SplitBackward0 = node_class(
    "split", lambda n, gs: cat([g if g is not None else _new(np.zeros(s, n._in_meta[0][1]))
                                for g, s in zip(gs, n.attrs[1])], n.attrs[0]),
    "grads concatenated back", n_outputs=0, jvp=_split_jvp)


SplitWithSizesBackward0 = node_class(
    "split_with_sizes", lambda n, gs: cat([g if g is not None else _new(np.zeros(s, n._in_meta[0][1]))
                                           for g, s in zip(gs, n.attrs[1])], n.attrs[0]),
    "grads concatenated back", n_outputs=0, jvp=_split_jvp)


def split(input: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    x = input._data
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
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
    multi = "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes"  # (torch's names here)
    for o in outs:
        o._meta = {"base": input, "v": input._vc[0], "multi": multi}
        if _state.enabled and not input._rg:
            track_view(input, o)
    if input._rg and _state.enabled:
        shapes = [o._data.shape for o in outs]
        cls = SplitBackward0 if isinstance(split_size_or_sections, int) else SplitWithSizesBackward0
        node = attach(outs[0], cls, (input,), attrs=(d, shapes))
        node.n_outputs = len(outs)
        for i, o in enumerate(outs[1:], 1):
            o._grad_fn, o._rg, o._out_nr = node, True, i
    if _fw.on:
        cls = SplitBackward0 if isinstance(split_size_or_sections, int) else SplitWithSizesBackward0
        _propagate(cls, outs, (input,), attrs=(d, [o._data.shape for o in outs]))
    return outs


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    n = input._data.shape[wrap_dim(dim, input._data.ndim)]
    size = -(-n // chunks) if chunks > 0 else 0
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: 0")
    return split(input, max(size, 1), dim)

def dstack(tensors: Sequence[Tensor]) -> Tensor:
    _non_empty(tensors, "dstack")
    return cat(atleast_3d(tuple(tensors)), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    _non_empty(tensors, "column_stack")
    return cat([reshape(t_, -1, 1) if t_._data.ndim <= 1 else t_ for t_ in tensors], 1)

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
    return tuple(_slice_op(input, d, bounds[i], max(bounds[i + 1], bounds[i]), 1) for i in range(len(bounds) - 1))

"""In-place ops (``add_``, ``mul_``, ``zero_``, ``fill_``, ``copy_`` ...).

The result is computed out of place, written into the tensor's own array (so views see it), the
version counter is bumped, and, when the tensor takes part in autograd, its grad_fn is replaced by
the new node, whose input edge is the tensor's old history (torch's "rebase").
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype
from .._dtype import LEGACY_NAMES as _LEGACY_NAMES
from .._tensor import Tensor, _new, bump_version, views_require_grad
from . import _forward_inplace as _fwd
from ._core import AsStridedBackward0, _fw, _state, attach, node_class, record, refresh_view, view_indices, view_root, zeros_grad
from ._index_keys import _basic_np_key, _basic_view, _int_like, _is_advanced, _np_index, _split_key, empty_selection
from ._strides import _is_dense
from .indexing import CopySlices, IndexPutBackward0, OverlappingKey, ViewKey, check_inplace, masked_fill


def _old_self(self: Tensor) -> Tensor:
    # a stand-in carrying self's history and a copy of its current value: a derivative that
    # saved the input needs the value from before the write (torch clones it the same way)
    old = _new(self._data.copy(), None, None)
    old._rg, old._grad_fn, old._out_nr, old._accum = self._rg, self._grad_fn, self._out_nr, self._accum
    return old


# ops whose in-place form torch runs without its internal-overlap check (x.expand(2, 3).threshold_(...)
# writes): each element changes only where the op changed it, so the aliases agree as in torch's loop
ALIASED_WRITES: set = {masked_fill}  # (activation.py adds threshold; setitem and fill_ add theirs below)
# ops whose in-place form torch records as another node that saves the output (LeakyReluBackward1,
# EluBackward1): op -> that node class; a later in-place change of the output fails its backward
SAVES_OUTPUT_INPLACE: dict = {}  # (activation.py adds leaky_relu and elu)


def _write_back(self: Tensor, res: Tensor, aliased_ok: bool = False) -> None:
    rd, sd = res._data, self._data
    if rd.dtype != sd.dtype:
        if not np.can_cast(rd.dtype, sd.dtype, "same_kind") or (rd.dtype.kind == "f" and sd.dtype.kind in "iub"):
            raise RuntimeError(
                f"result type {_LEGACY_NAMES[_dtype._FROM_NP[rd.dtype].name]} can't be cast to the desired output "
                f"type {_LEGACY_NAMES[_dtype._FROM_NP[sd.dtype].name]}")
    if rd.shape != sd.shape:
        raise RuntimeError(
            f"output with shape {list(sd.shape)} doesn't match the broadcast shape {list(np.broadcast_shapes(rd.shape, sd.shape))}")
    if not sd.flags.writeable:
        w = _writable(sd) if aliased_ok or not sd.size else sd  # (an empty tensor has no overlapping elements)
        if not w.flags.writeable:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.")
        np.copyto(w, rd, casting="unsafe", where=rd != sd)
        bump_version(self)
        return
    np.copyto(sd, rd, casting="unsafe")
    bump_version(self)


def _setitem_copy(s: Tensor, key: Any, value: Any) -> Tensor:
    out = s.clone()
    setitem(out, key, value)
    return out


ALIASED_WRITES.add(_setitem_copy)  # (setitem checks an expanded tensor's key itself)


def _overlaps(x: np.ndarray, v: np.ndarray, tkey: tuple) -> bool:
    """Whether torch refuses ``x[key] = v`` for sharing memory. torch compares memory ranges only
    when both tensors are dense (else it cannot tell, and writes): an index_put refuses any overlap
    with the indexed tensor (a bool mask with a one-element value is a masked fill: no check), a slice copy
    a partial one (the very same elements are allowed)."""
    if not v.size or not np.may_share_memory(x, v):
        return False
    advanced = any(_is_advanced(k) and not _int_like(k) for k in tkey)
    key = tuple(_np_index(k) for k in tkey) if advanced else _basic_np_key(tkey)
    split = _split_key(tkey, x.ndim) if advanced else None
    if advanced:
        if v.size == 1 and any(isinstance(k, np.ndarray) and k.dtype == np.bool_ for k in key):
            return False
        dst = _basic_view(x, split[0]) if split is not None else x
    else:
        try:
            dst = _basic_view(x, key)
        except (IndexError, TypeError, ValueError):
            return False
    if not (_is_dense(dst) and _is_dense(v)) or not advanced and v.size != dst.size:  # (a broadcast value is not dense)
        return False
    d0, v0 = dst.__array_interface__["data"][0], v.__array_interface__["data"][0]
    d1, v1 = d0 + dst.size * dst.itemsize, v0 + v.size * v.itemsize
    if d1 <= v0 or v1 <= d0:
        return False
    # (one element written onto itself under another shape: torch's expanded copy of it has other
    # strides, a partial overlap to its check)
    return advanced or (d0, d1) != (v0, v1) or (v.size == 1 and dst.ndim > 0 and dst.shape != v.shape)


def _refuse_repeated_target(x: np.ndarray, tkey: tuple) -> None:
    """An expanded tensor: torch refuses a basic key whose view repeats an element; its index_put and
    masked fill write in order instead (the last value wins)."""
    if any(_is_advanced(k) and not _int_like(k) for k in tkey):
        return
    try:
        t = _basic_view(x, _basic_np_key(tkey))
    except (IndexError, TypeError, ValueError):
        return  # (the write raises torch's error)
    if t.size and any(st == 0 and n > 1 for st, n in zip(t.strides, t.shape)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")


def _partial_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """torch's partial overlap of two dense tensors: their memory ranges overlap and are not the
    very same elements in the same order (x[1:].copy_(x[:-1]), x.copy_(x.t()) of a square x)."""
    if not a.size or not b.size or not np.may_share_memory(a, b) or not (_is_dense(a) and _is_dense(b)):
        return False
    a0, b0 = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    a1, b1 = a0 + a.size * a.itemsize, b0 + b.size * b.itemsize
    if (a0, a1) == (b0, b1):
        return a.shape != b.shape or any(n > 1 and sa != sb for n, sa, sb in zip(a.shape, a.strides, b.strides))
    return a0 < b1 and b0 < a1


def setitem(self: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value``: writes in place, bumps the version, and rewrites the graph when needed."""
    if type(key) is tuple and sum(k is Ellipsis for k in key) > 1:  # torch: later ellipses stand for no dims
        first = next(i for i, k in enumerate(key) if k is Ellipsis) + 1
        key = key[:first] + tuple(k for k in key[first:] if k is not Ellipsis)
    if isinstance(value, Tensor) and _overlaps(self._data, value._data, key if isinstance(key, tuple) else (key,)):
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    tkey = key if isinstance(key, tuple) else (key,)
    if not self._data.flags.writeable:
        _refuse_repeated_target(self._data, tkey)
    if all(k is Ellipsis or (isinstance(k, slice) and k == slice(None)) for k in tkey) and (
            not isinstance(value, Tensor) or value._data.ndim == 0) and _state.enabled and self._data.dtype.kind in "fc":
        # torch: a key that selects the whole tensor is the tensor itself, and a number or 0-d value
        # fills it (FillBackward3, whose zero gradient to the old self has no graph)
        if not isinstance(value, Tensor) and (self._rg or _fw.on):
            check_inplace(self)
            apply_inplace(self, _filled, FillBackward3, np.asarray(value), None)
        else:
            fill_(self, value)
        return
    if self._meta is not None and "base" in self._meta and _state.enabled:
        split = _split_key(tkey, self._data.ndim) if not self._data.flags.writeable else None
        if split is not None and any(_is_advanced(k) and not _int_like(k) for k in tkey):
            # torch's order through an expanded view: the basic part as a view first (which may no
            # longer repeat elements), then index_put on it, so the graph sees the elements written
            setitem(self[split[0]], split[1], value)
            return
        whole = all(k is Ellipsis or (isinstance(k, slice) and k == slice(None)) for k in tkey)
        if not self._data.flags.writeable and not whole and not any(_is_advanced(k) for k in tkey):
            # a basic key into an expanded view: torch writes through the view the key makes, so the
            # graph's rewrite covers those elements only (the whole view would count repeated ones again)
            setitem(self[key], Ellipsis, value)
            return
        inplace_on_view(self, _setitem_copy, (key, value), {})
        return
    if self._rg and _state.enabled and self.grad_fn is None and any(k is None or _int_like(k) for k in tkey):
        # torch writes through the view an int or None makes (x[0] = v)
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    check_inplace(self)
    advanced = any(_is_advanced(k) and not _int_like(k) for k in tkey)  # (a 0-d int tensor is an int)
    k2 = tuple(_np_index(k) for k in tkey) if advanced else _basic_np_key(tkey)
    if isinstance(value, Tensor):
        v = value._data
        if v.dtype != self._data.dtype:
            v = v.astype(self._data.dtype)
        if v.ndim and v.shape[0] == 1:  # torch drops the value's leading size-1 dims (x[0] = ones(1) fits)
            lead = next((i for i, n in enumerate(v.shape) if n != 1), v.ndim)
            v = v.reshape(v.shape[lead:])
    else:
        v = value
    x = self._data
    if not x.flags.writeable:
        x = _writable(x)  # (an expanded tensor, its key checked above)
    record_graph = _state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg))
    if record_graph and not self._rg and not advanced and x.dtype.kind not in "fc" and not _dtype.is_bfloat16(x.dtype):
        # torch copies into an integer tensor (copy_ ends the graph) unless it fills a view with a 0-d value
        if value._data.ndim or not np.ndim(x[k2]):
            record_graph = False
    split = _split_key(tkey, x.ndim) if advanced else None
    if advanced and isinstance(value, Tensor) and value._data.dtype != x.dtype and not (
            np.size(v) == 1 and any(isinstance(k, np.ndarray) and k.dtype == np.bool_ and k.ndim for k in k2)):
        # an index_put (not a masked fill): torch wants the value in the tensor's own dtype
        target = (_basic_view(x, split[0])[split[1]] if split is not None else x[k2]).shape
        try:
            fits = np.broadcast_shapes(np.shape(v), target) == target
        except ValueError:
            fits = False
        if fits:  # (else the write below raises torch's shape error)
            names = _LEGACY_NAMES
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{names[_dtype._FROM_NP[x.dtype].name]} for the destination and "
                               f"{names[_dtype._FROM_NP[value._data.dtype].name]} for the source.")
    if advanced and isinstance(v, np.ndarray) and v.ndim > 1 and v.size == 1:
        v = v.reshape(())  # (one element broadcasts anywhere; NumPy's mask assignment takes 0-d or 1-d values only)
    try:
        if split is not None:  # torch's order: the basic part as a view, then the index arrays
            _basic_view(x, split[0])[split[1]] = v
        else:
            x[k2] = v
    except (ValueError, TypeError):  # (TypeError: NumPy's mask assignment of a 2-d value)
        target = _basic_view(x, split[0])[split[1]].shape if split is not None else x[k2].shape
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(v))} cannot be broadcast to indexing "
            f"result of shape {list(target)}") from None
    except IndexError as e:  # (an empty selection writes nothing and checks no index: as torch)
        zeroed = empty_selection(x, k2)
        if zeroed is None:
            raise IndexError(str(e).replace("axis", "dimension")) from None
        k2 = zeroed
    bump_version(self)
    if _fw.on:
        _fwd.setitem(self, key, value)
    if record_graph:
        # the old self becomes an input of the new node; self takes the node as its grad_fn
        old = None
        if self._rg:
            old = _new(x, None, None)
            old._rg, old._grad_fn, old._out_nr, old._accum = True, self._grad_fn, self._out_nr, self._accum
        val = value if isinstance(value, Tensor) else None
        # (torch: index_put on the base, or on a view of it for a key with a basic part: CopySlices)
        viewed = split is not None and any(k is not Ellipsis and not (isinstance(k, slice) and k == slice(None))
                                           for k in split[0])
        cls = IndexPutBackward0 if advanced and not viewed else CopySlices
        node = attach(_new(x), cls, (old, val), attrs=k2)
        self._grad_fn, self._rg, self._out_nr = node, True, 0
        if old is None:
            views_require_grad(self)


def apply_inplace(self: Tensor, fn: Callable, *args: Any, **kwargs: Any) -> Tensor:
    """Run ``fn(self, *args)`` out of place and write the result back into ``self``."""
    if self._meta is not None and "base" in self._meta and _state.enabled:
        return inplace_on_view(self, fn, args, kwargs)
    # the op may save self for its backward (x *= w saves x for w's gradient): give it the value
    # from before the write
    recorded = _state.enabled and (self._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    src = _old_self(self) if recorded else self
    if _fw.on and src is not self:
        _fwd.share(self, src)
    try:
        res = fn(src, *args, **kwargs)
    except TypeError:
        raise  # (torch's argument parser refuses an argument of a wrong type before the leaf check)
    except Exception:
        check_inplace(self)
        raise
    check_inplace(self)
    _write_back(self, res, fn in ALIASED_WRITES)
    if _fw.on:
        _fwd.written(self, res)
    node = res.grad_fn
    if node is not None:
        if not self._rg:
            views_require_grad(self)
        self._grad_fn, self._rg, self._out_nr = node, True, res._out_nr
        inplace_cls = SAVES_OUTPUT_INPLACE.get(fn)
        if inplace_cls is not None:
            node.__class__ = inplace_cls
        if type(getattr(node, "_result", None)) is tuple or inplace_cls is not None:  # (not when hooks packed it)
            # the op saved its output (exp_, sigmoid_ ...): that output is self now, so a later
            # in-place change of self is caught at backward, as in torch
            node._result = (self._data, self._vc, self._vc[0])
    return self


def inplace_on_view(view: Tensor, fn: Callable, args: tuple, kwargs: dict) -> Tensor:
    """An in-place op through a view: write the result into the shared memory, then give the base a
    CopySlices node (old base history + the result at the view's positions) and the view an
    AsStridedBackward0 node reading the new base, as torch does."""
    root = view_root(view)
    meta = view._meta
    if root._rg and root.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if meta.get("multi") and (root._rg or any(isinstance(a, Tensor) and a._rg for a in args)):
        # (torch forbids it only where autograd would have to rewrite the graph)
        raise RuntimeError(
            f"Output {view._out_nr} of {meta['multi']} is a view and is being modified inplace. This view is the output "
            "of a function that returns multiple views. Such functions do not allow the output views to be modified "
            "inplace. You should replace the inplace operation by an out-of-place one.")
    refresh_view(view)
    # a stand-in whenever a graph will be recorded: the op may save its input, which the write changes
    grad_args = any(isinstance(a, Tensor) and a._rg for a in (*args, *kwargs.values()))
    src = _old_self(view) if view._rg or grad_args else view
    if _fw.on and src is not view:
        _fwd.share(view, src)
    res = fn(src, *args, **kwargs)
    _write_back(view, res, fn in ALIASED_WRITES)
    if _fw.on:
        _fwd.written(view, res)
    node = res.grad_fn
    if node is not None and type(node._result) is tuple:
        # the op saved its output, which is the view's memory now (exp_ through a view, then += : caught)
        node._result = (view._data, view._vc, view._vc[0])
    if res._rg:
        idx = view_indices(root, view)
        if idx is None:
            raise RuntimeError(
                "ember cannot rewrite the graph for an in-place op on this view (its elements are not at whole positions of its base); "
                "use an out-of-place op instead")
        old = None
        if root._rg:
            old = _new(root._data, None, None)
            old._rg, old._grad_fn, old._out_nr, old._accum = True, root._grad_fn, root._out_nr, root._accum
        # the base's node is index_put's: the view's positions as an index into the base
        shape = root._data.shape  # (a 0-d base: its one element, at the view's size-1 dims)
        key = ViewKey(np.unravel_index(idx, shape) if shape else (None,) * idx.ndim)
        if view._data.size and any(st == 0 and n > 1 for st, n in zip(view._data.strides, view._data.shape)):
            key = OverlappingKey(key)  # (its backward fails as torch's, copying into the repeated elements)
        node = attach(_new(root._data), CopySlices, (old, res), attrs=key)
        root._grad_fn, root._rg, root._out_nr = node, True, 0
        if old is None:
            views_require_grad(root)
        attach(view, AsStridedBackward0, (root,), attrs=(root._data.shape, idx))
    meta["v"] = view._vc[0]
    return view


def _overwrite_grads(n: Any, g: Tensor) -> tuple:
    # self's old values are gone (exactly zero gradient, whatever grad holds); a value tensor gets
    # the gradient of every place it was written to (the engine sums and casts it to its shape)
    return (zeros_grad(g) if n.needs[0] else None,) + ((g if n.needs[1] else None,) if len(n.needs) > 1 else ())


ZeroBackward0 = node_class("zero", _overwrite_grads, "0")
FillBackward2 = node_class("fill", _overwrite_grads, "0", suffix=2)
FillBackward3 = node_class("fill", _overwrite_grads, "0 (to self), grad summed (to value)", suffix=3)
CopyBackwards = node_class("copy", _overwrite_grads, "0 (to self), grad reduced to src (to src)")
CopyBackwards.__name__ = CopyBackwards.__qualname__ = "CopyBackwards"


def _broadcast_into(self: Tensor, s: np.ndarray) -> np.ndarray:
    """``s`` broadcast to ``self``'s shape, with torch's error when it cannot be."""
    try:
        return np.broadcast_to(s, self._data.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match the size of "
            f"tensor b ({s.shape[-1] if s.ndim else 1}) at non-singleton dimension {max(self._data.ndim - 1, 0)}") from None


def filled_array(shape: tuple, dtype: Any, arr: np.ndarray) -> np.ndarray:
    """A new array of ``shape`` and ``dtype`` holding ``arr`` (broadcast, cast as torch's copy casts):
    what fill_, zero_ and copy_ write (ember.compile's ``filled`` kernel calls it too)."""
    out = np.empty(shape, dtype)
    np.copyto(out, arr, casting="unsafe")
    return out


def _overwritten(s: Tensor, cls: type, arr: np.ndarray, value: Tensor | None) -> Tensor:
    out = filled_array(s._data.shape, s._data.dtype, _broadcast_into(s, arr))
    return record(cls, out, (s,) if value is None else (s, value))


def _filled(s: Tensor, cls: type, arr: np.ndarray, value: Tensor | None) -> Tensor:
    return _overwritten(s, cls, arr, value)


ALIASED_WRITES.add(_filled)  # (torch's fill_ and zero_ write into an expanded tensor; its copy_ refuses)


def _overwrite(self: Tensor, cls: type, arr: np.ndarray, value: Tensor | None = None) -> Tensor:
    """Write ``arr`` over every element of ``self`` as a recorded op ``cls`` (zero_, fill_, copy_)."""
    return apply_inplace(self, _overwritten if cls is CopyBackwards else _filled, cls, arr, value)


def zero_(self: Tensor) -> Tensor:
    check_inplace(self)
    if (self._rg and self.grad_fn is not None and _state.enabled) or _fw.on:
        return _overwrite(self, ZeroBackward0, np.zeros((), self._data.dtype))
    _writable(self._data)[...] = 0
    bump_version(self)
    return self


def fill_(self: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions.")
        if self._data.size and any(st == 0 and n > 1 for st, n in zip(self._data.strides, self._data.shape)):
            # (torch fills with a tensor value by copy_, which refuses an expanded tensor; a number it writes)
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.")
        if ((value._rg or self._rg) and _state.enabled) or _fw.on:  # (torch: FillBackward3 for a tensor value)
            return _overwrite(self, FillBackward3, value._data, value)
        value = value.item()
    check_inplace(self)
    if (self._rg and self.grad_fn is not None and _state.enabled) or _fw.on:
        return _overwrite(self, FillBackward2, np.asarray(value))
    _writable(self._data)[...] = value
    bump_version(self)
    return self


def _writable(a: np.ndarray) -> np.ndarray:
    """``a``, or for an expanded tensor's read-only broadcast view a writable view of the same
    elements: torch fills an expanded tensor (its aliased elements all get the one value)."""
    if a.flags.writeable:
        return a
    base = a
    while isinstance(base.base, np.ndarray):
        base = base.base
    if not (base.flags.writeable and base.flags.c_contiguous):
        return a  # (NumPy's read-only error)
    off = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=base, offset=off, strides=a.strides)


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    if src is self:  # (torch copies nothing, but counts the write, and refuses a leaf that requires grad)
        check_inplace(self)
        bump_version(self)
        return self
    if isinstance(src, Tensor) and _partial_overlap(self._data, src._data):
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
            "memory location. Please clone() the tensor before performing the operation.")
    # an integer or bool destination ends the graph (torch: no grad_fn, requires_grad False)
    if ((self._rg or isinstance(src, Tensor) and src._rg) and _state.enabled or _fw.on) and (self.is_floating_point() or self.is_complex()):
        s = src._data if isinstance(src, Tensor) else np.asarray(src)
        return _overwrite(self, CopyBackwards, s, src if isinstance(src, Tensor) else None)
    check_inplace(self)
    s = src._data if isinstance(src, Tensor) else np.asarray(src)
    if not self._data.flags.writeable and self._data.size:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    np.copyto(self._data, _broadcast_into(self, s), casting="unsafe")
    bump_version(self)
    return self


_NOT_DIRECT = object()


def direct_operand(self: Tensor, other: Any) -> Any:
    """What ``self op= other`` writes straight into self's array with (``other``'s array, or the
    number) when autograd has nothing to record and no promotion or broadcasting is involved (an
    optimizer's ``p -= lr * p.grad``); ``_NOT_DIRECT`` otherwise. (ember.compile asks it too.)"""
    x = self._data
    if x.dtype.kind != "f" or not x.flags.writeable or _fw.on:
        return _NOT_DIRECT
    if isinstance(other, Tensor):
        y = other._data
        if y.dtype is not x.dtype or y.shape != x.shape:
            return _NOT_DIRECT
    elif type(other) is float or type(other) is int:
        y = other
    else:
        return _NOT_DIRECT
    if _state.enabled:
        if self._rg or self._meta is not None or (type(y) is np.ndarray and other._rg):
            return _NOT_DIRECT
    return y


def _direct(self: Tensor, other: Any, ufunc: Any) -> bool:
    y = direct_operand(self, other)
    if y is _NOT_DIRECT:
        return False
    ufunc(self._data, y, out=self._data)
    bump_version(self)
    return True


def make_inplace(fn: Callable, ufunc: Any = None) -> Callable:
    """The in-place method of op ``fn``; ``ufunc``: NumPy's in-place form for the common case."""
    if ufunc is not None:
        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            if len(args) == 1 and not kwargs and _direct(self, args[0], ufunc):
                return self
            return apply_inplace(self, fn, *args, **kwargs)
    else:
        def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            return apply_inplace(self, fn, *args, **kwargs)

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of :func:`{fn.__name__}`."
    return method


def _random_fill(self: Tensor, arr: np.ndarray) -> Tensor:
    check_inplace(self)
    if self._rg and self.grad_fn is not None and _state.enabled:
        const = _new(arr.astype(self._data.dtype))
        return apply_inplace(self, lambda s: s * 0 + const)
    self._data[...] = arr
    bump_version(self)
    return self


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples from U(a, b), from ember's torch-compatible generator."""
    from .creation import _gen

    u = _gen(generator).uniform(self._data.shape, self._data.dtype)
    return _random_fill(self, u * (b - a) + a if (a, b) != (0.0, 1.0) else u)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    from .creation import _gen

    z = _gen(generator).normal(self._data.shape, self._data.dtype)
    return _random_fill(self, z * std + mean if (mean, std) != (0.0, 1.0) else z)


def _storage_of(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """The flat array owning ``arr``'s memory and ``arr``'s element offset in it (its storage)."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.c_contiguous or root.dtype != arr.dtype:
        return np.ravel(arr, order="K"), 0  # its own memory order stands in for the storage
    offset = (arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // max(arr.itemsize, 1)
    return root.reshape(-1), offset


def resize_(self: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Make ``self`` a contiguous tensor of shape ``sizes`` over its storage from its offset,
    keeping the leading elements in storage order; growing adds uninitialised elements."""
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    shape = tuple(int(s) for s in sizes)
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    if any(s < 0 for s in shape):
        raise RuntimeError("numel: integer multiplication overflow")  # torch's words for a negative size
    if shape == self._data.shape:
        return self
    n = int(np.prod(shape, dtype=np.int64))
    flat, offset = _storage_of(self._data)
    if offset + n <= flat.size:
        self._data = flat[offset:offset + n].reshape(shape)  # shares the storage, as torch's does
    else:
        # the storage grows: a new buffer with the old elements first (torch leaves the rest
        # uninitialised; ember's are whatever np.empty holds too)
        arr = np.empty(n, dtype=self._data.dtype)
        kept = flat[offset:]
        arr[:kept.size] = kept
        self._data = arr.reshape(shape)
    if self._meta is not None and "base" in self._meta:
        # no longer a view of its base's values in the shape autograd recorded
        self._meta = {k: v for k, v in self._meta.items() if k not in ("base", "v")} or None
    bump_version(self)
    return self


def resize_as_(self: Tensor, other: Tensor, memory_format: Any = None) -> Tensor:
    """Resize ``self`` to ``other``'s shape (see :func:`resize_`)."""
    return resize_(self, other._data.shape)

"""In-place ops on the values a traced function computes (``out += identity``, ``nn.ReLU(inplace=True)``).

Eager runs ``x.relu_()`` (``ops/inplace.py``) as: a copy of x's old value for the op to save
(``_old_self``), the op out of place on that copy, then the result written back into x's own
array (``_write_back``), x taking the op's node. The tracer follows the same steps: the copy is a
replay step (``old = x.copy()``), the op is recorded as any op, and the write-back is
``np.copyto(x, result)``, so the value named x is the same array before and after, as in eager,
and the backward nodes read what eager's read. When autograd records nothing (``x += y`` under
no_grad), the write is NumPy's in-place ufunc, as eager's ``_direct``. Writes through views, into
inputs or parameters by other means, or under forward AD stay graph breaks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import functional
from ..ops import inplace, inplace_shape
from ..ops._core import _fw, _state, view_root, wrap_dim
from . import generic
from .steps import GraphBreak, Ref, Step

METHODS = {inplace.make_inplace(lambda x: x, np.add).__code__, inplace.make_inplace(lambda x: x).__code__}
# what calls apply_inplace on a computed value: the in-place methods, and nn's activations with
# inplace=True (a GAN's nn.LeakyReLU(0.2, inplace=True))
_APPLIERS = METHODS | {functional._maybe_inplace.__code__, inplace._overwrite.__code__}
# fill_(number) and zero_() of a computed value: with a history, eager's _overwrite, apply_inplace
# and the ``filled`` kernel; without, one ``x[...] = value`` step
_FILLS = {inplace.fill_.__code__, inplace.zero_.__code__}
_OVERWRITE = inplace._overwrite.__code__
_SETITEM = inplace.setitem.__code__  # (x[key] = value: eager's setitem called again at replay)
# a write through a view of a computed value (d2l's sequence_mask writes into X.reshape(-1, n)): eager's
# inplace_on_view, its copy of the view's old value, the op on it (setitem's on a clone), the write-back
_ON_VIEW, _SETITEM_COPY = inplace.inplace_on_view.__code__, inplace._setitem_copy.__code__
_DIRECT, _APPLY = inplace._direct.__code__, inplace.apply_inplace.__code__
_OLD, _WRITE_BACK = inplace._old_self.__code__, inplace._write_back.__code__
# in-place shape ops (x.squeeze_(0), x.t_(): matmul of a vector by a matrix squeezes its result so)
_RESHAPED = {inplace_shape.squeeze_.__code__, inplace_shape.unsqueeze_.__code__}
_SWAPPED = {inplace_shape.t_.__code__, inplace_shape.transpose_.__code__}
CODES = METHODS | {_DIRECT, _APPLY, _OLD, _WRITE_BACK, _OVERWRITE, _SETITEM, _ON_VIEW, _SETITEM_COPY} | _RESHAPED | \
    _SWAPPED | _FILLS


def computed(tr: Any, t: Any) -> str | None:
    """The name of ``t``'s array when the traced function computed it (not an input, a parameter
    or a .grad read), else None."""
    name = tr.vals.get(id(t._data))
    if name is None or name in tr.inputs or name in tr.externals or name in tr.grad_of:
        return None
    return name


def writable(tr: Any, t: Any) -> str | None:
    """The name of ``t``'s array when it is a computed value an in-place op can write as eager does
    (no view, its own writeable C-contiguous memory, no forward-mode tangents), else None."""
    if _fw.on or (t._meta is not None and "base" in t._meta) or not (t._data.flags.writeable and t._data.flags.c_contiguous):
        return None
    return computed(tr, t)


def through_view(tr: Any, t: Any) -> bool:
    """Whether ``t`` is a view, of a computed value an in-place op can write, whose memory the
    replay's NumPy view shares as eager's does (a view of the base's own array)."""
    if _fw.on or t._meta is None or "base" not in t._meta or computed(tr, t) is None or not t._data.flags.writeable:
        return False  # (an expanded view's read-only array: eager writes it by a trick of its own)
    root = view_root(t)
    return writable(tr, root) is not None and np.shares_memory(t._data, root._data)


def on_call(tr: Any, code: Any, frame: Any) -> bool:
    """Follow one call of the in-place machinery into a computed value (True: handled; False:
    the caller's usual rules apply, which break the graph)."""
    loc = frame.f_locals
    caller = frame.f_back.f_code if frame.f_back is not None else None
    if code in _RESHAPED or code in _SWAPPED:
        return _restrided(tr, code, frame)
    if code in _FILLS:
        return _filled(tr, code, frame)
    if code is _SETITEM:
        return _setitem(tr, frame)
    if code is _ON_VIEW:  # (let the calls inside be seen)
        return caller in (_SETITEM, _APPLY) and through_view(tr, loc["view"])
    if code is _SETITEM_COPY:  # (a clone, then setitem into it: both seen)
        return caller is _ON_VIEW
    if code is _OVERWRITE:  # (let the calls inside be seen: apply_inplace's)
        return caller in _FILLS and computed(tr, loc["self"]) is not None
    if code in METHODS:  # (x.relu_(), x += y: let the calls inside be seen)
        return computed(tr, loc["self"]) is not None and not _fw.on
    if code is _DIRECT:
        t = loc["self"]
        x = computed(tr, t)
        if caller not in METHODS or x is None:
            return False
        y = inplace.direct_operand(t, loc["other"])
        if y is not inplace._NOT_DIRECT:  # (nothing to record: NumPy's in-place ufunc, as eager)
            try:
                other = tr.ref(y, loc["other"]) if isinstance(y, np.ndarray) else None
            except GraphBreak:
                return False
            ufunc = loc["ufunc"].__name__
            tr.steps.append(Step("inplace", (), (x,) + ((other,) if other else ()),
                                 (ufunc, y if other is None else None, None), f"{x} {ufunc}= {other or y}"))
            tr.followed.add(id(t._vc))
        tr.inside, tr.pending = frame, None
        return True
    if code is _APPLY:
        return caller in _APPLIERS and (writable(tr, loc["self"]) is not None or through_view(tr, loc["self"]))
    if caller is not _APPLY and caller is not _ON_VIEW:
        return False
    x = computed(tr, loc["self"])
    if x is None:
        return False
    if code is _OLD:  # the copy the op reads (and may save): a value of the program
        def copied(old: Any) -> None:
            n = tr.name(f"{x}_old")
            tr.bind(old._data, n)
            tr.steps.append(Step("copy", (n,), (x,), None, f"{x}'s value before the in-place op"))

        tr.inside, tr.pending = frame, ("macro", copied)
        return True
    res = loc["res"]  # _write_back
    r = tr.vals.get(id(res._data))
    if r is None or res._data.shape != loc["self"]._data.shape:
        return False
    tr.steps.append(Step("writeback", (), (x, r), None, f"{x} written in place"))
    tr.followed.add(id(loc["self"]._vc))
    tr.inside, tr.pending = frame, None
    return True


def _restrided(tr: Any, code: Any, frame: Any) -> bool:
    """An in-place shape op on a computed value that is no view: its tensor's array becomes a view of
    the same memory, a value of its own (``np.reshape`` for squeeze_/unsqueeze_, which only drop or
    add size-1 dims, ``np.swapaxes`` for t_/transpose_); its node names that value."""
    loc = frame.f_locals
    t = loc["self"]
    x = writable(tr, t)
    if x is None:
        return False
    nd = t._data.ndim
    dims = None  # (swapped dims; else the new array is the old one reshaped)
    if code in _SWAPPED and nd >= 2:
        try:
            dims = (0, 1) if code is inplace_shape.t_.__code__ else (wrap_dim(loc["dim0"], nd), wrap_dim(loc["dim1"], nd))
        except (IndexError, TypeError):
            return False  # (the call raises torch's error, eagerly)

    def done(ret: Any) -> None:
        if ret is not t:  # (it raised)
            return
        kernel, consts = ("transpose", dims) if dims is not None else ("reshape", (tuple(t._data.shape),))
        n = tr.name(code.co_name.rstrip("_"))
        tr.bind(t._data, n)
        tr.steps.append(Step("op", (n,), (x,), (kernel, consts), f"{x}.{code.co_name}(): a view of its own memory"))
        tr.followed.add(id(t._vc))
        tr.ops.append(kernel)
        if t.grad_fn is not None:
            tr.node_names[t.grad_fn] = n

    tr.inside, tr.pending = frame, ("macro", done)
    return True


def _filled(tr: Any, code: Any, frame: Any) -> bool:
    """fill_(number) or zero_() of a computed value that is no view."""
    loc = frame.f_locals
    t = loc["self"]
    x = writable(tr, t)
    value = 0 if code is inplace.zero_.__code__ else loc["value"]
    if x is None or type(value) not in (int, float, bool):
        return False
    if t._rg and t.grad_fn is not None and _state.enabled:
        return True  # (recorded by eager's own steps: _overwrite, apply_inplace, the kernel of _filled)
    tr.steps.append(Step("fill", (), (x,), value, f"{x}.{code.co_name}({'' if code is inplace.zero_.__code__ else value})"))
    tr.followed.add(id(t._vc))
    tr.inside, tr.pending = frame, None
    return True


def _setitem(tr: Any, frame: Any) -> bool:
    """``x[key] = value`` into a computed value that is no view: a step that calls eager's setitem
    again on the replay's array (grad mode is off there: the write alone), its key's and value's
    tensors the trace's values; x's array, the same before and after, takes the write's node."""
    loc = frame.f_locals
    t = loc["self"]
    x = writable(tr, t)
    if x is None:  # (through a view: eager's inplace_on_view, whose calls are seen)
        return through_view(tr, t)
    try:
        key, value = generic.swap((loc["key"], loc["value"]), lambda v: Ref(tr.ref(v._data, v)))
    except GraphBreak:
        return False
    refs = tuple(r.name for r in generic.tensors_of((key, value), Ref))

    def done(_: Any) -> None:
        tr.steps.append(Step("setitem", (), (x, *refs), (key, value), f"{x}[...] = ... in place"))
        tr.followed.add(id(t._vc))
        if t.grad_fn is not None:
            tr.node_names[t.grad_fn] = x

    tr.inside, tr.pending = frame, ("macro", done)
    return True

"""The op-table machinery shared by every op module.

An op is a forward on NumPy arrays plus a backward node class made by ``node_class`` from a
derivative formula written in ember ops. ``record`` wraps the forward's array as a Tensor and,
when grad mode is on and an input requires grad, attaches the node.

This module sits below the op modules (only the factories of ``creation``, which need no op table, are
lower), so it imports none of them. Where its helpers need an op
from above at run time (``where`` and ``conj`` in a derivative), they call it as a Tensor method:
``ops/__init__`` installs the op table's functions on the Tensor, which is the one late binding.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import _dtype
from .._meta import MetaArray
from .._tensor import Tensor, _new
from ..autograd import grad_mode
from ..autograd.anomaly_mode import flags as _debug_flags
from ..autograd.function import OpNode, on_new_node
from ..autograd.graph import Node, _seq, grad_accumulator
from ._forward import fw as _fw
from ._forward import propagate as _propagate
from ._forward import unsupported as _unsupported_jvp
from ._strides import LAYOUTS, empty_preserved

_state = grad_mode._state
_NP2DT = _dtype._FROM_NP
_SCALARS = (int, float, bool, complex)


_UINT_OF_SIZE = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def where_np(cond: Any, a: Any, b: Any) -> np.ndarray:
    """``np.where(cond, a, b)``, same result and dtype, without branches.

    NumPy's where copies element by element behind a branch; with a mask of mixed ones and zeros
    (a ReLU-like activation's) the mispredictions make it ~9x slower than selecting the bits:
    ``b ^ ((a ^ b) & mask)`` on the values' unsigned-integer views (exact: NaNs, -0.0 and
    infinities pass through untouched)."""
    dt = np.result_type(a, b)
    ut = _UINT_OF_SIZE.get(dt.itemsize)
    if ut is None or dt.kind not in "biuf" or max(np.size(cond), np.size(a), np.size(b)) < 2048:
        return np.where(cond, a, b)
    av, bv = np.asarray(a, dt).view(ut), np.asarray(b, dt).view(ut)
    mask = np.asarray(cond, bool).astype(ut)
    mask *= ut(np.iinfo(ut).max)  # 0 or all ones
    out = np.bitwise_and(np.bitwise_xor(av, bv), mask)
    out ^= bv
    return out.view(dt)


def select_grad(g: Tensor, keep: Any, scale: Any = None) -> Tensor:
    """``grad`` (times ``scale``) where ``keep`` holds, else exactly 0: torch selects rather than
    multiplies by a 0/1 mask, so an inf or NaN gradient in a masked-out place gives 0, not NaN.
    ``keep``: a bool array broadcastable with ``g``. Differentiable in ``g`` under create_graph."""
    if _state.enabled and (g._rg or (isinstance(scale, Tensor) and scale._rg)):
        # both factors selected: the second derivative through ``scale`` is then 0 * finite where
        # the mask is off, not 0 * inf (``Tensor.where``: see the note at the top)
        k = _new(np.asarray(keep))
        g = g.where(k, 0.0)
        return g if scale is None else (g * scale).where(k, 0.0)
    if isinstance(scale, Tensor):
        scale = scale._data
    return _new(select_np(g._data, keep, scale))


_SAME_SIZE_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def select_np(gd: np.ndarray, keep: Any, scale: Any = None) -> np.ndarray:
    """select_grad on arrays: ``gd`` (times ``scale``) where ``keep`` holds, else +0."""
    if scale is not None:  # (a selection: a negative scale must not leave -0.0 where the mask is off)
        gd = gd * scale
        return where_np(keep, gd, gd.dtype.type(0))
    gd = np.asarray(gd)
    it = _SAME_SIZE_INT.get(gd.dtype.itemsize) if gd.dtype.kind not in "biu" else None
    if it is not None:
        # the grad's bits ANDed with the mask's (all ones or all zeros): an exact selection, as torch's
        # (a kept -0.0 stays -0.0, an inf or NaN where the mask is off gives +0.0), and faster than
        # multiplying by the mask, which needs a NaN check and a pass turning -0.0 into +0.0
        return np.bitwise_and(gd.view(it), np.negative(keep, dtype=it)).view(gd.dtype)
    r = gd * keep  # (integers; complex128, which no integer is as wide as: multiply, select on NaN)
    if r.dtype.kind == "c":
        if np.isnan(r).any():
            return where_np(keep, gd, gd.dtype.type(0))
        r += 0  # -0.0 (a negative grad times False) -> +0.0, as torch's selection writes
    return r


def zeros_grad(g: Tensor) -> Tensor:
    """The gradient of a piecewise-constant (or overwritten) input: zeros like ``grad``, whatever
    ``grad`` holds (``grad * 0`` would turn inf into NaN)."""
    return _new(np.zeros(g._data.shape, g._data.dtype))


def preserve_copy(a: np.ndarray, dtype: Any = None) -> np.ndarray:
    """A copy of ``a`` (in ``dtype``) laid out as torch's ``preserve_format`` lays it (``_strides``)."""
    dt = a.dtype if dtype is None else dtype
    if type(a) is MetaArray:  # (a meta tensor's copy: a new shape and dtype, still no data)
        return a.astype(dt)
    if a.flags.c_contiguous:
        return a.astype(dt, copy=True)
    out = empty_preserved(a, dt)
    out[...] = a
    return out


def add_rows(num: int, idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """out[idx[k]] += rows[k] into a (num, ...) zero array. np.add.at does this one row at a time;
    sorting the indices (stably, so each row's sum keeps its order) lets reduceat sum every
    repeated index's rows in one pass."""
    out = np.zeros((num,) + rows.shape[1:], rows.dtype)
    if idx.size == 0:
        return out
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    out[s[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def _camel(name: str) -> str:
    # torch capitalizes each word and any letter that follows a digit (log1p -> Log1P)
    out = "".join(p[:1].upper() + p[1:] for p in name.split("_"))
    return "".join(c.upper() if i and out[i - 1].isdigit() else c for i, c in enumerate(out))


def node_class(name: str, derivative: Callable, formula: str = "", suffix: int = 0,
               n_outputs: int = 1, on_arrays: bool = False, holomorphic: bool = False, jvp: Callable | None = None,
               layout: str | None = None) -> type:
    """Make the backward node class of op ``name`` (``mul`` -> ``MulBackward0``).

    ``derivative(node, grad)`` returns one gradient per input (None where not needed);
    ``node.saved``, ``node.result``, ``node.needs`` and ``node.attrs`` are its inputs. It is the
    op's only derivative. Written in ember ops it runs on Tensors; written in the vocabulary of
    ``_grad_math`` (Python operators and its functions), mark it ``on_arrays``: a backward that
    builds no graph then runs it on the saved NumPy arrays, and ``create_graph=True`` on Tensors,
    so the second derivative differentiates the very same formula. ``holomorphic``: the formula
    is written for real numbers and the node conjugates around it for complex ones (see OpNode).
    ``jvp(node, tangents)``: the forward derivative (ops/_forward.py); without it forward mode
    derives the tangent from ``derivative``. ``layout``: how ``record`` lays out the result in
    memory, as torch allocates it: "iterated" (elementwise ops), "preserved" (the first input's
    layout, as ``clone``), "contiguous"; None keeps the forward's array (views, and ops that lay
    out their result themselves). See ops/_strides.py.
    """
    cls = type(f"{_camel(name)}Backward{suffix}", (OpNode,), {
        "__slots__": (), "derivative": derivative, "formula": formula, "_multi": n_outputs != 1,
        "on_arrays": on_arrays, "holomorphic": holomorphic, "__module__": "builtins",
        "jvp": None if jvp is None else staticmethod(jvp),
        "layout": None if layout is None else staticmethod(LAYOUTS[layout]),
    })
    NODE_CLASSES.append(cls)
    return cls


# every node class of the op table, in creation order: the tests walk it so no op skips them
NODE_CLASSES: list[type] = []


def _c(v: Any) -> Any:
    """``v.conj()`` for a complex tensor, array or number; ``v`` itself otherwise (at ~no cost).

    torch's gradient for complex numbers is the conjugate Wirtinger derivative: a derivative that
    multiplies by an input or result (``grad * other``) conjugates it (``grad * other.conj()``)."""
    t = type(v)
    if t is np.ndarray:  # (first: the formulas running on arrays ask on every call)
        return v.conj() if v.dtype.kind == "c" else v
    if t is Tensor:
        if v._data.dtype.kind != "c":
            return v
        return v.conj()
    if t is not float and t is not int and isinstance(v, (complex, np.complexfloating)):
        return v.conjugate()
    return v


def not_implemented_node(name: str, message: str, error: type = NotImplementedError) -> type:
    """The node of an op whose derivative torch does not implement: using it raises torch's error."""
    def derivative(n: Any, g: Any) -> Any:
        raise error(message)

    return node_class(name, derivative, "not implemented (as in torch)", jvp=_unsupported_jvp(name))


def _edge(t: Tensor | None) -> tuple:
    if t is None or not t._rg:
        return (None, 0)
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    return (grad_accumulator(t), 0)


def needs_grad(*inputs: Any) -> bool:
    """True when the op about to run must be recorded (grad mode on, an input requires grad)."""
    if not _state.enabled:
        return False
    for t in inputs:
        if t is not None and t._rg:
            return True
    return False


def record(cls: type, out: Any, inputs: Sequence[Tensor | None], saved: tuple = (),
           save_result: bool = False, attrs: Any = None) -> Tensor:
    """Wrap ``out`` as a Tensor, attaching a ``cls`` node when gradients must flow to ``inputs``."""
    if type(out) is not np.ndarray and type(out) is not MetaArray:  # (a meta tensor's view stays meta)
        out = np.asarray(out)
    lay = cls.layout  # type: ignore[attr-defined]  # (every node class has one: OpNode's None or node_class's)
    if lay is not None and out.ndim > 1:
        out = lay(out, inputs)
    t = _new(out)
    if not _state.enabled:
        if _fw.on:  # (forward mode runs under no_grad too)
            _propagate(cls, (t,), inputs, saved, attrs)
        return t
    for i in inputs:
        if i is not None and i._rg:
            break
    else:
        if _fw.on:
            _propagate(cls, (t,), inputs, saved, attrs)
        return t
    node = attach(t, cls, inputs, saved, save_result, attrs)
    if _fw.on:
        _propagate(cls, (t,), inputs, saved, attrs, node)
    return t


def record_outputs(cls: type, outs: Sequence[Tensor | None], inputs: Sequence[Tensor | None], saved: tuple = (),
                   attrs: Any = None) -> None:
    """Make the Tensors ``outs`` (None where an output was not computed) the outputs of one new
    ``cls`` node, when grad mode is on and an input requires grad: a multi-output op, such as a
    heavy kernel's backward recorded under create_graph."""
    if _fw.on:
        _propagate(cls, outs, inputs, saved, attrs)
    if not needs_grad(*inputs):
        return
    node = None
    for k, o in enumerate(outs):
        if o is None:
            continue
        if node is None:
            node = attach(o, cls, inputs, saved, attrs=attrs, out_nr=k)
            node.n_outputs = len(outs)
        else:
            o._grad_fn, o._rg, o._out_nr = node, True, k


_object_new = object.__new__


def attach(t: Tensor, cls: type, inputs: Sequence[Tensor | None], saved: tuple = (),
           save_result: bool = False, attrs: Any = None, out_nr: int = 0, same_meta: bool = False) -> OpNode:
    """Make ``t`` the output ``out_nr`` of a new ``cls`` node whose inputs are ``inputs``.

    ``same_meta``: every input has ``t``'s shape and dtype (the elementwise fast paths), so the
    engine need not check or reduce the gradients: no metadata is stored. Fewer objects per
    node matters: Python's garbage collector walks them all as a deep graph grows.
    """
    node = _object_new(cls)
    node._seq = next(_seq)
    node._extra = None
    if len(inputs) == 1:  # the common unary case, spelled out (this is the hottest path in ember)
        i = inputs[0]
        if i._meta is not None:
            refresh_view(i)
        fn = i._grad_fn
        node.next_functions = ((fn, i._out_nr) if fn is not None else (grad_accumulator(i), 0),)
        node.needs = _NEEDS1
        if same_meta:
            node._in_meta = None
        else:
            d = i._data
            node._in_meta = ((d.shape, d.dtype),)
    elif len(inputs) == 2 and same_meta:  # binary elementwise fast paths
        a, b = inputs
        ra = a is not None and a._rg
        rb = b is not None and b._rg
        if ra:
            if a._meta is not None:
                refresh_view(a)
            fn = a._grad_fn
            ea = (fn, a._out_nr) if fn is not None else (grad_accumulator(a), 0)
        else:
            ea = _NO_EDGE
        if rb:
            if b._meta is not None:
                refresh_view(b)
            fn = b._grad_fn
            eb = (fn, b._out_nr) if fn is not None else (grad_accumulator(b), 0)
        else:
            eb = _NO_EDGE
        node.next_functions = (ea, eb)
        node.needs = _NEEDS2[ra, rb]
        node._in_meta = None
    else:
        edges = []
        needs = []
        meta = []
        for i in inputs:
            if i is None or not i._rg:
                edges.append((None, 0))
                needs.append(False)
                meta.append(None)
            else:
                if i._meta is not None:
                    refresh_view(i)
                fn = i._grad_fn
                edges.append((fn, i._out_nr) if fn is not None else (grad_accumulator(i), 0))
                needs.append(True)
                if not same_meta:
                    d = i._data
                    meta.append((d.shape, d.dtype))
        node.next_functions = tuple(edges)
        node.needs = _NEEDS.get(tuple(needs)) or tuple(needs)
        node._in_meta = None if same_meta else meta
    node.saved = saved
    # the saved tensors' versions, to catch in-place changes before backward (None: none saved)
    n_saved = len(saved)
    if n_saved == 2:  # binary ops, spelled out
        a, b = saved
        va = a._vc[0] if isinstance(a, Tensor) else None
        vb = b._vc[0] if isinstance(b, Tensor) else None
        node._versions = None if va is None and vb is None else (va, vb)
    elif n_saved == 0:
        node._versions = None
    else:
        vs = tuple([x._vc[0] if isinstance(x, Tensor) else None for x in saved])
        node._versions = None if vs.count(None) == n_saved else vs
    node._result = (t._data, t._vc, t._vc[0]) if save_result else None
    node.attrs = attrs
    node._freed = False
    node.n_outputs = 1
    if _debug_flags.on:
        on_new_node(node)
    t._grad_fn = node
    t._rg = True
    t._out_nr = out_nr
    return node


_NEEDS1 = (True,)
_NO_EDGE = (None, 0)
_NEEDS2 = {(True, True): (True, True), (True, False): (True, False), (False, True): (False, True),
           (False, False): (False, False)}


# --------------------------------------------------------------------------- views and in-place
def view_root(t: Tensor) -> Tensor:
    """The tensor a chain of views was taken from."""
    while t._meta is not None and "base" in t._meta:
        t = t._meta["base"]
    return t


def view_indices(root: Tensor, view: Tensor) -> np.ndarray | None:
    """Flat (C-order) positions in ``root`` of each element of ``view``; None if not expressible."""
    rd, vd = root._data, view._data
    isz = rd.itemsize
    if rd.itemsize != vd.itemsize or any(st % isz for st in rd.strides + vd.strides):
        return None
    off = (vd.__array_interface__["data"][0] - rd.__array_interface__["data"][0]) // isz
    if rd.flags.c_contiguous:
        flat = np.arange(rd.size, dtype=np.int64)
        idx = np.lib.stride_tricks.as_strided(flat[off:] if off >= 0 else flat, vd.shape,
                                              tuple(st // isz * 8 for st in vd.strides))
        return np.array(idx, copy=True)
    # any other layout (a transposed or Fortran-ordered result): each memory slot's C-order position
    def offsets(shape: tuple, strides: tuple, start: int) -> np.ndarray:
        o = np.full(shape, start, np.int64)
        for d, (n, st) in enumerate(zip(shape, strides)):
            o += (np.arange(n, dtype=np.int64) * (st // isz)).reshape((n,) + (1,) * (len(shape) - d - 1))
        return o

    mem = offsets(rd.shape, rd.strides, 0)
    lo = int(mem.min(initial=0))
    slot = np.full(int(mem.max(initial=0)) - lo + 1, -1, np.int64)
    slot[(mem - lo).ravel()] = np.arange(rd.size, dtype=np.int64)
    vo = offsets(vd.shape, vd.strides, off) - lo
    if vo.size and (vo.min() < 0 or vo.max() >= slot.size):
        return None
    idx = slot[vo]
    return None if (idx < 0).any() else idx


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
    dt = g._data.dtype if g._data.dtype.kind in "fc" else npd
    axis = _one_index_axis(key) if accumulate else None
    if axis is not None:  # one index array along one axis (index_select, x[idx]): summed by sorting
        idx = np.asarray((key if isinstance(key, tuple) else (key,))[axis])
        idx = np.where(idx < 0, idx + shape[axis], idx) if idx.size and idx.min() < 0 else idx
        gm = np.moveaxis(g._data, axis, 0)
        z = np.moveaxis(add_rows(shape[axis], idx, gm.astype(dt, copy=False)), 0, axis)
        return record(cls, np.ascontiguousarray(z), (g,), attrs=(shape, key))
    z = np.zeros(shape, dtype=dt)
    if accumulate:
        np.add.at(z, key, g._data)
    else:
        z[key] = g._data
    return record(cls, z, (g,), attrs=(shape, key))


def _one_index_axis(key: Any) -> int | None:
    """The axis of a key that is full slices and one 1-D integer array, or None."""
    if not isinstance(key, tuple):
        key = (key,)
    axis = None
    for k, item in enumerate(key):
        if isinstance(item, slice) and item == slice(None):
            continue
        if axis is None and isinstance(item, np.ndarray) and item.ndim == 1 and item.dtype.kind in "iu":
            axis = k
            continue
        return None
    return axis


def _as_strided_grad(n: Any, g: Tensor) -> Tensor:
    shape, idx = n.attrs
    size = 1
    for s in shape:
        size *= s
    return _embed(g, ((size,), g._data.dtype), idx, IndexBackwardBackward0, accumulate=True).reshape(shape)


AsStridedBackward0 = node_class("as_strided", _as_strided_grad, "grad placed at the view's positions in its base")


def refresh_view(t: Tensor) -> None:
    """A view whose base was modified in place since its graph was recorded reads the base anew
    (torch regenerates such views' grad_fn the same way, as AsStridedBackward0)."""
    m = t._meta
    if "base" not in m or m["v"] == t._vc[0]:
        return
    m["v"] = t._vc[0]
    root = view_root(t)
    if not root._rg or root is t:
        return
    if m.get("multi"):  # (unbind, split: torch cannot rewrite one output of a multi-output node)
        raise RuntimeError(
            f"Output {t._out_nr} of {m['multi']} is a view and its base or another view of its base has been modified "
            "inplace. This view is the output of a function that returns multiple views. Such functions do not allow "
            "the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.")
    idx = view_indices(root, t)
    if idx is None:
        raise RuntimeError(
            "ember cannot rewrite the graph of a view whose base was modified in place (the view's elements are "
            "not at whole positions of its base); use an out-of-place op instead")
    attach(t, AsStridedBackward0, (root,), attrs=(root._data.shape, idx))
# shared needs-tuples, so nodes do not each allocate one
_NEEDS = {k: k for k in ((True, True), (True, False), (False, True), (True, True, True))}


# ---------------------------------------------------------------------- operands and dtypes
def is_scalar(x: Any) -> bool:
    return isinstance(x, _SCALARS) or isinstance(x, np.generic)


def _py(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def result_dtype(*operands: Any) -> _dtype.dtype:
    """torch.result_type over tensors and Python scalars."""
    dims, zeros, scalars = [], [], []
    for o in operands:
        if isinstance(o, Tensor):
            (dims if o._data.ndim else zeros).append(_NP2DT[o._data.dtype])
        elif o is not None:
            scalars.append(_dtype.scalar_dtype(_py(o)))
    return _dtype.result_type(dims, zeros, scalars)


def check_tensor_args(fname: str, **args: Any) -> None:
    """torch's TypeError for a non-Tensor passed where an op takes Tensors (keyword order = position;
    None passes: optional arguments)."""
    for pos, (arg, v) in enumerate(args.items(), 1):
        if v is not None and not isinstance(v, Tensor):
            raise TypeError(f"{fname}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")


def as_tensor_operand(x: Any, name: str = "other") -> Tensor:
    if isinstance(x, Tensor):
        return x
    if is_scalar(x):
        return _new(np.asarray(_py(x)))
    raise TypeError(f"unsupported operand type: expected Tensor or Number for '{name}', got {type(x).__name__}")


def require_tensors(name: str, input: Any, other: Any, other_name: str = "other", input_name: str = "input") -> None:
    """torch's TypeError for ops whose both operands must be tensors (no Python numbers)."""
    for pos, (arg, v) in enumerate(((input_name, input), (other_name, other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")


def binary_operands(a: Any, b: Any) -> tuple[Any, Any, Tensor | None, Tensor | None, np.dtype]:
    """Arrays for a binary op in the promoted dtype, plus the Tensor operands (or None)."""
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    if ta is not None and tb is not None:
        da, db = a._data, b._data
        if da.dtype is db.dtype or da.dtype == db.dtype:
            return da, db, ta, tb, da.dtype
        rt = result_dtype(a, b).np
        return (da if da.dtype == rt else da.astype(rt)), (db if db.dtype == rt else db.astype(rt)), ta, tb, rt
    if ta is not None:
        if not is_scalar(b):
            b = _coerce(b)
            return binary_operands(a, b)
        da = a._data
        b = _py(b)
        k = da.dtype.kind
        if (k == "f" and type(b) in (float, int)) or (k in "iu" and type(b) is int) or (k == "b" and type(b) is bool):
            return da, _scalar_array(b, da.dtype), ta, None, da.dtype
        rt = result_dtype(a, b).np
        return (da if da.dtype == rt else da.astype(rt)), _scalar_array(b, rt), ta, None, rt
    if tb is not None:
        x, y, _, _, rt = binary_operands(b, a)
        return y, x, None, tb, rt
    raise TypeError("expected at least one Tensor operand")


def _scalar_array(v: Any, npdtype: np.dtype) -> Any:
    # Python floats broadcast with NumPy's weak-scalar rule (NEP 50) in the array's dtype;
    # ints that do not fit wrap around, as in torch
    if type(v) is float or npdtype.kind == "b":
        return v
    try:
        return npdtype.type(v)
    except OverflowError:
        return np.array(v).astype(npdtype)


def _coerce(x: Any) -> Tensor:
    from .creation import tensor

    if isinstance(x, (list, tuple, np.ndarray)):
        return tensor(x)
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(x).__name__}'")


def float_dtype_for(npdtype: np.dtype) -> np.dtype:
    """The floating dtype an op like ``div`` or ``exp`` computes in: integers go to the default float."""
    return npdtype if npdtype.kind in "fc" or _dtype.is_bfloat16(npdtype) else _dtype.get_default_dtype().np


def broadcast_shape_error(sa: tuple, sb: tuple) -> RuntimeError:
    # torch names the first mismatching dimension, counting from the right
    for i in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            dim = max(len(sa), len(sb)) - i
            return RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {dim}")
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast")


def check_broadcast(sa: tuple, sb: tuple) -> None:
    if sa != sb:
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise broadcast_shape_error(sa, sb) from None


def wrap_dim(dim: int, ndim: int) -> int:
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if dim < lo or dim > hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return int(dim) % ndim if ndim else 0


def wrap_dims(dim: Any, ndim: int) -> tuple:
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        out = tuple(wrap_dim(d, ndim) for d in dim)
        if len(set(out)) != len(out):
            raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
        return out
    return (wrap_dim(dim, ndim),)


def attach_methods(**methods: Callable) -> None:
    """Make functions available as Tensor methods (the op table's half of the Tensor class)."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


def _refresh_if_not_multi(t: Tensor) -> None:
    if not t._meta.get("multi"):  # (an unbind output raises only when used)
        refresh_view(t)


attach_methods(_refresh_view=_refresh_if_not_multi)

__all__ = ["Node", "OpNode", "Tensor", "_new", "node_class", "record", "attach", "needs_grad"]

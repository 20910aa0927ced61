"""Nodes made by ops: the op-table node (OpNode) and user-defined ``autograd.Function``.

Both are graph Nodes, so hooks, the engine, printing and graph pictures treat built-in and
user-defined ops alike.
"""

from __future__ import annotations

from typing import Any, Callable

from numpy import asarray as _asarray
from numpy import conj as _conj
from numpy import ndarray as _ndarray
from numpy import zeros_like as _zeros_like

from . import grad_mode
from ._forward_levels import fw as _fw
from ._forward_levels import get as _get_tangent
from ._forward_levels import has_any as _has_tangent
from ._forward_levels import hide_from as _hide_levels
from ._forward_levels import put as _put_tangent
from ._forward_levels import tangents_of_array as _tangents_of_array
from ._forward_levels import visible as _visible_levels
from .anomaly_mode import flags as _debug_flags
from .anomaly_mode import record_forward_stack
from .graph import FREED_MESSAGE, Node, grad_accumulator


def _inplace_error(what: str, fn: Any, nr: int, now: int, then: int) -> RuntimeError:
    """torch's message for a saved tensor that an in-place op changed after it was saved."""
    import re

    clause = ""
    if fn is not None:
        # torch names the node without "Backward" and without a 0 suffix (ExpBackward0: Exp, MaxBackward1: Max1)
        clause = f", which is output {nr} of {re.sub(r'Backward(?:0$)?', '', fn.name())},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{what}]{clause} is at version {now}; expected version {then} instead. Hint: enable anomaly detection "
        "to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")


class _Packed:
    """What a saved_tensors_hooks pack hook returned for one saved tensor."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_Tensor: Any = None  # set by ember._tensor (the autograd layer does not import it)
_new_tensor: Callable[..., Any] = None  # type: ignore[assignment]
_views_require_grad: Callable[[Any], None] = None  # type: ignore[assignment]


def _check_version(t: Any, version: int) -> None:
    if t._vc[0] != version:
        err = _inplace_error(t._type_str(), t.grad_fn, t._out_nr, t._vc[0], version)
        site = t._vc[1] if len(t._vc) > 1 else None
        if site:
            # beyond torch: where the tensor was last changed in place
            err = RuntimeError(f"{err} The last in-place change was made at: {site}")
        raise err


class OpNode(Node):
    """The node an op-table entry records: saved values plus a derivative formula.

    ``derivative(node, grad)`` (or ``(node, grads)`` for multi-output ops) returns one gradient
    per input, written as ordinary ember code, so ``create_graph=True`` differentiates it again.
    """

    __slots__ = ("saved", "_versions", "_result", "needs", "attrs", "_in_meta", "_freed", "n_outputs")
    saved: tuple  # the saved Tensors (their arrays while the formula runs on arrays)
    _versions: tuple | None  # each saved Tensor's version when saved (None: nothing to check)
    _result: Any  # the saved output as (array, version counter, version), or packed by saved_tensors_hooks
    needs: tuple  # per input: whether it needs a gradient
    attrs: Any  # the op's non-tensor arguments the formula needs
    _freed: bool
    derivative: Callable = None  # type: ignore[assignment]
    # the formula is written in ops/_grad_math.py's vocabulary, so it also runs on NumPy arrays:
    # a backward that records no graph hands it arrays (no Tensor per step), create_graph Tensors
    on_arrays = False
    # the formula is written for real numbers (``grad * other``); for complex ones the node applies
    # torch's convention for holomorphic functions, conj(formula(conj(grad))) = grad * conj(other),
    # so the formula needs no conjugations of its own (and the real case pays for none)
    holomorphic = False
    _multi = False  # multi-output ops get the list of output grads
    # how ``record`` lays out the op's result, as torch allocates it (ops/_strides.py): None keeps it
    layout: Callable | None = None

    def apply(self, grads: list) -> tuple:
        # (on arrays unless the graph is built or dual tensors are live: their tangents need Tensors)
        if self.on_arrays and not grad_mode._state.enabled and not _fw.on and (self._extra is None or self._extra.unpack is None):
            new = _new_tensor
            outs = self.apply_arrays([None if g is None else g._data for g in grads])
            return tuple([None if o is None else new(o) for o in outs])
        self._check_saved()
        if self._extra is not None and self._extra.unpack is not None:
            return self._apply_unpacked(grads)
        return self._formula(grads)

    def _formula(self, grads: list) -> tuple:
        """The derivative on Tensors."""
        if self._multi:
            out = self.derivative(grads)
        else:
            g = grads[0]
            if self.holomorphic and g._data.dtype.kind == "c":
                out = self.derivative(g.conj())
                out = tuple([None if o is None else o.conj() for o in out]) if type(out) is tuple else out.conj()
            else:
                out = self.derivative(g)
        return out if type(out) is tuple else (out,)

    def _check_saved(self) -> None:
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        vers = self._versions
        if vers is not None:
            for t, v in zip(self.saved, vers):
                if v is not None and t._vc[0] != v:
                    _check_version(t, v)
        r = self._result  # (torch unpacks every saved variable, the output too, whichever gradients are needed)
        if type(r) is tuple and r[1][0] != r[2]:
            self.result_array()

    def apply_arrays(self, grads: list) -> tuple:
        """The formula on arrays (a backward that records no graph): the incoming gradients' arrays
        in, the input gradients' arrays out. The formula sees the saved tensors' arrays for the
        length of the call (spelled out for one and two saved values: this runs once per node)."""
        # _check_saved, spelled out (a call per node costs ~1.5% of a small-op backward)
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        vers = self._versions
        if vers is not None:
            for t, v in zip(self.saved, vers):
                if v is not None and t._vc[0] != v:
                    _check_version(t, v)
        r = self._result  # (torch unpacks every saved variable, the output too, whichever gradients are needed)
        if type(r) is tuple and r[1][0] != r[2]:
            self.result_array()
        return self._run_on_arrays(grads)

    def _run_on_arrays(self, grads: list) -> tuple:
        saved = self.saved
        k = len(saved)
        T = _Tensor
        if k == 1:
            a = saved[0]
            self.saved = (a._data if isinstance(a, T) else a,)
        elif k == 2:
            a, b = saved
            self.saved = (a._data if isinstance(a, T) else a, b._data if isinstance(b, T) else b)
        elif k:
            self.saved = tuple([s._data if isinstance(s, T) else s for s in saved])
        try:
            if self._multi:
                out = self.derivative(grads)
            else:
                g = grads[0]
                if self.holomorphic and g.dtype.kind == "c":
                    out = self.derivative(g.conj())
                    out = tuple([None if o is None else _conj(o) for o in out]) if type(out) is tuple else _conj(out)
                else:
                    out = self.derivative(g)
        finally:
            self.saved = saved
        if type(out) is not tuple:
            return (out if type(out) is _ndarray else _asarray(out),)
        return tuple([o if o is None or type(o) is _ndarray else _asarray(o) for o in out])

    def _apply_unpacked(self, grads: list) -> tuple:
        # saved_tensors_hooks: the formula sees the unpacked tensors; the packed ones stay saved
        packed, packed_result = self.saved, self._result
        unpack = self._unpack  # (the caller saw it set)
        self.saved = tuple(unpack(p.value) if isinstance(p, _Packed) else p for p in packed)
        if isinstance(packed_result, _Packed):
            r = unpack(packed_result.value)
            self._result = (r._data, r._vc, r._vc[0])
        try:
            if self.on_arrays and not grad_mode._state.enabled and not _fw.on:
                outs = self._run_on_arrays([None if g is None else g._data for g in grads])
                return tuple([None if o is None else _new_tensor(o) for o in outs])
            return self._formula(grads)
        finally:
            self.saved, self._result = packed, packed_result

    @property
    def result(self) -> Any:
        """The op's saved output; inside a create_graph backward it stays attached to this node."""
        arr = self.result_array()
        vc = self._result[1]
        if _fw.on:  # dual tensors are live: the output's tangents come with it (forward-over-reverse)
            r = _new_tensor(arr, self if grad_mode._state.enabled else None, vc)
            for lv, tangent in _tangents_of_array(arr):
                _put_tangent(r, lv, tangent)
            return r
        if grad_mode._state.enabled:
            return _new_tensor(arr, self, vc)
        if self.on_arrays:  # (a formula running on arrays)
            return arr
        return _new_tensor(arr, None, vc)

    def result_array(self) -> Any:
        """The saved output's array, checked against in-place changes since it was saved."""
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        return self.output_array(self._result, 0)

    def output_array(self, saved: tuple, nr: int) -> Any:
        """The array of output ``nr`` saved as ``(array, version counter, version)`` (multi-output
        ops keep their other outputs this way, without a reference cycle through the tensor),
        checked against in-place changes since it was saved."""
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        arr, vc, ver = saved
        if vc[0] != ver:
            err = _inplace_error(_new_tensor(arr, None, None)._type_str(), self, nr, vc[0], ver)
            if len(vc) > 1 and vc[1]:
                err = RuntimeError(f"{err} The last in-place change was made at: {vc[1]}")
            raise err
        return arr

    def release(self) -> None:
        if self.saved or self._result is not None:
            self.saved = ()
            self._result = None
            self._freed = True


class FunctionCtx:
    """The ``ctx`` of a user-defined Function: saves tensors and flags for backward."""

    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The node of a user Function: it is also the ``ctx`` its forward and backward receive."""

    __slots__ = ("_cls", "_to_save", "_saved", "_saved_versions", "_non_differentiable", "_dirty",
                 "materialize_grads", "needs_input_grad", "n_outputs", "_out_meta", "_in_meta",
                 "__dict__")
    _cls: Any  # the user's Function subclass
    _saved: tuple | None
    _saved_versions: tuple
    _out_meta: tuple

    def name(self) -> str:
        return self._cls.__name__ + "Backward"

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError(FREED_MESSAGE)
        if self._extra is not None and self._extra.unpack is not None:  # saved_tensors_hooks
            unpack = self._extra.unpack
            return tuple(unpack(p.value) if isinstance(p, _Packed) else p for p in self._saved)
        for t, v in zip(self._saved, self._saved_versions):
            if t is not None and v is not None and t._vc[0] != v:
                _check_version(t, v)
        # a saved output comes back as a new tensor object over the same data and history, as torch
        # unpacks it (a saved input is the input itself)
        return tuple(self._unpack_output(t) if isinstance(t, _Tensor) and t.grad_fn is self else t for t in self._saved)

    def _unpack_output(self, t: Any) -> Any:
        u = _new_tensor(t._data, self, t._vc)
        u._out_nr = t._out_nr
        return u

    def apply(self, grads: list) -> tuple:
        if self.materialize_grads:
            grads = [g if g is not None else _zeros_like_meta(m) for g, m in zip(grads, self._out_meta)]
        out = self._cls.backward(self, *grads)
        if type(out) is not tuple:
            out = (out,)
        n = len(self.next_functions)
        if len(out) != n:
            if len(out) > n and all(o is None for o in out[n:]):
                out = out[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(out)})")
        return out

    def release(self) -> None:
        if self._saved:
            self._saved = None


def _zeros_like_meta(meta: tuple) -> Any:
    import numpy as np

    shape, npdtype = meta
    return _new_tensor(np.zeros(shape, npdtype), None, None)


class FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        # torch names a user Function's node "<ClassName>Backward"
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"__slots__": ()})


class Function(metaclass=FunctionMeta):
    """Define a differentiable op by its forward and backward, as in ``torch.autograd.Function``.

    ``forward(ctx, *args)`` runs with grad mode off on ember tensors; ``backward(ctx, *grads)``
    returns one gradient per forward argument (None for non-tensors).
    """

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it "
            "with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        Tensor = _Tensor
        node = cls._backward_cls.__new__(cls._backward_cls)
        Node.__init__(node)
        node._cls = cls
        node._to_save = ()
        node._saved = None
        node._saved_versions = ()
        node._in_meta = None
        node._non_differentiable = set()
        node._dirty = ()
        node.materialize_grads = True
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        node.needs_input_grad = tuple(t is not None and t._rg for t in tensor_args)
        prev = grad_mode._state.enabled
        grad_mode._state.enabled = False
        dual = _fw.on and any(t is not None and _has_tangent(t) for t in tensor_args)
        try:
            if dual:  # (forward runs on the values; the tangents come from jvp)
                with _hide_levels(0):
                    out = cls.forward(node, *args, **kwargs)
            else:
                out = cls.forward(node, *args, **kwargs)
        finally:
            grad_mode._state.enabled = prev
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        record = prev and any(node.needs_input_grad)
        node._saved = tuple(node._to_save)
        node._saved_versions = tuple(t._vc[0] if t is not None else None for t in node._saved)
        if not record:
            if dual:
                _custom_jvp(cls, node, tensor_args, outs)
            return out
        if _debug_flags.on:  # anomaly stacks, saved_tensors_hooks: as for the op table's nodes
            on_new_node(node)
        node.next_functions = tuple(_edge(t) for t in tensor_args)
        results = []
        meta = []
        dirty = {id(t) for t in node._dirty}
        nr = 0
        for o in outs:
            if isinstance(o, Tensor):
                if any(o is a for a in tensor_args) and id(o) not in dirty:
                    o = o.view_as(o)  # an input returned as is: give the output its own identity
                if id(o) in node._non_differentiable or not o.dtype.is_floating_point:
                    results.append(o)
                    meta.append((o.shape, o._data.dtype))
                    nr += 1
                    continue
                if o.grad_fn is None and o._rg and id(o) in dirty:
                    raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
                if not o._rg and o._meta is not None:  # (dirty: its earlier views now require grad too)
                    _views_require_grad(o)
                o._grad_fn = node
                o._rg = True
                o._out_nr = nr
                meta.append((tuple(o._data.shape), o._data.dtype))
                nr += 1
            results.append(o)
        node.n_outputs = nr
        node._out_meta = meta
        node._in_meta = tuple(None if t is None else (t._data.shape, t._data.dtype) for t in tensor_args)
        if dual:
            _custom_jvp(cls, node, tensor_args, results)
        return results[0] if single else tuple(results)


def _custom_jvp(cls: Any, ctx: Any, tensor_args: list, outs: Any) -> None:
    """The outputs' tangents of a custom Function, from its ``jvp(ctx, *tangents)`` (zeros for the
    tensor inputs without one), at each live dual level that reaches it."""
    for depth, lv in enumerate(_visible_levels()):
        ts = [None if t is None else _get_tangent(t, lv) for t in tensor_args]
        if all(v is None for v in ts):
            continue
        ts = [v if v is not None or t is None else _new_tensor(_zeros_like(t._data)) for t, v in zip(tensor_args, ts)]
        with _hide_levels(depth):
            r = cls.jvp(ctx, *ts)
        for o, tangent in zip(outs, r if isinstance(r, tuple) else (r,)):
            if isinstance(o, _Tensor) and tangent is not None:
                _put_tangent(o, lv, tangent)


class InplaceFunction(Function):
    pass


class NestedIOFunction(Function):
    pass


def _edge(t: Any) -> tuple:
    if t is None or not t._rg:
        return (None, 0)
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    return (grad_accumulator(t), 0)


def once_differentiable(fn: Callable) -> Callable:
    """Decorator for a backward that is not itself differentiable (runs it with grad mode off)."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with grad_mode.no_grad():
            return fn(ctx, *args)

    return wrapper


def on_new_node(node: Any) -> None:
    """Anomaly stacks and saved-tensor packing for a node just created (only while either is on).

    Every tensor a node keeps for backward goes through the innermost pack hook, as in torch: an
    op's saved inputs (``saved``), the output it saved (``_result``: exp, tanh, sigmoid ...) and a
    user Function's ``ctx.save_for_backward`` tensors (``_saved``)."""
    Tensor, _new = _Tensor, _new_tensor
    if _debug_flags.anomaly:
        record_forward_stack(node)
    if not _debug_flags.hooks:
        return
    pack, unpack = _debug_flags.hooks[-1]
    packed = False
    if isinstance(node, BackwardCFunction):
        if node._saved:
            node._saved = tuple(_Packed(pack(x)) if isinstance(x, Tensor) else x for x in node._saved)
            node._saved_versions = (None,) * len(node._saved)  # what is saved now belongs to the hooks
            packed = True
    else:
        if getattr(node, "saved", None):
            node.saved = tuple(_Packed(pack(x)) if isinstance(x, Tensor) else x for x in node.saved)
            node._versions = None
            packed = True
        res = getattr(node, "_result", None)
        if res is not None:
            arr, vc, _ = res
            node._result = _Packed(pack(_new(arr, None, vc)))
            packed = True
    if packed:
        node._unpack = unpack

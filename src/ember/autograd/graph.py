"""Graph nodes: the backward functions (``grad_fn``) that ops record, and AccumulateGrad for leaves.

A node holds its edges (``next_functions``: one ``(node, output_nr)`` pair per input), what its
derivative needs (saved tensors, checked against their version when unpacked), and hooks.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from typing import Any, Callable

from ..utils.hooks import RemovableHandle

_seq = itertools.count()  # creation order: the engine runs newer nodes first

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _add_hook(hooks: OrderedDict, fn: Callable) -> RemovableHandle:
    """Register ``fn`` in ``hooks`` under a fresh handle's id (the engine runs them in insertion order)."""
    h = RemovableHandle(hooks)
    hooks[h.id] = fn
    return h


class _NodeExtra:
    """What few nodes carry: hooks, retained outputs, metadata (kept apart to keep nodes small)."""

    __slots__ = ("hooks", "pre_hooks", "tensor_hooks", "retains", "metadata", "anomaly", "unpack")
    hooks: OrderedDict | None
    pre_hooks: OrderedDict | None
    tensor_hooks: dict | None
    retains: dict | None
    metadata: dict | None
    anomaly: Any
    unpack: Callable | None

    def __init__(self) -> None:
        self.hooks = self.pre_hooks = self.tensor_hooks = self.retains = self.metadata = self.anomaly = None
        self.unpack = None  # saved_tensors_hooks' unpack hook for what the node saved


def _extra_field(name: str) -> property:
    def get(self: "Node") -> Any:
        e = self._extra
        return None if e is None else getattr(e, name)

    def set_(self: "Node", value: Any) -> None:
        e = self._extra
        if e is None:
            e = self._extra = _NodeExtra()
        setattr(e, name, value)

    return property(get, set_)


class Node:
    """A backward function. Subclasses implement ``apply(grads) -> tuple of input grads``."""

    __slots__ = ("next_functions", "_seq", "_extra", "__weakref__")

    # the derivative in words (``grad * other``), shown by explainers and graph pictures
    formula: str = ""
    # per input: (shape, numpy dtype) the gradient must have, or None (subclasses store it)
    _in_meta: tuple | None = None
    n_outputs = 1
    # True for op-table nodes whose formula also runs on NumPy arrays (see OpNode.apply_arrays)
    on_arrays = False

    # rarely set, so stored in one optional _extra record (the engine checks ``_extra`` first)
    _hooks = _extra_field("hooks")
    _pre_hooks = _extra_field("pre_hooks")
    _tensor_hooks = _extra_field("tensor_hooks")
    _retains = _extra_field("retains")
    metadata_ = _extra_field("metadata")
    _anomaly = _extra_field("anomaly")
    _unpack = _extra_field("unpack")

    def __init__(self) -> None:
        self.next_functions: tuple = ()
        self._seq = next(_seq)
        self._extra: _NodeExtra | None = None

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        if self.metadata_ is None:
            self.metadata_ = {}
        return self.metadata_

    def apply(self, grads: list) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *grads: Any) -> Any:
        out = self.apply(list(grads))
        return out[0] if len(out) == 1 else out

    def release(self) -> None:
        """Drop saved tensors once the node has run (``retain_graph=False``)."""

    def register_hook(self, fn: Callable) -> RemovableHandle:
        """``fn(grad_inputs, grad_outputs)`` after the node runs; may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = OrderedDict()
        return _add_hook(self._hooks, fn)

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """``fn(grad_outputs)`` before the node runs; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        return _add_hook(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr: int, fn: Callable) -> RemovableHandle:
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        return _add_hook(self._tensor_hooks.setdefault(output_nr, OrderedDict()), fn)

    def _retain_output(self, output_nr: int, tensor: Any) -> None:
        if self._retains is None:
            self._retains = {}
        self._retains[output_nr] = weakref.ref(tensor)


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds the arriving gradient into ``variable.grad``."""

    __slots__ = ("variable",)
    formula = "grad accumulated into .grad"

    def __init__(self, variable: Any) -> None:
        super().__init__()
        self.variable = variable

    def apply(self, grads: list) -> tuple:
        var = self.variable
        g = grads[0]
        if g is None:
            return ()
        var._accumulate(g)
        if var._meta is not None:
            for hook in tuple(var._meta.get("post_acc_hooks", {}).values()):
                hook(var)
        return ()


AccumulateGrad.__module__ = "builtins"  # torch's node classes print bare: <class 'AccumulateGrad'>


def grad_accumulator(tensor: Any) -> AccumulateGrad:
    """The (cached) AccumulateGrad node of a leaf; the tensor keeps only a weak reference to it."""
    ref = tensor._accum
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(tensor)
        tensor._accum = weakref.ref(node)
    return node


def __getattr__(name: str) -> Any:
    # torch.autograd.graph.saved_tensors_hooks / save_on_cpu live with the anomaly switches
    if name in ("saved_tensors_hooks", "save_on_cpu"):
        from . import anomaly_mode

        return getattr(anomaly_mode, name)
    raise AttributeError(f"module 'ember.autograd.graph' has no attribute '{name}'")

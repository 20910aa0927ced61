"""The backward a traced call runs: the engine's observer turns each node it applies into replay steps.

``Tensor.backward()`` inside a traced function runs eagerly under ``engine._observer`` (a
``BackwardRecorder``): each node applied becomes a ``node`` step that calls the node's own
derivative formula on the replay's arrays (a fresh node of the same class, ``_replay_node``, holds
what the formula reads), gradients that meet become ``sum`` steps, broadcast gradients summed back
to an input's shape ``reduce`` steps, and the accumulation into a leaf's ``.grad`` an ``acc`` step.
A user's ``autograd.Function`` node replays as a call of its own ``backward`` (``custom``).
``aot.CaptureRecorder`` records the backward of a compiled call's outputs the same way.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd.function import BackwardCFunction, OpNode
from ..autograd.graph import AccumulateGrad, Node
from ..ops import pooling
from ..ops._core import AsStridedBackward0
from ..ops.indexing import ViewKey
from . import generic
from .steps import GraphBreak, Ref, Step


class BackwardRecorder:
    """The engine's observer during a traced ``backward()``: turns each node it applies, each
    gradient it hands on, into replay steps (``Step``s on the tracer)."""

    def __init__(self, tracer: Any, loss: Tensor, at: str, root: str | None = None) -> None:
        self.t = tracer
        self.root = loss.grad_fn
        self.at = at
        self.root_used = False
        if root is not None:  # (backward(gradient=v): the value named root)
            self.root_name = root
        else:
            self.root_name = tracer.name("grad_root")
            tracer.steps.append(Step("root", (self.root_name,), (), (tuple(loss._data.shape), loss._data.dtype),
                                     "loss.backward(): d loss / d loss = 1"))
        self.waiting: dict = defaultdict(list)  # (node, nr) -> gradient names, in arrival order
        self.made: dict = {}  # (node, i) -> (Tensor, name) of the gradients a node produced
        self.names_of: dict = defaultdict(list)  # id(gradient array) -> the names it goes by
        self.held: list = []  # (those arrays, so that their ids stay unique)
        self.error: GraphBreak | None = None

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = GraphBreak(reason, self.at)

    def node(self, node: Any, grads: list, outs: Any) -> None:
        if self.error is not None:
            return
        t = self.t
        names: list[str | None] = []
        for nr, g in enumerate(grads):
            if g is None:
                names.append(None)
                continue
            got = self.waiting.pop((node, nr), [])
            if not got:
                if node is self.root and not self.root_used:
                    got, self.root_used = [self.root_name], True
                else:
                    return self.fail(f"a gradient reached {node.name()} from outside the traced graph")
            name = got[0]
            for other in got[1:]:  # gradients meeting at one output add up, in arrival order
                s = t.name("grad_sum")
                t.steps.append(Step("sum", (s,), (name, other)))
                name = s
            if name not in self.names_of.get(id(g._data), ()):  # (the root's gradient, or a sum)
                self.named(g, name)
            names.append(name)
        if type(node) is AccumulateGrad:
            var = node.variable
            if var._meta or node._extra is not None:
                return self.fail("a leaf with hooks")
            try:
                p = t.tensor_name(var)
            except GraphBreak as e:
                return self.fail(e.reason)
            g = grads[0]._data
            # the replay may hand .grad this very array when nothing else goes by it (the engine's
            # take-over without a copy): a fresh array of the backward, under one name
            owned = (self.names_of.get(id(g)) == [names[0]] and g.base is None and g.flags.writeable
                     and id(g) not in t.vals)
            t.steps.append(Step("acc", (), (p, names[0]), owned, f"{p}.grad += "))
            t.grad_set.add(id(var))
            return
        if isinstance(node, BackwardCFunction) and node._extra is None:
            return self.custom(node, names, outs)
        if not isinstance(node, OpNode) or node._extra is not None:
            return self.fail(f"the backward node {node.name()} (hooks)")
        try:
            saved = tuple(self.saved_ref(s) for s in node.saved)
            result = None if node._result is None else t.ref(node._result[0], None)
            attrs, dynamic = self.attrs_ref(node.attrs, _SHAPE_ATTRS.get(type(node), ()))
        except GraphBreak as e:
            return self.fail(f"{node.name()} keeps {e.reason}")
        rn = _replay_node(node, attrs if not dynamic else None)
        out_names = self.out_names(node, outs, t.node_names.get(node) or "node")
        label = t.node_names.get(node, "?")
        style = _probe(rn, node, grads)
        t.steps.append(Step("node", tuple(out_names), tuple(names),
                            (rn, saved, result, attrs if dynamic else None, style),
                            f"{node.name()} of {label}: {node.formula}"))

    def out_names(self, node: Any, outs: Any, base: str) -> list:
        """Names for the gradients ``node`` produced (None where it gave none)."""
        names: list[str | None] = []
        for i, o in enumerate(outs):
            if o is None:
                names.append(None)
                continue
            n = self.t.name("grad_" + base)
            self.made[(node, i)] = (o, n)
            self.named(o, n)
            names.append(n)
        return names

    def custom(self, node: Any, names: list, outs: Any) -> None:
        """A user Function's node: replayed as a call of its ``backward`` on Tensors around the
        replay's arrays (its saved tensors and any tensor kept on ``ctx`` are the trace's values)."""
        t = self.t
        try:
            saved = tuple(Ref(t.ref(s._data, s)) if isinstance(s, Tensor) else s for s in node._saved or ())
            attrs = {k: Ref(t.ref(v._data, v)) if isinstance(v, Tensor) else v for k, v in vars(node).items()}
        except GraphBreak as e:
            return self.fail(f"{node.name()} keeps {e.reason}")
        if any(isinstance(v, np.ndarray) for v in attrs.values()):
            return self.fail(f"{node.name()} keeps a NumPy array on ctx")
        if any(generic.tensors_of(v, (Tensor, np.ndarray)) for v in attrs.values() if type(v) in (list, tuple, dict, set)):
            return self.fail(f"{node.name()} keeps tensors inside a container on ctx")  # (the replay would see the traced ones)
        rn = object.__new__(type(node))
        Node.__init__(rn)
        for slot in ("_cls", "_to_save", "_non_differentiable", "_dirty", "materialize_grads", "needs_input_grad",
                     "n_outputs", "_out_meta", "_in_meta"):
            setattr(rn, slot, getattr(node, slot))
        rn.next_functions = tuple((None, 0) for _ in node.next_functions)  # (only their number is read)
        rn._saved, rn._saved_versions = (), ()
        rn.__dict__.update({k: v for k, v in attrs.items() if not isinstance(v, Ref)})
        out_names = self.out_names(node, outs, node._cls.__name__.lower())
        t.steps.append(Step("custom", tuple(out_names), tuple(names),
                            (rn, saved, {k: v for k, v in attrs.items() if isinstance(v, Ref)}),
                            f"{node.name()}: {node._cls.__name__}.backward, the Function's own code on Tensors"))

    def named(self, g: Tensor, name: str) -> None:
        self.names_of[id(g._data)].append(name)
        self.held.append(g._data)

    def saved_ref(self, s: Any) -> Any:
        if isinstance(s, Tensor):
            return Ref(self.t.ref(s._data, s))
        if isinstance(s, np.ndarray):
            return Ref(self.t.ref(s, None))
        return s

    def attrs_ref(self, attrs: Any, shaped: tuple = ()) -> tuple:
        """attrs with the arrays the trace knows replaced by Refs: (value, whether any was);
        ``shaped``: the positions of top-level attrs made from shapes alone, kept as constants."""
        if isinstance(attrs, ViewKey):  # (a write through a view: the view's positions, a constant)
            return attrs, False
        if isinstance(attrs, np.ndarray):
            return Ref(self.t.ref(attrs, None)), True
        if isinstance(attrs, Tensor):  # (where's condition: a Tensor around the traced array)
            return Ref(self.t.ref(attrs._data, attrs), tensor=True), True
        if isinstance(attrs, tuple):
            parts = [(a, False) if k in shaped else self.attrs_ref(a) for k, a in enumerate(attrs)]
            if any(d for _, d in parts):
                return tuple(p for p, _ in parts), True
        return attrs, False

    def edge(self, node: Any, i: int, nxt: Any, g: Any) -> None:
        if self.error is not None:
            return
        made = self.made.get((node, i))
        if made is None:
            return self.fail(f"a gradient of {node.name()} the trace did not see made")
        o, name = made
        if g is not o:  # the engine summed a broadcast gradient to the input's shape or cast it
            shape, dtype = node._in_meta[i]
            r = self.t.name("grad_reduced")
            self.t.steps.append(Step("reduce", (r,), (name,),
                                      (tuple(shape), dtype, tuple(o._data.shape), o._data.dtype)))
            self.named(g, r)
            name = r
        self.waiting[(nxt, node.next_functions[i][1])].append(name)


# backward nodes' attrs that are arrays made from the shapes and the op's arguments alone (the
# same at every call with these guards): the replay keeps the traced array (avg_pool's divisors)
# (and a view's positions in its base, when it is read again after a write through it)
_SHAPE_ATTRS = {cls: (4,) for nodes in pooling._AVG_NODES.values() for cls in nodes}
_SHAPE_ATTRS[AsStridedBackward0] = (1,)

_VC = [0]  # the version counter of the results replay nodes keep (nothing changes them in place)


def _probe(rn: Any, node: Any, grads: list) -> str:
    """How the replay may call ``rn``'s formula: "tuple" or "single" when it is an ``on_arrays``
    formula that returned a tuple of arrays or one array on this very gradient (the replay then
    calls ``rn.derivative`` itself), else "helper" (``OpNode._run_on_arrays`` or Tensors around
    it). The formula is a pure function of the arrays, so running it once more changes nothing."""
    g = grads[0]
    if not rn.on_arrays or rn._multi or len(grads) != 1 or g is None or g._data.dtype.kind not in "f":
        return "helper"
    saved = tuple(s._data if isinstance(s, Tensor) else s for s in node.saved)
    rn.saved, rn.attrs = saved, node.attrs
    rn._result = None if node._result is None else (node._result[0], _VC, 0)
    try:
        out = rn.derivative(g._data)
    except Exception:
        return "helper"
    finally:
        rn.saved, rn._result = (), None
    if type(out) is tuple:
        return "tuple" if all(o is None or type(o) is np.ndarray for o in out) else "helper"
    return "single" if type(out) is np.ndarray else "helper"


def _replay_node(node: Any, attrs: Any) -> Any:
    """A fresh node of the same class holding what the formula reads (saved arrays are set per call)."""
    rn = object.__new__(type(node))
    rn._seq, rn._extra, rn.next_functions = node._seq, None, ()
    rn.needs, rn._in_meta, rn.n_outputs = node.needs, node._in_meta, node.n_outputs
    rn.attrs, rn._versions, rn._freed, rn.saved, rn._result = attrs, None, False, (), None
    return rn

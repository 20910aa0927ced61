"""A compiled function whose outputs need a graph: its backward traced too, replayed as one node.

This is torch's AOTAutograd in ember's terms. ``model = torch.compile(model)`` followed by an
ordinary ``loss.backward()`` outside the compiled call: at the first call, once the forward has
been traced, the backward of the returned tensors is run once more (``retain_graph``, placeholder
output gradients, the gradients of the inputs and parameters captured as ``autograd.grad`` does,
so no ``.grad`` changes) under the observer that records backward passes. The replay program then
returns its outputs and a ``backward`` function over the forward values it needs; each output
gets one ``CompiledFunctionBackward`` node whose edges lead to those inputs and parameters, and
the ordinary engine runs it: ``.grad`` accumulation, hooks, ``retain_graph`` and
``autograd.grad`` all happen outside, as in eager.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import engine, grad_mode
from ..autograd.function import BackwardCFunction, OpNode, _check_version
from ..autograd.graph import FREED_MESSAGE, AccumulateGrad, Node, grad_accumulator
from ..ops._core import record_outputs, refresh_view
from . import fusion
from .backward import BackwardRecorder
from .trace import GraphBreak, Step, Tracer

DOUBLE_BACKWARD = ("ember.compile with aot_autograd does not currently support double backward (a compiled "
                   "function's backward is differentiated once, as torch.compile's); call the function "
                   "uncompiled for higher-order gradients")


@dataclass
class Plan:
    """What the replay needs to build the node: which outputs are differentiable (``diff``: their
    positions among the returned arrays, with their shapes and dtypes), and where the backward's
    gradients go (``targets``: ("in", k) for the call's k-th tensor argument, ("ext", Tensor) for a
    parameter or captured tensor); ``saved``: the arguments and parameters (same spelling) and
    returned arrays (("out", k)) the backward reads, whose versions it checks as eager's nodes do."""
    diff: list
    targets: list
    saved: list


def _edge(t: Tensor) -> tuple:
    if t._meta is not None and "base" in t._meta:  # (a view whose base changed in place reads it anew, as ops do)
        refresh_view(t)
    return (grad_accumulator(t), 0) if t.grad_fn is None else (t.grad_fn, t._out_nr)


class CaptureRecorder(BackwardRecorder):
    """Records a backward that starts at several outputs (each gradient a program argument) and
    ends at captured edges (the inputs' and parameters' gradients, returned by the program)."""

    def __init__(self, tracer: Tracer, roots: list, grad_names: list, placeholders: list, capture: list) -> None:
        self.t = tracer
        self.root, self.root_name, self.root_used = None, "", True
        self.at = "the backward of the compiled function's outputs"
        self.waiting: dict = defaultdict(list)
        self.made: dict = {}
        self.names_of: dict = defaultdict(list)
        self.held: list = []
        self.error: GraphBreak | None = None
        for edge, name, g in zip(roots, grad_names, placeholders):
            self.waiting[edge].append(name)
            self.names_of[id(g._data)].append(name)
            self.held.append(g._data)
        self.capture = {e: k for k, e in enumerate(capture)}
        self.captured: list = [None] * len(capture)

    def node(self, node: Any, grads: list, outs: Any) -> None:
        if self.error is not None:
            return
        nrs = [nr for nr in range(len(grads)) if (node, nr) in self.capture]
        if not nrs:
            return super().node(node, grads, outs)
        if any(o is not None for o in outs):
            return self.fail(INPUT_FROM_INPUT)
        for nr in nrs:
            if grads[nr] is None:
                continue
            names = self.incoming(node, nr)
            if names is None:
                return
            self.captured[self.capture[(node, nr)]] = names

    def incoming(self, node: Any, nr: int) -> str | None:
        got = self.waiting.pop((node, nr), [])
        if not got:
            self.fail(f"a gradient reached {node.name()} from outside the traced graph")
            return None
        name = got[0]
        for other in got[1:]:
            s = self.t.name("grad_sum")
            self.t.steps.append(Step("sum", (s,), (name, other)))
            name = s
        return name


INPUT_FROM_INPUT = "an input of the compiled function is computed from another of its inputs"


def trace_backward(tr: Tracer, ret: list, tensors: list) -> Plan:
    """Run the backward of the returned tensors ``ret`` that require grad, recording it on ``tr``
    (raises GraphBreak when it cannot be replayed; the user's tensors and ``.grad`` are untouched)."""
    outs = [t for t in ret if t._rg]
    names = [tr.ref(t._data, t) for t in outs]
    diff = [(k, tuple(t._data.shape), t._data.dtype) for k, t in enumerate(ret) if t._rg]
    targets: list = [("in", k) for k, t in enumerate(tensors) if t._rg]
    # (a captured tensor made by an earlier graph, say the hidden state an earlier compiled call left on
    # its module, is an edge the outer engine goes on from, as an input made so is)
    targets += [("ext", t) for t in tr.externals.values() if t._rg]
    leaves = [tensors[k] if kind == "in" else k for kind, k in targets]
    capture = [_edge(t) for t in leaves]
    roots = [_edge(t) for t in outs]
    ends = {n for n, _ in capture}
    # (the function's own graph: an input's node, another compiled call's say, is where it ends)
    deps = engine._collect([n for n, _ in roots], ends)
    for n in engine._needed(deps, ends, ends):
        if type(n) is AccumulateGrad or n in ends:
            continue
        if n._extra is not None:
            raise GraphBreak(f"a hook on the backward node {n.name()} inside the compiled function")
        if not isinstance(n, (OpNode, BackwardCFunction)):
            raise GraphBreak(f"the backward node {n.name()} (not an op of ember's table)")
    placeholders = [_new(np.ones(t._data.shape, t._data.dtype)) for t in outs]
    tr.bw_start = len(tr.steps)
    grad_names = [tr.name("grad_out") for _ in names]
    rec = CaptureRecorder(tr, roots, grad_names, placeholders, capture)
    # a leaf's tensor hooks run when the engine accumulates the real gradient, not here
    metas = [(t, t._meta) for t in leaves if t.grad_fn is None]
    prev = grad_mode._state.enabled
    try:
        for t, _ in metas:
            t._meta = None
        engine.run_backward(roots, placeholders, True, False, capture=capture, accumulate=False, trace=rec,
                            frontier=True)
    finally:
        grad_mode._state.enabled = prev
        for t, m in metas:
            t._meta = m
    if rec.error is not None:
        raise rec.error
    tr.grad_outs, tr.grad_ins = grad_names, rec.captured
    read = {n for s in tr.steps[tr.bw_start:] for n in fusion._reads(s)}
    saved: list = [("in", k) for k, t in enumerate(tensors) if tr.vals.get(id(t._data)) in read]
    saved += [("ext", t) for n, t in tr.externals.items() if n in read]
    saved += [("out", k) for k, t in enumerate(ret) if tr.vals.get(id(t._data)) in read]
    return Plan(diff, targets, saved)


class CompiledFunctionBackward(Node):
    """The backward of one call of a compiled function: the traced backward program, run on the
    gradients of its differentiable outputs; one gradient out per input or parameter that
    requires grad (torch's CompiledFunctionBackward)."""

    __slots__ = ("program", "n_outputs", "_in_meta", "_out_meta", "versions")
    formula = "the compiled function's traced backward program"
    on_arrays = True  # (the engine's plain loop hands it arrays: apply_arrays)

    def __init__(self, program: Any, edges: list, in_meta: tuple, out_meta: list, versions: list) -> None:
        super().__init__()
        self.versions = versions  # (tensor, its version): what the backward reads must not change in place
        self.program = program
        self.next_functions = tuple(edges)
        self.n_outputs = len(out_meta)
        self._in_meta = in_meta
        self._out_meta = out_meta

    def apply(self, grads: list) -> tuple:
        outs = tuple(None if o is None else _new(o) for o in self._run([None if g is None else g._data for g in grads]))
        if grad_mode._state.enabled:  # create_graph: the gradients exist, their own backward refuses (as torch's)
            record_outputs(CompiledFunctionBackwardBackward, outs, list(grads) + [t for t, _ in self.versions])
        return outs

    def apply_arrays(self, grads: list) -> tuple:
        return self._run(grads)

    def _run(self, grads: list) -> tuple:
        if self.program is None:
            raise RuntimeError(FREED_MESSAGE)
        for t, v in self.versions:
            if t._vc[0] != v:
                _check_version(t, v)
        for k, g in enumerate(grads):  # (an output no gradient reached: zeros, as torch materializes them)
            if g is None:
                shape, dtype = self._out_meta[k]
                grads[k] = np.zeros(shape, dtype)
        return self.program(*grads)

    def release(self) -> None:
        self.program, self.versions = None, []


class CompiledFunctionBackwardBackward(OpNode):
    """What a gradient computed by a compiled function's backward under ``create_graph=True``
    records: differentiating it again raises (torch's CompiledFunctionBackwardBackward)."""

    __slots__ = ()
    formula = "none: a compiled function's backward is differentiated once"

    def derivative(self, g: Any) -> tuple:
        raise RuntimeError(DOUBLE_BACKWARD)


def spent(outs: list) -> None:
    """Returned tensors of a compiled function that called ``backward()`` on their graph itself:
    they require grad, with one ``CompiledFunctionBackward`` node that has run (a backward through
    it raises torch's 'backward through the graph a second time'), as torch.compile returns them."""
    if not outs:
        return
    node = CompiledFunctionBackward(None, [], (), [(t._data.shape, t._data.dtype) for t in outs], [])
    for nr, t in enumerate(outs):
        t._grad_fn, t._rg, t._out_nr = node, True, nr


def attach(plan: Plan, arrays: tuple, backward: Any, tensors: list) -> list:
    """The call's returned arrays as Tensors, the differentiable ones outputs of one new node."""
    outs = [_new(a) for a in arrays]
    leaves = [tensors[k] if kind == "in" else k for kind, k in plan.targets]
    saved = [tensors[k] if kind == "in" else outs[k] if kind == "out" else k for kind, k in plan.saved]
    node = CompiledFunctionBackward(backward, [_edge(t) for t in leaves],
                                    tuple((t._data.shape, t._data.dtype) for t in leaves),
                                    [(shape, dtype) for _, shape, dtype in plan.diff],
                                    [(t, t._vc[0]) for t in saved])
    for nr, (k, _, _) in enumerate(plan.diff):
        t = outs[k]
        t._grad_fn, t._rg, t._out_nr = node, True, nr
    return outs


class TracedBackward:
    """The first call's backward, before the replay program exists: the eager graph the trace ran
    (whose gradients the replayed program reproduces bit for bit), run from the node's incoming
    gradients to the inputs and parameters, so the first call's outputs carry the same
    ``CompiledFunctionBackward`` node as later calls' (torch gives the first call's outputs one too)."""

    def __init__(self, outs: list, leaves: list) -> None:
        self.roots = [_edge(t) for t in outs]
        self.leaves = leaves
        self.capture = [_edge(t) for t in leaves]

    def __call__(self, *grads: np.ndarray) -> tuple:
        # a leaf's tensor hooks run once, when the outer engine accumulates what this returns
        metas = [(t, t._meta) for t in self.leaves if t.grad_fn is None]
        try:
            for t, _ in metas:
                t._meta = None
            got = engine.run_backward(self.roots, [_new(g) for g in grads], False, False, capture=self.capture,
                                      accumulate=False, frontier=True)
        finally:
            for t, m in metas:
                t._meta = m
        return tuple(None if g is None else g._data for g in got or ())


def attach_traced(plan: Plan, ret: list, tensors: list) -> list:
    """The first call's returned tensors given the node ``attach`` gives later calls' (see TracedBackward)."""
    diff = [ret[k] for k, _, _ in plan.diff]
    leaves = [tensors[k] if kind == "in" else k for kind, k in plan.targets]
    return attach(plan, tuple(t._data for t in ret), TracedBackward(diff, leaves), tensors)

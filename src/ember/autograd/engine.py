"""The backward engine: iterative, dependency-counted, newest node first.

1. Walk the graph from the roots with an explicit stack, counting how many edges reach each node.
2. Run ready nodes (all their incoming gradients summed) from a heap ordered by creation number,
   newest first, as torch does; each node's gradient buffer is dropped as soon as it is consumed.
3. Hand each result to the next node, reduced to the input's shape when it was broadcast and cast
   to the input's dtype; leaves accumulate into ``.grad`` through their AccumulateGrad node.

Nothing here recurses, so a chain of a million ops is fine.
"""

from __future__ import annotations

import heapq
import threading
from typing import Any, Sequence

from . import anomaly_mode, grad_mode
from . import function as _function
from ._forward_levels import fw as _fw
from .graph import AccumulateGrad, Node


def _tensor_hooks(node: Node, nr: int) -> dict:
    if type(node) is AccumulateGrad:
        meta = node.variable._meta
        return meta.get("hooks", {}) if meta is not None else {}
    th = node._tensor_hooks
    return th.get(nr, {}) if th is not None else {}


def _run_tensor_hooks(node: Node, grads: list) -> None:
    """Hooks registered on the tensors this node produced (Tensor.register_hook), then retain_grad."""
    for nr in range(len(grads)):
        g = grads[nr]
        if g is None:
            continue
        for hook in tuple(_tensor_hooks(node, nr).values()):
            new = hook(g)
            if new is not None:
                g = new
        grads[nr] = g
    if node._retains is not None:
        for nr, ref in node._retains.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                t._accumulate(grads[nr], retained=True)


def _check_grad(node: Node, i: int, g: Any, meta: tuple) -> Any:
    """Validate one gradient a node produced against its input (torch's validate_outputs)."""
    shape, npdtype = meta
    gd = g._data
    if gd.shape != shape:
        try:
            ok = len(shape) <= gd.ndim and all(
                s == 1 or s == t for s, t in zip(reversed(shape), reversed(gd.shape))
            )
        except TypeError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(gd.shape)} but expected shape compatible with {list(shape)}"
            )
        if not grad_mode._state.enabled and not _fw.on and gd.dtype.kind == "f" and gd.itemsize >= 4:
            # the broadcast input's gradient, summed with NumPy when no graph is being built
            lead = gd.ndim - len(shape)
            axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(shape) if s == 1 and gd.shape[lead + k] != 1)
            gd = gd.sum(axis=axes, keepdims=True).reshape(shape)
            g = _function._new_tensor(gd)
        else:
            g = g.sum_to_size(shape)
            gd = g._data
    if gd.dtype != npdtype:
        g = g._cast_np(npdtype)
    return g


def _collect(roots: Sequence[Node], ends: Any = ()) -> dict:
    """Count, for every node reachable from the roots (not past a node in ``ends``), the edges
    that lead into it."""
    deps: dict = {}
    stack = []
    for r in roots:
        if r not in deps:
            deps[r] = 0
            stack.append(r)
    get = deps.get
    while stack:
        node = stack.pop()
        if node in ends:
            continue
        for nxt, _ in node.next_functions:
            if nxt is not None:
                c = get(nxt)
                if c is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = c + 1
    return deps


def _needed(deps: dict, targets: set, ends: Any = ()) -> set:
    """Nodes that lie on a path from the roots to a target (the only ones autograd.grad runs),
    not past a node in ``ends`` (``_collect``'s)."""
    # Kahn order from the roots, then sweep it backwards: a node is needed if it is a target
    # or if any of its children is needed.
    remaining = dict(deps)
    order = [n for n, d in deps.items() if d == 0]
    i = 0
    while i < len(order):
        if order[i] not in ends:
            for nxt, _ in order[i].next_functions:
                if nxt is not None:
                    remaining[nxt] -= 1
                    if remaining[nxt] == 0:
                        order.append(nxt)
        i += 1
    needed = set()
    for node in reversed(order):
        if node in targets or node not in ends and any(n in needed for n, _ in node.next_functions if n is not None):
            needed.add(node)
    return needed


# Whether each backward pass running on this thread (innermost last) accumulates into every leaf:
# false for autograd.grad and backward(inputs=...). Reentrant checkpointing asks (torch's
# _is_checkpoint_valid), since its inner backward would accumulate into every leaf's .grad.
_passes = threading.local()

# ember.compile's observer while it traces a backward (None otherwise: one check per backward call)
_observer: Any = None


def is_checkpoint_valid() -> bool:
    """False inside a backward pass that does not accumulate into every leaf."""
    stack = getattr(_passes, "stack", None)
    return not stack or stack[-1]


def run_backward(
    roots: Sequence[tuple[Node, int]],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[tuple[Node, int]] | None = None,
    accumulate: bool = True,
    only: Sequence[tuple[Node, int]] | None = None,
    trace: Any = None,
    frontier: bool = False,
) -> list | None:
    """Propagate ``root_grads`` from the ``roots`` edges back through the graph.

    ``capture``: edges whose arriving gradient is returned (autograd.grad) instead of accumulated.
    ``only``: with accumulate, restrict accumulation to these leaves (backward(inputs=...)).
    ``trace``: an observer with ``node(node, grads, outs)`` and ``edge(node, i, next_node, grad)``
    (used by ``ember.autograd.explain``).
    ``frontier``: the captured edges end the graph: nothing past their nodes runs, not even for
    another captured edge (a compiled function's backward, which covers its own ops only).
    """
    if _observer is not None and trace is None:
        trace = _observer
    root_nodes = [n for n, _ in roots]
    ends = {n for n, _ in capture or ()} if frontier else ()
    deps = _collect(root_nodes, ends)
    targets = None
    captured: dict = {}
    if capture is not None or only is not None:
        edges = capture if capture is not None else only or ()
        targets = {n for n, _ in edges}
        needed = _needed(deps, targets, ends)
        deps = {n: 0 for n in needed}
        for n in needed:
            if n in ends:
                continue
            for nxt, _ in n.next_functions:
                if nxt in deps:
                    deps[nxt] += 1
    capture_edges: dict = {}
    if capture is not None:
        for n, nr in capture:
            capture_edges.setdefault(n, set()).add(nr)

    buffers: dict = {}
    for (node, nr), g in zip(roots, root_grads):
        if node not in deps:
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * _n_outputs(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    # roots of in-degree zero start the heap; a root fed by another root waits for it
    # (creation numbers are unique, so heap entries never compare the nodes themselves)
    heap = [(-n._seq, n) for n in {n for n, _ in roots} if n in deps and deps[n] == 0]
    heapq.heapify(heap)

    prev_mode = grad_mode._state.enabled
    grad_mode._state.enabled = create_graph
    anomaly = anomaly_mode.flags.anomaly
    pop = heapq.heappop
    stack = getattr(_passes, "stack", None)
    if stack is None:
        stack = _passes.stack = []
    stack.append(capture is None and only is None)
    try:
        if capture is None and targets is None and trace is None and not anomaly and not create_graph and not _fw.on:
            _run_plain(heap, buffers, deps, retain_graph)
            return None
        outs: Any
        while heap:
            node = pop(heap)[1]
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * _n_outputs(node)
            is_acc = type(node) is AccumulateGrad
            extra = node._extra
            if extra is not None or (type(node) is AccumulateGrad and node.variable._meta):
                _run_tensor_hooks(node, grads)
                if extra is not None and extra.pre_hooks is not None:
                    for hook in tuple(extra.pre_hooks.values()):
                        new = hook(tuple(grads))
                        if new is not None:
                            grads = list(new)
            if capture_edges and node in capture_edges:
                for nr in capture_edges[node]:
                    captured[(node, nr)] = grads[nr]
                if is_acc or frontier:
                    if trace is not None:
                        trace.node(node, grads, ())
                    continue
            if is_acc and (not accumulate or (targets is not None and node not in targets)):
                continue
            if capture is not None and not any(nxt in deps for nxt, _ in node.next_functions):
                # autograd.grad towards a non-leaf that leads to no other input: torch stops here,
                # so its node neither runs nor frees what it saved (backward(inputs=) does run it)
                if trace is not None:
                    trace.node(node, grads, ())
                continue
            for g in grads:
                if g is not None:
                    break
            else:  # nothing flows through this node: its inputs receive nothing either
                _skip(node, deps, heap)
                continue
            g = None
            if anomaly:
                try:
                    outs = node.apply(grads)
                except Exception:
                    anomaly_mode._warn_forward(node)
                    raise
                anomaly_mode.check_outputs(node, outs)
            else:
                outs = node.apply(grads)
            if extra is not None and extra.hooks is not None:
                for hook in tuple(extra.hooks.values()):
                    new = hook(tuple(outs), tuple(grads))
                    if new is not None:
                        outs = tuple(new)
            if trace is not None:
                trace.node(node, grads, outs)
            if not retain_graph:
                node.release()
            _deliver(node, outs, buffers, deps, heap, create_graph, trace)
            outs = None  # (so that AccumulateGrad can take over gradients nobody else holds)
    finally:
        grad_mode._state.enabled = prev_mode
        stack.pop()
    if capture is not None:
        return [captured.get(e) for e in capture]
    return None


def _sum(a: Any, b: Any, create_graph: bool) -> Any:
    """Two gradients arriving at one output: NumPy's add when nothing records a graph (and no
    tangent rides on them)."""
    if not create_graph and not _fw.on:
        x, y = a._data, b._data
        if x.shape == y.shape and x.dtype is y.dtype:
            return _function._new_tensor(x + y)
    return a + b


def _apply_hooked(node: Node, grads: list) -> tuple:
    """Run a node that has hooks (or a leaf with tensor hooks): tensor hooks, pre-hooks, the node,
    then its post-hooks."""
    extra = node._extra
    _run_tensor_hooks(node, grads)
    if extra is not None and extra.pre_hooks is not None:
        for hook in tuple(extra.pre_hooks.values()):
            new = hook(tuple(grads))
            if new is not None:
                grads = list(new)
    outs = node.apply(grads)
    if extra is not None and extra.hooks is not None:
        for hook in tuple(extra.hooks.values()):
            new = hook(tuple(outs), tuple(grads))
            if new is not None:
                outs = tuple(new)
    return outs


def _run_plain(heap: list, buffers: dict, deps: dict, retain_graph: bool) -> None:
    """The engine loop for a plain ``backward()``: no captured edges, no tracing, no anomaly mode,
    and no graph built (``create_graph`` is False). The same steps as the general loop in
    run_backward, with those features' checks left out, since this loop runs once per node of
    every graph; and the gradients travel as NumPy arrays: formulas that run on arrays
    (``OpNode.apply_arrays``) take and give them directly, every other node gets Tensors around
    its call. ``_deliver`` is spelled out inline (a call per node costs ~4%); keep the two alike."""
    pop, push = heapq.heappop, heapq.heappush
    take, get = buffers.pop, deps.get
    new = _function._new_tensor
    outs: Any
    for buf in buffers.values():  # (the roots' gradients)
        for k, g in enumerate(buf):
            if g is not None:
                buf[k] = g._data
    while heap:
        node = pop(heap)[1]
        grads = take(node, None)
        if grads is None:  # nothing flows through this node: its inputs receive nothing either
            _skip(node, deps, heap)
            continue
        if node.on_arrays and node._extra is None:
            outs = node.apply_arrays(grads)
        elif type(node) is AccumulateGrad and not node.variable._meta:
            g = grads[0]
            if g is not None:
                node.variable._accumulate_array(g, grads)
            outs = ()
        else:  # a node that takes Tensors: a user Function, hooks, a formula in ember ops
            ts: Any = [None if g is None else new(g) for g in grads]
            grads = g = None
            if node._extra is not None or type(node) is AccumulateGrad:
                outs = _apply_hooked(node, ts)
            else:
                outs = node.apply(ts)
            ts = None
            outs = [None if o is None else o._data for o in outs]
        if not retain_graph:
            node.release()
        # _deliver(node, outs, buffers, deps, heap, False, None), inline, on arrays
        meta = node._in_meta
        nouts = len(outs)
        i = -1
        for nxt, nr in node.next_functions:
            i += 1
            d = get(nxt)
            if d is None:
                continue
            if i < nouts:
                g = outs[i]
                if g is not None:
                    if meta is not None and meta[i] is not None:
                        m = meta[i]
                        if g.shape != m[0] or g.dtype != m[1]:
                            g = _check_grad(node, i, new(g), m)._data
                    buf = buffers.get(nxt)
                    if buf is None:
                        if nxt.n_outputs == 1:
                            buffers[nxt] = [g]
                        else:
                            buf = buffers[nxt] = [None] * nxt.n_outputs
                            buf[nr] = g
                    else:
                        h = buf[nr]
                        if h is None:
                            buf[nr] = g
                        elif h.shape == g.shape and h.dtype is g.dtype:
                            buf[nr] = h + g
                        else:
                            buf[nr] = (new(h) + new(g))._data
            deps[nxt] = d - 1
            if d == 1:
                push(heap, (-nxt._seq, nxt))
        outs = g = grads = None  # (so that AccumulateGrad can take over gradients nobody else holds)


def _skip(node: Node, deps: dict, heap: list) -> None:
    """A node that received no gradient: its inputs get none from it, but it no longer holds them up."""
    get = deps.get
    for nxt, _ in node.next_functions:
        d = get(nxt)
        if d is not None:
            deps[nxt] = d - 1
            if d == 1:
                heapq.heappush(heap, (-nxt._seq, nxt))


def _deliver(node: Node, outs: tuple, buffers: dict, deps: dict, heap: list, create_graph: bool,
             trace: Any) -> None:
    """Hand each gradient a node produced to the node its input came from: checked against the
    input's shape and dtype (reduced or cast when broadcast), summed with any gradient already
    waiting there, and the receiver queued once nothing else is pending for it."""
    meta = node._in_meta
    nouts = len(outs)
    get = deps.get
    i = -1
    for nxt, nr in node.next_functions:
        i += 1
        d = get(nxt)
        if d is None:  # None edges and nodes outside this backward
            continue
        if i < nouts:
            g = outs[i]
            if g is not None:
                if meta is not None:
                    m = meta[i]
                    if m is not None:
                        gd = g._data
                        if gd.shape != m[0] or gd.dtype != m[1]:
                            g = _check_grad(node, i, g, m)
                if trace is not None:
                    trace.edge(node, i, nxt, g)
                buf = buffers.get(nxt)
                if buf is None:
                    if nxt.n_outputs == 1:
                        buffers[nxt] = [g]
                    else:
                        buf = buffers[nxt] = [None] * nxt.n_outputs
                        buf[nr] = g
                else:
                    buf[nr] = g if buf[nr] is None else _sum(buf[nr], g, create_graph)
        deps[nxt] = d - 1
        if d == 1:
            heapq.heappush(heap, (-nxt._seq, nxt))


def _n_outputs(node: Node) -> int:
    return node.n_outputs

"""The compiled function: a cache of traced programs keyed by guards, replayed on later calls.

First call with a new key: trace (``trace.Tracer``; the call itself runs eagerly), then generate
the program (``codegen``). Later calls whose guards hold run the program on the arguments (their
Tensors: a leaf among them accumulates its ``.grad``) with grad mode off, and wrap what it returns
as Tensors. A graph break leaves an entry that runs the function eagerly for that key. After
``recompile_limit`` entries (torch's default, 8) new keys run eagerly, with torch's warning, except
a key that differs from a cached one only in its tensors' sizes, when ``dynamic`` is not False
(nor None with ``config.automatic_dynamic_shapes`` off):
torch would have made those sizes symbolic and kept running compiled without a word, so that call
runs eagerly (the same numbers) and silently. ember specialises every program to its shapes.
"""

from __future__ import annotations

import collections
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import _logging
from .._tensor import Tensor, _new
from ..autograd import _forward_levels, engine, grad_mode
from ..func import _batched
from . import aot, attributes, codegen, compiled_functions, config_values, guards, python_random, tracing
from .trace import GraphBreak, Tracer, Unsupported

_state = grad_mode._state
_active = tracing  # the tracer running now (a compiled function called inside another's trace runs eagerly)


@dataclass
class Entry:
    """One traced program (or, after a graph break, the eager marker ``program is None``)."""
    key: tuple
    checks: guards.Checks | None = None
    program: Callable | None = None
    source: str = ""
    returns: Any = None
    reason: str = ""
    ops: list = field(default_factory=list)
    nodes: int = 0
    calls: int = 0
    fused: int = 0
    plan: Any = None  # (aot.Plan: the outputs need a graph, the program returns a backward too)
    spent: list = field(default_factory=list)  # returned arrays whose graph the function's own backward() used
    attrs: list = field(default_factory=list)  # (places: guards.value_at) attribute tensors the program takes last
    sets: list = field(default_factory=list)  # (object, name): the attributes each replay sets


class CompiledFunction:
    """What ``ember.compile(fn)`` calls: guards, cache, trace, replay."""

    def __init__(self, fn: Callable, fullgraph: bool = False, recompile_limit: int | None = None,
                 dynamic: bool | None = None) -> None:
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.own_limit = recompile_limit
        self.entries: list[Entry] = []
        self.warned = False
        self.last_reason = ""
        compiled_functions.add(self)

    @property
    def limit(self) -> int:
        """How many traced programs the cache keeps: the ``recompile_limit`` given to compile, else
        ``ember._dynamo.config.recompile_limit`` (torch's default, 8)."""
        return self.own_limit if self.own_limit is not None else config_values.get("recompile_limit", 8)

    def reset(self) -> None:
        """Forget the traced programs (``ember.compiler.reset()``)."""
        self.entries.clear()
        self.warned = False
        self.last_reason = ""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _active or _batched.active() or _forward_levels.fw.on:
            # (inside a trace, vmap or forward-mode AD: a replay of arrays would drop the batch
            # dims or the tangents, so the function runs eagerly, as the transform expects)
            return self.fn(*args, **kwargs)
        key, tensors = guards.signature(args, kwargs)
        if key is None:  # (a sparse or batched tensor argument: no array to replay on)
            return self.fn(*args, **kwargs)
        for e in self.entries:
            if e.key == key:
                why = e.checks.failure() if e.checks is not None else None
                if why is None:
                    e.calls += 1
                    if e.program is None:
                        return self.fn(*args, **kwargs)
                    return self.replay(e, tensors)
                self.last_reason = why
        if self.entries and not self.last_reason:
            self.last_reason = guards.difference(self.entries[-1].key, key)
        if len(self.entries) >= self.limit:
            dynamic = self.dynamic if self.dynamic is not None else config_values.get("automatic_dynamic_shapes", True)
            if dynamic and any(guards.sizes_only(e.key, key) for e in self.entries):
                return self.fn(*args, **kwargs)
            if not self.warned:
                self.warned = True
                code = getattr(self.fn, "__code__", None)
                loc = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
                warnings.warn(
                    f"ember._dynamo hit config.recompile_limit ({self.limit})\n"
                    f"   function: '{_name(self.fn)}'{loc}\n"
                    f"   last reason: {self.last_reason}\n"
                    'To log all recompilation reasons, use TORCH_LOGS="recompiles".\n'
                    "To diagnose recompilation issues, see "
                    "https://pytorch.org/docs/main/torch.compiler_troubleshooting.html", stacklevel=2)
            return self.fn(*args, **kwargs)
        if self.last_reason and _logging.enabled("recompiles"):
            code = getattr(self.fn, "__code__", None)
            at = f" in {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
            print(f"[ember._dynamo] Recompiling function {_name(self.fn)}{at}\n"
                  f"    triggered by the following guard failure(s):\n    - {self.last_reason}", file=sys.stderr)
        self.last_reason = ""
        return self.trace(key, tensors, args, kwargs)

    def replay(self, e: Entry, tensors: list) -> Any:
        if e.attrs:
            tensors = attributes.held(e.attrs, tensors)
        prev = _state.enabled
        _state.enabled = False
        try:
            outs = e.program(*tensors)  # type: ignore[misc]
        finally:
            _state.enabled = prev
        if e.plan is not None:
            ret = _rebuild(e.returns, aot.attach(e.plan, outs[0], outs[1], tensors), tensors)
            return _set(e, ret) if e.sets else ret
        res = [_new(a) for a in outs]
        if e.spent:
            aot.spent([res[k] for k in e.spent])
        ret = _rebuild(e.returns, res, tensors)
        return _set(e, ret) if e.sets else ret

    def trace(self, key: tuple, tensors: list, args: tuple, kwargs: dict) -> Any:
        tr = Tracer(guards.param_names(self.fn, args, kwargs), self.fullgraph)
        containers = guards.outside_containers(self.fn, args, kwargs)
        tr.outside = {id(c) for c in containers}
        reads = guards.closure_reads(self.fn)
        objs = guards.reachable(self.fn, args, kwargs)
        numbers = guards.numbers_of(objs)
        tr.start = attributes.start(objs, containers)
        for t, label in zip(tensors, guards.labels(self.fn, args, kwargs)):
            tr.add_input(t, label)
        old = sys.getprofile()
        _active.append(tr)
        np_draws = python_random.numpy_draws()
        sys.setprofile(tr.profile)
        try:
            ret = self.fn(*args, **kwargs)
        finally:
            sys.setprofile(old)
            engine._observer = None
            _active.pop()
        e = Entry(key)
        self.entries.append(e)
        tr.check_versions()
        err = tr.error
        if err is None and python_random.numpy_draws() != np_draws:  # (NumPy's Cython functions make no profile events)
            err = GraphBreak(python_random.NUMPY)
        returns = plan = None
        if err is None:
            try:
                e.attrs, aliases = attributes.as_arguments(tr, tr.start, tensors)
                sets = attributes.written(tr, tr.start)  # (their values: extra outputs, set after each replay)
                e.sets = [(o, name) for o, name, _ in sets]
                # (the attributes' values after what the function returns, when it sets any)
                returns, names, outs = _returns(tr, (ret, tuple(v for *_, v in sets)) if sets else ret, tensors)
                if tr.backward is None and any(t._rg for t in outs) and _state.enabled:
                    plan = aot.trace_backward(tr, outs, tensors)  # (the result needs a graph: AOTAutograd)
            except GraphBreak as b:
                err = b
        if err is not None:
            e.reason = str(err)
            if self.fullgraph:
                raise Unsupported(f"ember.compile(fullgraph=True): graph break: {err}")
            warnings.warn(f"ember.compile: graph break in {_name(self.fn)}: {err}; "
                          "calls like this one run eagerly", stacklevel=4)
            return ret
        name = _name(self.fn)
        src, ns, e.fused = codegen.generate(tr, name, names)
        if e.sets:
            src += attributes.note(e.sets, returns[1][1][1], names, tr.inputs)  # type: ignore[index]  # (ret, sets)
        if _logging.enabled("output_code"):
            print(f"[ember._dynamo] output code of {name}:\n{src}", file=sys.stderr)
        exec(compile(src, f"<ember.compile {name}>", "exec"), ns)
        e.program, e.source, e.returns, e.plan = ns[name], src, returns, plan
        reads += guards.global_reads(tr.codes, tr.globals)
        late = {id(o) for o in tr.start.late}  # (their copies, in the same order)
        numbers += guards.numbers_of(tr.start.late, [d for o, d in tr.start.plain if id(o) in late])
        e.checks = guards.Checks([m for m in tr.modules.values() if id(m) not in tr.trained], tr.externals, reads,
                                 tr.grad_guards, attributes.by_identity(tr, tr.start), numbers,  # (a flag the function sets itself is not a guard)
                                 list(zip(e.attrs, tensors[len(tensors) - len(e.attrs):])),
                                 aliases, attributes.sizes(tr, tr.start))
        e.ops = list(tr.ops)
        e.nodes = sum(1 for s in tr.steps if s.kind == "node")
        if plan is not None:  # (the outputs' backward as one node from the first call on, as torch's)
            ret = _rebuild(returns, aot.attach_traced(plan, outs, tensors), tensors)
            return _set(e, ret) if e.sets else ret
        if tr.backward is not None:  # (results of the graph the step's backward() consumed: torch's spent node)
            e.spent = [k for k, t in enumerate(outs) if t.grad_fn is not None]
            aot.spent([outs[k] for k in e.spent])
        return ret

    # ------------------------------------------------------------------ what a learner reads
    def source(self) -> str:
        """The generated programs, one per traced call signature (newest last)."""
        progs = [e.source for e in self.entries if e.program is not None]
        if not progs:
            return "# nothing compiled yet: call the function once to trace it"
        return "\n\n".join(progs)

    def explain(self) -> str:
        """What was traced, cached, fused, or broke the graph."""
        lines = [f"ember.compile({_name(self.fn)}): {len(self.entries)} cache entr"
                 f"{'y' if len(self.entries) == 1 else 'ies'} (recompile_limit {self.limit})"]
        for k, e in enumerate(self.entries):
            if e.program is None:
                lines.append(f"  [{k}] graph break, runs eagerly ({e.calls} later calls): {e.reason}")
                continue
            counts: dict = {}
            for op in e.ops:
                counts[op] = counts.get(op, 0) + 1
            ops = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in counts.items())
            lines.append(f"  [{k}] traced: {len(e.ops)} forward ops ({ops}), {e.nodes} backward nodes; "
                         f"replayed {e.calls} times; fused: {e.fused} elementwise ops write into an operand "
                         "nothing reads again" + ("; the outputs' backward replays as one CompiledFunctionBackward node"
                                                  if e.plan is not None else ""))
        lines.append("  (each op is one NumPy call; each backward node calls its derivative formula; the "
                     "optimizer's step runs as in eager)")
        return "\n".join(lines)


def _set(e: Entry, ret_and_values: tuple) -> Any:
    """Set the attributes the traced call set (``e.sets``) to their values; return what the function returns."""
    ret, values = ret_and_values
    for (o, name), v in zip(e.sets, values):
        setattr(o, name, v)
    return ret


def _name(fn: Any) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__.lower()
    return name if name.isidentifier() else "compiled_fn"


def _returns(tr: Tracer, ret: Any, args: list) -> tuple:
    """The shape of what the function returned: ("t", k) for the k-th returned array, ("arg", k)
    for the call's k-th tensor argument itself and ("obj", tensor) for a captured tensor (a
    parameter) itself, ("c", value) for a constant, containers of those; the names of the arrays
    and their Tensors."""
    names: list = []
    tensors: list = []

    def spec(v: Any) -> Any:
        if isinstance(v, Tensor):
            k = next((k for k, a in enumerate(args) if a is v), None)
            if k is not None:
                return ("arg", k)
            if any(t is v for t in tr.externals.values()):
                return ("obj", v)
            names.append(tr.ref(v._data, v))
            tensors.append(v)
            return ("t", len(names) - 1)
        if v is None or type(v) in (int, float, bool, str):
            return ("c", v)
        if type(v) in (tuple, list):
            return (type(v), [spec(x) for x in v])
        if isinstance(v, tuple) and hasattr(type(v), "_fields"):  # (a namedtuple: a model's output)
            return ("namedtuple", (type(v), [spec(x) for x in v]))
        if type(v) in (dict, collections.OrderedDict):
            return (type(v), {k: spec(x) for k, x in v.items()})
        raise GraphBreak(f"the function returns a {type(v).__name__}, which ember.compile cannot rebuild")

    return spec(ret), names, tensors


def _rebuild(spec: Any, outs: list, args: list) -> Any:
    kind, v = spec
    if kind == "t":
        return outs[v]
    if kind == "arg":
        return args[v]
    if kind in ("c", "obj"):
        return v
    if kind in (dict, collections.OrderedDict):
        return kind((k, _rebuild(x, outs, args)) for k, x in v.items())
    if kind == "namedtuple":
        return v[0](*(_rebuild(x, outs, args) for x in v[1]))
    return kind(_rebuild(x, outs, args) for x in v)

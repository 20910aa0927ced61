"""Tracing: run the function once, eagerly, and write down what it computed.

The first call runs as plain eager ember under ``sys.setprofile``. The profiler sees each Python call:

- a call of an op in ``kernels.HANDLERS`` that accepts its arguments is recorded as one step
  (kernel, input arrays, constants, output arrays) and what runs inside it is not looked at (a
  declined call is opaque, or traced through when the op is a composite such as ``linear``);
- ``Tensor.backward()`` is recorded through the engine's observer hook (``engine._observer``):
  the nodes it applied in order, each with the arrays it had saved, the sums of gradients that met,
  the reductions of broadcast gradients, and the accumulation into ``.grad``;
- a user's ``autograd.Function``: its forward (the user's ops) is traced like any other code, and
  its node, met in a backward, becomes a replayed call of the Function's own ``backward`` on
  Tensors around the replay's arrays (``ctx``'s saved tensors and tensor attributes among them);
- ``optimizer.step()`` / ``zero_grad()`` are recorded as calls to replay;
- any other call into ember's op modules is opaque: its result is an array the replay cannot
  produce, so using it breaks the graph; one that changes state (an in-place op, a random draw,
  ``.item()``, ``bool(t)``) breaks the graph where it happens.

Values are named by the identity of their NumPy arrays (a Tensor that wraps an array the trace
knows is that value), so aliases such as ``detach`` or ``_new(noise)`` need no handler. A graph
break never changes the call's result: the call was eager all along.
"""

from __future__ import annotations

import linecache
import random
import sys
from collections import defaultdict
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd import engine, graph
from ..autograd.function import Function
from ..nn.modules.module import Module
from ..nn.modules.normalization import _NormBase
from ..ops import inplace
from ..optim._lr_scheduler_base import LRScheduler
from ..optim.optimizer import Optimizer
from . import attributes, generic, guards, python_random, writes
from .backward import BackwardRecorder
from .kernels import HANDLERS, TEMPLATES, TRANSPARENT, Rec
from .steps import GraphBreak, Ref, Step

# modules whose functions compute on arrays themselves: a call into one is an op
_OPAQUE = ("ember.ops", "ember.nn._ops", "ember.nn._rnn_ops", "ember._tensor", "ember.linalg", "ember.fft",
           "ember.special", "ember.autograd", "ember._sparse_tensor", "ember.nn.init", "ember.nn.utils",
           "ember.distributions", "ember.func", *generic.NN_OPS)
# ... and those that change state the replay would not reproduce
_STATEFUL = ("ember.random", "ember._random", "ember.optim", "ember.ops.random_ops", "ember.ops.creation",
             "ember.ops.inplace")
_VALUE_READS = ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy", "__array__",
                "__format__", "__repr__", "__str__")
_SETTERS = {p.fset.__code__ for p in vars(Tensor).values() if isinstance(p, property) and p.fset is not None}
_MODULE_ZERO_GRAD = Module.zero_grad.__code__
_MODULE_TRAIN = Module.train.__code__  # (model.train() / model.eval() in the function: a replayed call)
# a module's hooks (Python a replay would skip); the attributes set on a module (noted: attributes.py)
_MODULE_HOOKS, _MODULE_SETATTR, _MODULE_DELATTR = (Module._call_with_hooks.__code__, Module.__setattr__.__code__,
                                                   Module.__delattr__.__code__)
_NORM_FORWARD = _NormBase.forward.__code__
_BACKWARDS = ("backward", "grad", "run_backward")  # (backward passes other than Tensor.backward(), not recorded)
# a user Function's apply: its forward (the user's ops, under no_grad) is traced through; its node's
# backward is replayed as a call of the Function's own backward (BackwardRecorder.custom)
_FUNCTION_APPLY = Function.apply.__func__.__code__  # type: ignore[attr-defined]
# the hand-written update of a training loop (``p -= lr * p.grad``, ``p.grad = None``,
# ``p.grad.zero_()``) on a parameter, input or captured tensor: recorded as replay steps
_GRAD_GET, _GRAD_SET = Tensor.grad.fget.__code__, Tensor.grad.fset.__code__  # type: ignore[attr-defined]
_UFUNC_INPLACE = inplace.make_inplace(lambda x: x, np.add).__code__  # (every ``x op= y`` method shares it)
_ZERO = inplace.zero_.__code__
_DATA_SET = Tensor.data.fset.__code__  # type: ignore[attr-defined]
_UPDATES = (_GRAD_GET, _GRAD_SET, _UFUNC_INPLACE, _ZERO, _DATA_SET)
_DDP = "ember.nn.parallel.distributed"

# the factories whose result depends on their arguments only (a position index, a mask, zeros),
# called again at replay (``empty`` stays a graph break)
_FACTORIES = {"tensor", "as_tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange",
              "linspace", "logspace", "eye"}
# the random factories, called again at replay too: in the program's order, they draw from ember's
# generator (or the one they are given) what eager draws (a VAE's randn_like, a GAN's noise)
_RANDOM = {"rand", "randn", "randint", "randperm", "normal", "rand_like", "randn_like", "randint_like", "bernoulli",
           "multinomial", "poisson"}
_RANDOM_MODULES = ("ember.ops.creation", "ember.ops.random_ops")
_ELEMENTWISE = {"add", "sub", "mul", "div", "add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "rsub_scalar", "neg",
                "exp", "log", "tanh", "sigmoid", "sqrt", "relu", "unary_fn", "activation", "abs", "maximum", "minimum",
                "clamp", "pow_scalar", "where", "where_scalar_input", "where_scalar_other"}
_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "add", "discard", "setdefault",
             "popitem", "sort", "reverse", "__setitem__", "__delitem__"}
_IN_PLACE_SIGNS = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/"}


def _user_frame(frame: Any) -> Any:
    while frame is not None and (frame.f_globals.get("__name__", "").split(".")[0] == "ember"
                                 or frame.f_code.co_filename.startswith("<ember")):
        frame = frame.f_back
    return frame


def _public_name(frame: Any) -> str:
    """The op a call belongs to: its function's name, or for a private helper (``_new``) the
    nearest public ember function that called it (``dropout``)."""
    f = frame
    while f is not None and f.f_globals.get("__name__", "").startswith("ember"):
        if not f.f_code.co_name.startswith("_") and f.f_globals["__name__"] != "ember.ops._core":
            return f.f_code.co_name
        f = f.f_back
    return frame.f_code.co_name


def where(frame: Any) -> str:
    """``file:line: source`` of the user's line that led to ``frame``."""
    f = _user_frame(frame)
    if f is None:
        return "<ember>"
    text = linecache.getline(f.f_code.co_filename, f.f_lineno).strip()
    return f"{f.f_code.co_filename}:{f.f_lineno}: {text}"


class Tracer:
    """Watches one eager call and builds its replay program (``steps``). ``fullgraph``: a graph
    break raises (``Unsupported``) instead of letting the call finish eagerly."""

    def __init__(self, param_names: dict, fullgraph: bool = False) -> None:
        self.fullgraph = fullgraph
        self.vals: dict[int, str] = {}  # id(array) -> value name
        self.meta: dict[str, tuple] = {}  # value name -> (shape, dtype)
        self.keep: list = []  # every array named (so ids stay unique)
        self.steps: list[Step] = []
        self.inputs: list[str] = []
        self.externals: dict[str, Tensor] = {}  # name -> Tensor read live at replay
        self.ext_ids: dict[int, str] = {}  # id(Tensor) -> name
        self.opaque: dict[int, tuple] = {}  # id(array) -> (op, where): results the replay cannot make
        self.param_names = param_names
        self.modules: dict[int, Module] = {}
        self.objects: dict[int, tuple] = {}  # id -> (name, object): optimizers, modules called
        self.counts: dict[str, int] = defaultdict(int)
        self.taken: set[str] = set()  # (every name given: "grad_sum1" + "0" must not meet "grad_sum" + "10")
        self.node_names: dict = {}  # forward node -> value name
        self.inside: Any = None  # the frame of the op being recorded
        self.pending: Any = None
        self.error: GraphBreak | None = None
        self.ops: list[str] = []
        self.backward: Any = None
        # the outputs' backward traced after the call (aot.py): where its steps start, the names of
        # the output gradients it takes and of the input/parameter gradients it returns
        self.bw_start: int | None = None
        self.grad_outs: list = []
        self.grad_ins: list = []
        self.versions: list = []  # (tensor, its version when traced): a change by an untraced in-place op breaks
        self.followed: set = set()  # id(version counter) of the tensors whose in-place updates were recorded
        self.grad_of: dict[str, str] = {}  # value name of a leaf's .grad array read -> the leaf's name
        self.held: dict[str, Any] = {}  # name -> the input or captured Tensor the replay holds as T_<name>
        # whether a leaf's .grad is None when the function reads it: fixed by the program once it has accumulated
        # into it or set it to None (``grad_set``: those leaves' ids), else a guard (``grad_guards``: (tensor, is None))
        self.grad_set: set = set()
        self.grad_guards: list = []
        self.outside: set = set()  # id() of the lists, dicts and sets reachable from outside the function
        self.seq0 = 0  # the node sequence number when the op being recorded started
        self.trained: set = set()  # id() of the modules whose training flag the function sets itself
        self.start: Any = None  # (attributes.Start: what the objects the function reaches held at the start)
        self.sets: dict = {}  # (id(module), name) -> (module, name): the attributes the call set on modules
        self.codes: dict = {}  # the user's code objects that ran -> their globals
        self.globals: dict = {}  # id(globals) -> (globals, a copy taken when the first of its functions ran)

    # ---------------------------------------------------------------- values
    def name(self, base: str) -> str:
        k = self.counts[base]
        while f"{base}{k}" in self.taken:
            k += 1
        self.counts[base] = k + 1
        self.taken.add(f"{base}{k}")
        return f"{base}{k}"

    def bind(self, arr: Any, name: str) -> None:
        self.taken.add(name)
        self.vals[id(arr)] = name
        self.keep.append(arr)
        if isinstance(arr, np.ndarray):
            self.meta[name] = (arr.shape, arr.dtype)

    def add_input(self, t: Tensor, label: str) -> None:
        if id(t._data) not in self.vals:
            self.bind(t._data, label)
            self.inputs.append(label)
            self.held[label] = t
            self.versions.append((t, t._vc[0]))

    def check_versions(self) -> None:
        """A traced tensor changed in place by something the trace did not see breaks the graph."""
        stepped = {id(p._vc) for p in self.externals.values()} | self.followed  # (optimizers step parameters)
        for t, v in self.versions:
            if t._vc[0] != v and id(t._vc) not in stepped and self.error is None:
                self.error = GraphBreak("a tensor of the trace was modified in place by an op ember.compile did "
                                        "not follow")

    def ref(self, arr: Any, owner: Tensor | None) -> str:
        """The name of an array an op reads: a traced value, or a tensor from outside (a parameter,
        a captured constant) read afresh at every replay."""
        name = self.vals.get(id(arr))
        if name is not None:
            return name
        if id(arr) in self.opaque:
            op, at = self.opaque[id(arr)]
            raise GraphBreak(f"a value computed by '{op}', which ember.compile does not support", at)
        if owner is None:
            raise GraphBreak("an array that is not a traced tensor")
        name = self.ext_ids.get(id(owner))
        if name is None:
            base = self.param_names.get(id(owner)) or "const"
            name = self.name(base) if base == "const" or base in self.externals or base in self.taken else base
            self.externals[name] = owner
            self.held[name] = owner
            self.ext_ids[id(owner)] = name
        self.bind(arr, name)
        return name

    def tensor_name(self, t: Tensor) -> str:
        return self.ref(t._data, t)

    # ---------------------------------------------------------------- the profiler
    def profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            if self.inside is not None:
                return
            code = frame.f_code
            if code not in self.codes and guards.user_code(code):  # (its globals: read, or set, at this call)
                g = self.codes[code] = frame.f_globals
                self.globals.setdefault(id(g), (g, g.copy()))
                attributes.note_globals(self, code, g)
            h = HANDLERS.get(code)
            if h is not None:
                a = frame.f_locals
                if h.macro:
                    self.macro(h.name, frame, a)
                elif h.accept(a):
                    self.inside, self.pending, self.seq0 = frame, (h, dict(a)), next(graph._seq)
                elif not h.composite:  # (an op in a case no kernel covers: called again at replay, or opaque)
                    self.inside, self.pending = frame, self.generic_call(
                        frame, str(a.get("name") if h.name in ("unary", "activation") else h.name))
                return
            if code in _UPDATES and self.update(code, frame):
                return
            if code in writes.CODES and writes.on_call(self, code, frame):
                return
            if code.co_name.startswith("<") and frame.f_back is not None and frame.f_back.f_code in writes.CODES:
                return  # (a generator expression of the in-place machinery's own checks)
            if code is _MODULE_HOOKS:
                return self.stop(GraphBreak(f"a hook on {type(frame.f_locals['self']).__name__} runs Python that "
                                            "the replay would not (ember.compile does not replay hooks)", where(frame)))
            if code is _MODULE_SETATTR or code is _MODULE_DELATTR:
                a = frame.f_locals
                why = attributes.on_set(self, a["self"], a["name"], a.get("value"), code is _MODULE_DELATTR)
                return None if why is None else self.stop(GraphBreak(why, where(frame)))
            if code.co_name == "_pre_forward" and frame.f_globals.get("__name__") == _DDP:
                return self.ddp_pre_forward(frame)
            if code is _NORM_FORWARD:
                self.norm_forward(frame.f_locals["self"], frame)
            if code is _MODULE_TRAIN and type(frame.f_locals["mode"]) is bool:
                m = frame.f_locals["self"]
                self.call_step(m, "train", (frame.f_locals["mode"],))
                self.trained.update(id(sub) for sub in m.modules())
                self.inside, self.pending = frame, None
                return
            if code is _MODULE_ZERO_GRAD:
                self.call_step(frame.f_locals["self"], "zero_grad", (frame.f_locals["set_to_none"],))
                self.inside, self.pending = frame, None
                return
            if code.co_name == "step" and isinstance(frame.f_locals.get("self"), LRScheduler):
                return self.scheduler_step(frame)
            mod = frame.f_globals.get("__name__", "")
            if mod == "random" and not python_random.from_ember(frame.f_back):
                return self.stop(GraphBreak(python_random.message(f"random.{code.co_name}"), where(frame.f_back)))
            if not mod.startswith("ember") or code in TRANSPARENT or code is _FUNCTION_APPLY:
                return
            if mod.startswith("ember.autograd") and frame.f_back is not None and frame.f_back.f_code is _FUNCTION_APPLY:
                return  # (apply's own bookkeeping: building the node, its edges, the list of tensor arguments)
            if (mod == "ember.ops.creation" and code.co_name in _FACTORIES or mod in _RANDOM_MODULES and
                    code.co_name in _RANDOM) and not frame.f_locals.get("requires_grad") and frame.f_locals.get("out") is None:
                self.inside, self.pending = frame, self.generic_call(frame, code.co_name)  # (called again at replay)
                return
            if code.co_name in _VALUE_READS and mod == "ember._tensor":
                self.stop(GraphBreak(f"Tensor.{code.co_name}() reads a tensor's value into Python (data-dependent "
                                     "control flow cannot be traced)", where(frame)))
            elif code in _SETTERS or (code.co_name.endswith("_") and not code.co_name.startswith("_")) or \
                    code.co_name in ("__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__") or \
                    mod.startswith(_STATEFUL) or (mod.startswith("ember.autograd") and code.co_name in _BACKWARDS):
                name = code.co_name
                fn = frame.f_locals.get("fn") if name == "method" else None  # (ops/inplace.py's generated methods)
                name = f"{fn.__name__}_" if callable(fn) else name
                self.stop(GraphBreak(f"'{name}' changes state that ember.compile does not trace", where(frame)))
            elif mod.startswith(_OPAQUE):
                self.inside, self.pending = frame, self.generic_call(frame, _public_name(frame))
            elif "self" in frame.f_locals and isinstance(frame.f_locals["self"], Module):
                m = frame.f_locals["self"]
                self.modules[id(m)] = m
        elif event == "c_call" and self.inside is None:
            if arg is print:  # (a replay would print nothing)
                self.stop(GraphBreak("print() runs at every call (torch.compile breaks the graph there too)", where(frame)))
            elif isinstance(getattr(arg, "__self__", None), random.Random) and not python_random.from_ember(frame):
                self.stop(GraphBreak(python_random.message(f"random.{arg.__name__}"), where(frame)))
            elif getattr(arg, "__name__", "") in _MUTATORS and id(getattr(arg, "__self__", None)) in self.outside:
                kind = type(arg.__self__).__name__
                self.stop(GraphBreak(f"{kind}.{arg.__name__}() on a {kind} from outside the function (a replay runs "
                                     "no Python, so it would not change it again)", where(frame)))
        elif event == "return" and frame is self.inside:
            self.inside = None
            p = self.pending
            if p is None:
                return
            if isinstance(p, str):
                self.opaque_result(arg, p, frame)
            elif isinstance(p, tuple) and p[0] == "generic":
                self.record_generic(p[1], p[2], arg, frame)
            elif isinstance(p, tuple) and p[0] == "macro":
                p[1](arg)
            elif arg is not None:  # (None: the op raised, and its exception goes on to the caller)
                try:
                    self.record(p[0], p[1], arg, frame)
                except Exception as e:  # a kernel handler that did not foresee this call: no replay
                    self.stop(GraphBreak(f"ember.compile could not record '{p[0].name}' ({type(e).__name__}: {e})",
                                         where(frame)))

    def stop(self, err: GraphBreak) -> None:
        """A graph break: stop watching (the call goes on eagerly, or raises under fullgraph)."""
        if self.error is None:
            self.error = err
        sys.setprofile(None)
        engine._observer = None
        self.inside = self.pending = None
        if self.fullgraph:
            raise Unsupported(f"ember.compile(fullgraph=True): graph break: {err}")

    def opaque_result(self, ret: Any, name: str, at: Any) -> None:
        """``ret``'s tensors are values the replay cannot make (``name``: the op, ``at``: its frame or line)."""
        at = at if type(at) is str else where(at)
        for t in generic.tensors(ret):
            if id(t._data) not in self.vals:
                self.opaque[id(t._data)] = (name, at)
                self.keep.append(t._data)

    def generic_call(self, frame: Any, name: str) -> Any:
        """What to do when an op without a kernel returns: call it again at replay (``generic``)
        when it can be, else its result is opaque."""
        mod = frame.f_globals.get("__name__", "")
        if not mod.startswith(generic.MODULES) or mod == "ember.ops._core" or generic.data_dependent(name, frame.f_locals):
            return name  # (ops/_core.py holds the machinery that records ops, not ops)
        call = generic.call_of(frame)
        self.seq0 = next(graph._seq)
        return name if call is None else ("generic", name, call)

    def record_generic(self, name: str, call: tuple, ret: Any, frame: Any, quiet: bool = False) -> bool:
        """Record ``call`` as an op called again at replay (False: it cannot be; ``quiet``: leave
        its result as it is then, for the caller's kernel to record)."""
        outs = generic.tensors(ret)
        if not outs:
            return True
        fn, args, kwargs = call
        try:
            args, kwargs = generic.swap((args, kwargs), lambda t: Ref(self.ref(t._data, t)))
        except GraphBreak:
            if not quiet:  # (made from an opaque value: named after the op that made that one)
                src = [self.opaque[id(t._data)] for t in generic.tensors_of((args, kwargs), Tensor)
                       if id(t._data) in self.opaque]
                self.opaque_result(ret, *(src[0] if src else (name, where(frame))))
            return False
        ins = tuple(r.name for r in generic.tensors_of((args, kwargs), Ref))
        if all(id(t._data) in self.vals for t in outs):  # (it returned what it was given: nothing to replay)
            return True
        names = []
        for t in outs:
            if id(t._data) in self.vals:  # (an input returned as is keeps its name)
                names.append("_")
                continue
            n = self.name(name if name.isidentifier() else "op")
            self.bind(t._data, n)
            names.append(n)
            self.versions.append((t, t._vc[0]))
            if t.grad_fn is not None:
                self.node_names.setdefault(t.grad_fn, n)
        self.ops.append(name)
        shapes = tuple(t._data.shape for t in outs)
        self.steps.append(Step("op", tuple(names), ins, ("generic", (fn, args, kwargs, name, shapes)), where(frame)))
        self.hide_internals(outs, name, frame)
        return True

    def hide_internals(self, outs: list, name: str, frame: Any) -> None:
        """The tensors that the nodes an op just made saved, other than the program's values: the
        op's own intermediates, which the replay does not make (a backward reading one breaks the
        graph; taken for a captured tensor, it would be read as traced, stale, at every replay)."""
        todo = [t.grad_fn for t in outs if t.grad_fn is not None]
        seen: set = set()
        while todo:
            n = todo.pop()
            if n is None or id(n) in seen or n._seq <= self.seq0:
                continue
            seen.add(id(n))
            for v in tuple(getattr(n, "saved", ()) or ()) + tuple(getattr(n, "_saved", ()) or ()):
                if isinstance(v, Tensor) and id(v._data) not in self.vals:
                    self.opaque[id(v._data)] = (name, where(frame))
                    self.keep.append(v._data)
            todo += [e[0] for e in n.next_functions]

    def record(self, h: Any, a: dict, ret: Any, frame: Any) -> None:
        rec: Rec | None = h.build(a, ret)
        if rec is None:  # (a call the kernel does not cover, such as matmul of two vectors: called again)
            call = None if generic.data_dependent(h.name, a) else generic.call_of(frame, a)
            if call is None or not self.record_generic(h.name, call, ret, frame, quiet=True):
                self.opaque_result(ret, h.name, frame)
            return
        if rec.kernel in _ELEMENTWISE and any(type(x) is np.ndarray and not x.flags.c_contiguous for x in rec.ins):
            # NumPy lays out an elementwise result over a transposed or broadcast input in its own
            # order, eager in torch's (ops/_strides.py), and a later reduction rounds by layout:
            # the op itself is called again instead
            call = generic.call_of(frame, a)
            if call is not None and self.record_generic(h.name, call, ret, frame, quiet=True):
                return
        try:
            owners = {id(v._data): v for v in generic.tensors(list(a.values()))}
            ins = tuple(self.ref(x, owners.get(id(x))) for x in rec.ins)
        except GraphBreak as e:
            return self.stop(GraphBreak(e.reason, e.where or where(frame)))
        if rec.outs and id(rec.outs[0]) in self.vals:  # (the op returned its input: nothing to do)
            return
        base = rec.label or rec.kernel.replace("_scalar", "")
        outs = []
        for k, arr in enumerate(rec.outs):
            n = self.name(base if k == 0 else base + "_aux")
            self.bind(arr, n)
            outs.append(n)
        if rec.result is not None:
            self.versions.append((rec.result, rec.result._vc[0]))
            if rec.result.grad_fn is not None:
                self.node_names[rec.result.grad_fn] = outs[0]
        self.ops.append(rec.kernel)
        self.steps.append(Step("op", tuple(outs), ins, (rec.kernel, rec.consts), where(frame)))
        self.hide_internals(generic.tensors(ret), h.name, frame)

    # ---------------------------------------------------------------- backward and optimizers
    def macro(self, name: str, frame: Any, a: dict) -> None:
        at = where(frame)
        if name == "backward":
            loss, gradient = a["self"], a["gradient"]
            if a["create_graph"] or a["inputs"] is not None or a["retain_graph"]:
                return self.stop(GraphBreak("backward() with retain_graph=, create_graph= or inputs= is not supported "
                                            "by ember.compile yet", at))
            if loss.grad_fn is None or id(loss._data) not in self.vals or (gradient is None and loss._data.size != 1):
                return self.stop(GraphBreak("backward() of a tensor the trace did not compute, or with more than "
                                            "one element", at))
            root = None
            if gradient is not None:  # (y.backward(v): the trace's value v is the root's gradient, as given)
                if not (isinstance(gradient, Tensor) and type(gradient._data) is np.ndarray and
                        gradient._data.shape == loss._data.shape and gradient._data.dtype == loss._data.dtype):
                    return self.stop(GraphBreak("backward(gradient=) with a gradient of another shape or dtype", at))
                try:
                    root = self.ref(gradient._data, gradient)
                except GraphBreak as e:
                    return self.stop(GraphBreak(f"backward(gradient=) with {e.reason}", at))
            rec = BackwardRecorder(self, loss, at, root)
            self.backward = rec
            engine._observer = rec

            def done(_: Any) -> None:
                engine._observer = None
                if rec.error is not None:
                    self.stop(rec.error)

            self.inside, self.pending = frame, ("macro", done)
        elif name == "step":
            opt = a["self"]
            if type(opt).step is not Optimizer.step or a.get("args") or a.get("kwargs"):
                return self.stop(GraphBreak(f"{type(opt).__name__}.step() with arguments or its own step", at))
            self.call_step(opt, "step", ())
            self.inside, self.pending = frame, None
        elif name == "zero_grad":
            self.call_step(a["self"], "zero_grad", (a["set_to_none"],))
            self.inside, self.pending = frame, None
        elif name == "clip_grad_norm_":  # (between backward and step: scales the .grad arrays in place)
            args = tuple(a[k] for k in ("max_norm", "norm_type", "error_if_nonfinite", "foreach"))
            if not all(type(v) in (int, float, bool, type(None)) for v in args):
                return self.stop(GraphBreak("clip_grad_norm_ with a tensor max_norm or norm_type", at))

            def clipped(total: Any) -> None:
                params = tuple(frame.f_locals["params"])  # (the function's list of the parameters it was given)
                n = self.name("total_norm")
                self.bind(total._data, n)
                self.steps.append(Step("fn", (n,), (), (frame.f_code.co_name, params, args), "clip_grad_norm_"))

            self.inside, self.pending = frame, ("macro", clipped)

    def holder(self, t: Tensor) -> str | None:
        """The name of the input or captured tensor (parameters included) whose array ``t`` wraps,
        which the replay holds as ``T_<name>``; None for the values the program computes."""
        name = self.vals.get(id(t._data))
        if name is None:
            return None if t.grad_fn is not None or id(t._data) in self.opaque else self.tensor_name(t)
        return name if name in self.inputs or name in self.externals else None

    def update(self, code: Any, frame: Any) -> bool:
        """A training loop's own update of a leaf (True: recorded, its inner calls not looked at)."""
        a = frame.f_locals
        t: Any = a["self"]
        if code is _DATA_SET:  # (``p.data -= u`` ends in ``p.data = <p.data, updated in place>``: nothing to do)
            if not (isinstance(a["value"], Tensor) and a["value"]._data is t._data):
                return False
            self.inside, self.pending = frame, None
            return True
        if code in (_GRAD_GET, _GRAD_SET):
            p = self.holder(t) if t.grad_fn is None else None
            if code is _GRAD_GET and id(t) not in self.grad_set:  # (the Python that reads it may branch on it)
                self.grad_guards.append((t, t._grad is None))
            if p is None or id(self.held.get(p)) != id(t):
                return False
            if code is _GRAD_SET:
                if a["value"] is not None:
                    return False
                self.grad_set.add(id(t))
                self.steps.append(Step("grad_none", (), (p,), None, f"{p}.grad = None"))
                self.inside, self.pending = frame, None
                return True
            if t._grad is None:
                return False

            def read(g: Any) -> None:
                n = self.name(f"{p}_grad")
                self.bind(g._data, n)
                self.grad_of[n] = p
                self.steps.append(Step("grad_of", (n,), (p,), None, f"{p}.grad"))

            self.inside, self.pending = frame, ("macro", read)
            return True
        # an in-place write into a leaf the replay holds (or an alias of it, as p.data), or into a .grad read above
        target = self.vals.get(id(t._data))
        if target not in self.grad_of:
            target = self.holder(t)
            if target is None:
                return False
        owner = f"T_{target}" if self.held.get(target) is t else \
            f"T_{self.grad_of[target]}.grad" if target in self.grad_of else None  # (whose version counts the write)
        if code is _ZERO:
            if t._rg and t.grad_fn is not None:
                return False
            self.steps.append(Step("zero", (), (target,), owner, f"{target}.zero_()"))
        else:
            args, ufunc = a["args"], a["ufunc"]
            if len(args) != 1 or a["kwargs"] or ufunc.__name__ not in _IN_PLACE_SIGNS:
                return False
            y = inplace.direct_operand(t, args[0])
            if y is inplace._NOT_DIRECT:
                return False
            try:
                other = self.ref(y, args[0]) if isinstance(y, np.ndarray) else None
            except GraphBreak:
                return False
            sign = _IN_PLACE_SIGNS[ufunc.__name__]
            self.steps.append(Step("inplace", (), (target,) + ((other,) if other else ()),
                                   (ufunc.__name__, y if other is None else None, owner),
                                   f"{target} {sign}= {other or y}"))
        self.followed.add(id(t._vc))
        self.inside, self.pending = frame, None
        return True

    def ddp_pre_forward(self, frame: Any) -> None:
        """DistributedDataParallel's forward sets up the averaging its backward does: a replayed
        call (the grad mode the trace saw passed on: the replay itself runs with grad mode off)."""
        ddp, grad_enabled = frame.f_locals["self"], frame.f_locals["grad_enabled"]
        if ddp.find_unused_parameters:
            return self.stop(GraphBreak("DistributedDataParallel(find_unused_parameters=True) walks the output's "
                                        "graph in its forward", where(frame)))
        if ddp.forward_sync_buffers and ddp.process_group.size() > 1 and any(True for _ in ddp.module.buffers()):
            return self.stop(GraphBreak("DistributedDataParallel broadcasts the module's buffers in its forward",
                                        where(frame)))
        self.call_step(ddp, "_pre_forward", (grad_enabled,))
        self.inside, self.pending = frame, None

    def norm_forward(self, m: Any, frame: Any) -> None:
        """A BatchNorm in training counts its batches in a buffer, outside any op: a replay step."""
        if not (m.training and m.track_running_stats and m.num_batches_tracked is not None):
            return
        if m.momentum is None:
            return self.stop(GraphBreak(f"{type(m).__name__}(momentum=None) averages with 1 / num_batches_tracked, "
                                        "a value read into Python at every step", where(frame)))
        name = self.tensor_name(m.num_batches_tracked)
        self.steps.append(Step("bump", (), (name,), None, f"{type(m).__name__}.num_batches_tracked += 1"))

    def scheduler_step(self, frame: Any) -> None:
        """``scheduler.step()``: a call the replay makes again at the same point (it sets the
        optimizer's learning rates, which the replayed ``optimizer.step()`` reads)."""
        sched, code = frame.f_locals["self"], frame.f_code
        if any(frame.f_locals.get(v) is not None for v in code.co_varnames[1:code.co_argcount]):
            return self.stop(GraphBreak(f"{type(sched).__name__}.step() with an epoch or a metric (a value that "
                                        "changes between calls)", where(frame)))
        self.call_step(sched, "step", ())
        self.inside, self.pending = frame, None

    def call_step(self, obj: Any, method: str, args: tuple) -> None:
        ent = self.objects.get(id(obj))
        if ent is None:
            ent = self.objects[id(obj)] = (self.name(type(obj).__name__.lower()), obj)
        self.steps.append(Step("call", (), (ent[0],), (method, args), f"{type(obj).__name__}.{method}"))
        if method == "zero_grad" and args[0]:  # (set_to_none: every parameter's .grad is None after it)
            params = obj.parameters() if isinstance(obj, Module) else (p for g in obj.param_groups for p in g["params"])
            self.grad_set.update(id(p) for p in params)


class Unsupported(RuntimeError):
    """A graph break under ``fullgraph=True`` (torch._dynamo.exc.Unsupported)."""


Unsupported.__module__ = "ember._dynamo.exc"


__all__ = ["GraphBreak", "Ref", "Step", "Tracer", "TEMPLATES", "Unsupported", "where"]

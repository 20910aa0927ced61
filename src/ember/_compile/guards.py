"""Guards: what must hold for a traced program to stand for a call (torch.compile's guards).

The call's arguments give a key: each tensor's shape, dtype, requires_grad, strides (a kernel may
take another path for another layout, as dropout does) and which earlier
argument it is (an alias), each Module's and optimizer's identity, each Python number's value,
grad mode and autocast. A program also checks what it found during tracing: the training flag and the
parameters (by identity) of every Module that ran, and the shape, dtype and requires_grad of
every tensor it reads from outside (parameters, captured constants).
"""

from __future__ import annotations

import dis
import functools
import os
import sys
import sysconfig
import types
from typing import Any, Callable

from .. import _autocast
from .._tensor import Tensor
from ..autograd import grad_mode
from ..nn.modules.module import Module
from ..optim.optimizer import Optimizer

_state = grad_mode._state
PLAIN = (int, float, bool, str, type(None))  # (the Python values a trace reads as constants)


class _NoArray(Exception):
    pass


_NOT_DENSE = ("SparseCooTensor", "BatchedTensor")


def signature(args: tuple, kwargs: dict) -> tuple[tuple | None, list]:
    """(the guard key of a call, its tensor arguments in order); the key is None when a tensor
    argument holds no dense array (sparse, or vmap's batched tensors), which no program replays."""
    tensors: list = []
    seen: dict = {}
    parts: list = [_state.enabled, _autocast.state.cpu and _autocast.state.cpu_dtype]

    def walk(v: Any, depth: int) -> None:
        if isinstance(v, Tensor):
            if type(v).__name__ in _NOT_DENSE:
                raise _NoArray
            first = seen.get(id(v))
            if first is None:
                seen[id(v)] = len(tensors)
                tensors.append(v)
                d = v._data
                parts.append((d.shape, d.dtype, v._rg, d.strides))
            else:
                parts.append(("alias", first))
        elif type(v) in PLAIN:
            parts.append((type(v), v))
        elif type(v) in (tuple, list) and depth < 2:
            parts.append((type(v), len(v)))
            for x in v:
                walk(x, depth + 1)
        else:
            parts.append(("id", id(v)))

    try:
        for a in args:
            walk(a, 0)
        for k in sorted(kwargs):
            parts.append(k)
            walk(kwargs[k], 0)
    except _NoArray:
        return None, []
    return tuple(parts), tensors


def labels(fn: Callable, args: tuple, kwargs: dict) -> list[str]:
    """Readable names for the tensor arguments (the parameter's name when it is one tensor)."""
    import inspect

    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    out: list[str] = []
    seen: set = set()

    def walk(v: Any, label: str, depth: int) -> None:
        if isinstance(v, Tensor):
            if id(v) not in seen:
                seen.add(id(v))
                name = label if label.isidentifier() and label not in out else f"{label}_{len(out)}"
                out.append(name if name.isidentifier() else f"arg{len(out)}")
        elif type(v) in (tuple, list) and depth < 2:
            for j, x in enumerate(v):
                walk(x, f"{label}_{j}", depth + 1)

    for i, a in enumerate(args):
        walk(a, params[i] if i < len(params) and not params[i].startswith("*") else f"arg{i}", 0)
    for k in sorted(kwargs):
        walk(kwargs[k], k, 0)
    return out


def _reached(fn: Callable, args: tuple, kwargs: dict) -> list:
    """(name, value) of what the function reaches from outside: its arguments, the globals its code
    names and its closure cells (found once, when tracing)."""
    found: list = [*((f"arg{i}", a) for i, a in enumerate(args)), *kwargs.items()]
    while True:  # (what a method, a partial or a callable object is bound to: model.forward's model)
        if isinstance(fn, functools.partial):
            found += [*((f"partial{i}", a) for i, a in enumerate(fn.args)), *fn.keywords.items()]
            fn = fn.func
        elif isinstance(fn, types.MethodType):
            found.append(("self", fn.__self__))
            fn = fn.__func__
        elif not isinstance(fn, (types.FunctionType, types.BuiltinFunctionType, type, Module)) and \
                isinstance(call := next((vars(c)["__call__"] for c in type(fn).__mro__ if "__call__" in vars(c)), None),
                           types.FunctionType):  # (an object whose class defines __call__ in Python)
            found.append(("self", fn))
            fn = call
        else:
            break
    code = getattr(fn, "__code__", None)
    if code is not None:
        g = getattr(fn, "__globals__", {})
        found += [(n, g[n]) for n in global_names(code) if n in g]
        for n, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
            try:
                found.append((n, cell.cell_contents))
            except ValueError:  # (a cell not filled yet)
                pass
    return found


def _plain_object(v: Any) -> bool:
    """A plain object whose attributes a traced call may read as constants (a config, a loss object)."""
    return not (isinstance(v, _NOT_HOLDERS) or type(v) in PLAIN or type(v) in _CONTAINERS or not hasattr(v, "__dict__")
                or type(v).__module__.startswith("ember"))  # (ember's own: a Generator's counters)


_NOT_HOLDERS = (Tensor, Module, Optimizer, type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                types.MethodType)


def _user_class(cls: Any) -> bool:
    """A class the user wrote (a script's or a project's, not Python's, a package's or ember's)."""
    if not isinstance(cls, type):
        return False
    f = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return cls.__module__ == "__main__" or f is not None and not f.startswith(_LIBRARIES)


def attribute_holders(fn: Callable, args: tuple, kwargs: dict) -> list:
    """The plain objects the function reaches from outside (a config passed in or captured, a
    callable loss object) and the classes the user wrote among them (``class CFG: lr = 0.1``): the
    trace read their Python numbers and strings as constants, so those are guards, as a Module's are
    (one level deep: ``cfg.t``, not ``cfg.sub.t``)."""
    found = {id(v): v for _, v in _reached(fn, args, kwargs) if holder(v)}
    return list(found.values())


def reachable(fn: Callable, args: tuple, kwargs: dict) -> list:
    """The Modules the function can reach (submodules included), the plain objects among its
    arguments and captures (``attribute_holders``) and those its Modules hold (``self.config``), and
    the user's classes of all of these (class-level settings: ``self.scale`` found on the class)."""
    mods = [fn] if isinstance(fn, Module) else []
    mods += [v for _, v in _reached(fn, args, kwargs) if isinstance(v, Module)]
    found: dict[int, Any] = {id(m): m for top in mods for m in top.modules()}
    held = [v for m in list(found.values()) for v in vars(m).values() if _plain_object(v)]
    for o in [*attribute_holders(fn, args, kwargs), *held]:
        found.setdefault(id(o), o)
    for o in list(found.values()):
        for cls in type(o).__mro__:
            if _user_class(cls):
                found.setdefault(id(cls), cls)
    return list(found.values())


def holder(v: Any) -> bool:
    """Whether the trace reads ``v``'s Python numbers and strings as constants (a plain object or a
    class the user wrote): they are guards."""
    return _plain_object(v) or _user_class(v)


def numbers_of(objs: list, dicts: list | None = None) -> list:
    """The Python numbers, flags and strings of the objects the function reaches (``reachable``),
    as they are when the call starts (``dicts``: copies of their ``__dict__`` taken then, else the
    ones they have now): the trace reads them as constants (a dropout's p, a scale, a switch), and a
    replay is right only from the same start (a counter the call itself increments makes each call
    trace anew). A Module's training flag has its own guard."""
    return [(m, tuple((k, v) for k, v in d.items() if type(v) in PLAIN and k != "training"))
            for m, d in zip(objs, dicts if dicts is not None else [m.__dict__ for m in objs])]


def param_names(fn: Callable, args: tuple, kwargs: dict) -> dict:
    """id(parameter, buffer or tensor attribute) -> a name from its Module (``model_fc1_weight``), for Modules among
    the arguments and among the function's globals and closure (found once, when tracing)."""
    mods: list = [("self", fn)] if isinstance(fn, Module) else []
    mods += [(n, v) for n, v in _reached(fn, args, kwargs) if isinstance(v, Module)]
    names: dict = {}
    for prefix, m in mods:
        attrs = [(f"{p}.{k}" if p else k, v) for p, sub in m.named_modules() for k, v in vars(sub).items()
                 if isinstance(v, Tensor)]  # (plain tensor attributes: model.hidden)
        for n, t in list(m.named_parameters()) + list(m.named_buffers()) + attrs:
            ident = f"{prefix}_{n}".replace(".", "_").replace("_orig_mod_", "")
            names.setdefault(id(t), ident if ident.isidentifier() else f"p{len(names)}")
    return names


_CONTAINERS = (list, dict, set)


def outside_containers(fn: Callable, args: tuple, kwargs: dict) -> list:
    """The lists, dicts and sets the function can reach from outside (``_reached``, and the
    attributes of the Modules among them, their own bookkeeping aside): what a replay, which runs no
    Python, would not mutate again."""
    found = [v for _, v in _reached(fn, args, kwargs)] + ([fn] if isinstance(fn, Module) else [])
    out: dict = {}
    for v in found:
        if isinstance(v, Module):
            out.update((id(a), a) for m in v.modules() for k, a in vars(m).items()
                       if type(a) in _CONTAINERS and k not in _MODULE_OWN)
        elif type(v) in _CONTAINERS:
            out[id(v)] = v
    return list(out.values())


_MODULE_OWN = set(vars(Module()))  # (a Module's own containers: its parameters, buffers, hooks)


def _held(v: Any) -> bool:
    """Whether a traced program holds ``v`` fixed: a Python number or string (a constant in the
    program), a Tensor, Module or optimizer (read through the objects found while tracing), a tuple
    (of those: its items are fixed as long as it is the same tuple)."""
    return type(v) in PLAIN or type(v) is tuple or isinstance(v, (Tensor, Module, Optimizer))


@functools.cache
def attr_names(code: types.CodeType) -> frozenset:
    """The attribute names ``code`` (and the code made in it) loads (``self.rewards``: 'rewards')."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_ATTR", "LOAD_METHOD")}
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= attr_names(c)
    return frozenset(names)


def data(c: Any) -> bool:
    """Whether a list or dict holds data a traced program may bake in: numbers, strings and tensors
    only (not a registry of modules or functions), or nothing yet."""
    return all(type(v) in PLAIN or isinstance(v, Tensor) for v in (c.values() if type(c) is dict else c))


def contents(c: Any) -> tuple:
    """What a data container's guard compares: its keys and its Python values (its tensors are read
    afresh or held by identity, as attributes are)."""
    def plain(v: Any) -> Any:
        return (type(v), v) if type(v) in PLAIN else None

    return tuple((k, plain(v)) for k, v in c.items()) if type(c) is dict else tuple(map(plain, c))


def closure_reads(fn: Callable) -> list:
    """(cell, name, value) of what the function reads from its closure that the program holds fixed
    (its globals, and those of every user function the call runs, are ``global_reads``)."""
    code = getattr(fn, "__code__", None)
    out = []
    for n, cell in zip(code.co_freevars if code is not None else (), getattr(fn, "__closure__", None) or ()):
        try:
            if _held(cell.cell_contents):
                out.append((cell, n, cell.cell_contents))
        except ValueError:  # (a cell not filled yet)
            pass
    return out


@functools.cache
def global_names(code: types.CodeType) -> frozenset:
    """The names ``code`` (and the functions and comprehensions made in it) reads as globals."""
    names = {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= global_names(c)
    return frozenset(names)


# where the code of Python itself, installed packages and ember lives: the rest is the user's
_LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
                   | {os.path.dirname(os.path.dirname(__file__)), "<frozen", "<ember"})


@functools.cache
def user_code(code: types.CodeType) -> bool:
    """Whether ``code`` is the user's (a script, a test, a project's module): the functions whose
    globals a traced call reads and could set."""
    return not code.co_filename.startswith(_LIBRARIES) and code.co_name != "<module>"


def global_reads(codes: dict, start: dict) -> list:
    """(globals, name, value) of the globals the user's functions that ran (``codes``: code ->
    its globals) read and the program holds fixed, with the values they had when the call started
    (``start``: id(globals) -> (globals, a copy))."""
    out: dict = {}
    for code, g in codes.items():
        copy = start[id(g)][1]
        for n in global_names(code):
            if n in copy and _held(copy[n]):
                out[(id(g), n)] = (g, n, copy[n])
    return list(out.values())


def _read(where: Any, name: str) -> Any:
    try:
        return where[name] if type(where) is dict else where.cell_contents
    except (KeyError, ValueError):
        return MISSING


MISSING = object()  # (what value_at and the guards see where a value is gone)


def value_at(place: tuple) -> Any:
    """What a place holds now: (store, key, None) an attribute or buffer, (store, key, i) the i-th
    item of a tuple or list attribute (``MISSING`` when it is gone)."""
    store, key, i = place
    v: Any
    if type(store) in (list, tuple):  # (an item of a list the function reads from outside)
        v = store[key] if key < len(store) else MISSING
    else:
        v = store.get(key, MISSING)
    if i is None:
        return v
    return v[i] if type(v) in (tuple, list) and i < len(v) else MISSING


def _label(place: tuple) -> str:
    return repr(place[1]) + ("" if place[2] is None else f"[{place[2]}]")


class Checks:
    """The guards found while tracing, checked before each replay."""

    def __init__(self, modules: list, externals: dict, reads: list, grads: tuple | list = (),
                 held: tuple | list = (), numbers: tuple | list = (), attrs: tuple | list = (),
                 aliases: tuple | list = (), sizes: tuple | list = ()) -> None:
        self.modules = [(m, m.training, tuple(map(id, m._parameters.values()))) for m in modules]
        self.externals = [(t, t._data.shape, t._data.dtype, t._rg, t._data.strides) for t in externals.values()]
        self.reads = reads
        self.grads = list(grads)  # (tensor, whether its .grad was None): the traced Python read it
        # (place, tensor): the module attributes and buffers that held a tensor needing a gradient
        # that the program reads as T_<name>: each must still hold that very tensor
        self.held = held
        # (place, tensor): the attribute tensors the program takes as arguments (attributes.as_arguments):
        # each must still be a dense tensor needing no gradient, of the same shape, dtype and strides,
        # and a place that held the same tensor as another (aliases: (place, k)) must still do
        self.attrs = [(place, t._data.shape, t._data.dtype, t._data.strides) for place, t in attrs]
        self.aliases = aliases
        self.numbers = numbers  # (numbers_of, taken when the call started)
        # (container, contents): the lists and dicts of data from outside the function reads (a loop
        # over self.rewards ran as many times as it then held, on the numbers it held): each must
        # still hold as many, the same numbers and strings
        self.sizes = sizes

    def failure(self) -> str | None:
        """None when every guard holds, else the first that fails, in words."""
        for where, name, value in self.reads:
            now = _read(where, name)
            if now is value:
                continue
            if type(now) is not type(value) or type(value) not in PLAIN or now != value:
                return f"{name} changed" + (f" from {value!r} to {now!r}" if type(value) in PLAIN else " (another object)")
        for m, training, params in self.modules:
            if m.training is not training:
                return f"{type(m).__name__}.training changed to {m.training}"
            if tuple(map(id, m._parameters.values())) != params:
                return f"a parameter of {type(m).__name__} was replaced"
        for t, shape, dtype, rg, strides in self.externals:
            d = t._data
            if d.shape != shape or d.dtype != dtype or t._rg is not rg or d.strides != strides:
                return f"a tensor the function reads changed shape, dtype or requires_grad ({tuple(shape)} {dtype})"
        for place, v in self.held:
            if value_at(place) is not v:
                return f"the tensor attribute {_label(place)} the function reads was replaced"
        now = [value_at(place) for place, *_ in self.attrs] if self.attrs else ()
        for v, (place, shape, dtype, strides) in zip(now, self.attrs):
            if not isinstance(v, Tensor) or type(v).__name__ in _NOT_DENSE or v._rg:
                return f"the attribute {_label(place)} the function reads no longer holds a tensor that needs no gradient"
            d = v._data
            if d.shape != shape or d.dtype != dtype or d.strides != strides:
                return f"the tensor attribute {_label(place)} the function reads changed shape or dtype ({tuple(shape)} {dtype})"
        for place, j in self.aliases:
            if value_at(place) is not now[j]:
                return f"the attribute {_label(place)} no longer holds the same tensor as {_label(self.attrs[j][0])}"
        for c, n in self.sizes:
            if contents(c) != n:
                return f"a {type(c).__name__} the function reads changed (it held {len(n)} items)"
        for m, items in self.numbers:
            d = m.__dict__
            for k, v in items:
                now = d.get(k, MISSING)
                if now is not v and (type(now) is not type(v) or now != v):
                    return f"{type(m).__name__}.{k} changed from {v!r} to {now!r}" if now is not MISSING else \
                        f"{type(m).__name__}.{k} was deleted"
        for t, was_none in self.grads:
            if (t._grad is None) is not was_none:
                return f"the .grad of a tensor the function reads became {'a tensor' if was_none else 'None'}"
        return None


def sizes_only(old: tuple, new: tuple) -> bool:
    """Whether two keys differ only in their tensors' sizes (and so strides), at the same ranks:
    what torch's dynamic shapes generalise over instead of recompiling."""
    if old == new or len(old) != len(new) or old[:2] != new[:2]:  # (the same key: another guard failed)
        return False
    for a, b in zip(old[2:], new[2:]):
        if a == b:
            continue
        if not (type(a) is tuple and len(a) == 4 and type(b) is tuple and len(b) == 4):
            return False
        if len(a[0]) != len(b[0]) or a[1:3] != b[1:3]:
            return False
    return True


def difference(old: tuple, new: tuple) -> str:
    """Why a key misses an earlier one, in words (torch's 'last reason')."""
    if old[0] != new[0]:
        return f"grad mode changed to {new[0]}"
    if old[1] != new[1]:
        return "autocast changed"
    if len(old) != len(new):
        return "the arguments changed"
    for k, (a, b) in enumerate(zip(old[2:], new[2:])):
        if a != b:
            if type(a) is tuple and len(a) == 4 and type(b) is tuple and len(b) == 4:
                what = ("size", "dtype", "requires_grad", "stride")
                j = next(i for i in range(4) if a[i] != b[i])
                return f"tensor argument {k} {what[j]} mismatch: expected {a[j]}, actual {b[j]}"
            return f"argument {k} changed: expected {a!r}, actual {b!r}"
    return "guards failed"

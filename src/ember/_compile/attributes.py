"""The attributes of Modules and plain objects that a compiled call reads and sets.

torch.compile replays the attribute sets of a forward after its graph (d2l's
``self.attention_weights = ...``, the word-language model's ``self.src_mask = mask``, a
hand-written batch norm's ``self.moving_mean``); so does ember:

- **Sets.** While tracing, ``Module.__setattr__`` on a module that existed when the call started
  is noted (``on_set``), and so is every attribute of a plain object (a config) that holds another
  value when the call ends (found by comparing with a copy taken at the start: plain objects run
  no Python when set). A list, dict or set from outside that the call changed by item assignment
  (invisible too) breaks the graph. The values the attributes hold at the end (tensors, Python numbers and
  strings, tuples and lists of them) are extra outputs of the program, and each replay sets them
  again. What a replay could not set (a Module or Parameter, an attribute deleted, a module made
  during the call) breaks the graph where it happens.
- **Reads.** A tensor attribute or buffer that needs no gradient and that the program reads
  becomes an argument of the program, taken from its module at each call: the previous call may
  have set it, or the loop replaced it (``model.hidden = h.detach()``). Its shape, dtype and
  strides are guards. One that needs a gradient must still be the tensor traced (its gradient
  edges lead to that very tensor): ``guards.Checks`` holds it by identity. The tensors in a list
  or dict from outside are read the same way, and such a list or dict of data is a guard by its
  keys and Python values (``sizes``: a loop over ``self.rewards`` ran as many times as it held).
- **Globals.** Each user function that runs has the plain objects, classes and containers among
  the globals it loads snapshot when it first runs (``note_globals``), as those reached at the
  start were; a global the call sets breaks the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._tensor import Tensor
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from . import guards
from .steps import GraphBreak


@dataclass
class Start:
    """What the objects the function reaches hold when the call starts."""
    known: set  # id() of those Modules and plain objects
    tensors: list  # (place, tensor): their tensor attributes and buffers (guards.value_at reads a place)
    plain: list  # (object, a copy of its __dict__): the plain objects, compared after the call
    containers: list  # (list, dict or set, a copy): those the function reaches from outside, likewise
    late: list = field(default_factory=list)  # the plain objects and classes first met in a global as the call ran
    attr_of: dict = field(default_factory=dict)  # id(container) -> the attribute name an object holds it under


def start(objs: list, containers: list | tuple = ()) -> Start:
    """``objs``: the Modules (submodules included) and plain objects the function reaches;
    ``containers``: the lists, dicts and sets it reaches from outside (``guards.outside_containers``)."""
    tensors = [found for o in objs for found in _tensors_of(o)]
    attr_of = {id(v): k for o in objs for k, v in vars(o).items() if type(v) in (list, dict, set)}
    # (the tensors in a list or dict from the arguments, globals or closure: read afresh, as attributes)
    tensors += [found for c in containers if id(c) not in attr_of for found in _items(c)]
    return Start({id(o) for o in objs}, tensors, [(o, dict(o.__dict__)) for o in objs if not isinstance(o, Module)],
                 [(c, c.copy()) for c in containers], attr_of=attr_of)


def _items(c: Any) -> list:
    """(place, tensor) of the tensors directly in a list or dict."""
    pairs = enumerate(c) if type(c) is list else c.items() if type(c) is dict else ()
    return [((c, k, None), v) for k, v in pairs if isinstance(v, Tensor)]


def sizes(tr: Any, s: Start) -> list:
    """(container, its contents when the call started) of the lists and dicts of data from outside
    that the call may have read: those from the arguments, globals or closure, and those under an
    attribute name the user's code that ran loads (``self.rewards``; a list only appended to outside
    is no guard, nor is a registry of modules or functions)."""
    loaded = frozenset().union(*map(guards.attr_names, tr.codes))
    return [(c, guards.contents(copy)) for c, copy in s.containers if type(c) in (list, dict) and guards.data(copy)
            and (id(c) not in s.attr_of or s.attr_of[id(c)] in loaded)]


def note_globals(tr: Any, code: Any, g: dict) -> None:
    """A user function about to run: the plain objects, classes and containers among the globals it
    loads (``CFG.scale``), met for the first time, are snapshot now, as the ones reached at the start were."""
    s = tr.start
    for name in guards.global_names(code):
        v: Any = g.get(name)
        if v is not None and id(v) not in s.known and guards.holder(v):
            s.known.add(id(v))
            s.tensors += _tensors_of(v)
            s.plain.append((v, dict(v.__dict__)))
            s.late.append(v)
        elif type(v) in (list, dict, set) and id(v) not in tr.outside:  # (a helper's global list)
            tr.outside.add(id(v))
            s.containers.append((v, v.copy()))
            s.tensors += _items(v)


def _tensors_of(o: Any) -> list:
    """(place, tensor) of the tensors an object holds as attributes or buffers, or inside a tuple or
    list attribute (an RNN's ``self.hidden = (h, c)``); a place is (store, key, index or None)."""
    out: list = []
    for store in (o.__dict__, o._buffers) if isinstance(o, Module) else (o.__dict__,):
        for k, v in store.items():
            if isinstance(v, Tensor):
                out.append(((store, k, None), v))
            elif type(v) in (tuple, list):
                out += [((store, k, i), x) for i, x in enumerate(v) if isinstance(x, Tensor)]
    return out


def settable(v: Any, depth: int = 0) -> bool:
    """Whether a replay can set an attribute to (a value like) ``v``: a tensor, a Python number or
    string, a tuple or list of those."""
    if isinstance(v, Tensor):
        return not isinstance(v, Parameter)
    if type(v) in guards.PLAIN:
        return True
    return type(v) in (tuple, list) and depth < 2 and all(settable(x, depth + 1) for x in v)


def on_set(tr: Any, m: Module, name: str, value: Any, deleting: bool) -> str | None:
    """A ``Module.__setattr__`` (or ``__delattr__``) while tracing: noted, or why a replay could not do it."""
    what = f"{'deleting' if deleting else 'setting'} {type(m).__name__}.{name}"
    if deleting:
        why = "a replay sets attributes, it does not delete them"
    elif id(m) not in tr.start.known:
        why = "the module was made during the call"
    elif name == "training":
        why = "use .train() / .eval(), which a replay calls again"
    elif name in m._parameters or name in m._modules or not settable(value):
        why = f"a replay sets tensors and Python numbers, not a {type(value).__name__}"
    else:
        tr.sets[(id(m), name)] = (m, name)
        return None
    return f"{what} runs Python that the replay would not ({why})"


def as_arguments(tr: Any, s: Start, tensors: list) -> tuple[list, list]:
    """Make the attribute tensors the program read (needing no gradient) arguments of the program,
    after the call's own tensors (appended to ``tensors``). Returns the place of each argument, and
    (place, k) of the other places that held the k-th of those arguments' tensor."""
    args: list = []
    aliases: list = []
    where: dict = {}  # id(tensor) -> its index among args
    for place, t in s.tensors:
        name = tr.ext_ids.get(id(t))
        if t._rg or name is None or name not in tr.externals:
            if id(t) in where:
                aliases.append((place, where[id(t)]))
            continue
        del tr.externals[name]
        tr.inputs.append(name)
        where[id(t)] = len(args)
        tensors.append(t)
        args.append(place)
    return args, aliases


def written(tr: Any, s: Start) -> list:
    """(object, name, value) of each attribute the call set, with the value it holds at the end."""
    out = []
    for m, name in tr.sets.values():
        if name in m.__dict__:
            out.append((m, name, m.__dict__[name]))
        elif name in m._buffers:
            out.append((m, name, m._buffers[name]))
        else:
            raise GraphBreak(f"{type(m).__name__}.{name}, set during the call, was then deleted (a replay sets "
                             "attributes, it does not delete them)")
    for o, before in s.plain:
        now = o.__dict__
        for k in before.keys() | now.keys():
            v = now.get(k, guards.MISSING)
            if v is before.get(k, guards.MISSING):
                continue
            if v is guards.MISSING or not settable(v):
                raise GraphBreak(f"the call {'deleted' if v is guards.MISSING else 'set'} {type(o).__name__}.{k}"
                                 + ("" if v is guards.MISSING else f" to a {type(v).__name__}")
                                 + ", which a replay would not do again")
            out.append((o, k, v))
    for g, before in tr.globals.values():  # (a global statement's assignment: no Python either)
        changed = [k for k, v in g.items() if before.get(k, guards.MISSING) is not v]
        if changed:
            raise GraphBreak(f"the call set the global {changed[0]!r} (of {g.get('__name__')}), which a replay "
                             "would not do again")
    for c, before in s.containers:  # (d[k] = v or xs[i] = v run no Python the trace could see)
        if _changed(c, before):
            raise GraphBreak(f"the call changed a {type(c).__name__} it reaches from outside (an item set, such as "
                             "stats['loss'] = loss), which a replay would not do again")
    return out


def _changed(c: Any, before: Any) -> bool:
    if type(c) is set:
        return c != before
    if len(c) != len(before):
        return True
    if type(c) is dict:
        return c.keys() != before.keys() or any(v is not before[k] for k, v in c.items())
    return any(a is not b for a, b in zip(c, before))



def by_identity(tr: Any, s: Start) -> list:
    """(place, tensor) of the attributes that held a tensor the program reads as itself (one
    needing a gradient, after ``as_arguments``): as the call started, or, for a module the call
    reached some other way (in a plain list), as it ended."""
    ids = {id(t) for t in tr.externals.values()}
    found = [(place, t) for place, t in s.tensors if id(t) in ids]
    return found + [(place, t) for m in tr.modules.values() if id(m) not in s.known
                    for place, t in _tensors_of(m) if id(t) in ids]


def held(args: list, tensors: list) -> list:
    """The attribute tensors a replay passes to the program after the call's own ``tensors``."""
    return [*tensors, *map(guards.value_at, args)]


def note(sets: list, specs: list, names: list, inputs: list) -> str:
    """The generated program's last comment: which of its values each call sets as which attribute."""
    def show(spec: tuple) -> str:
        kind, v = spec
        if kind in (tuple, list):
            inner = ", ".join(show(x) for x in v)
            return f"({inner})" if kind is tuple else f"[{inner}]"
        return names[v] if kind == "t" else f"T_{inputs[v]}" if kind == "arg" else repr(v) if kind == "c" else \
            "a tensor from outside"
    return "".join(f"# then the call sets {type(o).__name__}.{name} = {show(spec)}\n"
                   for (o, name), spec in zip(sets, specs))

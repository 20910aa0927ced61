"""Forward-mode AD's state: the live dual levels and the tangent each tensor carries at each.

A level is entered by ``forward_ad.dual_level`` (torch's one public level) or by a ``func.jvp``
(which may nest). Each level keeps its tangents in a table keyed by the tensor's identity, held
through a weak reference, so a tangent dies with its tensor and every tangent of a level goes
when the level exits: ``unpack_dual`` then finds none, as in torch. The Tensor class needs no
field for it.

``fw.on`` is the op table's one check: while it is False (no level, the common case) ``record``
and the fast paths cost one attribute read more. While a level's tangents are being computed the
levels from it inward are hidden (``hide_from``), so the tangent's own arithmetic propagates only
the outer levels' tangents (a tangent of a tangent, for nested ``jvp``), never its own.

A public level (``forward_ad.dual_level``'s) also keeps, per tensor, the ``Step`` that gave it its
tangent (the op's node class and the input steps), so that ``ember.viz`` can draw a forward
computation with its tangents. A step holds its tangent, so the tangents of the ops before a
live dual tensor stay alive with it (as reverse mode keeps saved tensors); ``func.jvp``'s levels
keep no steps.

Tensor-agnostic (the autograd core sits below the Tensor): tensors are handled as objects with
``_data``.
"""

from __future__ import annotations

import weakref
from typing import Any, Iterator


class _Flags:
    __slots__ = ("on", "listener")

    def __init__(self) -> None:
        self.on = False
        self.listener: Any = None  # explain_forward's narrator: called with each op's tangents


fw = _Flags()  # True while some level is visible to the ops


class Step:
    """How a tensor got its tangent at a public level: ``name`` is the op's node class name (the node
    that reverse mode would record; ``make_dual`` for a dual input), ``inputs`` the steps of the
    inputs that carried tangents into it."""

    __slots__ = ("name", "tangent", "inputs")

    def __init__(self, name: str, tangent: Any, inputs: tuple = ()) -> None:
        self.name, self.tangent, self.inputs = name, tangent, inputs


class Level:
    """One dual level: ``tangents`` maps id(tensor) -> (weak reference, tangent, Step or None); ``by_data`` maps
    id(tensor._data) -> (weak reference to the array, tangent), so a node's saved output (kept as its
    array) finds its tangent."""

    __slots__ = ("tangents", "by_data", "public", "__weakref__")

    def __init__(self, public: bool) -> None:
        self.tangents: dict[int, tuple[Any, Any, Step | None]] = {}
        self.by_data: dict[int, Any] = {}
        self.public = public


levels: list[Level] = []  # live levels, outermost first
_shown = [0]  # how many of ``levels`` (from the outermost) the ops propagate to now


def visible() -> list[Level]:
    return levels[:_shown[0]]


def push(public: bool) -> Level:
    lv = Level(public)
    levels.append(lv)
    _shown[0] = len(levels)
    fw.on = True
    return lv


def pop(lv: Level) -> None:
    levels.remove(lv)
    lv.tangents.clear()
    lv.by_data.clear()
    _shown[0] = min(_shown[0], len(levels))
    fw.on = _shown[0] > 0


class hide_from:
    """Hide level ``depth`` and every level inside it for the length of a ``with``."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __enter__(self) -> None:
        self.prev = _shown[0]
        _shown[0] = min(self.depth, self.prev)
        fw.on = _shown[0] > 0

    def __exit__(self, *exc: Any) -> None:
        _shown[0] = self.prev
        fw.on = self.prev > 0


def get(t: Any, lv: Level) -> Any:
    """``t``'s tangent at level ``lv``, or None."""
    e = lv.tangents.get(id(t))
    if e is None or e[0]() is not t:
        return None
    return e[1]


def has_any(t: Any) -> bool:
    """Whether ``t`` carries a tangent at a visible level."""
    return any(get(t, lv) is not None for lv in visible())


def step(t: Any, lv: Level) -> Step | None:
    """The step that gave ``t`` its tangent at level ``lv`` (None: not recorded, or no tangent)."""
    e = lv.tangents.get(id(t))
    if e is None or e[0]() is not t:
        return None
    return e[2]


def set_step(t: Any, lv: Level, s: Step | None) -> None:
    """Record ``s`` as the step behind ``t``'s tangent (an in-place write: the written value's step)."""
    e = lv.tangents.get(id(t))
    if e is not None and e[0]() is t and lv.public:
        lv.tangents[id(t)] = (e[0], e[1], s)


def put(t: Any, lv: Level, tangent: Any, step: Step | None = None) -> None:
    """Give ``t`` the tangent ``tangent`` at level ``lv`` (None removes it); ``step``: how it came
    (kept at a public level only)."""
    key = id(t)
    if tangent is None:
        lv.tangents.pop(key, None)
        return
    tangents, by_data = lv.tangents, lv.by_data

    def forget(r: Any) -> None:  # (the tensor died: drop its entry unless a newer tensor took the id)
        e = tangents.get(key)
        if e is not None and e[0] is r:
            del tangents[key]

    tangents[key] = (weakref.ref(t, forget), tangent, step if lv.public else None)
    arr = t._data
    dkey = id(arr)

    def forget_data(r: Any) -> None:
        e = by_data.get(dkey)
        if e is not None and e[0] is r:
            del by_data[dkey]

    # (held while the array lives: a node keeps its output's array after the output tensor is gone)
    by_data[dkey] = (weakref.ref(arr, forget_data), tangent)


def tangents_of_array(arr: Any) -> Iterator[tuple[Level, Any]]:
    """(level, tangent) for each visible level at which the tensor whose array is ``arr`` had one."""
    for lv in visible():
        e = lv.by_data.get(id(arr))
        if e is not None and e[0]() is arr:
            yield lv, e[1]


def public_step(t: Any) -> Step | None:
    """The step behind ``t``'s tangent at the live public level (``forward_ad.dual_level``'s), if any."""
    for lv in levels:
        if lv.public:
            return step(t, lv)
    return None

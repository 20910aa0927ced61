"""The pieces a traced call is written down in: its steps, the references to its values, and the
graph break that stops a trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GraphBreak(Exception):
    """What the trace cannot replay, with the user's source line."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(f"{reason} (at {where})" if where else reason)
        self.reason, self.where = reason, where


@dataclass
class Step:
    """One line (or a few) of the replay program. ``kind``: op, node, sum, reduce, root, acc, call,
    fn, bump, custom, copy, writeback, inplace, zero, fill, setitem, grad_of, grad_none (codegen._lines writes each)."""
    kind: str
    outs: tuple = ()
    ins: tuple = ()
    data: Any = None
    note: str = ""


@dataclass(frozen=True)
class Ref:
    """A traced value inside a backward node's saved values or attrs (a constant otherwise);
    ``tensor``: the node keeps it as a Tensor (the replay wraps the array)."""
    name: str
    tensor: bool = False

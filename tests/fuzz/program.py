"""A fuzz program: its input tensors (as data) and its statements (as Python text over ``L``/``F``).

The same text runs against ``L = torch`` and ``L = ember`` (``F = L.nn.functional``), so a
program saved as JSON replays without the generator that made it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

NAME = re.compile(r"\b([iv]\d+)\b")


@dataclass
class Input:
    name: str
    dtype: str  # "float32", "int64", "bool", ...
    shape: list[int]
    data: list  # flat values, so empty dimensions survive JSON
    requires_grad: bool = False

    def array(self) -> np.ndarray:
        kind = {"bool": bool, "int32": np.int64, "int64": np.int64}.get(self.dtype, np.float64)
        return np.array(self.data, dtype=kind).reshape(self.shape)

    def make(self, L: Any) -> Any:
        return L.tensor(self.array(), dtype=getattr(L, self.dtype), requires_grad=self.requires_grad)

    def source(self) -> str:
        a = self.array().tolist() if self.data else f"L.empty({tuple(self.shape)})"
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"{self.name} = L.tensor({a}, dtype=L.{self.dtype}{grad})"


@dataclass
class Stmt:
    src: str  # one line: "v3 = L.exp(v1)" or "v1.mul_(2)" or "v1[0] = 2.0"
    out: str  # the variable it defines or mutates
    flags: str = ""  # "disc": discontinuous in its inputs; "kink": non-differentiable points

    def uses(self) -> set[str]:
        rhs = self.src.split("=", 1)[1] if self.src.startswith(self.out + " = ") else self.src
        return set(NAME.findall(rhs))


@dataclass
class Program:
    inputs: list[Input]
    stmts: list[Stmt]
    second: bool = False  # also compare second derivatives (create_graph=True)
    seed: int = 0
    note: str = ""  # what a saved regression demonstrates
    extra: dict = field(default_factory=dict)

    def source(self) -> str:
        lines = ["F = L.nn.functional"] + [i.source() for i in self.inputs] + [s.src for s in self.stmts]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @staticmethod
    def from_json(text: str) -> Program:
        d = json.loads(text)
        d["inputs"] = [Input(**i) for i in d["inputs"]]
        d["stmts"] = [Stmt(**s) for s in d["stmts"]]
        return Program(**d)

"""Shrink a failing program to a small one that fails in the same category.

Greedy passes until nothing changes: drop a statement (with the statements that use what it
defined), drop unused inputs, turn off second derivatives and requires_grad, and cut each input
dimension down (to 1, then by one) keeping the leading slice of its values.
"""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from .program import Input, Program
from .run import Outcome, check


def _without(prog: Program, k: int) -> Program:
    p = copy.deepcopy(prog)
    gone = {p.stmts[k].out} if p.stmts[k].src.startswith(p.stmts[k].out + " = ") else set()
    del p.stmts[k]
    keep = []
    for st in p.stmts:
        if st.uses() & gone:
            if st.src.startswith(st.out + " = "):
                gone.add(st.out)
            continue
        keep.append(st)
    p.stmts = keep
    return p


def _cut(inp: Input, axis: int, size: int) -> Input:
    a = np.take(inp.array(), range(size), axis=axis)
    return Input(inp.name, inp.dtype, list(a.shape), a.ravel().tolist(), inp.requires_grad)


def _candidates(prog: Program):
    for k in reversed(range(len(prog.stmts))):
        yield _without(prog, k)
    used = set().union(*(st.uses() for st in prog.stmts)) if prog.stmts else set()
    for j, inp in enumerate(prog.inputs):
        if inp.name not in used:
            p = copy.deepcopy(prog)
            del p.inputs[j]
            yield p
    if prog.second:
        p = copy.deepcopy(prog)
        p.second = False
        yield p
    for j, inp in enumerate(prog.inputs):
        if inp.requires_grad:
            p = copy.deepcopy(prog)
            p.inputs[j].requires_grad = False
            yield p
        for axis, n in enumerate(inp.shape):
            for size in sorted({1, n - 1} - {n}):
                if 0 < size < n:
                    p = copy.deepcopy(prog)
                    p.inputs[j] = _cut(inp, axis, size)
                    yield p


def shrink(prog: Program, category: str, budget: int = 300, test: Callable[[Program], Outcome] = check) -> Program:
    """The smallest program found (within ``budget`` runs) that still fails with ``category``."""
    runs = 0
    changed = True
    while changed and runs < budget:
        changed = False
        for cand in _candidates(prog):
            runs += 1
            try:
                same = test(cand).category == category
            except Exception:  # a crash in the harness itself is not the failure we are shrinking
                same = False
            if same:
                prog, changed = cand, True
                break
            if runs >= budget:
                break
    return prog

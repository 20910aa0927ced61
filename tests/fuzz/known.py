"""Mismatches the fuzzer has found that are reported but not fixed here, each with a reproducer.

A mismatch matches an entry when its category is the entry's, the failing statement (the whole
program for a backward-pass mismatch) matches ``ops`` and the mismatch's text matches ``detail``.
``make fuzz`` counts these apart from new mismatches; the CI sample fails only on new ones. Fixing
one of these bugs means deleting its entry (the CI sample then checks it). ``owner`` says why it
is not fixed here: "derivatives" (the derivative definitions are being rewritten elsewhere),
"nn" (nn/_ops.py and nn/functional.py, same), or "torch" (torch's own limitation, not ember's bug).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .program import Program


@dataclass(frozen=True)
class Known:
    category: str
    ops: str  # regex searched in the failing statement (or in the program, for backward mismatches)
    detail: str  # regex searched in the mismatch's detail
    owner: str
    repro: str


KNOWN = [
    Known("grad", r"hardtanh|relu6|leaky_relu|softshrink|hardshrink|layer_norm|prelu|conv[12]d|max_pool[12]d|cumm(ax|in)|"
          r"clamp|threshold|elu|selu|celu|\bvar\b|\bstd\b", r"requires_grad (False|True) != torch", "derivatives",
          "x = tensor(1.8, requires_grad=True); g, = autograd.grad(F.hardtanh(x), x, create_graph=True); g.requires_grad  # False, torch True"),
    Known("raise-extra", r"layer_norm", r"NativeLayerNormBackward0 returned an invalid gradient", "nn",
          "F.layer_norm(tensor([-6.6]), (1,), tensor([-1.9], requires_grad=True), tensor([-2.])).sum().backward()  # RuntimeError: invalid gradient"),
    Known("grad", r"\*\*|pow", r"", "derivatives",
          "x = tensor(0., requires_grad=True); (x ** x).backward(); x.grad  # nan, torch 0"),
    Known("grad2", r"\belu|selu|celu", r"", "derivatives",
          "x = tensor(0., requires_grad=True); g, = grad(F.selu(x), x, create_graph=True); g.backward(); x.grad  # 1.82, torch 0 (the kink's side)"),
    Known("raise-missing", r"", r"output with shape \[.*\] doesn't match the broadcast shape", "torch",
          "x.clamp(min_t, max_t) with bounds broadcast beyond x: torch's backward raises, ember differentiates"),
]


def _non_finite(prog: Program) -> bool:
    return any(isinstance(v, float) and v != v or v in (float("inf"), float("-inf")) for i in prog.inputs for v in i.data)


def match(prog: Program, category: str, where: int, detail: str) -> Known | None:
    text = prog.stmts[where].src if where < len(prog.stmts) else prog.source()
    for k in KNOWN:
        if k.category == category and re.search(k.ops, text) and re.search(k.detail, detail):
            return k
    if category in ("grad", "grad2") and _non_finite(prog):
        return NON_FINITE
    return None


# Gradients at NaN/inf inputs: several derivative formulas mask with comparisons (x > 0) that NaN
# fails, where torch's kernels pass the gradient through; owned by the derivative rewrite.
NON_FINITE = Known("grad", "", "", "derivatives",
                   "x = tensor([nan], requires_grad=True); F.relu(x).sum().backward(); x.grad  # 0, torch 1")

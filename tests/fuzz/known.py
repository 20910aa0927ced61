"""Mismatches the fuzzer has found that are reported but not fixed here, each with a reproducer.

A mismatch matches an entry when its category is the entry's, the failing statement (the whole
program for a backward-pass mismatch) matches ``ops`` and the mismatch's text matches ``detail``.
``make fuzz`` counts these apart from new mismatches; the CI sample fails only on new ones. Fixing
one of these bugs means deleting its entry (the CI sample then checks it). ``owner`` says why it
is not fixed here: "derivatives" (the derivative definitions are being rewritten elsewhere),
"nn" (nn/_ops.py and nn/functional.py, same), or "torch" (torch's own limitation, not ember's bug).
A "torch" entry names its ``check`` (verify.py): it excuses a mismatch only when that check proves
ember right without torch's disputed answer (finite differences; torch on an equivalent program it
can run; where no finite derivative exists, torch agreeing that there is none); then the program
counts as torch-limited (verified), not as a mismatch. When the check fails, the entry does not apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .program import Program


@dataclass(frozen=True)
class Known:
    category: str
    ops: str  # regex searched in the failing statement (or in the program, for backward mismatches)
    detail: str  # regex searched in the mismatch's detail
    owner: str
    repro: str
    check: str = ""  # owner "torch": the independent check that must pass, "fd" or "value" (verify.py)


KNOWN = [
    # ---- derivative definitions (being rewritten elsewhere)
    Known("grad2", r"prelu", r"", "torch",
          "x = tensor([0.], requires_grad=True); w = tensor([.3], requires_grad=True); gx, gw = grad(F.prelu(x, w).sum(), (x, w), "
          "create_graph=True); (gx + gw).sum().backward()  # x.grad 1, w.grad 2; torch 0, 1: torch's double backward "
          "takes x >= 0 as positive where its first derivative takes x > 0 (one formula cannot do both)", check="fd"),
    # (moved to torch by the issue-12 derivative fixes: float overflow inside torch's own formulas)
    Known("grad2", r"mish", r"torch \[[^\]]*nan", "torch",
          "x = tensor([143.], requires_grad=True); g, = grad(F.mish(x).sum(), x, create_graph=True); grad(g.sum(), x)  "
          "# 0 (the limit), torch nan: its float32 exp(x) overflows to inf / inf (float64 past x = 710)", check="fd"),
    Known("grad2", r"layer_norm", r"torch \[[^\]]*nan", "torch",
          "x = tensor([-3.], dtype=float16, requires_grad=True); w = tensor([-1.5], dtype=float16, requires_grad=True); "
          "F.layer_norm(x, (1,), w) second derivative in w: 0 (as torch's float32), torch nan (its float16 rstd^3, "
          "3.2e7, overflows)", check="fd"),
    # ---- ops elsewhere, reported
    Known("raise-missing", r"addcdiv|addcmul", r"can't be cast to the desired output type", "torch",
          "x = tensor([.5], requires_grad=True); L.addcdiv(tensor([False]), x, tensor([True])).sum().backward()  # ember "
          "differentiates; torch's backward fails on a bool tensor2 (result type Float can't be cast to Bool)", check="fd"),
    Known("value", r"layer_norm", r"", "torch",
          "F.layer_norm(tensor([[-3.4e38, -.58, .67]]), (3,))  # ember [-1.414, .707, .707] (its float32 statistics "
          "overflow, so they are taken in float64), torch nan (its Welford pass overflows)", check="value"),
    Known("value", r"gelu", r"", "torch", "F.gelu(tensor([inf]))  # inf, torch's kernel gives nan", check="value"),
    # ---- torch's own limitations
    Known("value", r"median", r"", "torch",
          "tensor([[-2], [-3]]).expand(3, -1, -1).diagonal(-1, -2, -1).median(0, keepdim=True)[0]  # -3; torch returns "
          "uninitialised memory (94474206201264) for this overlapping input", check="value"),
    Known("grad", r"\belu|celu|selu", r"torch \[.*nan", "torch",
          "F.celu(x) with NaN in x (16 elements): torch's vectorised kernel gives a NaN gradient there, its scalar tail "
          "(and ember) the scale", check="fd"),
    Known("value", r"conv[123]d", r"", "torch",
          "F.conv1d(tensor([[[-1.4]]]), tensor([[[-inf, -3.3]]]), padding=1)  # ember nan, inf (the zero padding times "
          "-inf); torch's kernel never multiplies the padding: 4.76, inf", check="value"),
    Known("grad", r"layer_norm", r"torch \[[\snaif-]*\]", "torch",
          "x = tensor([[2.446, -1.668, -0.899]], requires_grad=True); F.layer_norm(x, (3,), tensor([.306, inf, -2.186]))"
          ".sum().backward(); x.grad  # [nan, nan, -inf], torch all nan: no finite derivative; ember's infinities and "
          "NaNs come from the order of its formula (x - mean form), torch's from its "
          "kernel's (a * x + b form: inf - inf); verified on ember's finite gradients and that its others are not "
          "finite in torch either", check="fd"),
    Known("grad2", r"layer_norm", r"", "torch",
          "the second derivative of F.layer_norm with an infinite weight, as the first: no finite derivative; ember's "
          "NaN or infinity from its formula's order, torch's from its double backward's; verified on ember's finite "
          "second derivatives and that its others are not finite in torch either", check="fd"),
    Known("grad", r"layer_norm", r"values", "torch",
          "F.layer_norm(x, (2,), w, b) of a row of equal values (20.0855, 20.0855): the normalised values are 0/0-like "
          "rounding noise, so w's gradient is each library's noise (ember 0, torch -1.5e-4)", check="fd"),
    Known("grad", r"conv[123]d", r"torch \[.*nan", "torch",
          "x = rand(2, 1, 3, requires_grad=True); F.conv1d(x, tensor([[[nan, 5.04]]]), stride=2).sum().backward(); "
          "x.grad[:, 0, 2]  # 0 (no output reads x[:, 0, 2]), torch nan for a batch of 2: its kernel multiplies the NaN "
          "weight by the zero gradient of the position the stride skips (for one sample it gives 0 too)", check="fd"),
    Known("grad", r"cumprod", r"torch \[.*nan", "torch",
          "x = tensor([2., 0., 3.], requires_grad=True); grad(x.cumprod(0).sqrt().sum(), x, create_graph=True)  # "
          "[.354, inf, 0], torch [nan, inf, nan]: under create_graph torch's cumprod backward is another formula (a sum "
          "of products) that multiplies the infinite gradient past the zero by 0; its plain backward, as ember's "
          "one formula, leaves those terms out", check="fd"),
    Known("grad2", r"cumprod", r"torch \[.*nan", "torch", "the second derivative of the case above (torch differentiates "
          "its create_graph formula, ember its one formula)", check="fd"),
    Known("grad", r"hardtanh|relu6|softshrink|hardshrink", r"values", "torch",
          "x = full((8,), nan, dtype=float64, requires_grad=True); F.hardtanh(x, -.5, 1.5).sum().backward(); x.grad  "
          "# 0 in torch's vectorised loop (8+ elements), 1 in its scalar tail (fewer; ember always passes grad at NaN)", check="fd"),
    Known("grad", r"\bstd\b|\bvar\b", r"values", "torch",
          "x.minimum(tensor([-1.677], dtype=float64)).std(0, correction=0): the std of equal values is 0/0; each "
          "library's gradient is its rounding noise in x - mean", check="fd"),
    Known("raise-missing", r"", r"not implemented for 'Half'", "torch", "i0 of float16 requiring grad: torch has no i1_backward for Half", check="fd"),
    Known("raise-missing", r"", r"INTERNAL ASSERT FAILED", "torch", "True ** torch.tensor([0.5], requires_grad=True)  # torch's internal assert", check="fd"),
    Known("raise-missing", r"", r"output with shape \[.*\] doesn't match the broadcast shape", "torch",
          "x.clamp(lo, hi) with tensor bounds broadcast beyond x: torch's backward raises, ember differentiates", check="fd"),
]


def matches(prog: Program, category: str, where: int, detail: str) -> Iterator[Known]:
    """The entries a mismatch matches, in order (run.py takes the first whose check, if any, passes)."""
    text = prog.stmts[where].src if where < len(prog.stmts) else prog.source()
    for k in KNOWN:
        if k.category == category and re.search(k.ops, text) and re.search(k.detail, detail):
            yield k


def match(prog: Program, category: str, where: int, detail: str) -> Known | None:
    return next(matches(prog, category, where, detail), None)

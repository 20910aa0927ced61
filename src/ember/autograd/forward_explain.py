"""``ember.autograd.explain_forward``: run a function on dual tensors and narrate forward mode.

``explain`` narrates the chain rule from the output back to the inputs (reverse mode). This is
the same chain rule run the other way: each input carries a tangent (a direction ``dx``), and
every op, as it computes its value, turns its inputs' tangents into its output's tangent with its
forward rule (its JVP). The last tangent is the directional derivative ``J dx``. Each step shows
the op, the rule, the tangents in and the tangent out.
"""

from __future__ import annotations

import io
import re
import sys
from typing import Any, Callable, TextIO

from . import forward_ad
from ._forward_levels import fw
from .explain import Explanation, _caller_names, _clip, _in_notebook, _short

# the forward rules in the words a first course uses, for the commonest ops
_RULES = {
    "add": "d(a + b) = da + db (times alpha)",
    "sub": "d(a - b) = da - db",
    "mul": "d(a * b) = da * b + a * db",
    "div": "d(a / b) = da / b - a * db / b^2",
    "pow": "d(a^n) = n * a^(n-1) * da",
    "sum": "d(sum a) = sum da",
    "mean": "d(mean a) = mean da",
    "sigmoid": "d sigmoid(a) = sigmoid(a) * (1 - sigmoid(a)) * da",
    "tanh": "d tanh(a) = (1 - tanh(a)^2) * da",
    "exp": "d exp(a) = exp(a) * da",
    "log": "d log(a) = da / a",
    "sin": "d sin(a) = cos(a) * da",
    "cos": "d cos(a) = -sin(a) * da",
    "relu": "d relu(a) = da where a > 0, else 0",
    "neg": "d(-a) = -da",
    "mm": "d(A @ B) = dA @ B + A @ dB",
    "mv": "d(A @ x) = dA @ x + A @ dx",
    "matmul": "d(A @ B) = dA @ B + A @ dB",
    "softmax": "d softmax(a) = s * (da - sum(s * da)), s = softmax(a)",
    "log_softmax": "d log_softmax(a) = da - sum(softmax(a) * da)",
}


def _op_name(cls: type) -> str:
    """``SinBackward0`` -> ``sin``, ``LogSoftmaxBackward0`` -> ``log_softmax``."""
    base = re.sub(r"Backward\d*$", "", cls.__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


class _Narrator:
    def __init__(self, names: dict, out: TextIO, width: int) -> None:
        self.names, self.out, self.width = names, out, width
        self.step = 0

    def say(self, text: str) -> None:
        for line in text.splitlines():
            print(_clip(line, self.width), file=self.out)

    def op(self, cls: type, inputs: list, ts: list, outs: Any, res: list) -> None:
        fw.listener = None  # (printing runs ops of its own: they are not steps)
        try:
            self.step += 1
            name = _op_name(cls)
            self.say(f"step {self.step}: {name}")
            rule = _RULES.get(name)
            if rule is None:
                formula = getattr(cls, "formula", "")
                how = "its own forward rule" if getattr(cls, "jvp", None) is not None else (
                    f"derived from its backward rule '{formula}' (J v = d/dg <vjp(g), v>)")
                rule = how
            self.say(f"    rule: {rule}")
            for i, (x, t) in enumerate(zip(inputs, ts)):
                if x is None:
                    continue
                label = self.names.get(id(x), f"operand {i}")
                self.say(f"    tangent of {label}: {_short(t) if t is not None else '0 (a constant)'}")
            for k, t in enumerate(res):
                self.say(f"    -> tangent out{'' if len(res) == 1 else f' {k}'}: {_short(t)}")
        finally:
            fw.listener = self.op


def explain_forward(func: Callable, inputs: Any, tangents: Any, *, names: dict | None = None,
                    file: TextIO | None = None, width: int = 100) -> tuple:
    """Run ``func(*inputs)`` with each input carrying its tangent, printing each op's forward rule
    and tangents; returns ``(output, output_tangent)`` as ``func.jvp`` does.

    Names of the inputs come from ``names`` ({name: tensor}) or the caller's variables. The narration
    goes to ``file`` (default ``sys.stdout``); a Jupyter notebook with no ``file`` shows it as HTML.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    tangents = tuple(tangents) if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(inputs) != len(tangents):
        raise RuntimeError(f"explain_forward: expected one tangent per input, got {len(tangents)} tangents for "
                           f"{len(inputs)} inputs")
    label_of = {id(v): k for k, v in (names or {}).items()} or _caller_names(sys._getframe(1))
    out = io.StringIO()
    narrator = _Narrator(dict(label_of), out, width)  # (captured tensors keep their names)
    fname = getattr(func, "__name__", "f")
    narrator.say(f"forward of {fname}, each value carrying its tangent (the chain rule from the inputs forward)")
    try:
        with forward_ad.dual_level():
            duals = []
            for i, (x, t) in enumerate(zip(inputs, tangents)):
                label = label_of.get(id(x), f"input {i}")
                narrator.say(f"  {label} = {_short(x)}, tangent d{label} = {_short(t)}")
                d = forward_ad.make_dual(x, t)
                narrator.names[id(d)] = label
                duals.append(d)
            prev, fw.listener = fw.listener, narrator.op
            try:
                result = func(*duals)
            finally:
                fw.listener = prev
            primal, tangent = forward_ad.unpack_dual(result)
            if tangent is None:
                tangent = primal.new_zeros(primal.shape)
        narrator.say("result:")
        narrator.say(f"  {fname} = {_short(primal)}, tangent = {_short(tangent)} (J times the inputs' tangents)")
    finally:
        text = Explanation(out.getvalue().rstrip("\n"))
        if file is None and _in_notebook():
            from IPython.display import display

            display(text)
        else:
            print(text, file=file if file is not None else sys.stdout)
    return primal, tangent

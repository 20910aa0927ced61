"""``ember.autograd.explain``: run a backward pass and narrate the chain rule step by step.

Each step shows the backward function (named as torch names it), the gradient arriving, the local
derivative rule it applies (``node.formula``, the same text the op table computes from), what it
sends to each input, and where gradients meet and are summed; it ends with each leaf's gradient.
Inside a ``forward_ad.dual_level`` each value shown also shows its forward-mode tangent.
"""

from __future__ import annotations

import html
import io
import re
import sys
from typing import Any, TextIO

from . import _forward_levels as _lv
from . import engine
from .graph import AccumulateGrad, Node, grad_accumulator

# the chain rule in the words a first course uses, for the commonest nodes
_RULES = {
    "AddBackward0": "d(a + b)/da = 1, d(a + b)/db = 1 (times alpha)",
    "SubBackward0": "d(a - b)/da = 1, d(a - b)/db = -1",
    "MulBackward0": "d(a * b)/da = b, d(a * b)/db = a",
    "DivBackward0": "d(a / b)/da = 1/b, d(a / b)/db = -a/b^2",
    "PowBackward0": "d(a^n)/da = n * a^(n-1)",
    "SumBackward0": "d(sum a)/da_i = 1 (grad copied to every element)",
    "MeanBackward0": "d(mean a)/da_i = 1/n",
    "SigmoidBackward0": "d sigmoid(a)/da = sigmoid(a) * (1 - sigmoid(a))",
    "TanhBackward0": "d tanh(a)/da = 1 - tanh(a)^2",
    "ExpBackward0": "d exp(a)/da = exp(a)",
    "LogBackward0": "d log(a)/da = 1/a",
    "ReluBackward0": "d relu(a)/da = 1 where a > 0, else 0",
    "NegBackward0": "d(-a)/da = -1",
}


def _short(t: Any, width: int = 60) -> str:
    """``t`` in at most ``width`` characters, shortened by whole elements (``tensor([0.1, ..., 0.9])``),
    never cut inside a number; a dual tensor's forward-mode tangent follows it (inside a
    ``forward_ad.dual_level``, a backward pass carries the tangents of its gradients: forward over
    reverse, so the narration shows each step's Hessian-vector-product part too)."""
    s = _short_value(t, width)
    if _lv.fw.on and hasattr(t, "_data"):
        for lv in _lv.visible():
            tangent = _lv.get(t, lv)
            if tangent is not None:
                return f"{s}  [tangent: {_short_value(tangent, width)}]"
    return s


def _short_value(t: Any, width: int) -> str:
    if t is None:
        return "None"
    try:
        n = t.numel()
    except AttributeError:
        return _clip(repr(t), width)
    from .._printing import printoptions

    d = t.detach()
    if n <= 8:
        s = _one_line(repr(d))
        if len(s) <= width:
            return s
    # fewer elements from each end, as torch's own summarised printing shows them
    for edge in (3, 2, 1):
        if 2 * edge >= n:
            continue
        with printoptions(threshold=0, edgeitems=edge):
            s = _one_line(repr(d))
        if len(s) <= width:
            return s
    a = d._data
    shape = f"tensor of shape {list(a.shape)}"
    if a.size and a.dtype.kind in "fiu":
        stats = f"{shape} (mean {float(a.mean()):.4g}, min {float(a.min()):.4g}, max {float(a.max()):.4g})"
        if len(stats) <= width:
            return stats
    return _clip(shape, width)


def _one_line(s: str) -> str:
    """A multi-line repr on one line: each line break and its indent become one space."""
    return re.sub(r"\n\s*", " ", s)


def _clip(s: str, width: int) -> str:
    """``s`` cut at a space before ``width`` (a word or number is never split), marked with ``...``."""
    if len(s) <= width:
        return s
    cut = s.rfind(" ", 0, width - 3)
    if cut > 0:
        return s[:cut].rstrip(",") + " ..."
    return s[: max(width - 3, 1)] + "..."     # one long word: nothing better to cut at


class Explanation(str):
    """The narration ``explain`` printed: a ``str`` whose repr is the text itself (a REPL shows it
    drawn), and which a notebook shows as HTML with the steps and the result set off."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:   # IPython's text display
        p.text(str(self))

    def _repr_html_(self) -> str:                              # Jupyter's display
        rows = []
        for line in str(self).splitlines():
            esc = html.escape(line)
            if line.startswith(("backward of", "forward of", "step ", "result:")):
                esc = f"<b>{esc}</b>"
            elif line.lstrip().startswith("rule:"):
                esc = f'<span style="color:#4a6f8a">{esc}</span>'
            rows.append(esc)
        return '<pre style="line-height:1.3">' + "\n".join(rows) + "</pre>"


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython with a kernel attached), where a displayed
    object renders as HTML; a terminal IPython or plain Python prints text."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


class _Narrator:
    def __init__(self, names: dict, out: TextIO, width: int) -> None:
        self.names, self.out, self.width = names, out, width
        self.step = 0
        self.incoming: dict = {}

    def label(self, node: Node) -> str:
        if type(node) is AccumulateGrad:
            return self.names.get(id(node.variable), "a leaf")
        return node.name()

    def say(self, text: str) -> None:
        for line in text.splitlines():
            print(_clip(line, self.width), file=self.out)

    def edge(self, node: Node, i: int, nxt: Node, g: Any) -> None:
        self.incoming.setdefault(nxt, []).append((node, g))
        self.say(f"    -> to {self.label(nxt)}: {_short(g)}")

    def node(self, node: Node, grads: list, outs: tuple) -> None:
        arrivals = self.incoming.pop(node, [])
        if type(node) is AccumulateGrad:
            name = self.label(node)
            g = grads[0]
            if len(arrivals) > 1:
                parts = " + ".join(_short(a, 24) for _, a in arrivals)
                self.say(f"  {name}: gradients from {len(arrivals)} paths are summed: {parts} = {_short(g, 30)}")
            else:
                self.say(f"  {name}: receives {_short(g)}")
            return
        self.step += 1
        self.say(f"step {self.step}: {node.name()}")
        if len(arrivals) > 1:
            parts = " + ".join(_short(a, 24) for _, a in arrivals)
            self.say(f"    grad in (summed from {len(arrivals)} uses): {parts}")
        else:
            self.say(f"    grad in: {_short(grads[0] if len(grads) == 1 else grads)}")
        rule = _RULES.get(node.name())
        formula = getattr(node, "formula", "")
        if rule:
            self.say(f"    rule: {rule}   [computes: {formula}]" if formula else f"    rule: {rule}")
        elif formula:
            self.say(f"    rule: {formula}")
        for i, (nxt, _) in enumerate(node.next_functions):
            if nxt is None and i < len(outs):
                self.say(f"    -> input {i} needs no gradient (a constant)")


def _caller_names(frame: Any) -> dict:
    names: dict = {}
    while frame is not None and not names:
        for scope in (frame.f_globals, frame.f_locals):
            for k, v in scope.items():
                if hasattr(v, "_rg") and not k.startswith("_"):
                    names.setdefault(id(v), k)
        frame = frame.f_back
    return names


def _leaves(root: Node) -> list:
    seen, stack, out = {root}, [root], []
    while stack:
        n = stack.pop()
        if type(n) is AccumulateGrad:
            out.append(n.variable)
        for nxt, _ in n.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return out[::-1]


def explain(output: Any, inputs: Any = None, *, accumulate: bool = False, names: dict | None = None,
            file: TextIO | None = None, width: int = 100) -> tuple:
    """Run ``output``'s backward pass, printing each chain-rule step; returns the inputs' gradients.

    ``inputs``: the leaves to differentiate for (default: every leaf that requires grad). Names
    come from ``names`` ({name: tensor}) or from the caller's variables. ``.grad`` is left alone
    unless ``accumulate=True``. The graph is kept (``retain_graph=True``).

    The narration goes to ``file`` (default ``sys.stdout``); in a Jupyter notebook, with no
    ``file``, it is displayed as an :class:`Explanation` (HTML) instead.
    """
    out = io.StringIO()
    if output.grad_fn is None:
        raise RuntimeError("explain() needs a tensor produced by operations on tensors that require grad")
    label_of = {id(v): k for k, v in (names or {}).items()} or _caller_names(sys._getframe(1))
    leaves = list(inputs) if inputs is not None else _leaves(output.grad_fn)
    for i, leaf in enumerate(leaves):
        label_of.setdefault(id(leaf), f"input {i}")
    oname = label_of.get(id(output), "output")
    narrator = _Narrator(label_of, out, width)
    narrator.say(f"backward of {oname} = {_short(output, width - 20)}")
    import numpy as np

    from .function import _new_tensor as _new

    seed = _new(np.ones(output._data.shape, output._data.dtype))
    narrator.say(f"start: d{oname}/d{oname} = {_short(seed)}")
    capture = [(grad_accumulator(t), 0) if t.grad_fn is None else (t.grad_fn, t._out_nr) for t in leaves]
    try:
        grads = engine.run_backward([(output.grad_fn, output._out_nr)], [seed], retain_graph=True,
                                    create_graph=False, capture=capture, accumulate=False, trace=narrator)
        assert grads is not None  # (with ``capture``, run_backward returns the captured gradients)
        narrator.say("result:")
        for t, g in zip(leaves, grads):
            narrator.say(f"  d{oname}/d{label_of[id(t)]} = {_short(g)}")
            if accumulate and g is not None:
                t._accumulate(g)
    finally:  # shown whole at the end (one HTML block in a notebook), also up to an error
        text = Explanation(out.getvalue().rstrip("\n"))
        if file is None and _in_notebook():
            from IPython.display import display

            display(text)
        else:
            print(text, file=file or sys.stdout)
    return tuple(grads)

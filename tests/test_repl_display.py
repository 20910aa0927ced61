"""What a user sees at the REPL: viz.text shows its tree once; explain shortens tensors by whole elements."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import torch

import ember
import ember.viz as viz
from ember.autograd.explain import _short

SRC = str(Path(ember.__file__).resolve().parents[1])


def repl(source: str) -> str:
    """What `python -i` prints on stdout for these lines, typed one by one."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-q", "-i"], input=source, capture_output=True, text=True, timeout=60, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def test_text_at_the_repl_shows_the_tree_once():
    out = repl("import ember\nimport ember.viz\nx = ember.tensor([2.0], requires_grad=True)\nloss = (x * x).sum()\n"
               "ember.viz.text(loss)\n")
    assert out.count("SumBackward0") == 1 and out.count("MulBackward0") == 1
    assert out.splitlines()[0] == "SumBackward0"                  # drawn, not a quoted string with \n escapes
    assert "'" not in out and "\\n" not in out


def test_text_is_a_string_and_prints_only_when_asked(capsys):
    x, y = ember.tensor([5.0], requires_grad=True), ember.tensor([3.0], requires_grad=True)
    z = x ** 2 + 2 * (x * y)
    t = viz.text(z)
    assert capsys.readouterr().out == ""                           # a script prints it with print(...)
    assert isinstance(t, str) and repr(t) == str(t) and t.splitlines()[0] == "AddBackward0"
    tx, ty = torch.tensor([5.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)
    assert t.splitlines()[0] == type((tx ** 2 + 2 * (tx * ty)).grad_fn).__name__
    buf = io.StringIO()
    assert viz.text(z, file=buf) == t and buf.getvalue() == t + "\n"
    print(t)
    assert capsys.readouterr().out == t + "\n"


def numbers(s: str) -> list[str]:
    return re.findall(r"-?\d+\.\d+(?:e[+-]?\d+)?", s)


def test_short_cuts_whole_elements_never_a_number():
    x = ember.tensor([0.72661, 0.76012, 0.1, 0.2, 0.3, 0.4])
    tx = torch.tensor([0.72661, 0.76012, 0.1, 0.2, 0.3, 0.4])
    assert _short(x, 80) == repr(tx)                               # fits: torch's repr unchanged
    torch.set_printoptions(threshold=0, edgeitems=1)
    try:
        summary = repr(tx)                                         # torch's own summary: tensor([0.7266, ..., 0.4000])
    finally:
        torch.set_printoptions(profile="default")
    assert _short(x, 30) == summary
    whole = set(numbers(repr(tx)))
    for width in range(20, 80):
        s = _short(x, width)
        assert len(s) <= width, (width, s)
        assert set(numbers(s)) <= whole, s                         # every number shown is a whole element


def test_explain_lines_never_end_inside_a_number():
    ember.manual_seed(0)
    w = ember.randn(4, 3, requires_grad=True)
    x = ember.randn(5, 4)
    loss = ((x @ w).sigmoid() * (x @ w)).sum()
    for width in (60, 72, 100):
        buf = io.StringIO()
        ember.autograd.explain(loss, names={"loss": loss, "w": w}, file=buf, width=width)
        text = buf.getvalue()
        assert "dloss/dw" in text
        for line in text.splitlines():
            assert len(line) <= width, line
            assert not re.search(r"\d\.\d*\.\.\.", line), line      # "0.760..." is a number cut in two
            if line.endswith("..."):
                assert line.endswith(" ..."), line


def test_explain_prints_its_narration_once_outside_a_notebook(capsys):
    x = ember.tensor([5.0], requires_grad=True)
    z = (x * x).sum()
    gx, = ember.autograd.explain(z, [x])
    out = capsys.readouterr().out
    tx = torch.tensor([5.0], requires_grad=True)
    assert repr(gx) == repr(torch.autograd.grad((tx * tx).sum(), tx)[0])
    assert out.count("step 1: SumBackward0") == 1 and out.endswith(f"dz/dx = {gx!r}\n")


def test_explain_and_text_have_notebook_displays():
    from ember.autograd.explain import Explanation

    x = ember.tensor([5.0], requires_grad=True)
    z = (x * x).sum()
    buf = io.StringIO()
    ember.autograd.explain(z, [x], file=buf)
    e = Explanation(buf.getvalue().rstrip("\n"))
    page = e._repr_html_()
    assert page.startswith("<pre") and "<b>step 1: SumBackward0</b>" in page
    assert "-&gt; to" in page and "->" not in page               # escaped for HTML
    assert repr(e) == str(e) == buf.getvalue().rstrip("\n")
    t = viz.text(z, params={"x": x})
    page = t._repr_html_()
    assert page.startswith("<pre") and all(line.strip() in page for line in t.splitlines())
    assert '<span style="background:#add8e6">    AccumulateGrad x (1)</span>' in page

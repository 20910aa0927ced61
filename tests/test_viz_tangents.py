"""ember.viz pictures of a forward-mode computation: each node shows its output's tangent, the
tangents checked against torch's forward AD."""

import ast
import re

import numpy as np
import pytest
import torch

import ember
import ember.autograd.forward_ad as fwAD
import ember.viz as viz

X = [0.3, -1.2, 2.0]
V = [1.0, 0.5, -2.0]
W = [0.5, 3.0, -1.0]


def _torch_steps():
    """torch's tangents of f's intermediates: sin, mul, exp, add, sum."""
    import torch.autograd.forward_ad as tfw

    with tfw.dual_level():
        d = tfw.make_dual(torch.tensor(X), torch.tensor(V))
        h = d.sin()
        m = h * torch.tensor(W, requires_grad=True)
        e = h.exp()
        a = m + e
        y = a.sum()
        return {k: tfw.unpack_dual(t).tangent.detach().numpy() for k, t in
                dict(x=d, sin=h, mul=m, exp=e, add=a, sum=y).items()}


def _values(line: str) -> np.ndarray:
    inner = re.search(r"tangent: tensor\((.*)\)$", line).group(1)
    return np.array(ast.literal_eval(inner), dtype=np.float64)


def test_text_shows_each_nodes_tangent_as_torch_computes_it():
    want = _torch_steps()
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(X), ember.tensor(V))
        h = d.sin()
        y = (h * ember.tensor(W, requires_grad=True) + h.exp()).sum()
        lines = str(viz.text(y, params={"x": d})).splitlines()
    names = [ln.split("  tangent:")[0] for ln in lines]
    assert names == ["SumBackward0", "  AddBackward0", "    MulBackward0", "      SinBackward0",
                     "        make_dual x (3)", "    ExpBackward0", "      SinBackward0 (seen)"]
    for k, key in [(0, "sum"), (1, "add"), (2, "mul"), (3, "sin"), (4, "x"), (5, "exp")]:
        np.testing.assert_allclose(_values(lines[k]), want[key], atol=1e-4)


def test_show_tangents_false_and_after_the_level_draw_the_backward_graph():
    w = ember.tensor(W, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(X), ember.tensor(V))
        y = (d.sin() * w).sum()
        inside = str(viz.text(y, show_tangents=False))
    assert inside == "SumBackward0\n  MulBackward0\n    AccumulateGrad (3)"
    assert str(viz.text(y)) == inside       # the level is gone, and its tangents with it


def test_show_tangents_true_without_a_tangent_says_how_to_get_one():
    y = ember.tensor(X, requires_grad=True).sin()
    with pytest.raises(RuntimeError, match="make_dual"):
        viz.text(y, show_tangents=True)


def test_an_in_place_op_is_a_step_and_the_earlier_step_keeps_its_tangent():
    import torch.autograd.forward_ad as tfw

    with tfw.dual_level():
        td = tfw.make_dual(torch.tensor(X), torch.tensor(V))
        tz = td * 2
        before = tfw.unpack_dual(tz).tangent.clone()
        tz.mul_(td)
        after = tfw.unpack_dual(tz).tangent
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(X), ember.tensor(V))
        z = d * 2
        z.mul_(d)
        lines = str(viz.text(z)).splitlines()
    assert [ln.split("  tangent:")[0] for ln in lines] == [
        "MulBackward0", "  MulBackward0", "    make_dual (3)", "  make_dual (3)"]
    np.testing.assert_allclose(_values(lines[0]), after.numpy(), atol=1e-4)
    np.testing.assert_allclose(_values(lines[1]), before.numpy(), atol=1e-4)


def test_graph_labels_tangents_and_draws_the_edges_the_tangents_take():
    pytest.importorskip("graphviz")
    want = _torch_steps()
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(X), ember.tensor(V))
        h = d.sin()
        y = (h * ember.tensor(W) + h.exp()).sum()
        src = viz.graph(y, params={"x": d}).source
    labels = dict(re.findall(r'\t(\d+) \[label="([^"]*)"', src))
    edges = re.findall(r"\t(\d+) -> (\d+)", src)
    by_name = {lab.split("\n")[0]: (nid, lab) for nid, lab in labels.items()}
    assert set(by_name) == {"SumBackward0", "AddBackward0", "MulBackward0", "SinBackward0", "ExpBackward0", "x"}
    assert "make_dual\n(3) float32" in by_name["x"][1]
    for name, key in [("SumBackward0", "sum"), ("AddBackward0", "add"), ("MulBackward0", "mul"),
                      ("SinBackward0", "sin"), ("ExpBackward0", "exp"), ("x", "x")]:
        np.testing.assert_allclose(_values(by_name[name][1].splitlines()[-1]), want[key], atol=1e-4)
    ident = {nid: lab.split("\n")[0] for nid, lab in labels.items()}
    assert sorted((ident[a], ident[b]) for a, b in edges) == sorted([
        ("x", "SinBackward0"), ("SinBackward0", "MulBackward0"), ("SinBackward0", "ExpBackward0"),
        ("MulBackward0", "AddBackward0"), ("ExpBackward0", "AddBackward0"), ("AddBackward0", "SumBackward0")])
    assert re.search(r'label="SumBackward0[^"]*" fillcolor=darkolivegreen1', src)
    assert re.search(r'label="x\nmake_dual[^"]*" fillcolor=lightblue', src)


def test_func_jvp_levels_keep_no_steps():
    from ember.autograd import _forward_levels as _lv

    seen = []

    def f(x):
        y = x.sin()
        seen.append([_lv.step(y, lv) for lv in _lv.levels])
        return y

    ember.func.jvp(f, (ember.tensor(X),), (ember.tensor(V),))
    assert seen == [[None]]

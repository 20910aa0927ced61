"""Graph pictures, the text tree, and the backward explainer."""

from __future__ import annotations

import io
import sys

import pytest
import torch

import ember
import ember.viz as viz


def seed_graph(L):
    x = L.tensor([5.0], requires_grad=True)
    y = L.tensor([3.0], requires_grad=True)
    return x, y, x ** 2 + 2 * (x * y) + 3


def torch_tree(t) -> list:
    """The same indented tree, walked over torch's own graph."""
    lines, seen, stack = [], set(), [(t.grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        name = type(node).__name__
        if name == "AccumulateGrad":
            lines.append("  " * depth + "AccumulateGrad")
            continue
        if node in seen:
            lines.append("  " * depth + f"{name} (seen)")
            continue
        seen.add(node)
        lines.append("  " * depth + name)
        for nxt, _ in reversed(node.next_functions):
            if nxt is not None:
                stack.append((nxt, depth + 1))
    return lines


def test_text_tree_has_torchs_node_names_and_structure():
    _, _, ez = seed_graph(ember)
    _, _, tz = seed_graph(torch)
    out = viz.text(ez, file=False)
    ours = [ln.split(" (")[0] if "AccumulateGrad" in ln else ln for ln in out.splitlines()]
    assert ours == torch_tree(tz)


def test_graph_labels_params_shapes_and_root():
    pytest.importorskip("graphviz")
    x, y, z = seed_graph(ember)
    g = viz.graph(z, params={"x": x, "y": y}, show_saved=True)
    src = g.source
    for name in ("AddBackward0", "MulBackward0", "PowBackward0", '"x\n(1) float32"', '"y\n(1) float32"'):
        assert name in src
    assert "darkolivegreen1" in src  # the root is highlighted
    assert "saved[0]" in src
    assert src.count("->") == 7  # x feeds two nodes


def test_graph_of_ten_thousand_nodes_draws():
    pytest.importorskip("graphviz")
    x = ember.ones(1, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    g = viz.graph(y)
    assert g.source.count("MulBackward0") == 10_000
    assert len(viz.text(y, file=False, max_nodes=50).splitlines()) == 51


def test_missing_graphviz_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    x, y, z = seed_graph(ember)
    with pytest.raises(ImportError, match=r"pip install graphviz \(from ember's checkout: pip install -e '\.\[viz\]'\)"):
        viz.graph(z)


def test_explain_shows_how_the_seed_gradients_arise():
    x, y, z2 = seed_graph(ember)
    buf = io.StringIO()
    gx, gy = ember.autograd.explain(z2, [x, y], names={"x": x, "y": y, "z2": z2}, file=buf)
    text = buf.getvalue()
    assert gx.item() == 16 and gy.item() == 10
    tx, ty, tz = seed_graph(torch)
    tgx, tgy = torch.autograd.grad(tz, [tx, ty])
    assert f"dz2/dx = {repr(tgx).replace('torch.', 'ember.')}" in text  # the numbers torch's gradients give
    assert f"dz2/dy = {repr(tgy).replace('torch.', 'ember.')}" in text
    assert "tensor([6.]) + tensor([10.]) = tensor([16.])" in text  # 2y + 2x, summed at x
    assert "dz2/dx = tensor([16.])" in text and "dz2/dy = tensor([10.])" in text
    assert "d(a * b)/da = b" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert x.grad is None and y.grad is None  # explaining does not accumulate
    ember.autograd.explain(z2, names={"x": x, "y": y}, accumulate=True, file=io.StringIO())
    assert x.grad.item() == 16 and y.grad.item() == 10


def test_explain_finds_names_in_the_callers_variables():
    weight = ember.tensor([2.0], requires_grad=True)
    loss = (weight * 3).sum()
    buf = io.StringIO()
    ember.autograd.explain(loss, file=buf)
    assert "dloss/dweight = tensor([3.])" in buf.getvalue()


def test_every_op_node_states_its_formula():
    x = ember.randn(3, 4, requires_grad=True)
    outs = [x.exp(), x.sigmoid(), x * x, x.sum(), x.mean(1), x @ x.t(), x[0], x.reshape(12), x.softmax(1)]
    for o in outs:
        assert o.grad_fn.formula, o.grad_fn.name()


def test_rendered_svg_has_the_graphs_nodes_and_edges(tmp_path):
    """Render with Graphviz's real dot program and read the SVG back."""
    import shutil
    import xml.etree.ElementTree as ET

    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (make test installs it where it can)")
    x, y, z = seed_graph(ember)
    g = viz.graph(z, params={"x": x, "y": y})
    path = g.render(str(tmp_path / "seed"), format="svg", cleanup=True)
    root = ET.parse(path).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    nodes, edges = {}, set()
    for grp in root.iter("{http://www.w3.org/2000/svg}g"):
        cls = grp.get("class")
        title = grp.find("s:title", ns)
        if cls == "node":
            nodes[title.text] = " ".join(t.text for t in grp.findall("s:text", ns))
        elif cls == "edge":
            edges.add(tuple(title.text.split("->")))
    # the SVG holds exactly the graph's nodes, named and labelled, and its edges
    expected = {}
    stack, seen = [z.grad_fn], set()
    expected_edges = set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        expected[str(id(n))] = n.name() if n.name() != "AccumulateGrad" else None
        for nxt, _ in n.next_functions:
            if nxt is not None:
                expected_edges.add((str(id(nxt)), str(id(n))))
                stack.append(nxt)
    assert set(nodes) == set(expected)
    assert edges == expected_edges
    for nid, name in expected.items():
        if name is not None:
            assert nodes[nid].startswith(name)
    assert sorted(label.split()[0] for nid, label in nodes.items() if expected[nid] is None) == ["x", "y"]

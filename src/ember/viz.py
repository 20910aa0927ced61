"""The computation graph as a picture (``graph``, via the optional ``graphviz`` package) or as an
indented tree of text (``text``, no dependency).

One node per backward function, named as torch names it, with the shape of what it produced;
leaves labelled with their parameter names when ``params`` is given; the root highlighted.
Traversal is iterative, so graphs of any depth draw without recursion errors.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

from ._tensor import Tensor
from .autograd.graph import AccumulateGrad, Node


def _roots(tensors: Any) -> list:
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"viz expects tensors, got {type(t).__name__}")
    return ts


def _fmt_shape(shape: Iterable) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _saved_summary(node: Node) -> list:
    out = []
    saved = getattr(node, "saved", None) or ()
    for i, s in enumerate(saved):
        if isinstance(s, Tensor):
            out.append(f"saved[{i}]: {_fmt_shape(s.shape)} {s.dtype.name}")
        elif s is not None:
            out.append(f"saved[{i}]: {s!r}")
    res = getattr(node, "_result", None)
    if res is not None:
        out.append(f"result: {_fmt_shape(res[0].shape)}")
    return out


def _walk(roots: list) -> tuple[list, list]:
    """Nodes (in discovery order) and edges (child, parent) reachable from the roots' grad_fns."""
    nodes: list = []
    edges: list = []
    seen: set = set()
    stack = [t.grad_fn for t in roots if t.grad_fn is not None]
    for n in stack:
        seen.add(n)
    while stack:
        n = stack.pop()
        nodes.append(n)
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            edges.append((nxt, n))
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return nodes, edges


def graph(tensor_or_tensors: Any, params: dict | None = None, show_saved: bool = False,
          show_attrs: bool = False) -> Any:
    """A ``graphviz.Digraph`` of the graph that produced the tensor(s); needs the ``viz`` extra.

    In Jupyter it renders inline (SVG); ``.render('graph', format='png')`` writes a file (this
    needs Graphviz's ``dot`` program).
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "ember.viz.graph needs the graphviz Python package: pip install graphviz (from ember's checkout: "
            "pip install -e '.[viz]'), and Graphviz's `dot` program to render files (e.g. apt-get install graphviz)") from None
    roots = _roots(tensor_or_tensors)
    names = {id(p): k for k, p in (params or {}).items()}
    dot = graphviz.Digraph("ember", node_attr={"shape": "box", "style": "filled,rounded", "fontname": "monospace",
                                                "fontsize": "10", "fillcolor": "lightgrey"},
                           graph_attr={"rankdir": "BT", "size": "12,12"})
    nodes, edges = _walk(roots)
    root_nodes = {t.grad_fn for t in roots}
    out_shape: dict = {}
    for t in roots:
        if t.grad_fn is not None:
            out_shape[t.grad_fn] = t.shape
    for n in nodes:
        meta = getattr(n, "_in_meta", None)
        for (nxt, _), m in zip(n.next_functions, meta or ()):
            if nxt is not None and m is not None:
                out_shape.setdefault(nxt, m[0])
    for n in nodes:
        nid = str(id(n))
        if type(n) is AccumulateGrad:
            v = n.variable
            label = names.get(id(v), "")
            label = (label + "\n" if label else "") + f"{_fmt_shape(v.shape)} {v.dtype.name}"
            dot.node(nid, label, fillcolor="lightblue")
            continue
        lines = [n.name()]
        if n in out_shape:
            lines.append(_fmt_shape(out_shape[n]))
        if show_attrs and getattr(n, "attrs", None) is not None:
            lines.append(f"attrs: {n.attrs!r}"[:60])
        if show_saved:
            lines.extend(_saved_summary(n))
        dot.node(nid, "\n".join(lines), fillcolor="darkolivegreen1" if n in root_nodes else "lightgrey")
    for child, parent in edges:
        dot.edge(str(id(child)), str(id(parent)))
    for t in roots:
        if t.grad_fn is None:
            dot.node(str(id(t)), f"{_fmt_shape(t.shape)} {t.dtype.name}", fillcolor="lightblue")
    return dot


class GraphText(str):
    """The text tree of a graph: a ``str`` whose repr is the tree itself, so that a REPL or a notebook
    shows it once, drawn, rather than as a quoted string with ``\\n`` escapes."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:   # IPython's display of the value
        p.text(str(self))

    def _repr_html_(self) -> str:                              # Jupyter's: coloured as graph() colours
        rows = []
        for k, line in enumerate(str(self).splitlines()):
            esc = html.escape(line)
            name = line.lstrip()
            if k == 0 and not name.startswith("leaf"):
                esc = f'<span style="background:#caff70">{esc}</span>'   # the root (darkolivegreen1)
            elif name.startswith("AccumulateGrad"):
                esc = f'<span style="background:#add8e6">{esc}</span>'   # a leaf (lightblue)
            rows.append(esc)
        return '<pre style="line-height:1.3">' + "\n".join(rows) + "</pre>"


def text(tensor: Tensor, params: dict | None = None, file: Any = None, max_nodes: int = 200) -> GraphText:
    """The graph behind ``tensor`` as an indented tree, returned as a :class:`GraphText` string.

    At a REPL or in a notebook, ``ember.viz.text(loss)`` shows the tree (once); in a script,
    ``print(ember.viz.text(loss))``, or pass ``file=`` (``sys.stdout``, an open file) to have it
    written there as well. A node reached again through another path is shown once and then
    referred to as ``(seen)``.
    """
    names = {id(p): k for k, p in (params or {}).items()}
    lines: list = []
    if tensor.grad_fn is None:
        lines.append(f"leaf {_fmt_shape(tensor.shape)} (no graph)")
    else:
        seen: set = set()
        stack: list = [(tensor.grad_fn, 0)]
        while stack:
            node, depth = stack.pop()
            if len(lines) >= max_nodes:
                lines.append("  " * depth + "...")
                break
            pad = "  " * depth
            if type(node) is AccumulateGrad:
                v = node.variable
                nm = names.get(id(v))
                lines.append(f"{pad}AccumulateGrad {(nm + ' ') if nm else ''}{_fmt_shape(v.shape)}")
                continue
            if node in seen:
                lines.append(f"{pad}{node.name()} (seen)")
                continue
            seen.add(node)
            lines.append(f"{pad}{node.name()}")
            for nxt, _ in reversed(node.next_functions):
                if nxt is not None:
                    stack.append((nxt, depth + 1))
    out = GraphText("\n".join(lines))
    if file is not None and file is not False:     # False: the old spelling of "do not print"
        print(out, file=file)
    return out

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

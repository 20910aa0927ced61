"""The computation graph as a picture (``graph``, via the optional ``graphviz`` package) or as an
indented tree of text (``text``, no dependency).

One node per backward function, named as torch names it, with the shape of what it produced;
leaves labelled with their parameter names when ``params`` is given; the root highlighted.
Traversal is iterative, so graphs of any depth draw without recursion errors.

Inside ``forward_ad.dual_level()`` a tensor that carries a tangent is drawn as its forward
computation instead (``show_tangents``): the same nodes, each with the tangent its forward rule
gave its output, down to the ``make_dual`` inputs where the tangents entered. Reverse mode pushes
gradients down this picture; forward mode pushes tangents up it, alongside the values.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

from ._tensor import Tensor
from .autograd import _forward_levels as _lv
from .autograd.explain import _short_value
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


def _forward_roots(roots: list, show_tangents: bool | None) -> list | None:
    """The roots' forward steps when the picture shows tangents (None: draw the backward graph)."""
    if show_tangents is False:
        return None
    steps = [_lv.public_step(t) for t in roots]
    if all(s is not None for s in steps):
        return steps
    if show_tangents:
        raise RuntimeError("viz: show_tangents=True needs tensors that carry a forward-mode tangent: make the inputs "
                           "with forward_ad.make_dual inside forward_ad.dual_level() and draw inside it")
    return None


def _step_names(params: dict | None) -> dict:
    """id(step) -> name, for the dual tensors named in ``params``."""
    out = {}
    for k, p in (params or {}).items():
        s = _lv.public_step(p) if isinstance(p, Tensor) else None
        if s is not None:
            out[id(s)] = k
    return out


def _walk_steps(roots: list) -> tuple[list, list]:
    """Steps (in discovery order) and edges (input step, step) reachable from the roots' steps."""
    nodes: list = []
    edges: list = []
    seen = {id(s) for s in roots}
    stack = list({id(s): s for s in roots}.values())
    while stack:
        s = stack.pop()
        nodes.append(s)
        for i in s.inputs:
            edges.append((i, s))
            if id(i) not in seen:
                seen.add(id(i))
                stack.append(i)
    return nodes, edges


def _tangent_label(s: _lv.Step, width: int) -> str:
    return "tangent: " + _short_value(s.tangent, width)


def _forward_dot(graphviz: Any, steps: list, params: dict | None) -> Any:
    names = _step_names(params)
    dot = graphviz.Digraph("ember", node_attr={"shape": "box", "style": "filled,rounded", "fontname": "monospace",
                                                "fontsize": "10", "fillcolor": "lightgrey"},
                           graph_attr={"rankdir": "BT", "size": "12,12"})
    nodes, edges = _walk_steps(steps)
    roots = {id(s) for s in steps}
    for s in nodes:
        t = s.tangent
        lines = [s.name, f"{_fmt_shape(t.shape)} {t.dtype.name}", _tangent_label(s, 40)]
        if not s.inputs:                     # where a tangent entered: a dual input
            nm = names.get(id(s))
            if nm:
                lines.insert(0, nm)
            colour = "lightblue"
        else:
            colour = "darkolivegreen1" if id(s) in roots else "lightgrey"
        dot.node(str(id(s)), "\n".join(lines), fillcolor=colour)
    for a, b in edges:
        dot.edge(str(id(a)), str(id(b)))
    return dot


def graph(tensor_or_tensors: Any, params: dict | None = None, show_saved: bool = False,
          show_attrs: bool = False, show_tangents: bool | None = None) -> Any:
    """A ``graphviz.Digraph`` of the graph that produced the tensor(s); needs the ``viz`` extra.

    In Jupyter it renders inline (SVG); ``.render('graph', format='png')`` writes a file (this
    needs Graphviz's ``dot`` program). ``show_tangents`` (default: when the tensors carry
    forward-mode tangents, inside ``forward_ad.dual_level()``) draws the forward computation, each
    node with its output's tangent, down to the ``make_dual`` inputs.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "ember.viz.graph needs the graphviz Python package: pip install graphviz (from ember's checkout: "
            "pip install -e '.[viz]'), and Graphviz's `dot` program to render files (e.g. apt-get install graphviz)") from None
    roots = _roots(tensor_or_tensors)
    steps = _forward_roots(roots, show_tangents)
    if steps is not None:
        return _forward_dot(graphviz, steps, params)
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
            elif name.startswith(("AccumulateGrad", "make_dual")):
                esc = f'<span style="background:#add8e6">{esc}</span>'   # a leaf (lightblue)
            rows.append(esc)
        return '<pre style="line-height:1.3">' + "\n".join(rows) + "</pre>"


def text(tensor: Tensor, params: dict | None = None, file: Any = None, max_nodes: int = 200,
         show_tangents: bool | None = None) -> GraphText:
    """The graph behind ``tensor`` as an indented tree, returned as a :class:`GraphText` string.

    At a REPL or in a notebook, ``ember.viz.text(loss)`` shows the tree (once); in a script,
    ``print(ember.viz.text(loss))``, or pass ``file=`` (``sys.stdout``, an open file) to have it
    written there as well. A node reached again through another path is shown once and then
    referred to as ``(seen)``. ``show_tangents`` (default: when ``tensor`` carries a forward-mode
    tangent, inside ``forward_ad.dual_level()``) shows the forward computation instead, each node
    with its output's tangent, down to the ``make_dual`` inputs where the tangents entered.
    """
    steps = _forward_roots(_roots(tensor), show_tangents)
    if steps is not None:
        lines = _forward_lines(steps[0], _step_names(params), max_nodes)
    else:
        lines = _backward_lines(tensor, params, max_nodes)
    out = GraphText("\n".join(lines))
    if file is not None and file is not False:     # False: the old spelling of "do not print"
        print(out, file=file)
    return out


def _forward_lines(root: _lv.Step, names: dict, max_nodes: int) -> list:
    lines: list = []
    seen: set = set()
    stack: list = [(root, 0)]
    while stack:
        s, depth = stack.pop()
        if len(lines) >= max_nodes:
            lines.append("  " * depth + "...")
            break
        pad = "  " * depth
        if not s.inputs:
            nm = names.get(id(s))
            lines.append(f"{pad}{s.name} {(nm + ' ') if nm else ''}{_fmt_shape(s.tangent.shape)}  "
                         f"{_tangent_label(s, 60)}")
            continue
        if id(s) in seen:
            lines.append(f"{pad}{s.name} (seen)")
            continue
        seen.add(id(s))
        lines.append(f"{pad}{s.name}  {_tangent_label(s, 60)}")
        for i in reversed(s.inputs):
            stack.append((i, depth + 1))
    return lines


def _backward_lines(tensor: Tensor, params: dict | None, max_nodes: int) -> list:
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
    return lines

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

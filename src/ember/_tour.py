"""The tour: the seed tutorial (a PyTorch autograd notebook) run cell by cell on ember.

The notebook's text ships with ember (``_data/seed_tutorial.txt``). Its code cells run unchanged:
``import torch`` inside a cell resolves to ember, and values print with torch's prefix, so the
output is what PyTorch prints.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import re
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable

_OUTPUT_LIKE = re.compile(r"^\(?(torch|ember)\.Size\(|^\(?tensor\(")


@dataclass
class Cell:
    number: int
    code: str
    expected: str = ""  # what the notebook printed (may come from an earlier run of the cell)
    markdown_before: str = ""
    outputs: list = field(default_factory=list)


def seed_text() -> str:
    return resources.files("ember").joinpath("_data/seed_tutorial.txt").read_text(encoding="utf-8")


def _compiles(src: str) -> bool:
    try:
        ast.parse(src)
    except SyntaxError:
        return False
    return True


def _is_output(block: str) -> bool:
    s = block.strip()
    if _OUTPUT_LIKE.match(s):
        return True
    try:
        # printed "name: value" lines parse as bare annotations
        body = ast.parse(s).body
        if body and all(isinstance(st, ast.AnnAssign) and st.value is None for st in body):
            return True
    except SyntaxError:
        pass
    try:
        ast.literal_eval(s)
    except (ValueError, SyntaxError):
        return False
    return True


def parse_cells(text: str) -> list[Cell]:
    """Split the notebook text into code cells (``In [N]:`` blocks), their outputs, and prose."""
    parts = re.split(r"^In \[(\d+)\]:\n", text, flags=re.M)
    cells: list[Cell] = []
    prose = parts[0]
    for i in range(1, len(parts), 2):
        number, body = int(parts[i]), parts[i + 1]
        blocks = re.split(r"\n[ \t]*\n(?:[ \t]*\n)*", body.strip("\n"))
        k = 0
        for k, blk in enumerate(blocks):
            if blk.lstrip().startswith("##") or _is_output(blk) or not _compiles("\n\n".join(blocks[: k + 1])):
                break
        else:
            k = len(blocks)
        code = blocks[:k]
        rest = blocks[k:]
        out: list[str] = []
        for blk in rest:
            if blk.lstrip().startswith(("#", "**", "-", "$$", "Above", "By default", "Because", "Think",
                                        "This way", "For example", "In ", "One of", "Imagine", "Suppose")):
                break
            out.append(blk)
        cells.append(Cell(number, "\n\n".join(code), "\n\n".join(out), prose.strip()))
        prose = "\n\n".join(rest[len(out):])
    return cells


def torch_import(prefix: str = "ember") -> Callable:
    """An ``__import__`` that resolves ``torch`` and ``torch.*`` to ``prefix`` (ember by default)."""

    def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and (name == "torch" or name.startswith("torch.")):
            name = prefix + name[5:]
        return builtins.__import__(name, globals, locals, fromlist, level)

    return _import


def run_cell(code: str, namespace: dict) -> str:
    """Run one cell like a notebook: statements execute, a final expression's repr is shown."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body = tree.body[:-1]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(tree, "<cell>", "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
            if value is not None:
                print(repr(value))
    return buf.getvalue()


def new_namespace(module: str = "ember") -> dict:
    ns_builtins = dict(vars(builtins))
    ns_builtins["__import__"] = torch_import(module) if module != "torch" else builtins.__import__
    return {"__builtins__": ns_builtins, "__name__": "__main__"}


def run_seed(module: str = "ember", seed: int | None = 0, namespace: dict | None = None) -> list[tuple[Cell, str]]:
    """Execute every cell of the seed with ``module`` standing in for torch; returns (cell, output)."""
    import importlib

    from . import _dtype

    mod = importlib.import_module(module)
    if seed is not None:
        mod.manual_seed(seed)
    ns = new_namespace(module)
    if namespace is not None:
        namespace.clear()
        namespace.update(ns)
        ns = namespace
    results = []
    prev = _dtype.PREFIX[0]
    _dtype.PREFIX[0] = "torch"  # print torch.Size / torch.float64 as PyTorch does
    try:
        for cell in parse_cells(seed_text()):
            results.append((cell, run_cell(cell.code, ns)))
    finally:
        _dtype.PREFIX[0] = prev
    return results


def tour(out: Any = None, width: int = 100) -> float:
    """Print the seed tutorial cell by cell with ember's output; returns the seconds ember spent."""
    import sys

    out = out or sys.stdout
    t0 = time.perf_counter()
    ns: dict = {}
    results = run_seed("ember", namespace=ns)
    spent = time.perf_counter() - t0
    rule = "-" * width
    print("ember tour: the PyTorch autograd tutorial, every cell run on ember (`import torch` -> ember)", file=out)
    for cell, text in results:
        print(rule, file=out)
        if cell.markdown_before:
            first = next((ln for ln in cell.markdown_before.splitlines() if ln.startswith("#")), "")
            if first:
                print(first.lstrip("# ").strip(), file=out)
        print(f"In [{cell.number}]:", file=out)
        for line in cell.code.splitlines():
            print("    " + line, file=out)
        if text:
            print("Out:", file=out)
            for line in text.rstrip("\n").splitlines():
                print("    " + line, file=out)
    print(rule, file=out)
    print(f"{len(results)} cells ran on ember in {spent * 1000:.0f} ms.", file=out)
    print("Notes: ember.manual_seed(0) ran first, so randn cells print what torch.manual_seed(0) gives,", file=out)
    print("not the notebook's unseeded numbers; In [18] shows one backward's gradients (the notebook", file=out)
    print("had run that cell three times, accumulating them).", file=out)
    print(_draw_last_example(ns), file=out)
    return spent


def _draw_last_example(ns: dict, path: str = "tour-graph") -> str:
    """Write the graphs of the last example (out1 = sum(x*y), out2 = sum(x+y)) as an SVG."""
    from . import viz

    try:
        g = viz.graph([ns["out1"], ns["out2"]], params={"x": ns["x"], "y": ns["y"]})
    except ImportError:
        return "Graph picture skipped: pip install graphviz (from ember's checkout: pip install -e '.[viz]') to get tour-graph.svg."
    try:
        written = g.render(path, format="svg", cleanup=True)
    except Exception as e:  # graphviz raises ExecutableNotFound when Graphviz's dot is missing
        import os

        if os.path.exists(path):  # the DOT source graphviz wrote before failing to render it
            os.remove(path)
        return f"Graph picture skipped ({type(e).__name__}): install Graphviz's dot program to render it."
    return f"The graph of the last example (out1, out2) is in {written}."

"""docs/tutorial.ipynb: what docs/make_tutorial.py builds from the tour's cells, and run in a Jupyter
kernel of this interpreter it prints what torch prints for each tutorial cell, with the explainer and
the text tree shown as HTML and the graphs as SVG."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import time
from pathlib import Path

import pytest
import torch

from ember import _tour

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_tutorial", ROOT / "docs" / "make_tutorial.py")
make_tutorial = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_tutorial)


def _source(cell: dict) -> tuple:
    src = cell["source"]
    return cell["cell_type"], "".join(src) if isinstance(src, list) else src


def test_notebook_file_is_what_the_script_builds():
    on_disk = json.loads((ROOT / "docs" / "tutorial.ipynb").read_text(encoding="utf-8"))
    assert [_source(c) for c in on_disk["cells"]] == [_source(c) for c in make_tutorial.build()["cells"]], \
        "docs/tutorial.ipynb is out of date: run python docs/make_tutorial.py"


def test_every_tutorial_cell_is_in_the_notebook_with_ember_imports():
    built = [c for c in make_tutorial.build()["cells"] if "tutorial_cell" in c["metadata"]]
    cells = _tour.parse_cells(_tour.seed_text())
    assert [c["metadata"]["tutorial_cell"] for c in built] == [c.number for c in cells]
    for nb_cell, cell in zip(built, cells):
        src = nb_cell["source"]
        assert not re.search(r"^\s*(import|from)\s+torch\b", src, re.M), src   # real torch is never imported
        if "import" not in cell.code:
            assert src == cell.code                       # only import lines are rewritten


@pytest.fixture(scope="module")
def executed():
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    t0 = time.perf_counter()
    nb = make_tutorial.execute(make_tutorial.build())  # raises CellExecutionError if a cell fails
    assert time.perf_counter() - t0 < 60
    return nb


def _shown(cell) -> str:
    """What a reader sees as text under a cell: printed output, then the value's text form."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text)
        elif out.output_type == "execute_result":
            parts.append(out.data["text/plain"] + "\n")
    return "".join(parts)


def _cell(nb, needle: str):
    return next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)


def test_tutorial_cells_print_what_torch_prints(executed):
    with_torch = {cell.number: out for cell, out in _tour.run_seed("torch", seed=0)}
    ran = [c for c in executed.cells if c.cell_type == "code" and "tutorial_cell" in c.metadata]
    assert len(ran) == len(with_torch)
    for cell in ran:
        assert not [o for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"], cell.source
        # the one difference ember documents: its Size and dtypes print as ember.Size, ember.float32
        assert _shown(cell).replace("ember.", "torch.") == with_torch[cell.metadata["tutorial_cell"]], cell.source


def test_explain_renders_as_html_with_torchs_gradients(executed):
    cell = _cell(executed, "ember.autograd.explain(")
    shown = [o for o in cell.outputs if o.output_type == "display_data"]
    assert len(shown) == 1                            # narrated once, as a rich display, not also printed
    html = shown[0].data["text/html"]
    assert "<b>step 1: AddBackward0</b>" in html and "-&gt; to" in html
    x, y = torch.tensor([5.], requires_grad=True), torch.tensor([3.], requires_grad=True)
    gx, gy = torch.autograd.grad(x**2 + 2 * (x * y) + 3, [x, y])
    assert f"dz2/dx = {gx!r}" in html and f"dz2/dy = {gy!r}" in html
    assert _shown(cell) == f"({gx!r}, {gy!r})\n"
    assert not [o for o in cell.outputs if o.output_type == "stream"]


def test_text_tree_renders_as_html(executed):
    cell = _cell(executed, "ember.viz.text(")
    data = cell.outputs[-1].data
    x, w, b = torch.tensor([3.]), torch.tensor([2.], requires_grad=True), torch.tensor([1.], requires_grad=True)
    root = type(torch.sigmoid(x * w + b).grad_fn).__name__
    assert data["text/plain"].splitlines()[0] == root
    assert data["text/html"].startswith("<pre") and root in data["text/html"]
    assert "AccumulateGrad w (1)" in data["text/html"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (make graphviz)")
def test_graphs_render_as_svg(executed):
    pytest.importorskip("graphviz")
    for needle, names in (("ember.viz.graph(a", ["SigmoidBackward0", "MulBackward0"]),
                          ("ember.viz.graph([out1", ["SumBackward0", "MulBackward0", "AddBackward0"])):
        svg = _cell(executed, needle).outputs[-1].data["image/svg+xml"]
        assert svg.lstrip().startswith("<?xml") and all(n in svg for n in names)

"""help() and tab completion as a PyTorch user meets them.

Every public name of ember's namespaces, and every public Tensor method and property, has a
docstring of its own (a class that only inherits its base's doc does not count); the examples in
those docstrings run; and ``dir()`` of each public namespace offers no helper modules, typing
names, autograd node classes or underscore names.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
import types

import pytest

import ember

NAMESPACES = [
    "ember", "ember.nn", "ember.nn.functional", "ember.nn.init", "ember.nn.utils", "ember.nn.utils.rnn",
    "ember.nn.utils.parametrize", "ember.nn.utils.parametrizations", "ember.optim", "ember.optim.lr_scheduler",
    "ember.optim.swa_utils", "ember.utils.data", "ember.utils.checkpoint", "ember.utils.hooks", "ember.autograd",
    "ember.autograd.functional", "ember.linalg", "ember.fft", "ember.special", "ember.amp", "ember.cuda", "ember.cpu",
    "ember.testing", "ember.random", "ember.backends", "ember.jit", "ember.compiler", "ember.accelerator", "ember.mps",
    "ember.xpu", "ember.viz", "ember.serialization", "ember.func", "ember.distributed",
    "ember.nn.parallel", "ember.distributions", "ember.distributions.constraints",
    "ember.distributions.transforms",
]


def _own_doc(obj: object) -> str | None:
    if isinstance(obj, type):
        return obj.__dict__.get("__doc__")  # not the base class's
    return getattr(obj, "__doc__", None)


def _documentable(obj: object) -> bool:
    """Functions, classes and other callables; constants (dtypes, ``pi``) and modules are not asked for docs."""
    return callable(obj) and not isinstance(obj, (types.ModuleType, ember.dtype))


def public_objects() -> dict[str, object]:
    """``"namespace.name"`` -> object for each public name, plus ``"Tensor.name"`` for its members."""
    out: dict[str, object] = {}
    for ns in NAMESPACES:
        mod = importlib.import_module(ns)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if _documentable(obj):
                out[f"{ns}.{name}"] = obj
    for name in dir(ember.Tensor):
        if name.startswith("_"):
            continue
        obj = inspect.getattr_static(ember.Tensor, name)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        if isinstance(obj, property) or callable(obj):
            out[f"Tensor.{name}"] = obj
    return out


def undocumented() -> list[str]:
    return sorted(name for name, obj in public_objects().items() if not (_own_doc(obj) or "").strip())


def test_every_public_name_has_a_docstring() -> None:
    missing = undocumented()
    assert not missing, f"{len(missing)} public names have no docstring of their own:\n" + "\n".join(missing)


def _with_examples() -> dict[str, object]:
    """The public names whose docstring has an example (aliases of one function each listed)."""
    return {name: obj for name, obj in public_objects().items() if ">>>" in (_own_doc(obj) or "")}


def _examples() -> list[tuple[str, str]]:
    """(name, docstring) once per documented object, for running the examples."""
    seen: set[int] = set()
    out = []
    for name, obj in _with_examples().items():
        if id(obj) not in seen:
            seen.add(id(obj))
            out.append((name, _own_doc(obj) or ""))
    return out


@pytest.mark.parametrize("name,doc", _examples(), ids=[n for n, _ in _examples()])
def test_docstring_examples_run(name: str, doc: str) -> None:
    ember.manual_seed(0)
    test = doctest.DocTestParser().get_doctest(doc, {"ember": ember}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


def test_examples_cover_the_most_used_names() -> None:
    names = _with_examples()
    most_used = """
        ember.tensor ember.zeros ember.ones ember.arange ember.randn ember.rand ember.linspace ember.full ember.eye
        ember.from_numpy ember.matmul ember.mm ember.add ember.mul ember.pow ember.sqrt ember.exp ember.log ember.sum
        ember.mean ember.max ember.argmax ember.softmax ember.relu ember.sigmoid ember.tanh ember.clamp ember.where
        ember.cat ember.stack ember.reshape ember.transpose ember.permute ember.squeeze ember.unsqueeze ember.flatten
        ember.gather ember.index_select ember.eq ember.allclose ember.topk ember.sort ember.chunk ember.split
        ember.manual_seed ember.no_grad ember.save
        Tensor.backward Tensor.view Tensor.item Tensor.tolist Tensor.to Tensor.detach Tensor.shape Tensor.requires_grad
        ember.autograd.grad ember.autograd.backward
        ember.nn.Module ember.nn.Sequential ember.nn.Linear ember.nn.Conv2d ember.nn.LSTM ember.nn.Embedding
        ember.nn.ReLU ember.nn.Dropout ember.nn.BatchNorm2d ember.nn.LayerNorm ember.nn.MaxPool2d ember.nn.Flatten
        ember.nn.MSELoss ember.nn.CrossEntropyLoss ember.nn.NLLLoss ember.nn.BCEWithLogitsLoss
        ember.nn.functional.linear ember.nn.functional.relu ember.nn.functional.cross_entropy
        ember.nn.functional.mse_loss ember.nn.functional.softmax ember.nn.functional.conv2d
        ember.nn.functional.max_pool2d ember.nn.functional.dropout ember.nn.functional.one_hot ember.nn.functional.pad
        ember.nn.utils.clip_grad_norm_ ember.nn.init.xavier_uniform_
        ember.optim.SGD ember.optim.Adam ember.optim.lr_scheduler.StepLR
        ember.utils.data.DataLoader ember.utils.data.TensorDataset
    """.split()
    for must in most_used:
        assert must in names, f"{must}'s docstring has no example"


# each docs table (ember/_docs/<table>.py) and the object it documents
_TABLES = {"torch": "ember", "tensor": "ember.Tensor", "linalg": "ember.linalg", "autograd": "ember.autograd",
           "nn_functional": "ember.nn.functional", "nn_init": "ember.nn.init"}


@pytest.mark.parametrize("table,owner", sorted(_TABLES.items()))
def test_docs_tables_name_existing_objects(table: str, owner: str) -> None:
    """A function renamed or moved in a split leaves its table entry behind: name it here."""
    from ember import _docs

    mod = importlib.import_module(f"ember._docs.{table}")
    obj = importlib.import_module(owner) if owner != "ember.Tensor" else ember.Tensor
    stale = [n for n in [*mod.DOCS, *getattr(mod, "EXAMPLES", {})] if _docs.target(obj, n) is None]
    assert not stale, f"ember/_docs/{table}.py documents names {owner} no longer has: {stale}"


def test_every_docs_table_is_checked() -> None:
    from pathlib import Path

    tables = {p.stem for p in Path(ember.__file__).with_name("_docs").glob("*.py")} - {"__init__"}
    assert tables == set(_TABLES)


_TYPING = {"typing", "collections.abc", "collections", "abc", "functools", "itertools", "enum", "contextlib", "bisect",
           "copy", "weakref", "types", "math", "warnings"}


@pytest.mark.parametrize("ns", NAMESPACES)
def test_namespace_offers_only_public_names(ns: str) -> None:
    mod = importlib.import_module(ns)
    bad = []
    for name in dir(mod):
        if name.startswith("__") and name.endswith("__"):
            continue
        obj = getattr(mod, name)
        if name.startswith("_"):
            bad.append(f"{name} (underscore name)")
        elif isinstance(obj, types.ModuleType) and not obj.__name__.startswith(ns + "."):
            bad.append(f"{name} (module {obj.__name__})")
        elif getattr(obj, "__module__", None) in _TYPING:
            bad.append(f"{name} (from {obj.__module__})")
        elif isinstance(obj, type) and re.search(r"Backward\d*$", name):
            bad.append(f"{name} (autograd node class)")
    assert not bad, f"dir({ns}) offers: " + ", ".join(bad)
    assert set(mod.__all__) <= set(dir(mod))


def test_star_import_and_helper_access_still_work() -> None:
    ns: dict[str, object] = {}
    exec("from ember.nn.functional import *", ns)
    assert "relu" in ns and "cross_entropy" in ns and "np" not in ns and "Any" not in ns
    import ember.nn.functional as F

    assert F.np is not None  # helpers stay reachable by attribute, only dir() hides them
    assert "nn" in dir(ember) and "fft" in dir(ember) and "annotations" not in dir(ember)

"""Docstrings of the op functions and Tensor members, kept apart from their code.

The op modules (ops/*, nn/functional.py and the modules it gathers) change often and are split
as they grow; their functions' help() text lives here instead, one table per namespace, in the
manner of torch's ``_torch_docs.py``. Each table module maps a public name to its docstring
(``DOCS``) and may add a runnable example to a name documented in its code (``EXAMPLES``).
``attach`` applies a table once, when the namespace is imported: a docstring written in the code
wins over the table's, so moving a function's doc inline needs no change here.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any


def target(owner: Any, name: str) -> Any:
    """The object whose ``__doc__`` documents ``owner.<name>`` (a property or function), or None if absent."""
    try:
        obj = inspect.getattr_static(owner, name) if isinstance(owner, type) else getattr(owner, name)
    except AttributeError:  # renamed or removed: test_docstrings reports the stale entry; import must not fail
        return None
    return obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj


def attach(owner: Any, table: str) -> None:
    """Give ``owner``'s members (a module's functions, or a class's methods and properties) the docs of
    ``ember._docs.<table>``."""
    mod = importlib.import_module(f"{__name__}.{table}")
    for name, doc in mod.DOCS.items():
        obj = target(owner, name)
        if obj is not None and not (obj.__doc__ or "").strip():
            obj.__doc__ = doc
    for name, example in getattr(mod, "EXAMPLES", {}).items():
        obj = target(owner, name)
        if obj is not None and ">>>" not in (obj.__doc__ or ""):
            obj.__doc__ = inspect.cleandoc(obj.__doc__ or "") + "\n\n" + example

"""What a public namespace offers: its ``__all__`` and the ``dir()`` that tab completion reads.

A module's globals also hold its helpers (``np``, ``math``, ``Any``, the ``*Backward0`` node
classes, private functions). ``tidy`` gives the module an ``__all__`` without them (unless it
already has one) and a module ``__dir__`` (PEP 562) that lists only ``__all__``, so ``dir()``,
``help()`` and a REPL's completion show the public API. Attribute access is unchanged: code that
reaches a helper by name still finds it.
"""

from __future__ import annotations
import __future__

import re
import sys
from collections.abc import Iterable
from types import ModuleType

# the stdlib modules whose names (Any, Callable, Counter, namedtuple ...) a module imports for itself
_FOREIGN_MODULES = frozenset({"typing", "collections", "collections.abc", "abc", "functools", "itertools", "enum",
                              "dataclasses", "contextlib", "bisect", "copy", "weakref", "types", "math", "warnings"})
_NODE_CLASS = re.compile(r"(Backward\d*|^CopySlices|^AccumulateGrad)$")


def is_public(name: str, obj: object, package: str) -> bool:
    """Whether ``name`` (bound to ``obj`` in module ``package``) belongs to the public API."""
    if name.startswith("_") or isinstance(obj, __future__._Feature):
        return False
    if isinstance(obj, ModuleType):  # only the package's own public submodules (nn.functional, not np)
        return obj.__name__.startswith(package + ".") and "._" not in obj.__name__[len(package):]
    if _NODE_CLASS.search(name) and isinstance(obj, type):
        return False
    return getattr(obj, "__module__", None) not in _FOREIGN_MODULES


def public_names(module: ModuleType, hide: Iterable[str] = ()) -> list[str]:
    """The names of ``module`` that ``is_public`` keeps, less ``hide`` (ember helpers such as ``record``)."""
    hidden = set(hide)
    return sorted(n for n, o in vars(module).items() if n not in hidden and is_public(n, o, module.__name__))


def tidy(name: str, hide: Iterable[str] = (), extra: Iterable[str] = ()) -> None:
    """Give module ``name`` an ``__all__`` (kept when it has one) and a ``__dir__`` listing just it.

    ``extra`` adds to ``dir()`` the attributes the module's ``__getattr__`` loads on first use (they
    are public but not in its globals yet, and stay out of ``__all__`` so ``import *`` loads nothing).
    """
    module = sys.modules[name]
    ns = vars(module)
    if "__all__" not in ns:
        ns["__all__"] = public_names(module, hide)
    listed = sorted(set(ns["__all__"]) | set(extra) | {n for n in ns if n.startswith("__") and n.endswith("__")})
    ns["__dir__"] = lambda: listed

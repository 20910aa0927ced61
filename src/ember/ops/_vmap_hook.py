"""The op table's one hook for ``ember.func.vmap``.

While a vmap level is active, ``handler`` is set and the public op functions (``ember.cat``,
``F.linear`` ...) hand every call to it: it runs the op's batching rule when an argument is a
BatchedTensor. Outside vmap a call pays one global check. Tensor methods and operators need no
hook: vmap's BatchedTensor overrides them in its own subclass, and vmap routes the plain Tensor's
methods through its dispatch only while it runs, so ``x + y`` and ``x.sum()`` cost what they did.
A function that also is a Tensor method (``ember.sum is Tensor.sum``) keeps that identity and its
speed the same way: it is listed in ``shared`` and swapped for vmap's dispatch while vmap runs.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .._tensor import Tensor

handler: Callable[[str, Callable, tuple, dict], Any] | None = None  # set by ember.func._batched
shared: list[tuple[dict, str, Callable]] = []  # (namespace, name, function) of functions that are Tensor methods


def hooked(name: str, fn: Callable) -> Callable:
    """``fn`` behind the vmap hook (same name, docstring and signature)."""
    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if handler is None:
            return fn(*args, **kwargs)
        return handler(name, fn, args, kwargs)

    return op


_op_names: dict[int, str] = {}  # id of a hooked function -> the op name its batching rule is found by


def install(namespaces: list, names: Any, prefix: str = "") -> None:
    """Put the functions ``names`` of each namespace (a module's dict) behind the hook; a function
    that several names or namespaces hold (``gt``, ``greater``) gets one wrapper. ``prefix`` names
    a submodule's ops (``linalg.``), except a function hooked already under another name
    (``linalg.det`` is ``ember.det``), which keeps that name and so its batching rule."""
    methods = {id(v) for v in vars(Tensor).values()}
    by_fn: dict[int, Callable] = {}
    for namespace in namespaces:
        for name in names:
            fn = namespace.get(name)
            if not callable(fn) or isinstance(fn, type) or not getattr(fn, "__module__", "").startswith("ember."):
                continue
            if prefix:
                op = _op_names.get(id(fn), prefix + name)
            else:
                op = name
                _op_names.setdefault(id(fn), name)
            if id(fn) in methods:
                shared.append((namespace, name, fn))
            else:
                namespace[name] = by_fn.setdefault(id(fn), hooked(op, fn))

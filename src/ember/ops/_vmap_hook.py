"""The op table's one hook for ``ember.func.vmap``.

While a vmap level is active, ``handler`` is set and the public op functions (``ember.add``,
``ember.cat``, ``F.linear`` ...) hand every call to it: it runs the op's batching rule when an
argument is a BatchedTensor. Outside vmap a call pays one global check. Tensor methods and
operators need no hook: vmap's BatchedTensor overrides them in its own subclass, so ``x + y`` on
plain tensors costs what it did before.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

handler: Callable[[str, Callable, tuple, dict], Any] | None = None  # set by ember.func._batched


def hooked(name: str, fn: Callable) -> Callable:
    """``fn`` behind the vmap hook (same name, docstring and signature)."""
    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if handler is None:
            return fn(*args, **kwargs)
        return handler(name, fn, args, kwargs)

    return op


def install(namespaces: list, names: Any) -> None:
    """Put the functions ``names`` of each namespace (a module's dict) behind the hook; a function
    that several names or namespaces hold (``gt``, ``greater``) gets one wrapper."""
    by_fn: dict[int, Callable] = {}
    for namespace in namespaces:
        for name in names:
            fn = namespace.get(name)
            if callable(fn) and not isinstance(fn, type) and getattr(fn, "__module__", "").startswith("ember."):
                namespace[name] = by_fn.setdefault(id(fn), hooked(name, fn))

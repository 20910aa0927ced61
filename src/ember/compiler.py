"""``ember.compiler``: the queries and switches torch.compiler offers, for ember's eager execution."""

from __future__ import annotations

from typing import Any, Callable

from ._compile.api import compile  # noqa: F401  (the same entry point torch.compiler re-exports)


def is_compiling() -> bool:
    """Whether code runs inside a compiled region: never, ember runs everything eagerly."""
    return False


def is_dynamo_compiling() -> bool:
    """Whether code is being traced by torch's dynamo: never in ember."""
    return False


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Exclude ``fn`` from compilation: it already runs eagerly, so it comes back unchanged."""
    if fn is None:
        return lambda f: f
    return fn


def reset() -> None:
    """Forget every compiled function's traced programs: the next call of each traces afresh."""
    from . import _compile

    for fn in list(_compile.compiled_functions):
        fn.reset()


from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""``ember.compiler``: the queries and switches torch.compiler offers around ``ember.compile``."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from ._compile.api import compile  # noqa: F401  (the same entry point torch.compiler re-exports)


def is_compiling() -> bool:
    """Whether code runs inside a compiled region: True while ``ember.compile`` traces a call (the
    code it sees is what the compiled program runs, as in torch), False in eager code and replays."""
    from . import _compile

    return bool(_compile.tracing)


def is_dynamo_compiling() -> bool:
    """Whether ``ember.compile`` is tracing now (torch's name for ``is_compiling`` under dynamo)."""
    return is_compiling()


def _graph_break(why: str) -> None:
    """Inside a trace, stop it there: that call runs eagerly (or raises under ``fullgraph=True``)."""
    from . import _compile

    if _compile.tracing:
        from ._compile.trace import GraphBreak, where

        _compile.tracing[-1].stop(GraphBreak(why, where(sys._getframe(1))))


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Keep ``fn`` out of compilation: called inside a compiled function it breaks the graph, so it
    runs at every call (a logging helper, a counter), as torch runs it outside its graph. A Module
    comes back wrapped (an ``OptimizedModule`` around it, as torch's), itself unchanged."""
    if fn is None:
        return lambda f: disable(f, recursive, reason=reason)
    from . import _compile

    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    why = f"{name} is wrapped in torch.compiler.disable" + (f" ({reason})" if reason else "") + \
        ", so it runs at every call"

    @functools.wraps(fn)
    def disabled(*args: Any, **kwargs: Any) -> Any:
        _graph_break(why)
        return fn(*args, **kwargs)

    if _compile._Module is not None and isinstance(fn, _compile._Module):
        om = _compile._optimized_module_class()(fn)
        disabled.source = disabled.explain = lambda: f"# {why}"  # type: ignore[attr-defined]
        om.__dict__["_compiled"] = disabled  # (what its forward calls)
        return om
    return disabled


def allow_in_graph(fn: Callable) -> Callable:
    """Let the tracer record ``fn`` as one step: ember's tracer records the ops ``fn`` runs anyway."""
    return fn


def assume_constant_result(fn: Callable) -> Callable:
    """torch treats ``fn``'s result as a constant of the graph; ember's trace does so for any Python
    value the function computes (its guards hold the inputs fixed), so ``fn`` comes back as it is."""
    return fn


def cudagraph_mark_step_begin() -> None:
    """Mark the start of a step for CUDA graphs' memory reuse: ember records no CUDA graphs."""


def reset() -> None:
    """Forget every compiled function's traced programs: the next call of each traces afresh."""
    from . import _compile

    for fn in list(_compile.compiled_functions):
        fn.reset()


from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

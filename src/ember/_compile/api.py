"""``ember.compile``: torch.compile's signature, tracing the function once and replaying it as NumPy.

The options are checked as torch checks them; a function comes back wrapped (``__wrapped__`` is
the original) and a Module comes back as an ``OptimizedModule`` holding it as ``_orig_mod`` (its
``state_dict`` keys gain the ``_orig_mod.`` prefix, as in torch). The machinery (``replay``,
``trace``, ``codegen``, ``guards``, ``kernels``) loads on the first call, so ``import ember``
stays light. ``compiled.source()`` shows the generated program, ``compiled.explain()`` what was
traced, cached or broke the graph.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from . import _check_options, _optimized_module_class


def _machinery(fn: Callable, fullgraph: bool, recompile_limit: int | None, dynamic: bool | None) -> Any:
    from .replay import CompiledFunction

    return CompiledFunction(fn, fullgraph=fullgraph, recompile_limit=recompile_limit, dynamic=dynamic)


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable | None = None, mode: str | None = None, options: dict | None = None,
            name: str | None = None, disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec: Any = None) -> Any:
    """Return ``model`` compiled: traced on its first call, replayed as a flat NumPy program after.

    Used bare (``@ember.compile``), with options (``@ember.compile(mode="max-autotune")``) or as a
    call on a function or a Module. ``fullgraph=True`` raises at a graph break instead of running
    that call eagerly. Every new shape is traced anew (the programs are specialised to their shapes);
past ``recompile_limit`` programs, a call whose only change is a size runs eagerly without torch's
recompile-limit warning unless ``dynamic=False`` (torch generalises such sizes instead).
    """
    _check_options(backend, mode, options)
    from . import _Module

    def wrap(fn: Callable) -> Any:
        if not callable(fn):
            raise AssertionError(f"A callable function is expected, but {type(fn)} is provided.")
        if disable:
            return fn
        if _Module is not None and isinstance(fn, _Module):
            om = _optimized_module_class()(fn)
            om.__dict__["_compiled"] = _machinery(fn, fullgraph, recompile_limit, dynamic)
            return om
        state: dict = {}

        def machinery() -> Any:
            if "c" not in state:
                state["c"] = _machinery(fn, fullgraph, recompile_limit, dynamic)
            return state["c"]

        @functools.wraps(fn)
        def compiled(*args: Any, **kwargs: Any) -> Any:
            return machinery()(*args, **kwargs)

        compiled.source = lambda: machinery().source()  # type: ignore[attr-defined]
        compiled.explain = lambda: machinery().explain()  # type: ignore[attr-defined]
        return compiled

    return wrap if model is None else wrap(model)

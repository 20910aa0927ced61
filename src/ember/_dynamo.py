"""``torch._dynamo``: the few names of torch's tracer that tutorials and training scripts call around
``torch.compile`` (``reset()`` between experiments, ``config.suppress_errors``, ``mark_dynamic``).
ember's tracer is ``ember._compile``; these are its switches under torch's names."""

from __future__ import annotations

from typing import Any, Callable

from . import _compile, compiler


class _Config:
    """``torch._dynamo.config``: the settings scripts set; an unknown name fails as in torch."""

    _DEFAULTS = {"suppress_errors": False, "cache_size_limit": 8, "recompile_limit": 8, "verbose": False,
                 "capture_scalar_outputs": False, "capture_dynamic_output_shape_ops": False,
                 "automatic_dynamic_shapes": True, "assume_static_by_default": True, "optimize_ddp": True}

    def __init__(self) -> None:
        _compile.config_values.update(self._DEFAULTS)  # (where ember.compile reads recompile_limit)
        object.__setattr__(self, "_values", _compile.config_values)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name not in values:
            raise AttributeError(f"torch._dynamo.config.{name} does not exist")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise AttributeError(f"torch._dynamo.config.{name} does not exist")
        self._values[name] = value
        if name in ("cache_size_limit", "recompile_limit"):  # (one setting under two names, as in torch)
            self._values["cache_size_limit"] = self._values["recompile_limit"] = value

    def __dir__(self) -> list:
        return sorted(self._values)


config = _Config()


def reset() -> None:
    """Forget every compiled program, so the next call of a compiled function traces afresh."""
    compiler.reset()


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None,
            wrapping: bool = True) -> Any:
    """Keep ``fn`` out of compilation (see ``ember.compiler.disable``)."""
    return compiler.disable(fn, recursive, reason=reason)


allow_in_graph = compiler.allow_in_graph
assume_constant_result = compiler.assume_constant_result


def graph_break() -> None:
    """Break the graph here: a call of a compiled function that reaches this line runs eagerly."""
    compiler._graph_break("torch._dynamo.graph_break() was called")


def mark_dynamic(t: Any, index: Any, *, hint_override: int | None = None, min: int | None = None,
                 max: int | None = None, specialize_on: Any = None) -> None:
    """Mark dimension(s) ``index`` of ``t`` as varying between calls; ember retraces per shape, so a
    hint only (accepted so scripts run)."""


def mark_static(t: Any, index: Any = None) -> None:
    """Mark dimension(s) of ``t`` as fixed: ember's guards already treat every shape as fixed."""


def __getattr__(name: str) -> Any:
    # torch._dynamo.exc: the errors scripts catch (loaded with the tracer, on first use)
    if name == "exc":
        import types

        from ._compile.trace import Unsupported

        exc = types.SimpleNamespace(Unsupported=Unsupported, InvalidBackend=_compile.InvalidBackend)
        globals()["exc"] = exc
        return exc
    raise AttributeError(f"module 'ember._dynamo' has no attribute '{name}'")

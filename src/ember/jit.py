"""``ember.jit``: TorchScript is not part of ember; its decorators that only mark code pass it through.

``script`` and ``trace`` compile to TorchScript, which ember does not implement: they fail with a
clear message instead of returning something that half works. ``ignore``, ``unused``, ``export``,
``annotate`` and the ``is_scripting`` / ``is_tracing`` queries behave as they do in eager torch.
"""

from __future__ import annotations

from typing import Any, Callable


def _missing(name: str) -> NotImplementedError:
    return NotImplementedError(f"ember does not implement torch.jit.{name}: TorchScript is not part of ember; "
                               "call the function or Module directly (it runs eagerly), or use ember.compile")


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, example_inputs: Any = None) -> Any:
    """TorchScript compilation: not implemented in ember (raises NotImplementedError)."""
    raise _missing("script")


def trace(func: Any, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """TorchScript tracing: not implemented in ember (raises NotImplementedError)."""
    raise _missing("trace")


def trace_module(mod: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
    """TorchScript tracing of a Module's methods: not implemented in ember."""
    raise _missing("trace_module")


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    """Saving a TorchScript module: not implemented in ember."""
    raise _missing("save")


def load(f: Any, map_location: Any = None, _extra_files: Any = None, _restore_shapes: bool = False) -> Any:
    """Loading a TorchScript module: not implemented in ember."""
    raise _missing("load")


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Mark a function for the TorchScript compiler to leave as Python: returns it unchanged.

    Usable bare (``@ember.jit.ignore``) or with ``drop=`` (``@ember.jit.ignore(drop=True)``).
    """
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: Callable) -> Callable:
    """Mark a method for the TorchScript compiler to skip: returns it unchanged."""
    return fn


def export(fn: Callable) -> Callable:
    """Mark a method for the TorchScript compiler to compile: returns it unchanged."""
    return fn


def annotate(the_type: Any, the_value: Any) -> Any:
    """Give TorchScript a value's type: returns the value."""
    return the_value


def is_scripting() -> bool:
    """Whether code runs under TorchScript: never in ember."""
    return False


def is_tracing() -> bool:
    """Whether code runs under the TorchScript tracer: never in ember."""
    return False

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

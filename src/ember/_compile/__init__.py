"""torch.compile's options and the OptimizedModule wrapper, below the layers the compiler uses.

The compiler itself (``ember.compile``: trace once, replay as NumPy) is ``api.compile`` with its
machinery in this package's other modules, which sit above ops, nn and optim. What stays here is
what lower layers need: the option checks and the eager ``compile`` that ``nn.Module.compile``
validates its options with (it compiles nothing in place yet).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any, Callable

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_BACKENDS = ("inductor", "eager", "aot_eager", "aot_eager_decomp_partition", "cudagraphs", "openxla", "tvm",
             "onnxrt", "tensorrt", "torch_tensorrt", "ipex")


# every traced function's cache (replay.CompiledFunction), so that ember.compiler.reset() can empty them
compiled_functions: weakref.WeakSet = weakref.WeakSet()
# the tracer watching a call now (trace.Tracer; a compiled function called inside another's trace runs
# eagerly): what ember.compiler.is_compiling() and compiler.disable's graph break look at
tracing: list = []
# torch._dynamo.config's settings, filled and set through ember._dynamo.config (recompile_limit is read
# by every compiled function made without its own limit)
config_values: dict = {}


# nn.Module, set by ember.nn.modules.module when nn loads (this module sits below nn and does not
# import it): until then nothing can be a Module.
_Module: Any = None


class InvalidBackend(RuntimeError):
    """A ``backend=`` name torch.compile does not know."""


InvalidBackend.__module__ = "ember._dynamo.exc"


def _check_options(backend: Any, mode: Any, options: Any) -> None:
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise InvalidBackend(
            f"Invalid backend: '{backend}', see `ember._dynamo.list_backends()` for available backends.")


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable | None = None, mode: str | None = None, options: dict | None = None,
            name: str | None = None, disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec: Any = None) -> Any:
    """Check torch.compile's options and return ``model`` wrapped, running eagerly (``Module.compile``'s
    validation; ``ember.compile`` is ``api.compile``, which traces).

    Used bare (``@ember.compile``), with options (``@ember.compile(mode="max-autotune")``) or as a
    call on a function or a Module.
    """
    _check_options(backend, mode, options)

    def wrap(fn: Callable) -> Any:
        if not callable(fn):
            raise AssertionError(f"A callable function is expected, but {type(fn)} is provided.")
        if disable:
            return fn
        if _Module is not None and isinstance(fn, _Module):
            return _optimized_module_class()(fn)

        @functools.wraps(fn)
        def compiled(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return compiled

    return wrap if model is None else wrap(model)


@functools.cache
def _optimized_module_class() -> type:
    Module = _Module

    # (nn.Module arrives at run time, this module sitting below nn: to mypy the base is a variable)
    class OptimizedModule(Module):  # type: ignore[misc, valid-type]
        """A compiled Module: runs the original, kept as the submodule ``_orig_mod``."""

        def __init__(self, mod: Any) -> None:
            super().__init__()
            self._orig_mod = mod
            self.training = mod.training

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            compiled = self.__dict__.get("_compiled")  # (api.compile's traced version of _orig_mod)
            return self._orig_mod(*args, **kwargs) if compiled is None else compiled(*args, **kwargs)

        def source(self) -> str:
            """The generated NumPy program(s) of the compiled module (see ``ember.compile``)."""
            compiled = self.__dict__.get("_compiled")
            return "# not compiled" if compiled is None else compiled.source()

        def explain(self) -> str:
            """What was traced, cached or broke the graph (see ``ember.compile``)."""
            compiled = self.__dict__.get("_compiled")
            return "# not compiled" if compiled is None else compiled.explain()

        def __getattr__(self, name: str) -> Any:
            # like torch's, attributes the wrapper lacks are looked up on the original module
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self._modules["_orig_mod"], name)

    from .. import _dtype

    OptimizedModule.__qualname__ = "OptimizedModule"
    OptimizedModule.__module__ = f"{_dtype.PREFIX[0]}._dynamo.eval_frame"
    return OptimizedModule


def __getattr__(name: str) -> Any:
    # the class derives from nn.Module, which loads lazily: it is built on first use
    if name == "OptimizedModule" and _Module is not None:
        return _optimized_module_class()
    raise AttributeError(f"module 'ember._compile' has no attribute '{name}'")

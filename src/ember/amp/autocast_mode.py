"""``ember.autocast`` / ``ember.amp.autocast``: run matmuls and convolutions in lower precision.

The state lives in ``ember._autocast`` (thread-local, restored on exit so regions nest); the ops
that torch's CPU autocast lists carry its hook. On ``'cuda'`` autocast is disabled with torch's
warning, since ember has no CUDA backend.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from .. import _autocast, _device, _dtype


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type`` (torch answers True for cpu and cuda)."""
    return _device.device(device_type).type in ("cpu", "cuda", "mps", "xpu", "hpu", "xla", "mtia", "maia")


class autocast:
    """``with ember.autocast('cpu'):`` runs the listed ops in ``dtype`` (bfloat16 or float16); also a decorator."""

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _device.device(device_type).type
        self.fast_dtype = _autocast.get_dtype(self.device) if dtype is None else dtype
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if enabled and self.device == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            enabled = False
        if enabled and self.device == "cpu":
            if self.fast_dtype not in (_dtype.float16, _dtype.bfloat16):
                warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"CPU Autocast only supports dtypes of {_dtype.PREFIX[0]}.bfloat16, "
                              f"{_dtype.PREFIX[0]}.float16 currently.", UserWarning, stacklevel=2)
                enabled = False
        self._enabled = bool(enabled)
        self._saved: list = []

    def __enter__(self) -> "autocast":
        dev = self.device
        self._saved.append((_autocast.is_enabled(dev), _autocast.get_dtype(dev)))
        _autocast.set_enabled(dev, self._enabled)
        if self.fast_dtype is not None:
            _autocast.set_dtype(dev, self.fast_dtype)
        return self

    def __exit__(self, *exc: Any) -> None:
        enabled, dtype = self._saved.pop()
        _autocast.set_enabled(self.device, enabled)
        _autocast.set_dtype(self.device, dtype)

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return decorated


def custom_fwd(fwd: Callable | None = None, *, device_type: str, cast_inputs: Any = None) -> Any:
    """Decorate a custom Function's ``forward`` for autocast; with ``cast_inputs`` it runs outside autocast
    on inputs cast to that dtype."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        if cast_inputs is None or not _autocast.is_enabled(device_type):
            return fwd(*args, **kwargs)
        args = tuple(_autocast._cast(a, cast_inputs) for a in args)
        kwargs = {k: _autocast._cast(v, cast_inputs) for k, v in kwargs.items()}
        with autocast(device_type, enabled=False):
            return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Any:
    """Decorate a custom Function's ``backward`` (ember runs it under the caller's autocast state)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (without one: for CUDA, as torch)."""
    return _autocast.is_enabled("cuda" if device_type is None else _device.device(device_type).type)


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast casts to on ``device_type``."""
    return _autocast.get_dtype(_device.device(device_type).type)


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Turn autocast on or off for ``device_type`` (what ``autocast`` does on entry)."""
    _autocast.set_enabled(_device.device(device_type).type, enabled)


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    """Set the dtype autocast uses on ``device_type``."""
    _autocast.set_dtype(_device.device(device_type).type, dtype)


def _deprecated(old: str, new: str) -> None:
    p = _dtype.PREFIX[0]
    warnings.warn(f"{p}.{old}() is deprecated. Please use {p}.{new} instead.", DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    """Deprecated: ``is_autocast_enabled('cpu')``."""
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return _autocast.is_enabled("cpu")


def get_autocast_cpu_dtype() -> Any:
    """Deprecated: ``get_autocast_dtype('cpu')``."""
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return _autocast.get_dtype("cpu")


def get_autocast_gpu_dtype() -> Any:
    """Deprecated: ``get_autocast_dtype('cuda')``."""
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return _autocast.get_dtype("cuda")

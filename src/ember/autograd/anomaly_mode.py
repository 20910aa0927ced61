"""Anomaly detection and saved-tensor hooks: the debugging switches of ``torch.autograd``.

With anomaly detection on, every node records the stack of the forward call that created it; a
backward function that fails, or (with ``check_nan``) returns NaN, raises an error naming the
function and showing where its forward op ran. Saved-tensor hooks let users pack what ops save for
backward (to offload or compress it) and unpack it when the backward needs it.
"""

from __future__ import annotations

import functools
import threading
import traceback
import warnings
from typing import Any, Callable


class _Flags(threading.local):
    """Anomaly detection is process-wide, as torch's is (a thread sees the mode another set), so it lives
    on the class; saved-tensor hooks are per thread, as torch's are, so they live on each thread's
    instance. ``on`` (anomaly or hooks: the one flag node creation reads) is the class's anomaly flag
    unless this thread has hooks, which set it on the instance."""

    anomaly = False
    check_nan = True
    hooks: list = []
    on = False


flags = _Flags()


def _update() -> None:
    _Flags.on = _Flags.anomaly
    if flags.hooks:
        flags.__dict__["on"] = True
    else:
        flags.__dict__.pop("on", None)


def _set_anomaly(mode: bool, check_nan: bool) -> None:
    _Flags.anomaly, _Flags.check_nan = bool(mode), bool(check_nan)
    _update()


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection (``set_detect_anomaly``) is on: one switch for the whole process."""
    return flags.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also raises on a NaN gradient (its ``check_nan`` flag)."""
    return flags.check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once, or for a ``with`` block."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (flags.anomaly, flags.check_nan)
        _set_anomaly(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _set_anomaly(*self.prev)


class detect_anomaly:
    """Context manager / decorator enabling anomaly detection inside its block."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled "
            "for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (flags.anomaly, flags.check_nan)
        _set_anomaly(True, self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        _set_anomaly(*self.prev)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


def record_forward_stack(node: Any) -> None:
    """Called for each new node while anomaly detection is on."""
    node._anomaly = "".join(traceback.format_stack()[:-3])


def forward_trace(node: Any) -> str:
    return node._anomaly or ""


def check_outputs(node: Any, outs: tuple) -> None:
    """With check_nan: a backward function that returned NaN is an error naming it."""
    import numpy as np

    if not flags.check_nan:
        return
    for i, g in enumerate(outs):
        if g is not None and g._data.dtype.kind in "fc" and np.isnan(g._data).any():
            _warn_forward(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def _warn_forward(node: Any) -> None:
    trace = forward_trace(node)
    if trace:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{trace}",
                      UserWarning, stacklevel=3)


class saved_tensors_hooks:
    """``with saved_tensors_hooks(pack, unpack):`` ops recorded inside save ``pack(t)`` instead of each
    tensor ``t`` they keep for backward, and the backward gets ``unpack(packed)`` back."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        flags.hooks = flags.hooks + [(self.pack_hook, self.unpack_hook)]
        _update()
        return self

    def __exit__(self, *exc: Any) -> None:
        flags.hooks = flags.hooks[:-1]
        _update()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors already live in host memory on ember: a no-op pair of hooks, for API parity."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: t, lambda t: t)

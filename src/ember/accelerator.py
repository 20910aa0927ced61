"""``ember.accelerator``: the device-neutral accelerator API; ember's only device is the CPU, which is not one."""

from __future__ import annotations

from typing import Any


def _none() -> RuntimeError:
    return RuntimeError("Cannot access accelerator device when none is available.")


def is_available() -> bool:
    """Whether an accelerator (CUDA, MPS, XPU ...) can be used: no."""
    return False


def current_accelerator(check_available: bool = False) -> Any:
    """The accelerator's device type, or None when there is none (always None here)."""
    return None


def device_count() -> int:
    """The number of accelerator devices: 0."""
    return 0


def _needs_accelerator(name: str, doc: str) -> Any:
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise _none()

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + " Raises torch's RuntimeError: there is no accelerator."
    return fn


current_device_index = _needs_accelerator("current_device_index", "The index of the current accelerator.")
current_device_idx = current_device_index
synchronize = _needs_accelerator("synchronize", "Wait for the accelerator's work to finish.")
empty_cache = _needs_accelerator("empty_cache", "Release the accelerator's cached memory.")
memory_allocated = _needs_accelerator("memory_allocated", "Bytes held by tensors on the accelerator.")
max_memory_allocated = _needs_accelerator("max_memory_allocated", "Peak bytes held on the accelerator.")
current_stream = _needs_accelerator("current_stream", "The accelerator's current stream.")
get_device_capability = _needs_accelerator("get_device_capability", "The accelerator's capabilities.")


def set_device_index(device: Any) -> None:
    """Select an accelerator device: there is none to select."""
    raise _none()


set_device_idx = set_device_index

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

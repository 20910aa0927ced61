"""``ember.cpu``: the CPU as a device namespace (always available, one device), as ``torch.cpu``."""

from __future__ import annotations

from typing import Any

from . import amp  # noqa: F401  (the deprecated autocast / GradScaler spellings)


def is_available() -> bool:
    """The CPU is always available."""
    return True


def is_initialized() -> bool:
    """The CPU needs no initialisation."""
    return True


def device_count() -> int:
    """One CPU device."""
    return 1


def current_device() -> str:
    """The CPU's device string, ``'cpu'``."""
    return "cpu"


def set_device(device: Any) -> None:
    """Selecting the CPU does nothing: there is one."""


def synchronize(device: Any = None) -> None:
    """CPU work is synchronous: nothing to wait for."""

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

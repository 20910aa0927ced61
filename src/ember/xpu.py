"""``ember.xpu``: Intel's GPU backend namespace, answering as torch's CPU-only build does.

Queries that need no device answer "none" (not available, 0 devices, no memory in use); calls that
need one raise torch's ``AssertionError: Torch not compiled with XPU enabled``; seeding is a no-op.
"""

from __future__ import annotations

from typing import Any

from ._no_device import (  # noqa: F401
    empty_cache,
    manual_seed,
    manual_seed_all,
    max_memory_allocated,
    max_memory_reserved,
    memory_allocated,
    memory_reserved,
    seed,
    seed_all,
)


def _lazy_init() -> None:
    raise AssertionError("Torch not compiled with XPU enabled")


def is_available() -> bool:
    """Whether an XPU can be used: no."""
    return False


def device_count() -> int:
    """The number of XPU devices: 0."""
    return 0


def is_initialized() -> bool:
    """Whether the XPU state has been initialised: never without XPU."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether bfloat16 is supported on the XPU: no."""
    return False


def get_arch_list() -> list:
    """The XPU architectures this build was compiled for: none."""
    return []


def init() -> None:
    """Initialise XPU state: raises without XPU."""
    _lazy_init()


def current_device() -> int:
    """The selected XPU's index: raises without XPU."""
    _lazy_init()
    return 0


def set_device(device: Any) -> None:
    """Select an XPU: raises without XPU."""
    _lazy_init()


def synchronize(device: Any = None) -> None:
    """Wait for XPU work: raises without XPU."""
    _lazy_init()


def get_device_name(device: Any = None) -> str:
    """The XPU's name: raises without XPU."""
    _lazy_init()
    return ""


def get_device_properties(device: Any = None) -> Any:
    """The XPU's properties: raises without XPU."""
    _lazy_init()


def get_device_capability(device: Any = None) -> dict:
    """The XPU's capabilities: raises without XPU."""
    _lazy_init()
    return {}


def get_rng_state(device: Any = "xpu") -> Any:
    """The XPU generator's state: raises without XPU."""
    _lazy_init()


def set_rng_state(new_state: Any, device: Any = "xpu") -> None:
    """Set the XPU generator's state: raises without XPU."""
    _lazy_init()


def initial_seed() -> int:
    """The XPU generator's initial seed: raises without XPU."""
    _lazy_init()
    return 0



from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""``ember.mps``: Apple's Metal backend namespace, answering as torch does where MPS is missing."""

from __future__ import annotations

from typing import Any


def _missing(what: str) -> RuntimeError:
    return RuntimeError(f"Cannot execute {what}() without MPS backend.")


def is_available() -> bool:
    """Whether the MPS device can be used: no."""
    return False


def device_count() -> int:
    """The number of MPS devices: 0."""
    return 0


def manual_seed(seed: int) -> None:
    """Seed the MPS generator: a no-op without MPS, as in torch."""


def synchronize() -> None:
    """Wait for MPS work: raises torch's RuntimeError without MPS."""
    raise _missing("deviceSynchronize")


def empty_cache() -> None:
    """Release MPS cached memory: raises torch's RuntimeError without MPS."""
    raise _missing("emptyCache")


def seed() -> None:
    """Seed the MPS generator randomly: raises torch's RuntimeError without MPS."""
    raise _missing("getDefaultGenerator")


def get_rng_state(device: Any = "mps") -> Any:
    """The MPS generator's state: raises torch's RuntimeError without MPS."""
    raise _missing("getDefaultGenerator")


def set_rng_state(new_state: Any, device: Any = "mps") -> None:
    """Set the MPS generator's state: raises torch's RuntimeError without MPS."""
    raise _missing("getDefaultGenerator")


def current_allocated_memory() -> int:
    """Bytes held by MPS tensors: raises torch's RuntimeError without MPS."""
    raise _missing("getCurrentAllocatedMemory")


def driver_allocated_memory() -> int:
    """Bytes the Metal driver holds: raises torch's RuntimeError without MPS."""
    raise _missing("getDriverAllocatedMemory")


def recommended_max_memory() -> int:
    """Metal's recommended working-set size: raises torch's RuntimeError without MPS."""
    raise _missing("getRecommendedMaxMemory")

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""What torch's CPU-only build answers in a GPU namespace (``torch.cuda``, ``torch.xpu``) for calls that
do not need a device: seeding is a no-op (torch queues it until a device exists) and memory counters are 0."""

from __future__ import annotations

from typing import Any


def manual_seed(seed: int) -> None:
    """Seed the current device's generator: a no-op without the device, as in torch."""


def manual_seed_all(seed: int) -> None:
    """Seed every device's generator: a no-op without the device."""


def seed() -> None:
    """Seed the current device's generator randomly: a no-op without the device."""


def seed_all() -> None:
    """Seed every device's generator randomly: a no-op without the device."""


def empty_cache() -> None:
    """Release cached device memory: nothing to release."""


def memory_allocated(device: Any = None) -> int:
    """Bytes held by tensors on the device: 0."""
    return 0


def max_memory_allocated(device: Any = None) -> int:
    """Peak bytes held by tensors on the device: 0."""
    return 0


def memory_reserved(device: Any = None) -> int:
    """Bytes reserved by the device's caching allocator: 0."""
    return 0


def max_memory_reserved(device: Any = None) -> int:
    """Peak bytes reserved by the device's caching allocator: 0."""
    return 0

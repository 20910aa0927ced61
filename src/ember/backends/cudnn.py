"""``ember.backends.cudnn``: cuDNN's flags, kept for scripts that set them; ember has no cuDNN."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

enabled = True
benchmark = False
benchmark_limit = None  # (torch sets a limit only where cuDNN exists)
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Whether cuDNN can be used: no (ember has no CUDA backend)."""
    return False


def version() -> None:
    """cuDNN's version: None, as torch reports without cuDNN."""
    return None


def is_acceptable(tensor: Any) -> bool:
    """Whether cuDNN would accept ``tensor``: never without cuDNN."""
    return False


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int | None = 10, deterministic: bool = False,
          allow_tf32: bool = True) -> Iterator[None]:
    """Set cuDNN's flags inside a ``with`` block and restore them after."""
    g = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    old = {n: g[n] for n in names}
    g.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit, deterministic=deterministic,
             allow_tf32=allow_tf32)
    try:
        yield
    finally:
        g.update(old)

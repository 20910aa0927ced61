"""``ember.cpu.amp``: torch's deprecated CPU spellings of autocast and GradScaler."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _dtype
from ..amp import GradScaler as _GradScaler
from ..amp import autocast as _autocast


class autocast(_autocast):
    """Deprecated ``torch.cpu.amp.autocast``: ``ember.amp.autocast('cpu', ...)``."""

    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        warnings.warn("`ember.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`ember.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        # torch's default here is bfloat16 (ember's when it has one)
        super().__init__("cpu", dtype=getattr(_dtype, "bfloat16", None) if dtype is None else dtype,
                         enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """Deprecated ``torch.cpu.amp.GradScaler``: ``ember.amp.GradScaler('cpu', ...)``."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`ember.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`ember.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)


# printed where torch keeps them (torch.cpu.amp.autocast_mode.autocast)
autocast.__module__ = "ember.cpu.amp.autocast_mode"
GradScaler.__module__ = "ember.cpu.amp.grad_scaler"

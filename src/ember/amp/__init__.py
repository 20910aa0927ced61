"""``ember.amp``: automatic mixed precision, ``autocast`` and ``GradScaler``, as torch.amp on the CPU."""

from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]

"""``ember.amp.GradScaler``: loss scaling for mixed-precision training, with torch's bookkeeping.

``scale(loss)`` multiplies by the scale, ``step(optimizer)`` unscales the gradients and skips the
step when one is inf or NaN, ``update()`` backs the scale off after a skip and grows it after
``growth_interval`` clean steps. On ``'cuda'`` (torch's default) it disables itself with torch's
warning, since ember has no CUDA backend; a disabled scaler passes everything through.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import _device

_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """Scale losses and unscale gradients so that low-precision gradients neither underflow nor blow up."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = _device.device(device).type
        if enabled and self._device == "cuda":
            warnings.warn("ember.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          UserWarning, stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._scale: Any = None
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._growth_tracker: Any = None
        self._per_optimizer: dict = {}

    # ------------------------------------------------------------------ scaling
    def _lazy_init(self) -> None:
        from .._dtype import float32, int32
        from ..ops.creation import tensor

        if self._scale is None:
            self._scale = tensor(self._init_scale, dtype=float32)
            self._growth_tracker = tensor(self._init_growth_tracker, dtype=int32)

    def _state(self, optimizer: Any) -> dict:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def scale(self, outputs: Any) -> Any:
        """Multiply a loss (or a nested list or tuple of them) by the current scale."""
        from .._tensor import Tensor

        if not self._enabled:
            return outputs
        self._lazy_init()
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place, and note whether any is inf or NaN."""
        if not self._enabled:
            return
        st = self._state(optimizer)
        if st["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        self._lazy_init()
        inv = np.float32(1.0 / float(self._scale.item()))
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g._data.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                d = g._data
                found = found or not bool(np.isfinite(d).all())
                np.multiply(d, inv, out=d, casting="unsafe")
                g._vc[0] += 1
        st["found_inf"] = found
        st["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless done) and take ``optimizer.step()`` unless a gradient was inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        st = self._state(optimizer)
        if st["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] == _READY:
            self.unscale_(optimizer)
        if st["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None if st["found_inf"] else optimizer.step(*args, **kwargs)
        st["stage"] = _STEPPED
        return retval

    def update(self, new_scale: Any = None) -> None:
        """Set the scale for the next iteration: ``new_scale``, or backed off / grown by the rules above."""
        from .._tensor import Tensor

        if not self._enabled:
            return
        self._lazy_init()
        if new_scale is not None:
            value = new_scale.item() if isinstance(new_scale, Tensor) else float(new_scale)
            self._scale._data[...] = value
        else:
            found = [s["found_inf"] for s in self._per_optimizer.values() if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            scale = self._scale._data
            if any(found):
                scale *= np.float32(self._backoff_factor)
                self._growth_tracker._data[...] = 0
            else:
                tracker = int(self._growth_tracker.item()) + 1
                if tracker == self._growth_interval:
                    grown = scale * np.float32(self._growth_factor)
                    if math.isfinite(float(grown)):
                        scale[...] = grown
                    tracker = 0
                self._growth_tracker._data[...] = tracker
        self._per_optimizer = {}

    # ------------------------------------------------------------------ settings
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after ``growth_interval`` clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the growth factor."""
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after a step with an inf or NaN gradient."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the backoff factor."""
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        """How many clean steps in a row grow the scale."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the growth interval."""
        self._growth_interval = new_interval

    def is_enabled(self) -> bool:
        """Whether this scaler scales (False on 'cuda' in ember, or when built with enabled=False)."""
        return self._enabled

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker.item())

    def state_dict(self) -> dict:
        """The scale and its rules, for checkpoints (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale._data[...] = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker._data[...] = self._init_growth_tracker

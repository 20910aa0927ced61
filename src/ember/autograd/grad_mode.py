"""Gradient-recording switches: no_grad, enable_grad, set_grad_enabled, inference_mode.

The flag is thread-local, as in torch: a no_grad block in one thread leaves others recording.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable


class _State(threading.local):
    enabled = True
    inference = False


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    return _state.inference


class _GradModeContext:
    """Base for the switches: usable as a context manager and as a decorator."""

    def _enter_mode(self) -> bool:
        raise NotImplementedError

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = self._enter_mode()

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)

        return wrapper

    def _clone(self) -> "_GradModeContext":
        return self.__class__()


class no_grad(_GradModeContext):
    """Disable gradient recording inside the block (or the decorated function)."""

    def __init__(self) -> None:
        pass

    def _enter_mode(self) -> bool:
        return False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside the block, e.g. within a no_grad region."""

    def __init__(self) -> None:
        pass

    def _enter_mode(self) -> bool:
        return True


class set_grad_enabled(_GradModeContext):
    """Set grad mode: at once when called, for a block as a context manager, or as a decorator."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not {type(mode).__name__}")
        self.mode = mode
        self._prev = _state.enabled
        self._applied = True
        _state.enabled = mode

    def _enter_mode(self) -> bool:
        return self.mode

    def __enter__(self) -> None:
        if not self._applied:  # a fresh copy made for a decorated call
            self._prev = _state.enabled
        self._applied = False
        _state.enabled = self.mode

    def __call__(self, fn: Callable) -> Callable:
        _state.enabled = self._prev  # used as a decorator: apply only inside fn
        return super().__call__(fn)

    def _clone(self) -> "_GradModeContext":
        c = object.__new__(set_grad_enabled)
        c.mode, c._applied = self.mode, False
        return c

    def clone(self) -> "set_grad_enabled":
        return self._clone()  # type: ignore[return-value]


class inference_mode(_GradModeContext):
    """Like no_grad (ember has no separate inference tensors; the flag is reported)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def _enter_mode(self) -> bool:
        return not self.mode and _state.enabled

    def __enter__(self) -> None:
        self._prev_inf = _state.inference
        _state.inference = self.mode
        super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        _state.inference = self._prev_inf
        super().__exit__(*exc)

    def _clone(self) -> "_GradModeContext":
        return inference_mode(self.mode)

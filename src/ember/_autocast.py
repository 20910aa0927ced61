"""Autocast's state and the one hook that casts an op's inputs (``ember.autocast`` builds on it).

Under ``ember.autocast('cpu')`` torch runs matrix products and convolutions in a lower precision
(bfloat16 unless told float16) and a list of precision-sensitive ops (losses ...) in float32. An op
joins a list by wearing ``@autocast_op("lower")`` or ``@autocast_op("fp32")`` where it is defined;
outside an autocast region the hook costs one thread-local read.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from . import _dtype


class _State(threading.local):
    # class attributes are each thread's defaults
    cpu = False
    cuda = False
    cpu_dtype: Any = _dtype.bfloat16
    cuda_dtype: Any = _dtype.float16
    others: dict | None = None


state = _State()


def is_enabled(device_type: str) -> bool:
    if device_type == "cpu":
        return state.cpu
    if device_type == "cuda":
        return state.cuda
    return bool((state.others or {}).get(device_type, (False, None))[0])


def get_dtype(device_type: str) -> Any:
    if device_type == "cpu":
        return state.cpu_dtype
    if device_type == "cuda":
        return state.cuda_dtype
    return (state.others or {}).get(device_type, (False, _dtype.float16))[1]


def set_enabled(device_type: str, enabled: bool) -> None:
    if device_type == "cpu":
        state.cpu = bool(enabled)
    elif device_type == "cuda":
        state.cuda = bool(enabled)
    else:
        if state.others is None:
            state.others = {}
        state.others[device_type] = (bool(enabled), get_dtype(device_type))


def set_dtype(device_type: str, dtype: Any) -> None:
    if device_type == "cpu":
        state.cpu_dtype = dtype
    elif device_type == "cuda":
        state.cuda_dtype = dtype
    else:
        if state.others is None:
            state.others = {}
        state.others[device_type] = (is_enabled(device_type), dtype)


def _cast(value: Any, dtype: Any) -> Any:
    # torch casts CPU floating tensors other than float64; everything else passes unchanged
    from ._tensor import Tensor

    if isinstance(value, Tensor):
        dt = value.dtype  # (ember's dtype: a bfloat16 NumPy lacks still counts as floating point)
        if dt.is_floating_point and dt is not _dtype.float64 and dt is not dtype:
            return value.to(dtype)
    return value


def einsum_contracts(subs: list, out: str) -> bool:
    """Whether an einsum sums over a letter shared by two operands (torch computes it with bmm then)."""
    seen: dict = {}
    for s in subs:
        for c in set(s):
            seen[c] = seen.get(c, 0) + 1
    return any(n > 1 and c not in out for c, n in seen.items())


def autocast_op(policy: str) -> Callable[[Callable], Callable]:
    """Put an op on CPU autocast's ``"lower"`` precision list or its ``"fp32"`` list."""
    assert policy in ("lower", "fp32")

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            if not state.cpu:
                return fn(*args, **kwargs)
            dtype = get_dtype("cpu") if policy == "lower" else _dtype.float32
            state.cpu = False  # the op's own sub-ops run on the inputs as cast here
            try:
                args = tuple(_cast(a, dtype) for a in args)
                kwargs = {k: _cast(v, dtype) for k, v in kwargs.items()}
                return fn(*args, **kwargs)
            finally:
                state.cpu = True

        return op

    return decorate

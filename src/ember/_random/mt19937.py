"""The MT19937 state torch's CPU generator holds: its byte layout and ``init_genrand`` seeding."""

from __future__ import annotations

from typing import Any

import numpy as np

_DEFAULT_SEED = 67280421310721
_MT_N = 624
_STATE_BYTES = 5056
_OFF_STATE = 24                       # uint64[624] after seed, left, seeded, next
_OFF_NORMAL_Y = _OFF_STATE + 8 * _MT_N + 8   # double: cached Box-Muller value
_OFF_NORMAL_VALID = _OFF_NORMAL_Y + 16      # int32: cache valid flag


def _mt_key(seed32: int) -> np.ndarray:
    """The MT19937 state for ``init_genrand(seed32)`` (what ``manual_seed`` installs)."""
    key = [0] * _MT_N
    x = seed32 & 0xFFFFFFFF
    key[0] = x
    for i in range(1, _MT_N):
        x = (1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF
        key[i] = x
    return np.array(key, dtype=np.uint32)


def _normalize_seed(seed: Any) -> int:
    seed = int(seed)
    if seed < -(1 << 63) or seed >= (1 << 64):
        raise ValueError("Overflow when unpacking long long")
    return seed & 0xFFFFFFFFFFFFFFFF

"""randperm's Fisher-Yates shuffle, vectorised."""

from __future__ import annotations

import numpy as np


def _forward_shuffle(j: np.ndarray, n: int) -> np.ndarray:
    """``arange(n)`` after the swaps ``perm[i] <-> perm[j[i]]`` for i = 0 .. n-2 in order
    (``j[i] >= i``), without a Python loop over the swaps.

    Step i fixes position i for good (later swaps touch only positions > i), so
    ``out[i]`` is what position ``j[i]`` holds just before step i: the value the last earlier step
    k with ``j[k] == j[i]`` put there, which is what position k held before step k (call it
    ``V[k]``), or ``j[i]`` itself when no earlier step wrote there. ``V`` follows the same rule
    (``V[i] = V[k]`` for the last k < i with ``j[k] == i``, else ``i``): chains towards smaller
    indices, resolved by pointer jumping. Grouping the steps by target is one sort of
    ``j * n + k`` (unique keys, so the fast unstable sort gives the stable order)."""
    m = n - 1
    key = j * n
    key += np.arange(m, dtype=np.int64)
    key.sort()
    order, sj = key % n, key // n        # the steps grouped by target, in step order within a group
    same = sj[1:] == sj[:-1]
    kstar = np.full(m, -1, np.int64)     # the previous step with the same target
    kstar[order[1:][same]] = order[:-1][same]
    ends = np.flatnonzero(np.append(~same, True))
    prev = np.full(n, -1, np.int64)      # the last step k < i that wrote position i
    prev[sj[ends]] = order[ends]
    idx = np.arange(n, dtype=np.int64)
    prev[prev == idx] = -1               # a step that swapped position i with itself: look further back
    selfs = np.flatnonzero(j == idx[:m])
    prev[selfs] = kstar[selfs]
    root = np.where(prev >= 0, prev, idx)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    out = np.empty(n, np.int64)
    out[:m] = np.where(kstar >= 0, root[np.maximum(kstar, 0)], j)
    out[m] = root[m]
    return out

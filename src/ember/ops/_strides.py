"""How torch's TensorIterator orders the dims of an output it allocates (from its inputs' strides),
which decides whether a result is contiguous; no ember imports, so any ops module may use it."""

from __future__ import annotations


def iterator_order(shape: tuple, operands: list) -> list:
    """The dims of ``shape`` from slowest to fastest as torch's TensorIterator lays out an output it
    allocates: sorted by the inputs' strides (``operands``: one stride per dim each; a 0 stride, a
    broadcast, defers to the next operand; equal strides put the smaller dim faster)."""
    n = len(shape)
    perm = list(range(n - 1, -1, -1))  # fastest first, as the iterator holds them

    def swap(d0: int, d1: int) -> int:
        for st in operands:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0 or shape[d0] == 1 or shape[d1] == 1:  # (a size-1 dim's stride is arbitrary)
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    for i in range(1, n):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm[::-1]

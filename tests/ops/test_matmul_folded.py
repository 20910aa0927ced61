# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""Batches @ one matrix runs as one folded GEMM (forward and the matrix's gradient): values and first
and second gradients as torch's, for contiguous, transposed and empty operands."""

from __future__ import annotations

from ops_oracle import case, rnd


def test_batches_times_matrix_folded() -> None:
    case(lambda lib, a, b: a @ b, rnd(2, 3, 4), rnd(4, 5))
    case(lambda lib, a, b: lib.matmul(a, b), rnd(2, 2, 3, 4), rnd(4, 2))
    case(lambda lib, a, b: a.transpose(0, 1) @ b, rnd(3, 2, 4), rnd(4, 5))      # non-contiguous batches
    case(lambda lib, a, b: lib.nn.functional.linear(a.transpose(0, 1), b), rnd(3, 2, 4), rnd(5, 4))


def test_batches_times_matrix_empty() -> None:
    case(lambda lib, a, b: a @ b, rnd(0, 3, 4), rnd(4, 5))
    case(lambda lib, a, b: a @ b, rnd(2, 3, 0), rnd(0, 5))

"""Type promotion under vmap against torch.func.vmap: a batched value whose per-sample value is 0-d
promotes as the 0-d tensor it is (lower priority than tensors with dims), not as the 1-d array
that holds the batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef

CASES = {
    # per-sample 0-d float32 times a float16 vector: float16
    "f32_0d_mul_f16": lambda L: ((lambda a: a * L.ones(3, dtype=L.float16)), (L.tensor([1.5, 2.0, 3.0]),)),
    "i64_0d_add_i32": lambda L: ((lambda a: a + L.arange(3, dtype=L.int32)), (L.tensor([1, 2, 3], dtype=L.int64),)),
    "f64_0d_rmul_f16": lambda L: ((lambda a: L.ones(2, dtype=L.float16) * a), (L.tensor([1.25, 2.0], dtype=L.float64),)),
    "both_batched": lambda L: ((lambda a, b: a * b), (L.tensor([1.0, 2.0], dtype=L.float64),
                                                      L.ones(2, 2, dtype=L.float16))),
    # a higher category still wins from a 0-d operand: int32 vector < float64 0-d compares in float64
    "int_vec_lt_f64_0d": lambda L: ((lambda a: L.arange(3, dtype=L.int32) < a), (L.tensor([1.5, 0.5], dtype=L.float64),)),
    "i32_0d_add_f64_0d_plain": lambda L: ((lambda a: a + L.tensor(2.5, dtype=L.float64)),
                                          (L.tensor([1, 2], dtype=L.int32),)),
    "with_scalar": lambda L: ((lambda a: L.sub(a, L.ones(2, dtype=L.int16), alpha=2) * 3),
                              (L.tensor([7, 9], dtype=L.int64),)),
    "div_ints": lambda L: ((lambda a: a / L.arange(1, 3, dtype=L.int8)), (L.tensor([3, 4], dtype=L.int64),)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_batched_0d_promotes_as_a_0d_tensor(case):
    got = ef.vmap(*CASES[case](ember)[:1])(*CASES[case](ember)[1])
    want = tf.vmap(*CASES[case](torch)[:1])(*CASES[case](torch)[1])
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_nested_vmap_promotes_by_the_inner_logical_dims():
    def run(L, F):
        f = F.vmap(F.vmap(lambda a, b: a * b, in_dims=(0, None)), in_dims=(0, None))
        return f(L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float64), L.full((3,), 0.5, dtype=L.float16))

    got, want = run(ember, ef), run(torch, tf)
    assert str(got.dtype) == "ember.float16" and want.dtype == torch.float16
    np.testing.assert_array_equal(got.numpy(), want.numpy())

"""Embedding's weight gradient (rows summed per index, sorted-reduce in nn/_ops._add_rows) against
torch: repeated indices, padding_idx, scale_grad_by_freq, an empty batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(13)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 3}, {"scale_grad_by_freq": True},
                                {"padding_idx": 0, "scale_grad_by_freq": True}])
@pytest.mark.parametrize("shape", [(40, 30), (7,), (0, 5)])
def test_embedding_weight_grad_matches_torch(kw, shape):
    idx = R.integers(0, 12, shape)  # many repeats
    w0 = R.standard_normal((12, 6))
    g0 = R.standard_normal(shape + (6,))
    res = []
    for lib in (ember, torch):
        w = lib.tensor(w0, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(idx), w, **kw)
        (out * lib.tensor(g0)).sum().backward()
        res.append((out.detach().numpy(), w.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_add_rows_equals_numpy_add_at():
    from ember.nn._ops import _add_rows

    idx = R.integers(0, 50, 5000)
    rows = R.standard_normal((5000, 8)).astype(np.float32)
    ref = np.zeros((50, 8), np.float32)
    np.add.at(ref, idx, rows)
    np.testing.assert_allclose(_add_rows(50, idx, rows), ref, rtol=1e-5, atol=1e-5)

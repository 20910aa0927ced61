"""The non-overlapping max-pool fast path agrees with torch, ties and odd sizes included."""

import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("shape,k", [((2, 3, 8, 8), 2), ((2, 3, 9, 7), 2), ((1, 2, 6, 6), 3), ((2, 1, 8, 8), (2, 4)),
                                     ((3, 2, 4, 4), 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_max_pool_matches_torch(shape, k, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, 0, :2] = 5.0  # a tie inside a window: torch takes the first
    x[-1, -1, -2:, -2:] = -1.0
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    eo = ember.nn.functional.max_pool2d(e, k)
    to = torch.nn.functional.max_pool2d(t, k)
    assert type(eo.grad_fn).__name__ == type(to.grad_fn).__name__
    np.testing.assert_array_equal(eo.detach().numpy(), to.detach().numpy())
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_nan_propagates_like_torch():
    x = np.ones((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 2, 3] = np.nan
    x[0, 0, 3, 2] = np.nan
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    eo = ember.nn.functional.max_pool2d(e, 2)
    to = torch.nn.functional.max_pool2d(t, 2)
    np.testing.assert_array_equal(eo.detach().numpy(), to.detach().numpy())
    eo.sum().backward()
    to.sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())

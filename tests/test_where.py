"""ember's branch-free where (ops._core.where_np) against np.where and torch.where: same values bit
for bit, same dtypes, broadcasting, NaN / -0.0 / inf passed through."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.ops._core import where_np

R = np.random.default_rng(9)
SPECIAL = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-45, -3.5], np.float64)


def _arr(shape, dtype):
    a = R.standard_normal(shape) * 3
    if np.dtype(dtype).kind == "f" and a.size >= 7:
        a.ravel()[:7] = SPECIAL
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, bool])
@pytest.mark.parametrize("shapes", [((64, 64), (64, 64), (64, 64)), ((64, 64), (64, 1), (64,)), ((1, 64), (64, 64), ())])
def test_matches_numpy_where(dtype, shapes):
    cs, as_, bs = shapes
    cond = R.random(cs) > 0.5
    a, b = _arr(as_, dtype), _arr(bs, dtype)
    for x, y in ((a, b), (a, 0), (1.5, b), (True, a)):
        ref, got = np.where(cond, x, y), where_np(cond, x, y)
        assert got.dtype == ref.dtype and got.shape == ref.shape
        assert got.tobytes() == ref.tobytes()


def test_ember_where_and_masked_fill_match_torch():
    a, b = _arr((128, 64), np.float32), _arr((128, 64), np.float32)
    c = R.random((128, 64)) > 0.5
    e = ember.where(ember.tensor(c), ember.tensor(a), ember.tensor(b)).numpy()
    t = torch.where(torch.tensor(c), torch.tensor(a), torch.tensor(b)).numpy()
    assert e.tobytes() == t.tobytes()
    e = ember.tensor(a).masked_fill(ember.tensor(c), -0.0).numpy()
    t = torch.tensor(a).masked_fill(torch.tensor(c), -0.0).numpy()
    assert e.tobytes() == t.tobytes()


@pytest.mark.parametrize("name, args", [("leaky_relu", (0.1,)), ("elu", ()), ("hardswish", ()), ("softshrink", (0.5,)),
                                        ("hardshrink", (0.5,)), ("threshold", (0.2, -1.0))])
def test_activations_on_large_inputs_match_torch(name, args):
    # large enough for the branch-free path; boundaries, zeros and infinities included. (NaN is
    # left out: torch's own vector and scalar kernels disagree on some of these at NaN.)
    a = np.concatenate([R.standard_normal(4000) * 3, [-3.0, 3.0, -0.5, 0.5, 0.2, -0.0, 0.0, np.inf, -np.inf]])
    a = a.astype(np.float32)[None]
    res = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, *args)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(np.float32))).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, args", [("softshrink", (0.5,)), ("hardshrink", (0.5,)), ("threshold", (0.2, -1.0)),
                                        ("leaky_relu", (0.1,)), ("elu", ())])
def test_activations_pass_nan_through_like_torch(name, args):
    a = np.full((1, 4096), np.nan, np.float32)
    for lib in (ember, torch):
        assert np.isnan(getattr(lib.nn.functional, name)(lib.tensor(a), *args).numpy()).all()

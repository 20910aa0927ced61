"""conv2d's two NumPy paths (flat-shift im2col in cache-sized blocks for stride 1, strided windows
otherwise) against torch: values and all three gradients, float64 and float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember.ops import convolution as _conv

R = np.random.default_rng(11)

CASES = [  # (x shape, w shape, kwargs)
    ((2, 3, 9, 8), (4, 3, 3, 3), {"padding": 1}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {}),
    ((3, 4, 10, 7), (6, 2, 3, 2), {"padding": (2, 1), "dilation": (2, 1), "groups": 2}),
    ((2, 3, 8, 8), (5, 3, 2, 4), {"padding": "same"}),  # asymmetric padding
    ((1, 2, 12, 12), (3, 2, 5, 5), {"padding": 2, "dilation": 1}),
    ((2, 3, 9, 9), (4, 3, 3, 3), {"padding": 1, "stride": 2}),  # strided: window path
    ((2, 4, 6, 6), (4, 1, 3, 3), {"padding": 1, "groups": 4}),  # depthwise
    ((2, 2, 4, 4), (3, 2, 3, 3), {}),  # heavy cropping: window path
]


@pytest.mark.parametrize("block_bytes", [1 << 22, 4096])  # one block, and many blocks
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xs, ws, kw", CASES)
def test_conv2d_matches_torch(xs, ws, kw, dtype, block_bytes, monkeypatch) -> None:
    monkeypatch.setattr(_conv, "_FLAT_BLOCK_BYTES", block_bytes)
    x0, w0, b0 = R.standard_normal(xs).astype(dtype), R.standard_normal(ws).astype(dtype), \
        R.standard_normal(ws[0]).astype(dtype)
    res = {}
    for lib, F in ((ember, EF), (torch, TF)):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (x0, w0, b0))
        out = F.conv2d(x, w, b, **kw)
        g = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(dtype))
        (out * g).sum().backward()
        res[lib.__name__] = [t.detach().numpy() for t in (out, x.grad, w.grad, b.grad)]
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for e, t in zip(res["ember"], res["torch"]):
        assert e.shape == t.shape and e.dtype == t.dtype
        np.testing.assert_allclose(e, t, **tol)


@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_conv2d_partial_needs(needs) -> None:
    x0, w0 = R.standard_normal((2, 3, 7, 7)), R.standard_normal((4, 3, 3, 3))
    grads = {}
    for lib, F in ((ember, EF), (torch, TF)):
        x, w = lib.tensor(x0, requires_grad=needs[0]), lib.tensor(w0, requires_grad=needs[1])
        F.conv2d(x, w, padding=1).square().sum().backward()
        grads[lib.__name__] = [t.grad.numpy() if t.grad is not None else None for t in (x, w)]
    for e, t in zip(grads["ember"], grads["torch"]):
        assert (e is None) == (t is None)
        if e is not None:
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 9, 7), (1, 1, 4, 6)])
@pytest.mark.parametrize("k", [2, 3])
def test_max_pool_tiled_ties_and_remainders(shape, k) -> None:
    # after a ReLU most windows tie at 0: the gradient goes to each window's first maximum, and
    # rows/columns the windows don't cover get none (torch's rules), bit for bit
    x0 = np.maximum(R.standard_normal(shape), 0).astype(np.float32)
    x0[0, 0, :2, :2] = 1.0
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        out = lib.nn.functional.max_pool2d(x, k)
        w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)).astype(np.float32))
        (out * w).sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*res):
        np.testing.assert_array_equal(e, t)

"""3-d pooling (max, average, adaptive) and max-unpooling of every rank against torch: values,
indices, grad_fn names, first and second derivatives, gradgradcheck, module reprs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.oracle import check

import ember

R = np.random.default_rng(5)


def _a(*shape: int) -> np.ndarray:
    return R.standard_normal(shape)


MAX3D = [
    ((2, 3, 6, 5, 7), {"kernel_size": 2}),
    ((1, 2, 7, 6, 5), {"kernel_size": (3, 2, 2), "stride": (2, 1, 2), "padding": (1, 0, 1)}),
    ((1, 2, 7, 7, 6), {"kernel_size": 2, "dilation": (2, 1, 2), "ceil_mode": True}),
    ((1, 2, 5, 6, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1}),
    ((2, 5, 4, 6), {"kernel_size": (2, 3, 2)}),  # unbatched
]


@pytest.mark.parametrize("shape, kw", MAX3D)
def test_max_pool3d(shape, kw) -> None:
    check(lambda lib, x: lib.nn.functional.max_pool3d(x, **kw), _a(*shape), second=True)
    check(lambda lib, x: lib.nn.functional.max_pool3d(x, return_indices=True, **kw), _a(*shape), second=True)


AVG3D = [
    ((2, 3, 6, 5, 7), {"kernel_size": 2}),
    ((1, 2, 7, 6, 5), {"kernel_size": (3, 2, 2), "stride": (2, 1, 2), "padding": (1, 0, 1)}),
    ((1, 2, 7, 6, 5), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((1, 2, 5, 6, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1}),
    ((1, 2, 5, 6, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True, "count_include_pad": False}),
    ((1, 2, 5, 6, 7), {"kernel_size": (2, 3, 2), "divisor_override": 5, "padding": 1}),
    ((2, 5, 4, 6), {"kernel_size": (2, 3, 2)}),  # unbatched
]


def test_unbatched_2d_names() -> None:
    # unbatched input is pooled directly (torch's grad_fn), and global average pooling is a mean
    check(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True), _a(3, 6, 7), second=True)
    check(lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1), _a(3, 6, 7), second=True)
    check(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 1), _a(2, 3, 6, 7), second=True)


@pytest.mark.parametrize("shape, kw", AVG3D)
def test_avg_pool3d(shape, kw) -> None:
    check(lambda lib, x: lib.nn.functional.avg_pool3d(x, **kw), _a(*shape), second=True)


@pytest.mark.parametrize("shape, size", [((2, 3, 6, 5, 7), 3), ((1, 2, 7, 6, 5), (2, None, 4)),
                                         ((2, 5, 4, 6), (5, 3, 4)), ((1, 2, 4, 4, 4), 1)])
def test_adaptive3d(shape, size) -> None:
    check(lambda lib, x: lib.nn.functional.adaptive_avg_pool3d(x, size), _a(*shape), second=True)
    check(lambda lib, x: lib.nn.functional.adaptive_max_pool3d(x, size, return_indices=True), _a(*shape),
          second=True)


def test_adaptive_max_pool1d() -> None:
    check(lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 3, return_indices=True), _a(2, 3, 7), second=True)


@pytest.mark.parametrize("nd, shape, kw", [
    (1, (2, 3, 9), {"kernel_size": 2}),
    (1, (3, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    (2, (2, 3, 6, 8), {"kernel_size": 2}),
    (2, (2, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    (3, (1, 2, 6, 4, 8), {"kernel_size": 2}),
    (3, (2, 5, 7, 6), {"kernel_size": (3, 3, 2), "stride": 2, "padding": (1, 1, 0)}),
])
def test_max_unpool(nd, shape, kw) -> None:
    x0 = _a(*shape)
    tx = torch.tensor(x0)
    pooled, ind = getattr(torch.nn.functional, f"max_pool{nd}d")(tx, return_indices=True, **kw)
    ind0 = ind.numpy()
    check(lambda lib, p: getattr(lib.nn.functional, f"max_unpool{nd}d")(p, lib.tensor(ind0), **kw),
          pooled.numpy(), second=True)
    # the round trip, with ember's own indices, and an explicit output size
    ex = ember.tensor(x0)
    ep, ei = getattr(ember.nn.functional, f"max_pool{nd}d")(ex, return_indices=True, **kw)
    np.testing.assert_array_equal(ei.numpy(), ind0)
    size = tuple(shape[-nd:])
    e = getattr(ember.nn, f"MaxUnpool{nd}d")(**kw)(ep, ei, output_size=size)
    t = getattr(torch.nn, f"MaxUnpool{nd}d")(**kw)(pooled, ind, output_size=size)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert repr(getattr(ember.nn, f"MaxUnpool{nd}d")(**kw)) == repr(getattr(torch.nn, f"MaxUnpool{nd}d")(**kw))


def test_gradgradcheck() -> None:
    F = ember.nn.functional
    x = ember.tensor(_a(1, 2, 5, 4, 5), requires_grad=True)
    for f in (lambda t: F.max_pool3d(t, 2, padding=1, ceil_mode=True),
              lambda t: F.avg_pool3d(t, 3, 2, padding=1, count_include_pad=False),
              lambda t: F.adaptive_avg_pool3d(t, (2, 3, 2)),
              lambda t: F.adaptive_max_pool3d(t, (2, 3, 2))):
        assert ember.autograd.gradcheck(f, (x,))
        assert ember.autograd.gradgradcheck(f, (x,))


def test_nan_and_ties() -> None:
    x0 = np.maximum(_a(1, 2, 4, 4, 4), 0)
    x0[0, 0, 1, 1, 1] = np.nan
    check(lambda lib, x: lib.nn.functional.max_pool3d(x, 2, return_indices=True), x0)


MODULES = [
    ("MaxPool3d", (2,), {}),
    ("MaxPool3d", ((3, 2, 2),), {"stride": 2, "padding": 1, "dilation": 1, "ceil_mode": True}),
    ("AvgPool3d", (2,), {}),
    ("AvgPool3d", ((3, 2, 2),), {"stride": (2, 1, 1), "padding": (1, 0, 1), "count_include_pad": False}),
    ("AvgPool3d", (2,), {"ceil_mode": True, "divisor_override": 3}),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
    ("AdaptiveMaxPool3d", (2,), {}),
]


@pytest.mark.parametrize("name, args, kw", MODULES)
def test_modules(name, args, kw) -> None:
    x0 = _a(2, 3, 5, 6, 7).astype(np.float32)
    res = []
    for lib in (ember, torch):
        m = getattr(lib.nn, name)(*args, **kw)
        x = lib.tensor(x0, requires_grad=True)
        out = m(x)
        out.square().sum().backward()
        res.append((repr(m), out.detach().numpy(), x.grad.numpy(), type(out.grad_fn).__name__))
    assert res[0][0] == res[1][0] and res[0][3] == res[1][3]
    for a, b in zip(res[0][1:3], res[1][1:3]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


ERRORS = [
    ("max_pool3d", (3, 4, 4), (2,), {}, RuntimeError),
    ("avg_pool3d", (2, 3, 4, 4, 4, 4), (2,), {}, RuntimeError),
    ("max_pool3d", (1, 2, 4, 4, 4), (2,), {"padding": 2}, RuntimeError),
    ("max_pool3d", (1, 2, 1, 4, 4), (2,), {}, RuntimeError),
    ("avg_pool3d", (1, 2, 4, 4, 4), (2,), {"padding": 2}, RuntimeError),
    ("avg_pool3d", (1, 2, 4, 4, 4), (2,), {"divisor_override": 0}, RuntimeError),
    ("adaptive_avg_pool3d", (2, 3), (2,), {}, RuntimeError),
    ("adaptive_max_pool3d", (2, 3), (2,), {}, RuntimeError),
]


@pytest.mark.parametrize("fn, shape, args, kw, exc", ERRORS)
def test_errors(fn, shape, args, kw, exc) -> None:
    for lib in (ember, torch):
        with pytest.raises(exc):
            getattr(lib.nn.functional, fn)(lib.tensor(_a(*shape)), *args, **kw)


def test_unpool_errors() -> None:
    p, i = torch.nn.functional.max_pool2d(torch.randn(1, 1, 4, 4), 2, return_indices=True)
    for lib in (ember, torch):
        with pytest.raises(ValueError):
            lib.nn.functional.max_unpool2d(lib.tensor(p.numpy()), lib.tensor(i.numpy()), 2, output_size=(9, 9))
        with pytest.raises(RuntimeError):
            lib.nn.functional.max_unpool2d(lib.tensor(p.numpy()), lib.tensor(i.numpy() + 40), 2)

"""affine_grid and grid_sample (2-d and 3-d; bilinear, nearest, bicubic; zeros, border, reflection;
align_corners) against torch: values, grad_fn names, gradients w.r.t. input and grid, second
derivatives, gradgradcheck, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.oracle import check

import ember

R = np.random.default_rng(9)
PADS = ["zeros", "border", "reflection"]


def _gs(mode, pad, align):
    return lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=pad, align_corners=align)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_2d(mode, pad, align) -> None:
    # grid points beyond [-1, 1] exercise the padding modes
    check(_gs(mode, pad, align), R.standard_normal((2, 3, 4, 5)), R.uniform(-1.3, 1.3, (2, 3, 6, 2)),
          second=mode != "nearest")


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("pad", PADS)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d(mode, pad, align) -> None:
    check(_gs(mode, pad, align), R.standard_normal((2, 2, 3, 4, 5)), R.uniform(-1.3, 1.3, (2, 2, 3, 4, 3)),
          second=mode != "nearest")


def test_nearest_grid_grad_is_zero() -> None:
    check(_gs("nearest", "zeros", False), R.standard_normal((1, 2, 4, 4)), R.uniform(-1, 1, (1, 3, 3, 2)))


def test_float32_and_module_pipeline() -> None:
    # a spatial-transformer step: affine_grid then grid_sample, float32, gradients to theta and input
    check(lambda lib, x, th: lib.nn.functional.grid_sample(
        x, lib.nn.functional.affine_grid(th, (2, 3, 5, 6), align_corners=False), align_corners=False),
        R.standard_normal((2, 3, 5, 6)).astype(np.float32), R.standard_normal((2, 2, 3)).astype(np.float32))


def test_gradgradcheck() -> None:
    F = ember.nn.functional
    x = ember.tensor(R.standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = ember.tensor(R.uniform(-1.1, 1.1, (1, 2, 3, 2)), requires_grad=True)
    for mode, pad in (("bilinear", "zeros"), ("bilinear", "reflection"), ("bicubic", "border")):
        f = lambda a, b, mode=mode, pad=pad: F.grid_sample(a, b, mode=mode, padding_mode=pad, align_corners=False)  # noqa: E731
        assert ember.autograd.gradcheck(f, (x, g))
        assert ember.autograd.gradgradcheck(f, (x, g))
    x3 = ember.tensor(R.standard_normal((1, 1, 2, 3, 3)), requires_grad=True)
    g3 = ember.tensor(R.uniform(-1.1, 1.1, (1, 2, 2, 1, 3)), requires_grad=True)
    f3 = lambda a, b: F.grid_sample(a, b, padding_mode="border", align_corners=True)  # noqa: E731
    assert ember.autograd.gradcheck(f3, (x3, g3))
    assert ember.autograd.gradgradcheck(f3, (x3, g3))


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 4, 5), (2, 1, 1, 1, 3)])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(size, align) -> None:
    nd = len(size) - 2
    check(lambda lib, th: lib.nn.functional.affine_grid(th, size, align_corners=align),
          R.standard_normal((2, nd, nd + 1)), second=True)
    th = ember.tensor(R.standard_normal((2, nd, nd + 1)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ember.nn.functional.affine_grid(t, size, align_corners=align) ** 2,
                                        (th,))


def test_align_corners_default_warns() -> None:
    th = np.eye(2, 3)[None]
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="align_corners=False"):
            g = lib.nn.functional.affine_grid(lib.tensor(th), (1, 1, 2, 2))
        with pytest.warns(UserWarning, match="align_corners=False"):
            lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2, dtype=g.dtype), g)


GS_ERRORS = [
    ((2, 3, 4, 5), (2, 3, 6), {}, RuntimeError),  # grid of the wrong rank
    ((2, 3, 4, 5), (1, 3, 6, 2), {}, RuntimeError),  # batch sizes differ
    ((2, 3, 4, 5), (2, 3, 6, 3), {}, RuntimeError),  # wrong last dimension
    ((2, 3, 4), (2, 3, 2), {}, RuntimeError),  # 3-d input
    ((1, 2, 3, 4, 5), (1, 2, 2, 2, 3), {"mode": "bicubic"}, RuntimeError),
    ((2, 3, 4, 5), (2, 3, 6, 2), {"mode": "linear"}, ValueError),
    ((2, 3, 4, 5), (2, 3, 6, 2), {"padding_mode": "wrap"}, ValueError),
]


@pytest.mark.parametrize("xs, gs, kw, exc", GS_ERRORS)
def test_grid_sample_errors(xs, gs, kw, exc) -> None:
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(exc) as info:
            lib.nn.functional.grid_sample(lib.tensor(R.standard_normal(xs)), lib.tensor(R.standard_normal(gs)),
                                          align_corners=False, **kw)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


AG_ERRORS = [
    ((2, 2, 3), (2, 3, 4, 5, 6), ValueError),
    ((2, 3, 4), (2, 3, 4, 5), ValueError),
    ((2, 2, 3), (2, 3, 4), NotImplementedError),
    ((2, 2, 3), (2, 3, 0, 5), ValueError),
]


@pytest.mark.parametrize("ts, size, exc", AG_ERRORS)
def test_affine_grid_errors(ts, size, exc) -> None:
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(exc) as info:
            lib.nn.functional.affine_grid(lib.tensor(R.standard_normal(ts)), size, align_corners=False)
        msgs.append(str(info.value).replace("torch.", "ember."))
    assert msgs[0] == msgs[1]

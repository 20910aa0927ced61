"""conv3d, conv_transpose1d/3d (and conv1d, now a direct N-d convolution) against torch: values,
grad_fn names, first and second derivatives, gradgradcheck, module reprs and init, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.oracle import check

import ember

R = np.random.default_rng(3)


def _a(*shape: int) -> np.ndarray:
    return R.standard_normal(shape)


CONV3D = [  # (x shape, w shape, kwargs)
    ((2, 3, 5, 4, 6), (4, 3, 2, 3, 2), {}),
    ((2, 3, 5, 4, 6), (4, 3, 3, 3, 3), {"padding": 1}),
    ((1, 4, 6, 5, 5), (4, 2, 2, 2, 3), {"stride": (2, 1, 2), "padding": (1, 0, 1), "groups": 2}),
    ((1, 2, 7, 6, 6), (3, 2, 2, 2, 2), {"dilation": (2, 1, 3)}),
    ((1, 2, 4, 5, 4), (3, 2, 2, 3, 2), {"padding": "same"}),  # asymmetric 'same'
    ((1, 2, 4, 5, 4), (3, 2, 2, 3, 2), {"padding": "valid", "stride": 2}),
    ((4, 3, 4, 4), (3, 4, 3, 1, 2), {"padding": 1}),  # unbatched
]


@pytest.mark.parametrize("xs, ws, kw", CONV3D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv3d(xs, ws, kw, bias) -> None:
    arrays = (_a(*xs), _a(*ws)) + ((_a(ws[0]),) if bias else ())
    check(lambda lib, *t: lib.nn.functional.conv3d(*t, **kw), *arrays, second=True)


CONVT = [  # (x shape, w shape, kwargs)
    ((2, 3, 5), (3, 2, 3), {}),
    ((2, 4, 5), (4, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((1, 2, 6), (2, 3, 3), {"stride": 3, "dilation": 2, "output_padding": 1}),
    ((3, 5), (3, 2, 3), {"padding": 1}),  # unbatched
    ((2, 3, 3, 4, 2), (3, 2, 2, 3, 2), {}),
    ((1, 4, 3, 3, 2), (4, 1, 3, 2, 2), {"stride": (2, 1, 3), "padding": (1, 0, 1), "output_padding": (1, 0, 2),
                                        "groups": 2, "dilation": (1, 2, 1)}),
    ((2, 3, 2, 3), (2, 2, 2, 2, 2), {"stride": 2}),  # unbatched 3d
]


@pytest.mark.parametrize("xs, ws, kw", CONVT)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose(xs, ws, kw, bias) -> None:
    nd = len(ws) - 2
    fn = "conv_transpose1d" if nd == 1 else "conv_transpose3d"
    cout = ws[1] * kw.get("groups", 1)
    arrays = (_a(*xs), _a(*ws)) + ((_a(cout),) if bias else ())
    check(lambda lib, *t: getattr(lib.nn.functional, fn)(*t, **kw), *arrays, second=True)


@pytest.mark.parametrize("kw", [{}, {"padding": 2, "stride": 2, "dilation": 2}, {"padding": "same", "groups": 2}])
def test_conv1d_direct(kw) -> None:
    check(lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, **kw), _a(2, 4, 9), _a(6, 4 // kw.get("groups", 1), 3),
          _a(6), second=True)


def test_gradgradcheck() -> None:
    F = ember.nn.functional
    x = ember.tensor(_a(1, 2, 3, 3, 4), requires_grad=True)
    w = ember.tensor(_a(2, 1, 2, 2, 2), requires_grad=True)
    b = ember.tensor(_a(2), requires_grad=True)
    assert ember.autograd.gradcheck(lambda *t: F.conv3d(*t, stride=(1, 2, 1), padding=1, groups=2), (x, w, b))
    assert ember.autograd.gradgradcheck(lambda *t: F.conv3d(*t, stride=(1, 2, 1), padding=1, groups=2), (x, w, b))
    xt = ember.tensor(_a(1, 2, 2, 3, 2), requires_grad=True)
    wt = ember.tensor(_a(2, 2, 2, 2, 2), requires_grad=True)
    f = lambda *t: F.conv_transpose3d(*t, stride=2, padding=1, output_padding=1)  # noqa: E731
    assert ember.autograd.gradcheck(f, (xt, wt, b))
    assert ember.autograd.gradgradcheck(f, (xt, wt, b))
    x1 = ember.tensor(_a(2, 2, 5), requires_grad=True)
    w1 = ember.tensor(_a(2, 3, 3), requires_grad=True)
    g = lambda *t: F.conv_transpose1d(*t, stride=2, dilation=2)  # noqa: E731
    assert ember.autograd.gradcheck(g, (x1, w1))
    assert ember.autograd.gradgradcheck(g, (x1, w1))


MODULES = [
    ("Conv3d", (2, 4, 3), {}),
    ("Conv3d", (2, 4, (1, 2, 3)), {"stride": 2, "padding": 1, "dilation": (1, 2, 1), "bias": False}),
    ("Conv3d", (4, 4, 3), {"padding": 1, "padding_mode": "circular", "groups": 2}),
    ("Conv3d", (2, 4, 3), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv3d", (2, 4, 2), {"padding": (1, 0, 1), "padding_mode": "replicate"}),
    ("ConvTranspose1d", (2, 4, 3), {}),
    ("ConvTranspose1d", (2, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1, "bias": False}),
    ("ConvTranspose3d", (2, 4, (1, 2, 3)), {"stride": 2, "output_padding": 1, "groups": 2}),
    ("ConvTranspose3d", (2, 2, 2), {"dilation": 2}),
]


@pytest.mark.parametrize("name, args, kw", MODULES)
def test_modules(name, args, kw) -> None:
    res = {}
    nd = 1 if name.endswith("1d") else 3
    x0 = _a(*((2, args[0]) + (5,) * nd)).astype(np.float32)
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = getattr(lib.nn, name)(*args, **kw)
        x = lib.tensor(x0, requires_grad=True)
        out = m(x)
        out.square().sum().backward()
        res[lib.__name__] = (repr(m), out.detach().numpy(), x.grad.numpy(), m.weight.detach().numpy(),
                             m.weight.grad.numpy(), type(out.grad_fn).__name__,
                             [tuple(p.shape) for p in m.parameters()])
    e, t = res["ember"], res["torch"]
    assert e[0] == t[0]
    assert e[5] == t[5] and e[6] == t[6]
    np.testing.assert_array_equal(e[3], t[3])  # same initialisation after manual_seed
    for a, b in zip(e[1:5], t[1:5]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_transpose_output_size() -> None:
    x0 = _a(1, 2, 3, 4, 3).astype(np.float32)
    res = []
    for lib in (ember, torch):
        lib.manual_seed(1)
        m = lib.nn.ConvTranspose3d(2, 3, 3, stride=2)
        res.append(m(lib.tensor(x0), output_size=[8, 9, 8]).detach().numpy())
        with pytest.raises(ValueError):
            m(lib.tensor(x0), output_size=[12, 9, 8])
    np.testing.assert_allclose(res[0], res[1], rtol=1e-5, atol=1e-5)


ERRORS = [
    ("conv3d", (2, 3, 4, 4), (4, 3, 2, 2, 2), {}),
    ("conv3d", (2, 3, 4, 4, 4, 4), (4, 3, 2, 2, 2), {}),
    ("conv3d", (2, 3, 4, 4, 4), (4, 2, 2, 2, 2), {}),
    ("conv3d", (1, 3, 2, 2, 2), (4, 3, 3, 3, 3), {}),
    ("conv3d", (2, 3, 4, 4, 4), (4, 3, 2, 2, 2), {"stride": 2, "padding": "same"}),
    ("conv_transpose3d", (3, 4, 4, 4, 4), (3, 4, 2, 2, 2), {}),
    ("conv_transpose1d", (1, 3, 4), (3, 4, 2), {"padding": 5}),
    ("conv_transpose1d", (1, 3, 4), (3, 4, 2), {"stride": 2, "output_padding": 2}),
    ("conv_transpose1d", (1, 3, 4), (3, 4, 2), {"groups": 2}),
    ("conv_transpose3d", (1, 3, 4, 4, 4), (3, 4, 2, 2, 2), {"stride": 2, "output_padding": (0, 2, 1)}),
]


@pytest.mark.parametrize("name, args, kw", [
    ("ConvTranspose3d", (2, 4, 3), {"padding_mode": "reflect"}),
    ("Conv3d", (2, 4, 3), {"padding": "full"}),
    ("Conv3d", (2, 4, 3), {"stride": 2, "padding": "same"}),
    ("Conv3d", (3, 4, 3), {"groups": 2}),
    ("ConvTranspose1d", (2, 3, 3), {"groups": 2}),
])
def test_module_errors(name, args, kw) -> None:
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as info:
            getattr(lib.nn, name)(*args, **kw)
        msgs.append(str(info.value).split(", should be one of")[0])  # (torch prints a set: its order varies)
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("fn, xs, ws, kw", ERRORS)
def test_errors(fn, xs, ws, kw) -> None:
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            getattr(lib.nn.functional, fn)(lib.tensor(_a(*xs)), lib.tensor(_a(*ws)), **kw)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


def test_transpose_string_padding() -> None:
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            lib.nn.functional.conv_transpose1d(lib.tensor(_a(1, 3, 4)), lib.tensor(_a(3, 4, 2)), padding="same")

"""ember.fft against torch.fft: values, dtypes, grad_fn names, first and second derivatives, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from oracle import check

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 6))
Y = rng.standard_normal((4, 6))
X3 = rng.standard_normal((3, 4, 5))
NORMS = [None, "backward", "ortho", "forward"]


def _cplx(lib, a, b):
    return lib.complex(a, b)


def _vr(lib, t):
    # the real and imaginary parts as a real tensor, so the oracle compares complex gradients
    return lib.view_as_real(t.resolve_conj())


def _name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


# ----------------------------------------------------------------------------- 1-D transforms
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft", "ifft"])
@pytest.mark.parametrize("n", [None, 4, 9])
def test_c2c_1d_real_and_complex_input(name, n, norm):
    check(lambda lib, x: _vr(lib, getattr(lib.fft, name)(x, n=n, norm=norm)), X, second=True)
    check(lambda lib, a, b: _vr(lib, getattr(lib.fft, name)(_cplx(lib, a, b), n=n, dim=0, norm=norm)),
          X, Y, second=True)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 4, 7, 10])
def test_rfft_irfft(n, norm):
    check(lambda lib, x: _vr(lib, lib.fft.rfft(x, n=n, norm=norm)), X, second=True)
    check(lambda lib, a, b: lib.fft.irfft(_cplx(lib, a, b), n=n, norm=norm), X, Y, second=True)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("n", [None, 5, 8])
def test_hfft_ihfft(n, norm):
    check(lambda lib, a, b: lib.fft.hfft(_cplx(lib, a, b), n=n, norm=norm), X, Y, second=True)
    check(lambda lib, x: _vr(lib, lib.fft.ihfft(x, n=n, dim=0, norm=norm)), X, second=True)


# ----------------------------------------------------------------------------- N-D transforms
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft2", "ifft2", "fftn", "ifftn"])
@pytest.mark.parametrize("s", [None, (3, 7)])
def test_c2c_nd(name, s, norm):
    check(lambda lib, x: _vr(lib, getattr(lib.fft, name)(x, s=s, norm=norm)), X3, second=True)
    check(lambda lib, a, b: _vr(lib, getattr(lib.fft, name)(_cplx(lib, a, b), s=s, norm=norm)), X, Y,
          second=True)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("s", [None, (3, 8), (5, 5)])
def test_real_nd(s, norm):
    check(lambda lib, x: _vr(lib, lib.fft.rfft2(x, s=s, norm=norm)), X3, second=True)
    check(lambda lib, x: _vr(lib, lib.fft.rfftn(x, s=s, norm=norm)), X, second=True)
    check(lambda lib, a, b: lib.fft.irfft2(_cplx(lib, a, b), s=s, norm=norm), X, Y, second=True)
    check(lambda lib, a, b: lib.fft.irfftn(_cplx(lib, a, b), s=s, norm=norm), X, Y, second=True)
    check(lambda lib, a, b: lib.fft.hfft2(_cplx(lib, a, b), s=s, norm=norm), X, Y, second=True)
    check(lambda lib, x: _vr(lib, lib.fft.ihfft2(x, s=s, norm=norm)), X3, second=True)


def test_fftn_dims():
    check(lambda lib, x: _vr(lib, lib.fft.fftn(x, dim=(0, 2))), X3, second=True)
    check(lambda lib, x: _vr(lib, lib.fft.rfftn(x, dim=(2, 0))), X3, second=True)
    check(lambda lib, x: _vr(lib, lib.fft.fftn(x, s=(4,))), X3, second=True)
    check(lambda lib, x: _vr(lib, lib.fft.ihfftn(x, dim=(1, 2))), X3, second=True)
    check(lambda lib, a, b: lib.fft.hfftn(_cplx(lib, a, b)), X, Y, second=True)


# ----------------------------------------------------------------------------- dtypes and nodes
@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "fft2", "ifft2", "rfft2", "ihfft2", "fftn",
                                  "ifftn", "rfftn", "ihfftn", "irfft", "hfft", "irfftn", "hfftn"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex64", "complex128"])
def test_dtypes_and_grad_fn(name, dtype):
    a = (X * 3).astype(np.int64) if dtype == "int64" else X.astype(dtype)
    if dtype.startswith("complex"):
        a = a + 1j * Y.astype(a.dtype)
    e_in, t_in = ember.tensor(a), torch.tensor(a)
    if dtype != "int64":
        e_in.requires_grad_(True)
        t_in.requires_grad_(True)
    try:
        t = getattr(torch.fft, name)(t_in)
    except RuntimeError as err:
        with pytest.raises(RuntimeError, match=str(err).split(",")[0]):
            getattr(ember.fft, name)(e_in)
        return
    e = getattr(ember.fft, name)(e_in)
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    assert tuple(e.shape) == tuple(t.shape)
    assert _name(e) == _name(t)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().resolve_conj().numpy(), rtol=2e-5, atol=2e-5)


def test_abs_and_real_losses_match_torch():
    # ember's abs of a complex tensor is differentiable once only (its sgn has no derivative yet)
    check(lambda lib, x: lib.fft.fft(x).abs().sum(), X)
    for f in (lambda lib, x: lib.fft.rfft(x).real.pow(2).sum(),
              lambda lib, x: lib.fft.rfft(x).imag.sum(), lambda lib, x: lib.fft.ifft(lib.fft.fft(x) * 2).real.sum(),
              lambda lib, x: lib.fft.irfft(lib.fft.rfft(x).conj(), n=6).pow(3).sum(),
              lambda lib, x: lib.fft.fft(x).angle().sum()):
        check(f, X, second=True)


# ----------------------------------------------------------------------------- gradcheck
def test_gradcheck_float64():
    # real inputs and outputs only: ember's gradcheck does not yet perturb complex numbers
    # (complex signals are built from, and spectra viewed as, real tensors)
    x = ember.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    a = ember.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    for f in (lambda x: ember.fft.rfft(x, norm="ortho"), lambda x: ember.fft.fft2(x), lambda x: ember.fft.ihfft(x, n=7),
              lambda x: ember.fft.rfftn(x, s=(4, 4))):
        assert gradcheck(lambda x, f=f: ember.view_as_real(f(x)), (x,))
        assert gradgradcheck(lambda x, f=f: ember.view_as_real(f(x)), (x,))
    for f in (lambda z: ember.view_as_real(ember.fft.fft(z)), lambda z: ember.fft.irfft(z, n=8),
              lambda z: ember.fft.hfft(z, norm="forward"), lambda z: ember.view_as_real(ember.fft.ifftn(z, s=(2, 6))),
              lambda z: ember.fft.irfft2(z)):
        assert gradcheck(lambda a, b, f=f: f(ember.complex(a, b)), (a, b))
        assert gradgradcheck(lambda a, b, f=f: f(ember.complex(a, b)), (a, b))


def test_gradcheck_catches_a_wrong_adjoint(monkeypatch):
    # the check above is not vacuous: a conjugated adjoint fails it
    from ember.ops import spectral

    right = spectral.FftC2CBackward0.derivative
    monkeypatch.setattr(spectral.FftC2CBackward0, "derivative", lambda n, g: right(n, g).conj())
    a = ember.tensor(rng.standard_normal(5), requires_grad=True)
    b = ember.tensor(rng.standard_normal(5), requires_grad=True)
    assert not gradcheck(lambda a, b: ember.view_as_real(ember.fft.fft(ember.complex(a, b))), (a, b),
                         raise_exception=False)


# ----------------------------------------------------------------------------- helpers
@pytest.mark.parametrize("n,d", [(5, 1.0), (6, 0.5), (1, 2.0)])
def test_freqs(n, d):
    for name in ("fftfreq", "rfftfreq"):
        e, t = getattr(ember.fft, name)(n, d), getattr(torch.fft, name)(n, d)
        assert e.dtype == ember.float32
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    assert ember.fft.fftfreq(4, dtype=ember.float64).dtype == ember.float64
    assert ember.fft.rfftfreq(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_shifts(dim):
    a = np.arange(15).reshape(3, 5)
    for name in ("fftshift", "ifftshift"):
        e, t = getattr(ember.fft, name)(ember.tensor(a), dim), getattr(torch.fft, name)(torch.tensor(a), dim)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    check(lambda lib, x: lib.fft.fftshift(x), X, second=True)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call", [
    lambda lib, x: lib.fft.fft(x, norm="bad"),
    lambda lib, x: lib.fft.fft(x, n=0),
    lambda lib, x: lib.fft.fft(x, dim=3),
    lambda lib, x: lib.fft.rfft(lib.complex(x, x)),
    lambda lib, x: lib.fft.ihfft(lib.complex(x, x)),
    lambda lib, x: lib.fft.irfft(x, n=0),
    lambda lib, x: lib.fft.fft2(x, s=(3,)),
    lambda lib, x: lib.fft.fftn(x, dim=(0, 0)),
    lambda lib, x: lib.fft.irfft(x[:, :1]),
])
def test_errors(call):
    with pytest.raises(Exception) as te:
        call(torch, torch.tensor(X, dtype=torch.float32))
    with pytest.raises(te.type) as ee:
        call(ember, ember.tensor(X, dtype=ember.float32))
    assert str(ee.value) == str(te.value)


def test_lazy_module():
    import subprocess
    import sys

    code = "import sys, ember; assert 'ember.fft' not in sys.modules; ember.fft.fft; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_out_argument():
    for lib in (torch, ember):
        o = lib.empty(0, dtype=lib.complex64)
        r = lib.fft.fft(lib.ones(4), out=o)
        assert r is o and tuple(o.shape) == (4,)
    o = ember.empty(0)
    assert ember.fft.irfft(ember.fft.rfft(ember.ones(6)), out=o) is o
    np.testing.assert_allclose(o.numpy(), np.ones(6), atol=1e-6)


# ----------------------------------------------------------------------------- every function x argument mix
_ARRAYS = {"f32": rng.standard_normal((2, 5)).astype(np.float32), "f64_1d": rng.standard_normal(3),
           "0d": np.array(1.5), "c64": (rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))).astype(np.complex64),
           "i64": np.arange(4), "bool": np.array([True, False, True]), "f16": np.ones(4, np.float16), "one": np.ones(1)}
_KWARGS = [{}, {"n": 1}, {"n": 6}, {"dim": 0}, {"norm": "ortho"}, {"s": (2, 2)}, {"dim": (0,)}, {"s": (3,), "dim": (0,)},
           {"dim": 5}, {"s": (-1, 4)}]


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
                                  "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"])
def test_argument_mix_matches_torch(name):
    """Values, dtypes and shapes, or the error (type and message) torch raises first, for each mix."""
    one_dim = name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
    for a in _ARRAYS.values():
        for kw in _KWARGS:
            if ("s" in kw and one_dim) or ("n" in kw and not one_dim) or (one_dim and isinstance(kw.get("dim"), tuple)):
                continue
            try:
                t = getattr(torch.fft, name)(torch.tensor(a), **kw)
            except Exception as err:  # noqa: BLE001
                with pytest.raises(type(err)) as got:
                    getattr(ember.fft, name)(ember.tensor(a), **kw)
                assert str(got.value) == str(err), (name, a.dtype, a.shape, kw)
                continue
            e = getattr(ember.fft, name)(ember.tensor(a), **kw)
            assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1] and tuple(e.shape) == tuple(t.shape)
            np.testing.assert_allclose(e.numpy(), t.resolve_conj().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_strided_inputs_and_float32_gradients(dtype):
    fns = (lambda lib, t: _vr(lib, lib.fft.fft(t.t())), lambda lib, t: _vr(lib, lib.fft.rfft2(t.t()[::2])),
           lambda lib, t: lib.fft.irfft(lib.fft.rfft(t.flip(1)), n=6),
           lambda lib, t: _vr(lib, lib.fft.ihfft(t.t(), dim=0)))
    for f in fns:
        check(f, X.astype(dtype), second=True, rtol=1e-6 if dtype == np.float64 else 1e-4, atol=1e-5)

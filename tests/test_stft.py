"""ember.stft / istft and the window functions against torch: values, dtypes, nodes, gradients, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from oracle import check

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 40))
X1 = X[0]


def _vr(lib, t):
    return lib.view_as_real(t)


def _hann(lib, n=16):
    return lib.hann_window(n, dtype=lib.float64)


def _name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# ----------------------------------------------------------------------------- windows
@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
@pytest.mark.parametrize("n", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, n, periodic):
    for dt in (None, "float64"):
        kw = {} if dt is None else {"dtype": getattr(ember, dt)}
        tkw = {} if dt is None else {"dtype": getattr(torch, dt)}
        e, t = getattr(ember, name)(n, periodic, **kw), getattr(torch, name)(n, periodic, **tkw)
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


def test_window_parameters_and_errors():
    np.testing.assert_allclose(ember.hamming_window(7, False, 0.5, 0.3).numpy(),
                               torch.hamming_window(7, False, 0.5, 0.3).numpy(), rtol=1e-6)
    np.testing.assert_allclose(ember.kaiser_window(9, True, 5.0).numpy(), torch.kaiser_window(9, True, 5.0).numpy(),
                               rtol=1e-5)
    assert ember.hann_window(4, requires_grad=True).requires_grad
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="hann_window requires non-negative window_length, got window_length=-1"):
            lib.hann_window(-1)
        with pytest.raises(RuntimeError, match="kaiser_window expects floating point dtypes"):
            lib.kaiser_window(3, dtype=lib.int64)


# ----------------------------------------------------------------------------- stft
STFT_CASES = [
    dict(n_fft=16, hop_length=4, window="hann"),
    dict(n_fft=16),
    dict(n_fft=12, hop_length=5, win_length=8, window="hamming8", pad_mode="constant", normalized=True),
    dict(n_fft=16, center=False, onesided=False),
    dict(n_fft=9, hop_length=3, pad_mode="replicate"),
    dict(n_fft=10, hop_length=2, window="hann10", pad_mode="circular", normalized=True, onesided=False),
]


def _kw(lib, kw):
    kw = dict(kw)
    w = kw.pop("window", None)
    if w is not None:
        n = 8 if w == "hamming8" else (10 if w == "hann10" else 16)
        kw["window"] = (lib.hamming_window if w.startswith("hamming") else lib.hann_window)(n, dtype=lib.float64)
    return kw


@pytest.mark.parametrize("kw", STFT_CASES)
def test_stft_against_torch(kw):
    for x in (X, X1):
        check(lambda lib, t: _vr(lib, lib.stft(t, return_complex=True, **_kw(lib, kw))), x, second=True)
        e = ember.stft(ember.tensor(x, requires_grad=True), return_complex=True, **_kw(ember, kw))
        t = torch.stft(torch.tensor(x, requires_grad=True), return_complex=True, **_kw(torch, kw))
        assert tuple(e.shape) == tuple(t.shape) and e.dtype == ember.complex128
        assert _name(e) == _name(t)


def test_stft_method_float32_and_complex_input():
    e = ember.tensor(X, dtype=ember.float32).stft(16, window=ember.hann_window(16), return_complex=True)
    t = torch.tensor(X, dtype=torch.float32).stft(16, window=torch.hann_window(16), return_complex=True)
    assert e.dtype == ember.complex64
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
    check(lambda lib, a, b: _vr(lib, lib.stft(lib.complex(a, b), 8, hop_length=2, return_complex=True)), X, X[::-1],
          second=True)


def test_stft_return_complex_false_is_the_real_view():
    check(lambda lib, t: lib.stft(t, 16, window=_hann(lib), return_complex=False), X)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        warnings.simplefilter("always")
        ember.stft(ember.tensor(X), 16, window=ember.hann_window(16), return_complex=False)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.stft(x, 16),
    lambda lib, x: lib.stft(x, 100, return_complex=True, center=False),
    lambda lib, x: lib.stft(x, 16, win_length=20, return_complex=True),
    lambda lib, x: lib.stft(x, 16, hop_length=0, return_complex=True),
    lambda lib, x: lib.stft(x, 16, window=lib.ones(15), return_complex=True),
    lambda lib, x: lib.stft(x.reshape(1, 2, 40), 16, return_complex=True, center=False),
])
def test_stft_errors(call):
    with pytest.raises(RuntimeError) as te:
        call(torch, torch.tensor(X, dtype=torch.float32))
    with pytest.raises(RuntimeError) as ee:
        call(ember, ember.tensor(X, dtype=ember.float32))
    assert str(ee.value) == str(te.value).replace("torch.", "ember.")


# ----------------------------------------------------------------------------- istft
@pytest.mark.parametrize("kw", [dict(hop_length=4), dict(hop_length=4, length=37), dict(hop_length=4, length=45),
                                dict(hop_length=4, normalized=True), dict(hop_length=4, center=False, length=30)])
def test_istft_against_torch(kw):
    for x in (X, X1):
        def f(lib, t):
            w = _hann(lib) if kw.get("center", True) else lib.hann_window(16, periodic=False, dtype=lib.float64) + 0.1
            spec = lib.stft(t, 16, window=w, return_complex=True, normalized=kw.get("normalized", False),
                            hop_length=kw["hop_length"], center=kw.get("center", True))
            return lib.istft(spec, 16, window=w, **kw)

        check(f, x, second=True)


def test_istft_roundtrip_and_twosided():
    check(lambda lib, t: lib.istft(lib.stft(t, 16, hop_length=4, window=_hann(lib), onesided=False,
                                            return_complex=True), 16, hop_length=4, window=_hann(lib)), X, second=True)
    x = ember.tensor(X1)
    y = ember.istft(ember.stft(x, 16, hop_length=4, window=ember.hann_window(16, dtype=ember.float64),
                               return_complex=True), 16, hop_length=4, window=ember.hann_window(16, dtype=ember.float64))
    np.testing.assert_allclose(y.numpy(), X1, atol=1e-12)


def test_istft_direct_spectrum_input():
    spec = rng.standard_normal((9, 11)), rng.standard_normal((9, 11))
    check(lambda lib, a, b: lib.istft(lib.complex(a, b), 16, hop_length=4, window=_hann(lib)), *spec, second=True)


def test_istft_errors():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
            lib.istft(lib.ones(9, 11), 16)
        spec = lib.stft(lib.tensor(X1), 16, hop_length=4, window=lib.hann_window(16, dtype=lib.float64),
                        return_complex=True)
        with pytest.raises(RuntimeError, match="window overlap add min"):
            lib.istft(spec, 16, hop_length=4, window=lib.hann_window(16, dtype=lib.float64), center=False)


def test_gradcheck_float64():
    x = ember.tensor(rng.standard_normal(24), requires_grad=True)
    w = ember.hann_window(8, dtype=ember.float64)
    f = lambda t: ember.view_as_real(ember.stft(t, 8, hop_length=2, window=w, return_complex=True))  # noqa: E731
    assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))
    # (the spectrum built from real tensors: ember's gradcheck perturbs real numbers only)
    a = ember.tensor(rng.standard_normal((5, 9)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((5, 9)), requires_grad=True)
    g = lambda a, b: ember.istft(ember.complex(a, b), 8, hop_length=2, window=w)  # noqa: E731
    assert gradcheck(g, (a, b)) and gradgradcheck(g, (a, b))


_SIG = rng.standard_normal(40)
_MIX = {
    "f64 signal, f32 window": lambda lib: lib.stft(lib.tensor(_SIG), 16, window=lib.hann_window(16), return_complex=True),
    "f32 signal, f64 window": lambda lib: lib.stft(lib.tensor(_SIG).float(), 16,
                                                   window=lib.hann_window(16, dtype=lib.float64), return_complex=True),
    "integer signal": lambda lib: lib.stft(lib.arange(40), 16, return_complex=True),
    "complex64 signal": lambda lib: lib.stft(lib.tensor(_SIG + 1j * _SIG).to(lib.complex64), 16),
    "complex onesided": lambda lib: lib.stft(lib.tensor(_SIG + 1j * _SIG), 16, onesided=True, return_complex=True),
    "complex window": lambda lib: lib.stft(lib.tensor(_SIG), 16, return_complex=True,
                                           window=lib.hann_window(16, dtype=lib.float64).to(lib.complex128)),
    "short signal": lambda lib: lib.stft(lib.tensor(_SIG[:10]), 32, return_complex=True),
    "0-d signal": lambda lib: lib.stft(lib.tensor(1.0), 16, return_complex=True),
    "0-d signal, no centering": lambda lib: lib.stft(lib.tensor(1.0), 16, return_complex=True, center=False),
    "n_fft 0": lambda lib: lib.stft(lib.tensor(_SIG), 0, return_complex=True),
    "istft of 1-D": lambda lib: lib.istft(lib.ones(9, dtype=lib.complex64), 16),
    "istft frequency mismatch": lambda lib: lib.istft(lib.ones(7, 5, dtype=lib.complex64), 16),
    "istft onesided complex": lambda lib: lib.istft(lib.ones(9, 5, dtype=lib.complex64), 16, return_complex=True),
    "istft f64 window, c64 input": lambda lib: lib.istft(lib.ones(9, 5, dtype=lib.complex64), 16,
                                                        window=lib.hann_window(16, dtype=lib.float64)),
}


@pytest.mark.parametrize("label", list(_MIX))
def test_dtype_and_argument_mix_matches_torch(label):
    f = _MIX[label]
    try:
        t = f(torch)
    except Exception as err:  # noqa: BLE001
        with pytest.raises(type(err)) as got:
            f(ember)
        assert str(got.value) == str(err).replace("torch.", "ember.")
        return
    e = f(ember)
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1] and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-4)

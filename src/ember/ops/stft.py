"""The short-time Fourier transform and its inverse, as torch computes them.

``stft`` pads the signal (``center``), cuts it into overlapping frames, multiplies each by the
window and transforms it (the spectral primitives); ``istft`` transforms the frames back,
windows them again and overlap-adds them (``fold``), dividing by the summed squared window.
Every step is a differentiable ember op, so gradients of any order flow through both.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _new
from ._core import node_class, record
from .complex import view_as_real
from .spectral import fft_c2c, fft_c2r, fft_r2c

# torch records the in-place transpose_ / squeeze_ its kernels use: these nodes carry their names
TransposeBackward1 = node_class("transpose", lambda n, g: g.transpose(*n.attrs), "grad.transpose(dim0, dim1)",
                                suffix=1)
SqueezeBackward4 = node_class("squeeze", lambda n, g: g.unsqueeze(n.attrs), "grad.unsqueeze(dim)", suffix=4)


def _transpose12(t: Tensor) -> Tensor:
    return record(TransposeBackward1, np.ascontiguousarray(np.swapaxes(t._data, 1, 2)), (t,), attrs=(1, 2))


def _squeeze0(t: Tensor) -> Tensor:
    return record(SqueezeBackward4, t._data[0], (t,), attrs=0)


def _describe(x: Tensor, args: str) -> str:
    return f"{x._type_str().split(' ')[0]}{list(x.shape)}, {args}"


def _window_repr(window: Tensor | None) -> str:
    return "None" if window is None else f"{window._type_str().split(' ')[0]}{{{list(window.shape)}}}"


def _full_window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor) -> Tensor:
    """The window zero-padded on both sides to n_fft (rectangular when None)."""
    from .creation import ones

    real_dt = like.real.dtype if like._data.dtype.kind == "c" else like.dtype
    w = window if window is not None else ones(win_length, dtype=real_dt)
    if win_length < n_fft:
        from .padding import pad

        left = (n_fft - win_length) // 2
        w = pad(w, [left, n_fft - win_length - left])
    return w


def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided: bool | None = None, return_complex: bool | None = None,
         align_to_window: bool | None = None) -> Tensor:
    """The short-time Fourier transform: (freq, frames) spectra of windowed, overlapping frames."""
    is_complex = input._data.dtype.kind == "c" or (window is not None and window._data.dtype.kind == "c")
    if return_complex is None:
        if not is_complex:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                               "require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.", stacklevel=2)
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is None:
        m = _dtype.PREFIX[0]
        warnings.warn("A window was not provided. A rectangular window will be applied,which is known to cause "
                      f"spectral leakage. Other windows such as {m}.hann_window or {m}.hamming_window are "
                      "recommended to reduce spectral leakage.To suppress this warning and use a rectangular window, "
                      f"explicitly set `window={m}.ones(n_fft, device=<device>)`.", stacklevel=2)
    x = input
    if center and x._data.ndim == 0:
        p = n_fft // 2
        raise RuntimeError("Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                           f"padding ({p}, {p}) at dimension 2 of input [1, 1, 1]")
    if center and x._data.ndim in (1, 2):
        from .padding import pad

        p = n_fft // 2
        lead = x._data.shape[:-1]

        def padded(t: Tensor) -> Tensor:
            t3 = t.reshape((1, 1) + t._data.shape[-1:]) if not lead else t.reshape((1,) + t._data.shape)
            return pad(t3, [p, p], mode=pad_mode).reshape(lead + (t._data.shape[-1] + 2 * p,))

        x = padded(x)

    def fail(msg: str) -> RuntimeError:
        args = (f"n_fft={n_fft}, hop_length={hop}, win_length={win}, window={_window_repr(window)}, "
                f"normalized={int(normalized)}, onesided={onesided}, return_complex={int(return_complex)}, "
                f"align_to_window={align_to_window}")
        return RuntimeError(f"stft({_describe(shown, args)}) : {msg}")

    shown = x  # (the padded signal, before a batch dim is added)

    if x._data.ndim not in (1, 2):
        raise fail("expected a 1D or 2D tensor")
    if x._data.dtype.kind not in "fc":
        raise fail("expected a tensor of floating point or complex values")
    batched = x._data.ndim == 2
    if not batched:
        x = x.unsqueeze(0)
    length = x._data.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise fail(f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise fail(f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win):
        raise fail(f"expected a 1D window tensor of size equal to win_length={win}, but got window with size "
                   f"{list(window.shape)}")
    frames = x.unfold(-1, n_fft, hop)  # (B, n_frames, n_fft)
    if window is not None or win < n_fft:
        frames = frames * _full_window(window, win, n_fft, x)
    norm = 1 if normalized else 0
    if frames._data.dtype.kind == "c":
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        spec = fft_c2c(frames, (2,), norm, True)
    else:
        if frames._data.dtype.kind != "f":
            frames = frames.float()
        spec = fft_r2c(frames, (2,), norm, onesided is None or onesided)
    out = _transpose12(spec)
    if not batched:
        out = _squeeze0(out)
    return out if return_complex else view_as_real(out)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False, onesided: bool | None = None,
          length: int | None = None, return_complex: bool = False) -> Tensor:
    """The inverse of stft: frames transformed back, windowed and overlap-added."""
    from .fold import fold

    if input._data.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied.Please provide the same window "
                      "used by stft to make the inversion lossless.To suppress this warning and use a rectangular "
                      f"window, explicitly set `window={_dtype.PREFIX[0]}.ones(n_fft, device=<device>)`.", stacklevel=2)

    def fail(msg: str) -> RuntimeError:
        args = (f"n_fft={n_fft}, hop_length={hop}, win_length={win}, window={_window_repr(window)}, "
                f"center={int(center)}, normalized={int(normalized)}, onesided={onesided}, length={length}, "
                f"return_complex={int(return_complex)}")
        from .pointwise import _LEGACY

        what = f"CPU{_LEGACY[input.dtype.name]}Type{list(input.shape)}"
        return RuntimeError(f"istft({what}, {args}) {msg}")

    if input._data.ndim == 1:  # (torch indexes its third-to-last dim first)
        raise IndexError("Dimension out of range (expected to be in range of [-2, 1], but got -3)")
    if input._data.ndim not in (2, 3):
        raise fail(f": expected a tensor with 2 or 3 dimensions of complex, but got {input._data.ndim}")
    batched = input._data.ndim == 3
    x = input if batched else input.unsqueeze(0)
    n_freq, n_frames = x._data.shape[1], x._data.shape[2]
    one = (n_freq != n_fft) if onesided is None else onesided
    if one and n_fft // 2 + 1 != n_freq:
        raise fail(": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 "
                   f"when onesided=True, but got {n_freq}")
    if not one and n_fft != n_freq:
        raise fail(": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
                   f"onesided=False, but got {n_freq}")
    if hop <= 0 or win <= 0 or win > n_fft:
        raise fail(f": expected 0 < win_length <= n_fft and hop_length > 0, but got win_length={win}, "
                   f"hop_length={hop}")
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win):
        raise fail(f": Invalid window shape. window has to be 1D and length of `win_length`, but got "
                   f"{list(window.shape)}")
    norm = 1 if normalized else 2
    frames = _transpose12(x)  # (B, n_frames, n_freq)
    if one:
        if return_complex:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        y = fft_c2r(frames, (2,), norm, n_fft)
    else:
        y = fft_c2c(frames, (2,), norm, False)
        if not return_complex:
            y = y.real
    w = _full_window(window, win, n_fft, y)
    y = y * w  # (B, n_frames, n_fft)
    total = n_fft + hop * (n_frames - 1)
    y = fold(y.transpose(1, 2), (1, total), (1, n_fft), stride=(1, hop)).reshape(y._data.shape[0], total)
    wsq = np.asarray((w * w)._data if w._data.dtype.kind != "c" else np.abs(w._data) ** 2)
    env = np.zeros(total, dtype=wsq.dtype)
    for k in range(n_frames):
        env[k * hop:k * hop + n_fft] += wsq
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (total - n_fft // 2 if center else total)
    end = min(end, total)
    y = y.narrow(1, start, end - start)
    env = env[start:end]
    if env.size and np.abs(env).min() < 1e-11:
        raise fail(f"window overlap add min: {np.abs(env).min():g}")
    if length is not None and y._data.shape[1] < length:
        # zeros past the signal's end, divided by an envelope of ones there (as torch does)
        from .padding import pad

        extra = length - y._data.shape[1]
        y = pad(y, [0, extra])
        env = np.concatenate([env, np.ones(extra, env.dtype)])
    y = y / _new(env)
    return y if batched else y.squeeze(0)


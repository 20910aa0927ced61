"""The three discrete Fourier transform primitives behind ``ember.fft`` and ``ember.stft``.

As in torch, every transform is one of three ops (and their nodes):

- ``fft_c2c``: complex -> complex, forward (exp(-i...)) or inverse (exp(+i...)) sign;
- ``fft_r2c``: real -> complex, forward sign, optionally only the non-redundant half of the last dim;
- ``fft_c2r``: the half spectrum of a Hermitian signal -> real, inverse sign.

``norm`` is the scaling applied to the output: 0 none, 1 by 1/sqrt(n), 2 by 1/n (n the product of
the transformed sizes). The adjoint of a transform with scaling ``norm`` is the transform in the
other direction with the same scaling; each derivative below is that adjoint, written with these
same ops, so gradients of any order come out of the table.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._tensor import Tensor, _new
from ._core import node_class, record
from .complex import complex_dtype_of, real, real_dtype_of

# NumPy's ``norm`` strings that apply scaling (none, 1/sqrt(n), 1/n) to a forward / inverse transform
_NP_NORM_FWD = ("backward", "ortho", "forward")
_NP_NORM_INV = ("forward", "ortho", "backward")


def _c2c_np(x: np.ndarray, dims: tuple, norm: int, forward: bool) -> np.ndarray:
    if forward:
        out = np.fft.fftn(x, axes=dims, norm=_NP_NORM_FWD[norm])
    else:
        out = np.fft.ifftn(x, axes=dims, norm=_NP_NORM_INV[norm])
    return out.astype(x.dtype, copy=False)


def _c2c_grad(n: Any, g: Tensor) -> Tensor:
    dims, norm, forward = n.attrs
    return fft_c2c(g, dims, norm, not forward)


def _r2c_grad(n: Any, g: Tensor) -> Tensor:
    dims, norm, onesided = n.attrs
    if onesided:  # the dropped half of the spectrum had no gradient: zeros up to the full length
        full = n._in_meta[0][0][dims[-1]]
        g = _pad_end(g, dims[-1], full - g._data.shape[dims[-1]])
    return real(fft_c2c(g, dims, norm, False))


def _c2r_grad(n: Any, g: Tensor) -> Tensor:
    dims, norm, last = n.attrs
    gi = fft_r2c(g, dims, norm, True)
    # the bins that stand for two (conjugate) bins of the full spectrum count twice
    k = gi._data.shape[dims[-1]]
    w = np.full(k, 2.0)
    w[0] = 1.0
    if last % 2 == 0:
        w[-1] = 1.0
    shape = [1] * gi._data.ndim
    shape[dims[-1]] = k
    return gi * _new(w.reshape(shape).astype(real_dtype_of(gi._data.dtype)))


FftC2CBackward0 = node_class("fft_c2c", _c2c_grad, "fft_c2c(grad, dim, normalization, !forward)")
FftR2CBackward0 = node_class("fft_r2c", _r2c_grad, "real(fft_c2c(zero-padded grad, dim, normalization, inverse))")
FftC2RBackward0 = node_class("fft_c2r", _c2r_grad, "fft_r2c(grad, dim, normalization, onesided), middle bins doubled")


def _pad_end(t: Tensor, dim: int, extra: int) -> Tensor:
    """``t`` with ``extra`` zeros appended along ``dim`` (differentiably)."""
    if extra <= 0:
        return t
    from .shape import cat

    shape = list(t._data.shape)
    shape[dim] = extra
    return cat([t, _new(np.zeros(shape, t._data.dtype))], dim)


def fft_c2c(input: Tensor, dims: Sequence[int], norm: int, forward: bool) -> Tensor:
    """The complex-to-complex transform over ``dims`` of a complex tensor."""
    dims = tuple(dims)
    out = _c2c_np(input._data, dims, norm, forward)
    return record(FftC2CBackward0, out, (input,), attrs=(dims, norm, forward))


def fft_r2c(input: Tensor, dims: Sequence[int], norm: int, onesided: bool) -> Tensor:
    """The forward transform of a real tensor over ``dims``; ``onesided`` keeps n // 2 + 1 bins of the last."""
    dims = tuple(dims)
    x = input._data
    ct = complex_dtype_of(x.dtype)
    if onesided:
        out = np.fft.rfftn(x, axes=dims, norm=_NP_NORM_FWD[norm])
    else:
        out = np.fft.fftn(x, axes=dims, norm=_NP_NORM_FWD[norm])
    return record(FftR2CBackward0, out.astype(ct, copy=False), (input,), attrs=(dims, norm, onesided))


def fft_c2r(input: Tensor, dims: Sequence[int], norm: int, last_dim_size: int) -> Tensor:
    """The inverse transform over ``dims`` of a Hermitian half spectrum, ``last_dim_size`` real outputs in the last."""
    dims = tuple(dims)
    x = input._data
    s = [x.shape[d] for d in dims[:-1]] + [last_dim_size]
    out = np.fft.irfftn(x, s=s, axes=dims, norm=_NP_NORM_INV[norm])
    return record(FftC2RBackward0, out.astype(real_dtype_of(x.dtype), copy=False), (input,),
                  attrs=(dims, norm, last_dim_size))

"""``ember.fft``: torch.fft's discrete Fourier transforms, differentiable to any order.

Every public function reduces to the three primitives of ``ember.ops.spectral`` (whose nodes are
torch's FftC2CBackward0, FftR2CBackward0 and FftC2RBackward0), after resizing the input with
differentiable ops (zero padding or slicing, as torch does). Real inputs give complex results of
the same precision (float32 -> complex64); integer inputs compute in the default float dtype.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _dtype
from ._tensor import Tensor, _new
from .ops._core import wrap_dim
from .ops.complex import conj, conj_physical
from .ops.pointwise import _out
from .ops.spectral import fft_c2c, fft_c2r, fft_r2c

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


# ---------------------------------------------------------------------------- argument handling
def _norm(norm: str | None, forward: bool) -> int:
    """torch's scaling for ``norm`` on a transform of the given direction: 0 none, 1 sqrt(n), 2 n."""
    if norm is None or norm == "backward":
        return 0 if forward else 2
    if norm == "forward":
        return 2 if forward else 0
    if norm == "ortho":
        return 1
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _float_input(x: Tensor, name: str, require_real: bool = False) -> Tensor:
    k = x._data.dtype.kind
    if x._data.dtype == np.float16:
        raise RuntimeError("Unsupported dtype Half")
    if k == "c":
        if require_real:
            if name in ("ihfft2", "ihfftn"):
                raise RuntimeError(f"Only supports floating-point dtypes, but found: {_legacy(x)}")
            if name in ("rfft2", "rfftn"):
                raise RuntimeError(f"rfftn expects a real-valued input tensor, but got {_legacy(x)}")
            raise RuntimeError(f"{name} expects a real input tensor, but got {_legacy(x)}")
        return x
    if k in "biu":
        return x.to(_dtype.get_default_dtype())
    return x


def _legacy(x: Tensor) -> str:
    from .ops.pointwise import _LEGACY

    return _LEGACY[x.dtype.name]


def _to_complex(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "c":
        return x
    return x.to(_dtype.complex64 if x._data.dtype == np.float32 else _dtype.complex128)


def _resize(x: Tensor, dim: int, size: int) -> Tensor:
    """Zero-pad or slice ``x`` along ``dim`` to ``size`` (torch's resize before a transform)."""
    cur = x._data.shape[dim]
    if size == cur:
        return x
    if size < cur:
        return x.narrow(dim, 0, size)
    from .ops.padding import pad

    widths = [0, 0] * (x._data.ndim - dim)
    widths[-1] = size - cur  # the last pair pads ``dim``, the first the last dim
    return pad(x, widths)


def _check_n(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _dims_and_sizes(x: Tensor, s: Sequence[int] | None, dim: Any, check_last: bool = True) -> tuple[list, list]:
    """The transformed dims (wrapped) and their signal sizes (-1 or None: the input's size)."""
    nd = x._data.ndim
    if dim is not None and not isinstance(dim, (list, tuple)):
        dim = [dim]
    if s is not None:
        s = list(s)
        if dim is not None and len(dim) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if dim is None and len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
        if dim is None:
            dim = list(range(nd - len(s), nd))
    if nd == 0 and dim:
        raise IndexError(f"Dimension specified as {dim[0]} but tensor has no dimensions")
    dims = [wrap_dim(d, nd) for d in (range(nd) if dim is None else dim)]
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = [x._data.shape[d] for d in dims]
    else:
        sizes = [x._data.shape[d] if v == -1 else v for d, v in zip(dims, s)]
    for v in sizes if check_last else sizes[:-1]:
        _check_n(v)
    return dims, sizes


def _resize_all(x: Tensor, dims: Sequence[int], sizes: Sequence[int]) -> Tensor:
    for d, v in zip(dims, sizes):
        x = _resize(x, d, v)
    return x


# ---------------------------------------------------------------------------- complex <-> complex
_ONE_DIM = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")


def _checked(name: str, input: Tensor, s: Any, dim: Any, require_real: bool = False, half: bool = False,
             check_last: bool = True) -> tuple:
    """The input in a float or complex dtype, the dims and the sizes, checked in torch's order (the
    1-D transforms and rfftn check the dtype first, the others the dims)."""
    dtype_first = name in _ONE_DIM
    if name in ("rfft2", "rfftn") and input._data.dtype.kind == "c":
        _float_input(input, name, require_real)  # raises
    x = _float_input(input, name, require_real) if dtype_first else input
    dims, sizes = (_half_dims(name, x, s, dim, check_last) if half else _dims_and_sizes(x, s, dim))
    if not dtype_first:
        x = _float_input(input, name, require_real)
    return x, dims, sizes


def _fftn_c2c(name: str, input: Tensor, s: Any, dim: Any, norm: str | None, forward: bool, one_dim: bool) -> Tensor:
    x, dims, sizes = _checked(name, input, s, dim)
    x = _resize_all(x, dims, sizes)
    nrm = _norm(norm, forward)
    if x._data.dtype.kind != "c" and one_dim:
        # torch's 1-D transform of a real signal: the full-length real-to-complex transform
        # (inverse direction: its conjugate, as the input is real)
        out = fft_r2c(x, dims, nrm, False)
        return out if forward else conj(out)
    return fft_c2c(_to_complex(x), dims, nrm, forward)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The 1-D discrete Fourier transform along ``dim`` (zero-padded or trimmed to ``n``)."""
    return _out(_fftn_c2c("fft", input, None if n is None else [n], [dim], norm, True, True), out)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The 1-D inverse discrete Fourier transform along ``dim``."""
    return _out(_fftn_c2c("ifft", input, None if n is None else [n], [dim], norm, False, True), out)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None,
         *, out: Any = None) -> Tensor:
    """The 2-D discrete Fourier transform over ``dim``."""
    return _out(_fftn_c2c("fft2", input, s, dim, norm, True, False), out)


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None,
          *, out: Any = None) -> Tensor:
    """The 2-D inverse discrete Fourier transform over ``dim``."""
    return _out(_fftn_c2c("ifft2", input, s, dim, norm, False, False), out)


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None,
         *, out: Any = None) -> Tensor:
    """The N-D discrete Fourier transform over ``dim`` (all dims, or the last len(s))."""
    return _out(_fftn_c2c("fftn", input, s, dim, norm, True, False), out)


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None,
          *, out: Any = None) -> Tensor:
    """The N-D inverse discrete Fourier transform."""
    return _out(_fftn_c2c("ifftn", input, s, dim, norm, False, False), out)


# ---------------------------------------------------------------------------- real <-> half spectrum
def _half_dims(name: str, x: Tensor, s: Any, dim: Any, check_last: bool = True) -> tuple[list, list]:
    dims, sizes = _dims_and_sizes(x, s, dim, check_last)
    if not dims:
        raise RuntimeError(f"{name.rstrip('2') + ('n' if name.endswith('2') else '')} must transform at least one axis")
    return dims, sizes


def _rfftn(name: str, input: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    x, dims, sizes = _checked(name, input, s, dim, require_real=True, half=True)
    x = _resize_all(x, dims, sizes)
    return fft_r2c(x, dims, _norm(norm, True), True)


def _irfftn(name: str, input: Tensor, s: Any, dim: Any, norm: str | None, forward: bool) -> Tensor:
    """irfftn (``forward`` False) and hfftn (True, the transform of the conjugate input)."""
    # (irfft checks the output length below; irfftn and hfftn the input sizes first)
    x, dims, sizes = _checked(name, input, s, dim, half=True, check_last=name not in _ONE_DIM)
    x = _to_complex(x)
    last = sizes[-1] if s is not None and s[-1] != -1 else 2 * (x._data.shape[dims[-1]] - 1)
    _check_n(last)
    sizes[-1] = last // 2 + 1
    x = _resize_all(x, dims, sizes)
    if forward:
        x = conj(x)
    return fft_c2r(x, dims, _norm(norm, forward), last)


def _ihfftn(name: str, input: Tensor, s: Any, dim: Any, norm: str | None, one_dim: bool) -> Tensor:
    x, dims, sizes = _checked(name, input, s, dim, require_real=True, half=True)
    x = _resize_all(x, dims, sizes)
    if one_dim or len(dims) == 1:
        return conj(fft_r2c(x, dims, _norm(norm, False), True))
    # the last dim's half spectrum, conjugated, then the inverse transform over the others
    half = conj_physical(fft_r2c(x, dims[-1:], _norm(norm, False), True))
    return fft_c2c(half, dims[:-1], _norm(norm, False), False)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The transform of a real signal: its n // 2 + 1 non-redundant frequencies."""
    return _out(_rfftn("rfft", input, None if n is None else [n], [dim], norm), out)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The inverse of rfft: ``n`` (default 2 * (m - 1)) real samples from a half spectrum."""
    return _out(_irfftn("irfft", input, None if n is None else [n], [dim], norm, False), out)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: a real result."""
    return _out(_irfftn("hfft", input, None if n is None else [n], [dim], norm, True), out)


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The inverse of hfft: the half spectrum of a real signal's inverse transform."""
    return _out(_ihfftn("ihfft", input, None if n is None else [n], [dim], norm, True), out)


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None,
          *, out: Any = None) -> Tensor:
    """The 2-D transform of a real signal, halved along the last dim."""
    return _out(_rfftn("rfft2", input, s, dim, norm), out)


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None,
           *, out: Any = None) -> Tensor:
    """The inverse of rfft2."""
    return _out(_irfftn("irfft2", input, s, dim, norm, False), out)


def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None,
          *, out: Any = None) -> Tensor:
    """The 2-D transform of a Hermitian-symmetric signal."""
    return _out(_irfftn("hfft2", input, s, dim, norm, True), out)


def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None,
           *, out: Any = None) -> Tensor:
    """The inverse of hfft2."""
    return _out(_ihfftn("ihfft2", input, s, dim, norm, False), out)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None,
          *, out: Any = None) -> Tensor:
    """The N-D transform of a real signal, halved along the last transformed dim."""
    return _out(_rfftn("rfftn", input, s, dim, norm), out)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None,
           *, out: Any = None) -> Tensor:
    """The inverse of rfftn."""
    return _out(_irfftn("irfftn", input, s, dim, norm, False), out)


def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None,
          *, out: Any = None) -> Tensor:
    """The N-D transform of a Hermitian-symmetric signal."""
    return _out(_irfftn("hfftn", input, s, dim, norm, True), out)


def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None,
           *, out: Any = None) -> Tensor:
    """The inverse of hfftn."""
    return _out(_ihfftn("ihfftn", input, s, dim, norm, False), out)


# ---------------------------------------------------------------------------- helpers
def _freq_tensor(vals: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    dt = dtype if dtype is not None else _dtype.get_default_dtype()
    t = _new(vals.astype(dt.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def fftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an n-point transform with sample spacing ``d``."""
    return _out(_freq_tensor(np.fft.fftfreq(n, d), dtype, requires_grad), out)


def rfftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of rfft's n // 2 + 1 outputs."""
    return _out(_freq_tensor(np.fft.rfftfreq(n, d), dtype, requires_grad), out)


def _shift(input: Tensor, dim: Any, inverse: bool) -> Tensor:
    nd = input._data.ndim
    if dim is None:
        dims = list(range(nd))
    else:
        dims = [wrap_dim(d, nd) for d in (dim if isinstance(dim, (list, tuple)) else [dim])]
    shifts = [-(input._data.shape[d] // 2) if inverse else input._data.shape[d] // 2 for d in dims]
    return input.roll(shifts, dims)


def fftshift(input: Tensor, dim: Any = None) -> Tensor:
    """Move the zero frequency to the centre of ``dim`` (all dims by default)."""
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:
    """The inverse of fftshift."""
    return _shift(input, dim, True)

from . import _namespace as _ns  # noqa: E402
from .ops import _vmap_hook  # noqa: E402

_vmap_hook.install([globals()], __all__, prefix="fft.")  # ember.func.vmap sees fft.X calls
_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""Complex-number basics: real / imag parts, conjugation, angle, and the real view of a complex tensor.

Gradients follow torch's convention for complex numbers: the gradient of a real loss L with
respect to z = x + iy is dL/dx + i dL/dy (the conjugate Wirtinger derivative, times two), so the
adjoint of a complex-linear map is its conjugate transpose.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods, node_class, record, require_tensors, zeros_grad
from .strided import storage_offset
from .views import _view_of

_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128),
               np.dtype(np.float16): np.dtype(np.complex64)}


def _legacy(t: Tensor) -> str:
    from .pointwise import _LEGACY

    return _LEGACY[t.dtype.name]


def _is_complex(t: Tensor) -> bool:
    return t._data.dtype.kind == "c"


ViewAsRealBackward0 = node_class("view_as_real", lambda n, g: view_as_complex(g), "view_as_complex(grad)")
ViewAsComplexBackward0 = node_class("view_as_complex", lambda n, g: view_as_real(g), "view_as_real(grad)")
ConjBackward0 = node_class("conj", lambda n, g: conj(g), "grad.conj()", layout="iterated")
ConjPhysicalBackward0 = node_class("conj_physical", lambda n, g: conj_physical(g), "grad.conj_physical()", layout="iterated")
ComplexBackward0 = node_class(
    "complex", lambda n, g: (real(g) if n.needs[0] else None, imag(g) if n.needs[1] else None),
    "real(grad), imag(grad)", layout="iterated_uncast")


def _angle_grad(n: Any, g: Tensor) -> Tensor:
    z = n.saved[0]
    if not _is_complex(z):
        return zeros_grad(g)  # (torch's zeros_like(self): not grad * 0, which is NaN for an inf grad, and no graph)
    # d angle = (x dy - y dx) / |z|^2: as a gradient, grad * i z / |z|^2, and 0 at z == 0
    # (written with real parts, so that it differentiates again correctly)
    x, y = real(z), imag(z)
    zero = _new(z._data == 0)
    r2 = (x * x + y * y).masked_fill(zero, 1.0)
    return complex((g * -y / r2).masked_fill(zero, 0.0), (g * x / r2).masked_fill(zero, 0.0))


AngleBackward0 = node_class("angle", _angle_grad, "grad * i z / |z|^2 (0 at z == 0)", layout="iterated_uncast")


def view_as_real(input: Tensor) -> Tensor:
    """The complex tensor's real and imaginary parts as a last dimension of size 2."""
    x = input._data
    if x.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    # (any strides: the real parts' view with a last axis stepping half an element to the imaginary)
    out = np.lib.stride_tricks.as_strided(x.real, x.shape + (2,), x.strides + (x.itemsize // 2,), writeable=x.flags.writeable)
    return _view_of(input, out, ViewAsRealBackward0)


def view_as_complex(input: Tensor) -> Tensor:
    """A float tensor whose last dimension has size 2 read as complex numbers."""
    x = input._data
    if x.dtype not in _COMPLEX_OF or x.dtype == np.float16:
        raise RuntimeError("view_as_complex is only supported for float and double tensors, but got a tensor of "
                           f"scalar type: {input.dtype}")
    if x.ndim == 0 or x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if x.strides[-1] != x.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(st % (2 * x.itemsize) for st, n in zip(x.strides[:-1], x.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if storage_offset(input) % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    out = x.view(_COMPLEX_OF[x.dtype])[..., 0]  # (NumPy views a contiguous last axis of 2 as one complex)
    return _view_of(input, out, ViewAsComplexBackward0)


def real(input: Tensor) -> Tensor:
    """The real part (the tensor itself when it is not complex)."""
    if not _is_complex(input):
        return input
    from .indexing import select

    return select(view_as_real(input), -1, 0)


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor."""
    if not _is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    from .indexing import select

    return select(view_as_real(input), -1, 1)


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (the tensor itself when it is not complex)."""
    if not _is_complex(input):
        return input
    return record(ConjBackward0, np.conj(input._data), (input,))


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate, always materialized."""
    if not _is_complex(input):
        return input
    return record(ConjPhysicalBackward0, np.conj(input._data), (input,))


def resolve_conj(input: Tensor) -> Tensor:
    """ember stores conjugates materialized, so this is the identity."""
    return input


def is_conj(input: Tensor) -> bool:
    """ember never keeps a lazy conjugate bit."""
    return False


def is_complex(input: Tensor) -> bool:
    """True for a complex dtype."""
    return _is_complex(input)


def resolve_neg(input: Tensor) -> Tensor:
    """ember stores negations materialized, so this is the identity."""
    return input


def is_neg(input: Tensor) -> bool:
    """ember never keeps a lazy negation bit."""
    return False


def angle(input: Tensor) -> Tensor:
    """The argument of each element (0 or pi for real numbers), in the real dtype."""
    x = input._data
    if x.dtype.kind not in "fc":
        x = x.astype(np.float32)
    if x.dtype.kind == "f":  # pi for negative numbers (not for -0.0), NaN for NaN
        out = np.where(np.isnan(x), x, np.where(x < 0, np.pi, 0.0))
    else:
        out = np.angle(x)
    return record(AngleBackward0, out.astype(_REAL_OF.get(x.dtype, x.dtype)), (input,), (input,))


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    """A complex tensor from its real and imaginary parts (float or double, same dtype)."""
    require_tensors("complex", real, imag, "imag", input_name="real")
    a, b = real._data, imag._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"Expected object of scalar type {_legacy(real)} but got scalar type {_legacy(imag)} for "
                           "second argument")
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {_legacy(real)} and "
                           f"{_legacy(imag)}")
    out = (a + 1j * b).astype(_COMPLEX_OF[a.dtype])
    return record(ComplexBackward0, out, (real, imag))


def _polar_grad(n: Any, g: Tensor) -> tuple:
    r, theta = n.saved
    gr, gi = (real(g), imag(g)) if _is_complex(g) else (g, g * 0)
    c, s = theta.cos(), theta.sin()
    return (gr * c + gi * s if n.needs[0] else None, r * (gi * c - gr * s) if n.needs[1] else None)


PolarBackward0 = node_class("polar", _polar_grad, "re(grad e^-i angle), abs * im(grad e^-i angle)", layout="iterated_uncast")


def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """abs * (cos(angle) + i sin(angle))."""
    require_tensors("polar", abs, angle, "angle", input_name="abs")
    a, t = abs._data, angle._data
    if a.dtype != t.dtype or a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"Expected both inputs to be Float or Double tensors but got {_legacy(abs)} and "
                           f"{_legacy(angle)}")
    out = (a * np.cos(t) + 1j * (a * np.sin(t))).astype(_COMPLEX_OF[a.dtype])
    return record(PolarBackward0, out, (abs, angle), (abs, angle))


def complex_dtype_of(npdtype: np.dtype) -> np.dtype:
    """The complex dtype of a real floating dtype's precision (complex ones map to themselves)."""
    return npdtype if npdtype.kind == "c" else _COMPLEX_OF[np.dtype(npdtype)]


def real_dtype_of(npdtype: np.dtype) -> np.dtype:
    """The real dtype of a complex dtype's precision (real ones map to themselves)."""
    return _REAL_OF.get(np.dtype(npdtype), np.dtype(npdtype))


def _H(input: Tensor) -> Tensor:
    nd = input._data.ndim
    if nd == 0:
        import warnings

        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", stacklevel=2)
        return conj(input)
    if nd != 2:
        hint = " For batches of matrices, consider using tensor.mH" if nd > 2 else ""
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {nd}-D tensor.{hint}")
    return conj(input.transpose(0, 1))


def _mH(input: Tensor) -> Tensor:
    if input._data.ndim == 0:  # torch: deprecated, the tensor itself (conj for complex)
        warnings.warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().", UserWarning, stacklevel=2)
        return conj(input) if input.is_complex() else input
    if input._data.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got "
                           f"{input._data.ndim}-D tensor.")
    return conj(input.transpose(-2, -1))


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (a view in torch)."""
    if input._data.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
                           f"{input._data.ndim}-D tensor.")
    return conj(input.transpose(-2, -1))


attach_methods(conj=conj, conj_physical=conj_physical, resolve_conj=resolve_conj, is_conj=is_conj, angle=angle,
               adjoint=adjoint, resolve_neg=resolve_neg, is_neg=is_neg)
# the conjugate transposes (these replace ops/__init__'s plain-transpose Tensor.H, which ignored complex numbers)
Tensor.H = property(_H)
Tensor.mH = property(_mH)
Tensor.real = property(real)
Tensor.imag = property(imag)

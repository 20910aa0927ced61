"""Argument checks for ember.random's samplers: torch's dtype names in messages, shapes,
bounds, and the cast of double results to the tensor's dtype."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

_F32 = np.float32


_TORCH_NAME = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "float16": "Half", "float32": "Float", "float64": "Double", "uint16": "UInt16", "uint32": "UInt32",
    "uint64": "UInt64", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}
_C_NAME = {
    "bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
    "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double", "bfloat16": "c10::BFloat16",
}
_FLOAT_DIGITS = {"float16": 11, "float32": 24, "float64": 53}


def _dt(np_dtype: Any) -> np.dtype:
    return np.dtype(np_dtype)


def _tname(dt: np.dtype) -> str:
    return _TORCH_NAME.get(dt.name, dt.name)


def _not_implemented(kernel: str, dt: np.dtype) -> NotImplementedError:
    return NotImplementedError(f'"{kernel}" not implemented for \'{_tname(dt)}\'')


def _bf16_finfo() -> Any:
    import ml_dtypes  # (loaded already: a bfloat16 dtype exists)

    return ml_dtypes.finfo(ml_dtypes.bfloat16)


def _require_float(kernel: str, dt: np.dtype) -> None:
    if dt.kind != "f":
        raise _not_implemented(kernel, dt)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    for d in shape:
        if d < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {d}: {list(shape)}")
    return shape


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _g(x: float) -> str:
    """Format a number the way torch's C++ messages do (``%g``)."""
    return "%g" % x

# --------------------------------------------------------------------------- small helpers
def _from_f64(v: np.ndarray, dt: np.dtype) -> np.ndarray:
    """Cast double results to ``dt`` as torch's kernels do: a ``double`` becomes ``c10::Half``
    through ``float`` (two roundings, which differ from one now and then)."""
    if dt == np.float16:
        return v.astype(_F32).astype(dt)
    return v.astype(dt)


def _int64(v: Any) -> int:
    v = int(v)
    if v < -(1 << 63) or v >= (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return v


def _to_inc(dt: np.dtype) -> int:
    if dt.name in _FLOAT_DIGITS:
        return 1 << _FLOAT_DIGITS[dt.name]
    if dt.name == "bool":
        return 1
    if dt.kind in "ui":
        return int(np.iinfo(dt).max)
    raise _not_implemented("random_from_to_kernel_cpu", dt)


def _check_bound(what: str, v: int, dt: np.dtype) -> None:
    if dt.kind == "f":
        info = np.finfo(dt)
        if not (float(info.min) <= v <= float(info.max)):
            raise RuntimeError(f"{what} is out of bounds for {_C_NAME.get(dt.name, dt.name)}")
        d = _FLOAT_DIGITS.get(dt.name)
        if d is not None and not (-(1 << d) <= v <= (1 << d)):
            warnings.warn(f"{what} is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations "
                          f"{_C_NAME[dt.name]} can support discrete uniform distribution only within this "
                          "range. This warning will become an error in version 1.7 release, please fix the "
                          "code in advance", UserWarning, stacklevel=4)
        return
    if dt.name == "bool":
        lo, hi = 0, 1
    else:
        ints = np.iinfo(dt)
        lo, hi = int(ints.min), int(ints.max)
    if not (lo <= v <= hi):
        raise RuntimeError(f"{what} is out of bounds for {_C_NAME.get(dt.name, dt.name)}")


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    nd = max(len(a), len(b))
    a2 = (1,) * (nd - len(a)) + tuple(a)
    b2 = (1,) * (nd - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a2, b2)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def _expand(p: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    try:
        return np.broadcast_to(p, shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: target sizes "
                           f"{list(shape)}, tensor sizes {list(p.shape)}") from None

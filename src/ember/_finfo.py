"""ember.finfo and ember.iinfo: the numeric limits of each dtype, as torch reports them."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype

# bfloat16 is float32's exponent with 8 significand bits: its limits are exact powers of two
# (written out here so that finfo(bfloat16) works without ml_dtypes)
_BF16 = {"bits": 16, "eps": 2.0 ** -7, "max": (2 - 2.0 ** -7) * 2.0 ** 127, "tiny": 2.0 ** -126}


def _dtype_arg(type, fn: str) -> _dtype.dtype:
    if type is None:
        return _dtype.get_default_dtype()
    if not isinstance(type, _dtype.dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not {builtins_name(type)}")
    return type


def builtins_name(v) -> str:
    return v.__name__ if isinstance(v, type) else type(v).__name__


class finfo:
    """Limits of a floating-point dtype: bits, eps, max, min, tiny (= smallest_normal), resolution.

    A complex dtype reports its real part's limits; with no argument, the default dtype's."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: _dtype.dtype | None = None) -> None:
        d = _dtype_arg(type, "finfo")
        if d.category < 2:
            p = _dtype.PREFIX[0]
            raise TypeError(f"{p}.finfo() requires a floating point input type. Use {p}.iinfo to handle '{p}.finfo'")
        if d.is_complex:
            d = _dtype.float32 if d is _dtype.complex64 else _dtype.float64
        if d is _dtype.bfloat16:
            bits, eps, mx, tiny = _BF16["bits"], _BF16["eps"], _BF16["max"], _BF16["tiny"]
        else:
            fi = np.finfo(d.np)
            bits, eps, mx, tiny = fi.bits, float(fi.eps), float(fi.max), float(fi.smallest_normal)
        self.bits, self.eps, self.max, self.min = bits, eps, mx, -mx
        self.tiny = self.smallest_normal = tiny
        # the largest power of ten not below eps: the decimal digits the type resolves
        self.resolution = 10.0 ** -math.floor(-math.log10(eps))
        self.dtype = d.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: bits, max, min (Python ints)."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: _dtype.dtype) -> None:
        d = _dtype_arg(type, "iinfo")
        p = _dtype.PREFIX[0]
        if d is _dtype.bool_:
            raise TypeError(f"{p}.bool is not supported by {p}.iinfo")
        if d.category != 1:
            raise TypeError(f"{p}.iinfo() requires an integer input type. Use {p}.finfo to handle '{p}.iinfo'")
        ii = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = ii.bits, int(ii.max), int(ii.min), d.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"

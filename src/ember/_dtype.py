"""dtype objects, torch's type-promotion rules, and the NumPy mapping."""

from __future__ import annotations

import numpy as np

# The printed module prefix ("ember.float64"); `python -m ember run` switches it to "torch".
PREFIX = ["ember"]


class dtype:
    """A tensor element type (``ember.float32`` ...), mirroring ``torch.dtype``."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "category")

    def __init__(self, name: str, np_dtype, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"{PREFIX[0]}.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> "dtype":
        return self

    def to_complex(self) -> "dtype":
        return complex128 if self is float64 else complex64


dtype.__module__ = "ember"  # printed as ember.dtype, as torch.dtype

bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
complex64 = dtype("complex64", np.complex64, 3)
complex128 = dtype("complex128", np.complex128, 3)

# torch's legacy scalar-type names, the one table for x.type(), ember.FloatTensor & co. and the
# dtype names in kernel error messages ("not implemented for 'Long'")
LEGACY_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
# the C++ type of each dtype, as torch's messages print it ("a gradient with dtype 'long int'")
CPP_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
             "int64": "long int", "float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
             "float64": "double", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _load_bfloat16() -> np.dtype:
    try:
        import ml_dtypes
    except ImportError:
        raise ImportError("ember's bfloat16 needs the ml_dtypes package: pip install ml_dtypes "
                          "(from ember's checkout: pip install -e '.[bfloat16]')") from None
    return np.dtype(ml_dtypes.bfloat16)


class _ExtensionDtype(dtype):
    """A dtype whose NumPy type comes from an optional package (bfloat16 from ml_dtypes): the
    package is imported on first use of ``.np`` (it takes over a second to import), so the
    dtype object, its repr, itemsize and promotion work without it."""

    __slots__ = ("_np", "_loader")

    def __init__(self, name: str, loader, category: int, itemsize: int) -> None:
        self.name = name
        self._np: np.dtype | None = None
        self._loader = loader
        self.category = category
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = True
        self.itemsize = itemsize

    @property
    def np(self) -> np.dtype:
        if self._np is None:
            self._np = self._loader()
            _FROM_NP[self._np] = self
        return self._np


bfloat16 = _ExtensionDtype("bfloat16", _load_bfloat16, 2, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
_NAMES = {d.name: d for d in ALL}
_FROM_NP = {d.np: d for d in ALL if not isinstance(d, _ExtensionDtype)}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def is_bfloat16(npd: np.dtype) -> bool:
    """Whether a NumPy dtype is ml_dtypes' bfloat16 (without importing ml_dtypes)."""
    return npd.kind == "V" and npd.name == "bfloat16"


def from_numpy_dtype(npd) -> dtype:
    """The ember dtype of a NumPy dtype; raises TypeError for types ember lacks."""
    try:
        return _FROM_NP[npd]
    except KeyError:
        pass
    npd = np.dtype(npd)
    if npd in _FROM_NP:
        return _FROM_NP[npd]
    if is_bfloat16(npd):  # (a bfloat16 array from the user before ember needed ml_dtypes itself)
        return _FROM_NP.setdefault(npd, bfloat16) if bfloat16.np == npd else bfloat16
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{npd.name}. The only supported types are: "
        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
    )


_default_float = [float32]


def get_default_dtype() -> dtype:
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest type both can be cast to (NumPy's lattice agrees here)."""
    if a is b:
        return a
    if a.category == b.category == 2 and (a is bfloat16 or b is bfloat16):
        # bfloat16 and float16 hold each other's values in neither: float32 holds both
        other = b if a is bfloat16 else a
        return float32 if other is float16 else other
    if a.category != b.category:
        # a float meets an int (or an int a bool): the higher category's type wins as is
        # (torch: float32 + int64 -> float32, where NumPy would widen to float64)
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.category == 3 and lo is float64:
            return complex128
        return hi
    return _FROM_NP[np.promote_types(a.np, b.np)]


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a Python scalar operand (bool, int64, default float, complex)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return complex128 if _default_float[0] is float64 else complex64
    return _default_float[0]


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # torch's rule for merging a higher-priority operand class with a lower one: the lower
    # class only matters when it is of a higher category (an int tensor meets a float scalar).
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == 3:
        return higher
    if lower.category == 3:
        return higher.to_complex() if higher.category == 2 else lower
    if higher.category == 2:
        return higher
    if higher.category == 0 or lower.category == 2:
        return promote_types(higher, lower)
    return higher


def result_type(dim_types, zero_dim_types, scalar_types) -> dtype:
    """Promote operands by torch's three priority classes: tensors with dims, 0-dim tensors, scalars."""
    dim = zero = wrapped = None
    for t in dim_types:
        dim = t if dim is None else promote_types(dim, t)
    for t in zero_dim_types:
        zero = t if zero is None else promote_types(zero, t)
    for t in scalar_types:
        wrapped = t if wrapped is None else promote_types(wrapped, t)
    out = _combine(dim, _combine(zero, wrapped))
    assert out is not None
    return out

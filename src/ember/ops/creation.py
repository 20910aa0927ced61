"""Tensor factories: tensor, zeros, ones, full, arange, linspace, eye, the _like forms, random ones."""

from __future__ import annotations

import math
import warnings
from collections import deque
from typing import Any, Sequence

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _check_device, _new
from .._typing import DeviceLikeType, DType
from ._strides import empty_preserved
from .out import creation_out, out_call

_FROM_NP = _dtype._FROM_NP


def _np_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, _dtype.dtype):
        return dtype.np
    if dtype in (float, "float"):
        return _dtype.float64.np
    if dtype is int:
        return _dtype.int64.np
    if dtype is bool:
        return _dtype.bool_.np
    raise TypeError(f"dtype must be an ember.dtype, not {type(dtype).__name__}")


def _finish(arr: np.ndarray, requires_grad: bool, name: str = "") -> Tensor:
    t = _new(arr)
    if requires_grad:
        if arr.dtype.kind not in "fc" and not _dtype.is_bfloat16(arr.dtype):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._rg = True
    return t


def _infer(data: Any) -> tuple[np.ndarray, bool]:
    """NumPy array of nested Python data, validating it as torch does."""
    if isinstance(data, Tensor):
        return data._data, False
    if isinstance(data, np.ndarray):
        return data, False
    if isinstance(data, np.generic):  # NumPy scalars keep their dtype, as 0-d arrays do
        return np.asarray(data), False
    if isinstance(data, (bool, int, float, complex)):
        return np.asarray(data), True
    if isinstance(data, (deque, range)):  # other sequences torch reads as lists
        data = list(data)
    if isinstance(data, (list, tuple)):
        _check_ragged(data)
        flat_tensors = any(isinstance(x, Tensor) for x in data)
        if flat_tensors:
            data = [x._data if isinstance(x, Tensor) else x for x in data]
        try:
            arr = np.array(data)
        except ValueError as e:
            raise ValueError(str(e)) from None
        if flat_tensors or arr.dtype.kind in "OUS":
            return arr, not flat_tensors
        leaves: set = set()
        _leaf_types(data, leaves)
        if leaves <= _PY_NUMBERS:
            return arr, True
        # NumPy scalars or arrays among the items: torch promotes the items' own types, with
        # Python numbers typed as on their own (float -> default dtype, int -> int64)
        dt = None
        for leaf in leaves:
            # a Python number is typed as tensor(number) types it (_default_np's rule)
            npd = _default_np(np.asarray(leaf()), True).dtype if leaf in _PY_NUMBERS else np.dtype(leaf)
            d = _FROM_NP[npd]
            dt = d if dt is None else _dtype.promote_types(dt, d)
        return arr.astype(dt.np), False
    if hasattr(data, "__array__"):
        return np.asarray(data), False
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


_PY_NUMBERS = {bool, int, float, complex}


def _leaf_types(data: Sequence, out: set) -> None:
    """The types of the numbers in nested lists: Python types, or NumPy dtypes for NumPy items."""
    types = set(map(type, data))
    if types <= _PY_NUMBERS:
        out |= types
        return
    for x in data:
        if isinstance(x, (list, tuple)):
            _leaf_types(x, out)
        elif isinstance(x, (np.ndarray, np.generic)):
            out.add(x.dtype)
        else:
            out.add(type(x))


def _check_ragged(data: Sequence, dim: int = 0) -> None:
    # torch reports the first sequence whose length disagrees with its siblings
    if not data or not isinstance(data[0], (list, tuple)):
        for x in data:
            if isinstance(x, (list, tuple)):
                raise TypeError("expected a number, got a sequence")
        return
    n = len(data[0])
    for x in data:
        if not isinstance(x, (list, tuple)):
            raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {type(x).__name__})")
        if len(x) != n:
            raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {len(x)})")
    for x in data:
        _check_ragged(x, dim + 1)


def _default_np(arr: np.ndarray, from_python: bool) -> np.ndarray:
    # Python floats become the default float dtype, Python ints int64; NumPy input keeps its type
    k = arr.dtype.kind
    if k == "f" and (from_python or arr.dtype == np.float64 and from_python):
        return arr.astype(_dtype.get_default_dtype().np)
    if k in "iu" and from_python:
        return arr.astype(np.int64)
    if k == "c" and from_python:
        return arr.astype(_dtype.get_default_dtype().to_complex().np)
    if k in "OUS":
        raise TypeError(f"Could not infer dtype of {type(arr.flat[0]).__name__ if arr.size else 'object'}")
    return arr


def tensor(data: Any, *, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors)."""
    _check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() "
            "or sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning, stacklevel=2)
    arr, from_python = _infer(data)
    npd = _np_dtype(dtype)
    if npd is None:
        arr = _default_np(arr, from_python)
        arr = np.array(arr, copy=True)
    else:
        arr = np.array(arr, dtype=npd, copy=True)
    if arr.dtype not in _FROM_NP:
        _dtype.from_numpy_dtype(arr.dtype)
    return _finish(arr, requires_grad)


def as_tensor(data: Any, dtype: DType | None = None, device: DeviceLikeType | None = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when the dtype agrees."""
    _check_device(device)
    npd = _np_dtype(dtype)
    if isinstance(data, Tensor):
        return data if npd is None or data._data.dtype == npd else data.to(_FROM_NP[npd])
    if isinstance(data, np.ndarray):
        _dtype.from_numpy_dtype(data.dtype)
        return _new(data if npd is None or data.dtype == npd else data.astype(npd))
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return _new(ndarray)


def _size(size: Sequence, op: str = "empty") -> tuple:
    """The shape a factory ``op`` was given, checked with torch's messages."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    elif len(size) == 1 and isinstance(size[0], float):
        raise TypeError(f"{op}(): argument 'size' (position 1) must be tuple of ints, not float")
    out = []
    for i, s in enumerate(size):
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{op}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                            f'"type must be tuple of ints,but got {type(s).__name__}"')
        if s < 0:
            if op == "zeros":  # (torch's zeros checks the sizes itself, in its own words)
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _shape_arg(shape: tuple, size: Any) -> tuple:
    """The shape given positionally (``zeros(2, 3)``) or by keyword (``zeros(size=(2, 3))``), as torch allows."""
    if size is None:
        return shape
    if shape:
        raise TypeError("size was given both positionally and by keyword")
    return (size,)


def _fill(size: Sequence, value: Any, dtype: Any, requires_grad: bool, device: Any, op: str) -> Tensor:
    _check_device(device)
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    return _finish(np.full(_size(size, op), value, dtype=npd), requires_grad)


def zeros(*shape: Any, size: Any = None, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
          out: Any = None, layout: Any = None) -> Tensor:
    size = _shape_arg(shape, size)
    if out is not None:
        return creation_out(zeros, "zeros", size, {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    return _fill(size, 0, dtype, requires_grad, device, "zeros")


def ones(*shape: Any, size: Any = None, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
         out: Any = None, layout: Any = None) -> Tensor:
    size = _shape_arg(shape, size)
    if out is not None:
        return creation_out(ones, "ones", size, {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    return _fill(size, 1, dtype, requires_grad, device, "ones")


def empty(*shape: Any, size: Any = None, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
          out: Any = None, layout: Any = None, memory_format: Any = None) -> Tensor:
    size = _shape_arg(shape, size)
    if out is not None:
        return creation_out(empty, "empty", size, {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    _check_device(device)
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    return _finish(np.empty(_size(size), dtype=npd), requires_grad)


def full(size: Sequence, fill_value: Any, *, dtype: DType | None = None, device: DeviceLikeType | None = None,
         requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    if out is not None:
        return creation_out(full, "full", (size, fill_value), {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value)
    return _fill((tuple(size),) if not isinstance(size, int) else (size,), fill_value, dtype, requires_grad, device, "full")


def _like(input: Tensor, dtype: Any, device: DeviceLikeType | None = None) -> tuple:
    _check_device(device)
    return input._data.shape, (_np_dtype(dtype) or input._data.dtype)


def _filled_like(input: Tensor, npd: Any, fill: Any, memory_format: Any) -> np.ndarray:
    """An array like ``input`` in torch's ``preserve_format`` layout (ops/_strides.py) filled by
    ``fill`` (``np.zeros``/``np.ones``/``np.empty``, or a value); plain NumPy for a contiguous input."""
    x = input._data
    if x.ndim < 2 or x.flags.c_contiguous or type(x) is not np.ndarray:
        return fill(x.shape, npd) if callable(fill) else np.full(x.shape, fill, npd)
    out = empty_preserved(x, npd, memory_format)
    if fill is not np.empty:
        out[...] = 0 if fill is np.zeros else 1 if fill is np.ones else np.full((), fill, npd)
    return out


def zeros_like(input: Tensor, *, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
               memory_format: Any = None, layout: Any = None) -> Tensor:
    _, npd = _like(input, dtype, device)
    return _finish(_filled_like(input, npd, np.zeros, memory_format), requires_grad)


def ones_like(input: Tensor, *, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
              memory_format: Any = None, layout: Any = None) -> Tensor:
    _, npd = _like(input, dtype, device)
    return _finish(_filled_like(input, npd, np.ones, memory_format), requires_grad)


def empty_like(input: Tensor, *, dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False,
               memory_format: Any = None, layout: Any = None) -> Tensor:
    _, npd = _like(input, dtype, device)
    return _finish(_filled_like(input, npd, np.empty, memory_format), requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: DType | None = None, device: DeviceLikeType | None = None,
              requires_grad: bool = False, memory_format: Any = None, layout: Any = None) -> Tensor:
    _, npd = _like(input, dtype, device)
    return _finish(_filled_like(input, npd, fill_value, memory_format), requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: DType | None = None, device: DeviceLikeType | None = None,
           requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); integer-valued arguments give int64."""
    if out is not None:
        return creation_out(arange, "arange", (start, end, step), {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    _check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    npd = _np_dtype(dtype)
    if npd is None:
        npd = (_dtype.get_default_dtype().np if any(isinstance(v, float) for v in vals) else np.dtype(np.int64))
    if npd.kind in "iu":
        vals = [int(v) for v in vals]  # torch converts the arguments to the integer dtype first
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = max(0, math.ceil((end - start) / step))
    if npd in (np.float16, np.float32, np.float64):
        return _finish(_arange_float(start, step, n, npd), requires_grad)
    # other dtypes: computed in double and cast
    arr = (start + step * np.arange(n, dtype=np.float64)) if npd.kind in "fc" else np.arange(start, end, step)
    return _finish(np.asarray(arr).astype(npd), requires_grad)


def _arange_float(start: float, step: float, n: int, npd: np.dtype) -> np.ndarray:
    """torch's float arange bit for bit: its kernel fills 32-byte vectors two at a time, each from a base
    ``start + step * i`` rounded to the dtype, lane j being ``base + step * j``; the remaining tail (under
    two vectors) is ``start + step * k``. Each value is a fused multiply-add in the accumulation type
    (float for half, double otherwise), then cast."""
    acc = np.float32 if npd == np.float16 else np.float64
    wide = np.float64 if acc == np.float32 else np.longdouble  # holds an acc product exactly: one rounding
    start, step = wide(acc(start)), wide(acc(step))
    vec = 32 // np.dtype(npd).itemsize
    k = np.arange(n)
    lane = k % vec
    base = (start + step * (k - lane)).astype(acc).astype(npd).astype(wide)
    vector = (base + step * lane).astype(acc)
    tail = (start + step * k).astype(acc)
    return np.where(k < n // (2 * vec) * (2 * vec), vector, tail).astype(npd)


def linspace(start: Any, end: Any, steps: int, *, dtype: DType | None = None, device: DeviceLikeType | None = None,
             requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    if out is not None:
        return creation_out(linspace, "linspace", (start, end, steps), {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    # torch fills the first half from start and the second half from end (symmetric rounding)
    idx = np.arange(steps, dtype=np.float64)
    half = steps // 2 if steps > 1 else 1  # a single step is ``start``
    finite = steps > 1 and np.isfinite([start, end]).all()
    if finite and (npd in (np.float32, np.float64) or npd.kind in "iu"):
        # bit for bit torch's kernels: the step rounded in the dtype (in double for integer dtypes, whose
        # ends are first truncated to integers), each value a fused multiply-add rounded once (a wider
        # type holds the exact product), for integer dtypes to a double and then truncated
        cd = np.float64 if npd.kind in "iu" else npd.type
        wide = np.float64 if npd == np.float32 else np.longdouble
        s, e = (cd(int(start)), cd(int(end))) if npd.kind in "iu" else (cd(start), cd(end))
        step = wide((e - s) / cd(steps - 1))
        idx = idx.astype(wide)
        arr = np.where(idx < half, wide(s) + step * idx, wide(e) - step * (steps - 1 - idx))
        arr = arr.astype(cd)
        return _finish((np.trunc(arr) if npd.kind in "iu" else arr).astype(npd), requires_grad)
    if finite and npd == np.float16:
        # half arithmetic as torch's Half does it: each operation in float, rounded back to half
        f32, f16 = np.float32, np.float16
        s, e = f16(start), f16(end)
        step = f32(f16(f32(e - s) / f32(steps - 1)))
        near_end = idx >= half
        prod = (step * np.where(near_end, steps - 1 - idx, idx).astype(f32)).astype(f16).astype(f32)
        arr = np.where(near_end, f32(e) - prod, f32(s) + prod).astype(f16)
        return _finish(arr, requires_grad)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    arr = np.where(idx < half, start + step * idx, end - step * (steps - 1 - idx))
    if npd.kind not in "fc":
        arr = np.trunc(arr) if npd.kind in "iu" else arr
    return _finish(arr.astype(npd), requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: DType | None = None,
             device: DeviceLikeType | None = None, requires_grad: bool = False) -> Tensor:
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if npd.kind in "fiu" and steps > 0 and np.isfinite([start, end]).all():
        # torch's kernel: the ends in the dtype, their difference over steps - 1 in double, each exponent
        # start + step * i (from the end for the second half), C's pow in double (NumPy's vector pow can
        # differ in the last bit), then a cast (truncating for integer dtypes)
        s, e = (int(start), int(end)) if npd.kind in "iu" else (npd.type(start), npd.type(end))
        step = float(e - s) / (steps - 1) if steps > 1 else 0.0
        idx = np.arange(steps)
        ex = np.where(idx < steps // 2, float(s) + step * idx, float(e) - step * (steps - 1 - idx))
        if steps == 1:  # a single value: start as given, not in the dtype
            ex = np.array([float(start)])
        res = _C_POW(float(base), ex).astype(np.float64)
        return _finish((np.trunc(res) if npd.kind in "iu" else res).astype(npd), requires_grad)
    lin = linspace(start, end, steps, dtype=_dtype.float64)
    return _finish(np.power(base, lin._data).astype(npd), requires_grad)


_C_POW = np.frompyfunc(math.pow, 2, 1)


def eye(n: int, m: int | None = None, *, dtype: DType | None = None, device: DeviceLikeType | None = None,
        requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    if out is not None:
        return creation_out(eye, "eye", (n, m), {"dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    _check_device(device)
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, n if m is None else m, dtype=npd), requires_grad)


# --------------------------------------------------------------------------- random
def _gen(generator: Any) -> Any:
    from .. import random as _random

    return _random.default_generator if generator is None else generator


def _float_np(dtype: Any) -> np.dtype:
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    if npd.kind not in "fc" and not _dtype.is_bfloat16(npd):
        name = _FROM_NP[npd].name
        raise RuntimeError(f'"check_uniform_bounds" not implemented for \'{name.capitalize()}\'')
    return npd


def rand(*shape: Any, size: Any = None, generator: Any = None, dtype: DType | None = None, device: DeviceLikeType | None = None,
         requires_grad: bool = False, out: Any = None, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1), drawn from ember's torch-compatible generator."""
    size = _shape_arg(shape, size)
    if out is not None:
        return creation_out(rand, "rand", size, {"generator": generator, "dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    _check_device(device)
    npd = _float_np(dtype)
    return _finish(_gen(generator).uniform(_size(size, "rand"), npd), requires_grad)


def randn(*shape: Any, size: Any = None, generator: Any = None, dtype: DType | None = None, device: DeviceLikeType | None = None,
          requires_grad: bool = False, out: Any = None, layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Standard normal samples, drawn from ember's torch-compatible generator."""
    size = _shape_arg(shape, size)
    if out is not None:
        return creation_out(randn, "randn", size, {"generator": generator, "dtype": dtype, "device": device, "requires_grad": requires_grad}, out)
    _check_device(device)
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    if npd.kind not in "fc" and not _dtype.is_bfloat16(npd):
        raise RuntimeError(f'"normal_kernel_cpu" not implemented for \'{_FROM_NP[npd].name.capitalize()}\'')
    return _finish(_gen(generator).normal(_size(size, "randn"), npd), requires_grad)


def randint(low: int = 0, high: Any = None, size: Any = None, *, generator: Any = None,
            dtype: DType | None = None, device: DeviceLikeType | None = None, requires_grad: bool = False, out: Any = None,
            layout: Any = None) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    if out is not None:
        kwargs = {"generator": generator, "dtype": dtype, "device": device, "requires_grad": requires_grad}
        return creation_out(randint, "randint", (low, high, size), kwargs, out)
    _check_device(device)
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    npd = _np_dtype(dtype) or np.dtype(np.int64)
    return _finish(_gen(generator).randint(int(low), int(high), _size((tuple(size),), "randint"), npd), requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: DType | None = None, device: DeviceLikeType | None = None,
             requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1."""
    if out is not None:
        kwargs = {"generator": generator, "dtype": dtype, "device": device, "requires_grad": requires_grad}
        return creation_out(randperm, "randperm", (n,), kwargs, out)
    _check_device(device)
    npd = _np_dtype(dtype) or np.dtype(np.int64)
    return _finish(_gen(generator).randperm(int(n), npd), requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: DType | None = None, requires_grad: bool = False, out: Any = None, device: DeviceLikeType | None = None) -> Tensor:
    """Normal samples: of ``size`` for number ``mean`` and ``std``, else one per element of the tensor(s)."""
    if out is not None:
        kwargs = {"generator": generator, "dtype": dtype, "requires_grad": requires_grad}
        if isinstance(mean, Tensor) or isinstance(std, Tensor):
            return out_call(normal, "normal", (mean, std, size), kwargs, out)
        return creation_out(normal, "normal", (mean, std, size), kwargs, out)
    g = _gen(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        # a Python-number operand stays a number: torch computes the mixed forms differently
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        npd = (mean if isinstance(mean, Tensor) else std)._data.dtype
        return _finish(g.normal_tensor(m, s, npd), requires_grad)
    npd = _np_dtype(dtype) or _dtype.get_default_dtype().np
    return _finish(g.normal(_size((tuple(size),), "normal"), npd, mean, std), requires_grad)

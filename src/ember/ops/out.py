"""``out=``: an op writes its result into a tensor the caller gave, with torch's rules.

Torch's out= variants share these rules, which this module states once for every op:

- no autograd: when grad mode is on and an argument (``out`` included) requires grad, the call
  fails with ``<op>(): functions with out=... arguments don't support automatic differentiation``;
- the result is written into ``out``'s own memory, so views of ``out`` see it, and ``out``'s
  version counter moves; ``out`` itself is returned;
- shape: an ``out`` of another shape is resized; when it held elements torch also warns (the
  behaviour is deprecated), an empty ``out`` is resized silently;
- dtype: each op family checks ``out``'s dtype its own way (``rule``): most cast the result when
  torch's ``can_cast`` allows it, the matrix products and ``max``/``min`` values want it exact,
  ``clamp``/``abs``/``neg``/``sign``, ``dot``, ``where`` and ``cat``/``stack`` word their errors
  differently.

An op takes ``out`` as a keyword and, when it is given, hands itself to :func:`out_call`.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Callable

import numpy as np

from .. import _dtype
from .._tensor import Tensor, bump_version
from ..autograd._forward_levels import fw as _fw
from ..autograd._forward_levels import has_any as _has_tangent
from ..autograd.grad_mode import _state  # (not from _core: out= handling sits below the op table)
from .value_index_pairs import _return_type

_LEGACY = _dtype.LEGACY_NAMES
# the C++ names torch's "Expected out tensor to have dtype ..." message uses
_CPP = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
        "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
        "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}
_PACKAGE_DIR = __file__.rsplit("/", 2)[0]


def _name(a: np.ndarray) -> str:
    return _dtype._FROM_NP[a.dtype].name


def _tensors(value: Any) -> list:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def check_no_grad(name: str, args: tuple, kwargs: dict, outs: list) -> None:
    """torch's error when an out= call would need a graph (grad mode on, an argument requires grad)."""
    if not _state.enabled:
        return
    for t in _tensors(args) + _tensors(list(kwargs.values())) + outs:
        if t._rg:
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                               "but one of the arguments requires grad.")


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    # torch's canCast: never complex -> real, floating -> integral, or non-bool -> bool
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return order[src.kind] <= order[dst.kind]


def _check_dtype(res: np.ndarray, out: np.ndarray, name: str, rule: str) -> None:
    if res.dtype == out.dtype:
        return
    r, o = _name(res), _name(out)
    if rule == "cast":
        if not _can_cast(res.dtype, out.dtype):
            raise RuntimeError(f"result type {_LEGACY[r]} can't be cast to the desired output type {_LEGACY[o]}")
    elif rule == "cat":
        if not _can_cast(res.dtype, out.dtype):
            raise TypeError(f"{_dtype.PREFIX[0]}.cat(): input types can't be cast to the desired output type {_LEGACY[o]}")
    elif rule == "exact":
        raise RuntimeError(f"Expected out tensor to have dtype {_CPP[r]}, but got {_CPP[o]} instead")
    elif rule == "found":                   # clamp, abs, neg, sign
        raise RuntimeError(f"Found dtype {_LEGACY[o]} but expected {_LEGACY[r]}")
    elif rule == "tensordot":
        raise RuntimeError(f"tensordot: Expected the output tensor to have dtype {_LEGACY[r]}, but got an output tensor "
                           f"with dtype {_LEGACY[o]}")
    elif rule == "dot":
        raise RuntimeError(f"result dtype {_LEGACY[o]} does not match input dtype {_LEGACY[r]}")
    elif rule == "where":
        raise RuntimeError(f"Expected out type to be {_LEGACY[r]} but got {_LEGACY[o]}")
    else:
        raise ValueError(f"unknown out= dtype rule {rule!r}")


def _stacklevel() -> int:
    # the first frame outside ember: the warning names the user's line, as torch's does
    level, f = 1, sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, f = level + 1, f.f_back
    return level


def _resize(out: Tensor, shape: tuple) -> None:
    if out._data.shape == shape:
        return
    if out._data.size:
        warnings.warn(
            f"An output with one or more elements was resized since it had shape {list(out._data.shape)}, which does "
            f"not match the required output shape {list(shape)}. This behavior is deprecated, and in a future PyTorch "
            "release outputs will not be resized unless they have zero elements. You can explicitly reuse an out "
            "tensor t by resizing it, inplace, to zero elements with t.resize_(0).", UserWarning, stacklevel=_stacklevel())
    out._data = np.empty(shape, out._data.dtype)


def write_out(result: Tensor, out: Any, name: str, rule: str = "cast") -> Tensor:
    """Write ``result`` into ``out`` (dtype checked by ``rule``, resized if needed) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if _fw.on and (_has_tangent(result) or _has_tangent(out)):
        raise NotImplementedError(f"Trying to use forward AD with {name}_out that does not support it because it is "
                                  "an out= function")
    res = result._data
    _check_dtype(res, out._data, name, rule)
    _resize(out, res.shape)
    if not out._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
            "memory location, or more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    np.copyto(out._data, res, casting="unsafe")
    bump_version(out)
    return out


def out_call(fn: Callable, name: str, args: tuple, kwargs: dict, out: Any, rule: str = "cast",
             differentiable: bool = True) -> Tensor:
    """``fn(*args, **kwargs)`` written into ``out``: torch's out= variant of op ``name``
    (``differentiable=False``: an op with no derivative, such as a comparison, which torch lets
    take out= whatever requires grad)."""
    if differentiable:
        check_no_grad(name, args, kwargs, _tensors(out))
    from ..autograd.grad_mode import no_grad

    with no_grad():
        result = fn(*args, **kwargs)
    return write_out(result, out, name, rule)


def minmax_out(fn: Callable, name: str, input: Tensor, dim: Any, keepdim: bool, other: Any, out: Any) -> Any:
    """``max``/``min`` with ``out=``: a tensor for the full or elementwise forms, a (values, indices)
    pair for the ``dim`` form (values of the input's dtype, indices int64), as torch's ``max_out``."""
    by_dim = dim is not None and not isinstance(dim, Tensor) and other is None
    if not by_dim:
        return out_call(fn, name, (input, dim, keepdim), {"other": other}, out)
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, Tensor) for t in out)):
        raise TypeError(f"{name}(): argument 'out' must be a tuple of two Tensors (values, indices) when 'dim' is given, "
                        f"not {type(out).__name__}")
    check_no_grad(name, (input,), {}, list(out))
    from ..autograd.grad_mode import no_grad

    with no_grad():
        values, indices = fn(input, dim, keepdim)
    write_out(values, out[0], name, "exact")
    write_out(indices, out[1], name, "exact")
    return _pair_type(f"{name}_out")(out[0], out[1])


_PAIR_TYPES: dict = {}


def _pair_type(name: str) -> type:
    """``torch.return_types.max_out`` and ``min_out``: the (values, indices) pair, so named."""
    if name not in _PAIR_TYPES:
        _PAIR_TYPES[name] = _return_type(name)
    return _PAIR_TYPES[name]


def reduction_out(fn: Callable, name: str, input: Tensor, dim: Any, keepdim: bool, dtype: Any, out: Any) -> Tensor:
    """``sum``/``mean`` with ``out=``: without ``dtype``, the sum is taken in ``out``'s dtype (the
    mean too, for floating input and out), as torch infers it; with ``dtype``, ``out`` must match it."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if dtype is not None:
        return out_call(fn, name, (input, dim, keepdim), {"dtype": dtype}, out, "exact")
    inferred = None
    od = out._data.dtype
    if name == "sum" or (input._data.dtype.kind in "fc" and od.kind in "fc"):
        inferred = _dtype._FROM_NP[od]
    return out_call(fn, name, (input, dim, keepdim), {"dtype": inferred}, out)


def creation_out(fn: Callable, name: str, args: tuple, kwargs: dict, out: Any) -> Tensor:
    """A factory (``zeros``, ``arange``, ``randn`` ...) with ``out=``: made in ``out``'s dtype (a
    ``dtype`` given must be that one), written into ``out``, which is resized without a warning;
    ``requires_grad=True`` in ``kwargs`` marks ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    check_no_grad(f"aten::{name}", (), {}, [out])
    have = _dtype._FROM_NP[out._data.dtype]
    want = kwargs.get("dtype")
    if want is not None and want != have:
        raise RuntimeError(f"dtype {_LEGACY[want.name]} does not match dtype of out parameter ({_LEGACY[have.name]})")
    result = fn(*args, **{**kwargs, "dtype": have, "requires_grad": False})
    n = result._data.size
    if name == "arange" and out._data.size not in (0, n):     # arange alone says so (an empty out silently grows)
        warnings.warn(f"The number of elements in the out tensor of shape {list(out._data.shape)} is {out._data.size} which "
                      f"does not match the computed number of elements {n}. Note that this may occur as a result of rounding "
                      f"error. The out tensor will be resized to a tensor of shape ({n},).", UserWarning, stacklevel=_stacklevel())
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, out._data.dtype)
    np.copyto(out._data, result._data)
    bump_version(out)
    if kwargs.get("requires_grad"):       # torch marks out itself, as a leaf
        out.requires_grad_(True)
    return out

"""The legacy typed-tensor surface older tutorials use: ``ember.FloatTensor``, ``LongTensor`` ... and
``x.type()``.

Each ``XTensor`` is a class (of metaclass ``tensortype``) that builds tensors of its dtype from
sizes, from data or from a tensor, and answers ``isinstance(x, ember.FloatTensor)`` by the
tensor's dtype, as in torch. The names come from ``_dtype.LEGACY_NAMES``, the one table of
torch's legacy scalar-type names.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _device, _dtype


class tensortype(type):
    """The metaclass of the legacy tensor types: instances are the tensors of one dtype."""

    dtype: Any
    is_cuda: bool

    def __instancecheck__(cls, obj: Any) -> bool:
        from ._tensor import Tensor

        return isinstance(obj, Tensor) and not cls.is_cuda and obj.dtype is cls.dtype

    def __call__(cls, *args: Any, device: Any = None, **kwargs: Any) -> Any:
        if cls.is_cuda:
            raise TypeError(f"type {_dtype.PREFIX[0]}.cuda.{cls.__name__} not available. ember not compiled with "
                            "CUDA enabled.")
        return _construct(cls.dtype, args, device, kwargs)


tensortype.__module__ = "ember"


def _construct(dt: Any, args: tuple, device: Any, kwargs: dict) -> Any:
    from ._tensor import Size, Tensor, _new

    if device is not None:
        d = _device.device(device)
        if d.type != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {d.type} was passed")
    name = f"{_dtype.LEGACY_NAMES[dt.name]}Tensor"
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got ({', '.join(kwargs)}=...), "
                        f"but expected one of:\n * (*, ember.device device = None)\n * (Tensor other)\n"
                        " * (tuple of ints size, *, ember.device device = None)\n"
                        " * (object data, *, ember.device device = None)\n")
    if not args:
        return _new(np.empty((0,), dt.np))
    if len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0]
        if t.dtype is not dt:
            raise TypeError(f"expected {dt} (got {t.dtype}) constructing a {_dtype.PREFIX[0]}.{name}")
        return t.view_as(t) if t.requires_grad else _new(t._data, None, t._vc)
    if len(args) == 1 and (isinstance(args[0], Size) or not isinstance(args[0], (int, np.integer))):
        if isinstance(args[0], Size):
            return _new(np.empty(tuple(args[0]), dt.np))
        from .ops.creation import tensor

        return tensor(args[0], dtype=dt)
    for a in args:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {args.index(a) + 1} with "
                            f"error \"type must be tuple of ints,but got {type(a).__name__}\"")
        if a < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {a}: {list(args)}")
    return _new(np.empty(tuple(int(a) for a in args), dt.np))


def _make(dt: Any, cuda: bool = False) -> tensortype:
    name = f"{_dtype.LEGACY_NAMES[dt.name]}Tensor"
    cls = tensortype(name, (), {"dtype": dt, "is_cuda": cuda, "__doc__": f"Tensors of dtype {dt.name} (legacy)."})
    cls.__module__ = "ember.cuda" if cuda else "ember"
    return cls


# torch keeps a legacy type for the real dtypes (complex tensors have a type() name but no class)
_TYPES = {dt: _make(dt) for dt in _dtype.ALL if dt.category < 3}
BY_NAME = {cls.__name__: cls for cls in _TYPES.values()}
_CUDA: dict = {}


def cuda_type(name: str) -> tensortype | None:
    """``ember.cuda.FloatTensor`` & co.: types that exist but cannot be instantiated without CUDA."""
    if name not in BY_NAME:
        return None
    if name not in _CUDA:
        _CUDA[name] = _make(BY_NAME[name].dtype, cuda=True)
    return _CUDA[name]


def type_name(dt: Any) -> str:
    """``x.type()``: 'ember.FloatTensor' (``torch.`` under ``python -m ember run``)."""
    return f"{_dtype.PREFIX[0]}.{_dtype.LEGACY_NAMES[dt.name]}Tensor"


def resolve(target: Any) -> Any:
    """The dtype named by ``x.type(target)``: a dtype, a legacy type, or its name as a string."""
    from ._tensor import Tensor

    if isinstance(target, _dtype.dtype):
        return target
    if isinstance(target, tensortype):
        if target.is_cuda:
            raise _no_cuda()
        return target.dtype
    if target is Tensor:
        return _dtype.get_default_dtype()
    if isinstance(target, str):
        prefix, _, name = target.rpartition(".")
        if prefix == f"{_dtype.PREFIX[0]}.cuda" and name in BY_NAME:
            raise _no_cuda()
        if prefix == _dtype.PREFIX[0] and name in BY_NAME:
            return BY_NAME[name].dtype
        if prefix == _dtype.PREFIX[0] and name == "Tensor":
            return _dtype.get_default_dtype()
        raise ValueError(f"invalid type: '{target}'")
    raise ValueError(f"invalid type: '{getattr(target, '__name__', target)}'")


def _no_cuda() -> RuntimeError:
    return RuntimeError("Cannot initialize CUDA: ember not compiled with CUDA enabled")


def set_default_tensor_type(t: Any) -> None:
    """Deprecated: set the default dtype through a legacy type (``ember.DoubleTensor``) or its name."""
    warnings.warn(f"{_dtype.PREFIX[0]}.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  f"{_dtype.PREFIX[0]}.set_default_dtype() and {_dtype.PREFIX[0]}.set_default_device() as "
                  "alternatives.", UserWarning, stacklevel=2)
    _dtype.set_default_dtype(resolve(t))


globals().update(BY_NAME)  # ember.FloatTensor & co. are module attributes, re-exported by ember/__init__
__all__ = [*BY_NAME, "set_default_tensor_type", "tensortype"]


# Tensor.type() speaks these names, so this module (above the Tensor) installs it.
def _tensor_type(self: Any, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """The legacy type name ('ember.FloatTensor'), or a copy converted to ``dtype`` (a dtype, a legacy
    type such as ``ember.DoubleTensor`` or its name)."""
    if dtype is None:
        return type_name(self.dtype)
    return self.to(resolve(dtype))


def _type_str(self: Any) -> str:
    return f"{type_name(self.dtype)} {list(self._data.shape)}"


def _install() -> None:
    from ._tensor import Tensor

    _tensor_type.__name__ = _tensor_type.__qualname__ = "type"
    cls: Any = Tensor  # (methods added to the class here: the Tensor mypy checks has neither)
    cls.type = _tensor_type
    cls._type_str = _type_str


_install()

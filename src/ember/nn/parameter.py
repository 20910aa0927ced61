"""nn.Parameter: a leaf tensor that a Module registers as trainable."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _shared_memory
from .._tensor import Tensor, _init, _new


class Parameter(Tensor):
    """A Tensor that is a module parameter: shares ``data``'s memory and requires grad by default."""

    __slots__ = ("__dict__",)

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        if data is not None and not isinstance(data, Tensor):  # (torch detaches what it is given)
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        self = object.__new__(cls)
        arr = data._data if data is not None else np.empty((0,), np.float32)
        _init(self, arr)
        if data is not None:
            self._vc = data._vc
        self.requires_grad = requires_grad
        return self

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:  # type: ignore[override]  # torch's Parameter takes no tensor_contents
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto: Any) -> Any:
        return (_rebuild_parameter, (self._data, self._rg))


_shared_memory.shareable(Parameter)  # (a shared parameter reaches another process by name)


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    from .._tensor import _new

    return Parameter(_new(data), requires_grad)


_UNINITIALIZED = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
                  "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
                  "`forward` to initialize the parameters before accessing their attributes.")


class _Uninitialized:
    """A parameter or buffer whose shape is not known yet (a lazy module's, until its first call):
    asking its shape raises; ``materialize(shape)`` gives it memory and turns it into
    ``cls_to_become`` in place, so optimizers and modules that hold it keep the same object. Its
    dtype waits in an empty placeholder array."""

    __slots__ = ()
    cls_to_become: type = Tensor

    @property
    def shape(self) -> Any:
        raise RuntimeError(_UNINITIALIZED)

    def size(self, dim: int | None = None) -> Any:
        raise RuntimeError(_UNINITIALIZED)

    def dim(self) -> int:
        raise RuntimeError(_UNINITIALIZED)

    def numel(self) -> int:
        raise RuntimeError(_UNINITIALIZED)

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Allocate (uninitialised) memory of ``shape`` and become an ordinary tensor/parameter."""
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        t: Any = self
        t._data = np.empty(shape, dtype.np if dtype is not None else t._data.dtype)
        t.__class__ = self.cls_to_become

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return f"<{type(self).__name__}>"


def _placeholder(dtype: Any) -> Tensor:
    from .._dtype import get_default_dtype

    return _new(np.empty((0,), (dtype or get_default_dtype()).np))


class UninitializedParameter(_Uninitialized, Parameter):  # type: ignore[misc]  # (its repr prints no contents)
    """A lazy module's parameter before its first forward call fixes its shape."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> "UninitializedParameter":
        return Parameter.__new__(cls, _placeholder(dtype), requires_grad)  # type: ignore[return-value]

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        pass


class UninitializedBuffer(_Uninitialized, Tensor):  # type: ignore[misc]  # (its repr prints no contents)
    """A lazy module's buffer (running statistics) before its first forward call fixes its shape."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> "UninitializedBuffer":
        self = object.__new__(cls)
        _init(self, _placeholder(dtype)._data)
        self.requires_grad = requires_grad
        return self

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        pass


class _BufferMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._meta is not None and "buffer_persistent" in obj._meta


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a buffer: ``module.name = nn.Buffer(t)`` registers it (``persistent=False``
    keeps it out of ``state_dict``). The result is an ordinary tensor sharing ``data``'s memory."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Any:  # type: ignore[misc]
        t = _new(np.empty((0,), np.float32)) if data is None else _new(data._data)
        t.requires_grad = bool(data is not None and data.requires_grad)
        t._meta_dict()["buffer_persistent"] = persistent
        return t

"""nn.Parameter: a leaf tensor that a Module registers as trainable."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _init


class Parameter(Tensor):
    """A Tensor that is a module parameter: shares ``data``'s memory and requires grad by default."""

    __slots__ = ("__dict__",)

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
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


def _rebuild_parameter(data: np.ndarray, requires_grad: bool) -> Parameter:
    from .._tensor import _new

    return Parameter(_new(data), requires_grad)

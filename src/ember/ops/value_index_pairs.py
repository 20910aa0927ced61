"""The named (values, indices) pairs that max, min, sort ... return (``torch.return_types.max`` &c.)."""

from __future__ import annotations

from .. import _dtype
from .._tensor import Tensor


class _ReturnType(tuple):
    """A named pair like ``torch.return_types.max(values=..., indices=...)``."""

    _name = ""
    _fields = ("values", "indices")

    def __new__(cls, values: Tensor, indices: Tensor) -> "_ReturnType":
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self) -> Tensor:
        return self[0]

    @property
    def indices(self) -> Tensor:
        return self[1]

    def __repr__(self) -> str:
        return f"{_dtype.PREFIX[0]}.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _return_type(name: str) -> type:
    return type(name, (_ReturnType,), {"_name": name, "__slots__": (), "__module__": "ember.return_types"})

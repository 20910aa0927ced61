"""``ember.autograd.Variable``: the pre-0.4 wrapper, kept as torch keeps it.

Since torch 0.4 a Variable is a Tensor: ``Variable(t)`` returns a new tensor sharing ``t``'s data,
cut from its graph, with ``requires_grad`` as asked, and ``isinstance(x, Variable)`` holds for
every tensor. ``volatile`` only warns.
"""

from __future__ import annotations

import warnings
from typing import Any


class VariableMeta(type):
    """Makes ``isinstance(x, Variable)`` true of every tensor."""

    def __instancecheck__(cls, other: Any) -> bool:
        from .function import _Tensor

        return isinstance(other, _Tensor)


class Variable(metaclass=VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)``: a tensor sharing ``data`` (legacy API)."""

    def __new__(cls, data: Any = None, requires_grad: bool = False, volatile: bool = False, _grad_fn: Any = None,
                name: Any = None) -> Any:
        from .function import _new_tensor as _new
        from .function import _Tensor as Tensor

        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with ember.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            import numpy as np

            from .. import _dtype

            return _new(np.empty((0,), _dtype.get_default_dtype().np))
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = _new(data._data)
        if requires_grad:
            if data._data.dtype.kind not in "fc":
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            out._rg = True
        return out

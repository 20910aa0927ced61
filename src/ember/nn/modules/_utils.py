"""Helpers shared by the layer modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import _dtype
from ..._tensor import _new
from ..._typing import DType
from ...ops.creation import _size
from ..parameter import Parameter


def _ntuple(n: int) -> Any:
    def parse(x: Any) -> tuple:
        if isinstance(x, (tuple, list)):
            return tuple(x)
        return (x,) * n

    return parse


_single = _ntuple(1)
_pair = _ntuple(2)


def _np_dtype(dtype: Any) -> np.dtype:
    if dtype is None:
        return _dtype.get_default_dtype().np
    return dtype.np


def empty_param(*shape: int, dtype: DType | None = None, requires_grad: bool = True) -> Parameter:
    # _size: torch's error for a negative or non-integer size (nn.Linear(-1, 2))
    return Parameter(_new(np.empty(_size(shape), _np_dtype(dtype))), requires_grad=requires_grad)


def zeros_buf(*shape: int, dtype: DType | None = None) -> Any:
    return _new(np.zeros(_size(shape), _np_dtype(dtype)))


def ones_buf(*shape: int, dtype: DType | None = None) -> Any:
    return _new(np.ones(_size(shape), _np_dtype(dtype)))

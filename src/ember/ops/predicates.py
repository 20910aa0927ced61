"""Elementwise sign and finiteness predicates: ``signbit``, ``isneginf``, ``isposinf`` and ``isreal``
(bool results, no gradient)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, _new
from ._core import attach_methods
from ._strides import iterated


def signbit(input: Tensor) -> Tensor:  # noqa: A002
    """Whether each element's sign bit is set (true for -0.0 and negative numbers, NaN by its bit)."""
    if input._data.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    return _new(iterated(np.signbit(input._data), input))


def isneginf(input: Tensor) -> Tensor:  # noqa: A002
    """Whether each element is negative infinity."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("isneginf does not support complex inputs.")
    return _new(iterated(np.isneginf(input._data) if input._data.dtype.kind == "f" else np.zeros(input._data.shape, bool), input))


def isposinf(input: Tensor) -> Tensor:  # noqa: A002
    """Whether each element is positive infinity."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("isposinf does not support complex inputs.")
    return _new(iterated(np.isposinf(input._data) if input._data.dtype.kind == "f" else np.zeros(input._data.shape, bool), input))


def isreal(input: Tensor) -> Tensor:  # noqa: A002
    """Whether each element has a zero imaginary part (always true for real tensors)."""
    x = input._data
    return _new(iterated(x.imag == 0 if x.dtype.kind == "c" else np.ones(x.shape, bool), x))


attach_methods(signbit=signbit, isneginf=isneginf, isposinf=isposinf, isreal=isreal)

"""Padding layers (torch.nn.modules.padding): constant, zero, reflection, replication and circular
padding of the last 1, 2 or 3 dimensions, each a ``F.pad`` call."""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from .module import Module


class _PadNd(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding: Any) -> None:
        super().__init__()
        # an int pads every side; a tuple is used as given, (left, right, top, bottom, front, back)
        self.padding = (padding,) * (2 * self._dims) if isinstance(padding, int) else tuple(padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension with ``value``: ``padding`` is an int or (left, right).

    >>> ember.nn.ConstantPad1d(1, 3.5)(ember.zeros(1, 2))
    tensor([[3.5000, 0.0000, 0.0000, 3.5000]])
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dimensions with ``value``: an int or (left, right, top, bottom)."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dimensions with ``value``: an int or (left, right, top, bottom, front, back)."""

    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd, ConstantPad1d):
    """Pads the last dimension with zeros: ``padding`` is an int or (left, right)."""


class ZeroPad2d(_ZeroPadNd, ConstantPad2d):
    """Pads the last two dimensions with zeros: an int or (left, right, top, bottom).

    >>> ember.nn.ZeroPad2d((1, 0, 0, 1))(ember.ones(1, 1, 1))
    tensor([[[0., 1.],
             [0., 0.]]])
    """


class ZeroPad3d(_ZeroPadNd, ConstantPad3d):
    """Pads the last three dimensions with zeros: an int or (left, right, top, bottom, front, back)."""


class ReflectionPad1d(_PadNd):
    """Pads the last dimension with its reflection (the edge value not repeated): (left, right)."""

    _mode, _dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads the last two dimensions with their reflection: an int or (left, right, top, bottom).

    >>> ember.nn.ReflectionPad2d(1)(ember.arange(4.).reshape(1, 2, 2))
    tensor([[[3., 2., 3., 2.],
             [1., 0., 1., 0.],
             [3., 2., 3., 2.],
             [1., 0., 1., 0.]]])
    """

    _mode, _dims = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pads the last three dimensions with their reflection."""

    _mode, _dims = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pads the last dimension by repeating its edge values: (left, right)."""

    _mode, _dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads the last two dimensions by repeating their edge values: an int or (left, right, top, bottom)."""

    _mode, _dims = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pads the last three dimensions by repeating their edge values."""

    _mode, _dims = "replicate", 3


class CircularPad1d(_PadNd):
    """Pads the last dimension by wrapping around (periodic boundary): (left, right)."""

    _mode, _dims = "circular", 1


class CircularPad2d(_PadNd):
    """Pads the last two dimensions by wrapping around: an int or (left, right, top, bottom)."""

    _mode, _dims = "circular", 2


class CircularPad3d(_PadNd):
    """Pads the last three dimensions by wrapping around."""

    _mode, _dims = "circular", 3

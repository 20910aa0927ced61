"""Channel shuffle (ShuffleNet): the channels of (N, C, *) input, read as a groups x (C / groups)
grid, transposed. Its derivative is the inverse shuffle, itself an op (so any order works)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..ops._core import node_class, record


def _shuffle_np(x: np.ndarray, groups: int) -> np.ndarray:
    n, c = x.shape[:2]
    y = x.reshape((n, groups, c // groups) + x.shape[2:]).swapaxes(1, 2)
    return np.ascontiguousarray(y).reshape(x.shape)


# (its inverse: the same shuffle with C / groups groups)
ChannelShuffleBackward0 = node_class("channel_shuffle", lambda n, g: channel_shuffle(g, g.shape[1] // n.attrs),
                                     "grad shuffled back with C / groups groups")


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleaves the channels of (N, C, *) input from ``groups`` groups (C must divide by ``groups``).

    >>> ember.nn.functional.channel_shuffle(ember.arange(4.).reshape(1, 4, 1), 2).flatten()
    tensor([0., 2., 1., 3.])
    """
    x = input._data
    if x.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(x.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if x.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {x.shape[1]} channels and "
                           f"{groups} groups.")
    return record(ChannelShuffleBackward0, _shuffle_np(x, groups), (input,), attrs=groups)

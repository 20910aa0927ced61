"""parameters_to_vector / vector_to_parameters."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..._tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Flatten and concatenate the parameters into one (differentiable) vector."""
    from ...ops.shape import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters' data."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        p._data = np.array(vec._data[pointer:pointer + n].reshape(p._data.shape), dtype=p._data.dtype)
        p._vc[0] += 1
        pointer += n

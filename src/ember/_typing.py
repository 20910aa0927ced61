"""Type aliases for what ember's public parameters accept (torch's ``torch.types`` names where it has them).

Annotations only: the modules that use them have ``from __future__ import annotations``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

from ._device import device
from ._dtype import dtype
from ._tensor import Tensor

DType: TypeAlias = dtype
# a device as torch's factories take it: ember.device('cpu'), 'cpu', 'cuda:0' or a CUDA index
DeviceLikeType: TypeAlias = str | int | device
# what an optimizer is built from: tensors, named tensors, or parameter groups (dicts with "params")
ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]

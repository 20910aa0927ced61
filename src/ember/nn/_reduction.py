"""Loss reduction arguments: the legacy ``size_average``/``reduce`` pair mapped to ``reduction``
(torch.nn._reduction's role)."""

from __future__ import annotations

import warnings
from typing import Any


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    # the warning names the reduction the legacy pair stands for
    r = "mean" if reduce and size_average else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{r}' instead.", stacklevel=2)
    return r


def _red_arg(size_average: Any, reduce: Any, reduction: str) -> str:
    r = _legacy_reduction(size_average, reduce, reduction)
    if r not in ("none", "mean", "sum"):
        raise ValueError(f"{r} is not a valid value for reduction")
    return r

"""Meta tensors (``torch.device('meta')``): a shape and a dtype with no data behind them.

torch uses them to build a model without memory (``model.to('meta')``, then ``to_empty`` or
``functional_call`` with real tensors). ember's data is a ``MetaArray``: a NumPy array subclass with
zero strides over one element, so it costs no memory at any size. Views of it (reshape, indexing,
transpose) stay meta; every computation on it raises, because ember computes on data (torch
would compute the result's shape only). Reading the values raises torch's "no data" error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NO_DATA = "Cannot copy out of meta tensor; no data!"
_NO_COMPUTE = ("ember does not implement computation on torch.device('meta') tensors: a meta tensor holds a "
               "shape and a dtype but no data (give the module real tensors with to_empty() or functional_call)")


class MetaArray(np.ndarray):
    """The data of a meta tensor: NumPy's array protocol refuses to compute with it."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(_NO_COMPUTE)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func not in _VIEWS:
            raise NotImplementedError(_NO_COMPUTE)
        # a view moves no data: take it of the plain zero-strided array and keep it meta
        plain = [a.view(np.ndarray) if type(a) is MetaArray else a for a in args]
        return func(*plain, **kwargs).view(MetaArray)

    def item(self, *args: Any) -> Any:
        raise NotImplementedError(NO_DATA)

    def tolist(self) -> Any:
        raise NotImplementedError(NO_DATA)

    def copy(self, order: Any = "C") -> MetaArray:
        return meta_array(self.shape, self.dtype)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> MetaArray:  # type: ignore[override]
        return meta_array(self.shape, dtype)


# NumPy's functions that only rearrange a shape (ember's view ops call them)
_VIEWS = frozenset((np.reshape, np.transpose, np.moveaxis, np.swapaxes, np.squeeze, np.expand_dims,
                    np.broadcast_to))


def meta_array(shape: tuple, dtype: Any) -> MetaArray:
    """A MetaArray of ``shape`` and ``dtype`` over one element (zero strides: no memory)."""
    one = np.zeros(1, dtype=dtype)
    arr = np.lib.stride_tricks.as_strided(one, shape=tuple(shape), strides=(0,) * len(shape), writeable=False)
    return arr.view(MetaArray)


def is_meta(arr: Any) -> bool:
    """Whether ``arr`` (a tensor's data) is a meta tensor's."""
    return type(arr) is MetaArray


def contiguous_strides(shape: tuple) -> tuple:
    """The strides (in elements) torch reports for a meta tensor: a contiguous layout."""
    out, step = [], 1
    for s in reversed(shape):
        out.append(step)
        step *= max(s, 1)
    return tuple(reversed(out))

"""In-place shape ops: ``t_``, ``transpose_``, ``squeeze_``, ``unsqueeze_``.

They change the tensor's own shape and strides (its array becomes a new NumPy view of the same
memory), bump the version and, when the tensor takes part in autograd, rewrite its history as torch
does: the tensor's new grad_fn (``TBackward1``, ``TransposeBackward1``, ``SqueezeBackward3/4/5``,
``UnsqueezeBackward1``) has the tensor's old history as its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new, bump_version
from ._core import _fw, _propagate, _state, attach, attach_methods, node_class, refresh_view, view_root, wrap_dim, wrap_dims
from ._forward_inplace import share as _fwd_share
from .shape import SqueezeBackward1, TBackward0, TransposeBackward0, UnsqueezeBackward0

TBackward1 = node_class("t", TBackward0.derivative, "grad transposed back", suffix=1)
TransposeBackward1 = node_class("transpose", TransposeBackward0.derivative, "grad transposed back", suffix=1)
UnsqueezeBackward1 = node_class("unsqueeze", UnsqueezeBackward0.derivative, "grad squeezed at dim", suffix=1)
SqueezeBackward3 = node_class("squeeze", SqueezeBackward1.derivative, "grad reshaped to self's shape", suffix=3)
SqueezeBackward4 = node_class("squeeze", SqueezeBackward1.derivative, "grad unsqueezed at dim", suffix=4)
SqueezeBackward5 = node_class("squeeze", SqueezeBackward1.derivative, "grad unsqueezed at dims", suffix=5)


def _check_leaf(self: Tensor) -> None:
    if self._rg and _state.enabled:
        if self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        root = view_root(self)
        if root is not self and root._rg and root.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


def _restride(self: Tensor, arr: np.ndarray, cls: type, attrs: Any = None) -> Tensor:
    """Make ``arr`` (a view of ``self``'s memory) ``self``'s array, recording ``cls`` when needed."""
    grad = self._rg and _state.enabled
    if grad:
        if self._meta is not None and "base" in self._meta:
            refresh_view(self)
        old = _new(self._data, None, None)  # a stand-in carrying the old shape and history
        old._rg, old._grad_fn, old._out_nr, old._accum = True, self._grad_fn, self._out_nr, self._accum
    if _fw.on:  # (a stand-in carrying the old shape and the tangents, which take the same new shape)
        fw_old = _new(self._data, None, None)
        _fwd_share(self, fw_old)
    self._data = arr
    bump_version(self)
    if grad:
        attach(self, cls, (old,), attrs=attrs)
        if self._meta is not None and "base" in self._meta:
            self._meta["v"] = self._vc[0]  # this view's history is current: no AsStrided refresh
    if _fw.on:
        _propagate(cls, (self,), (fw_old,), attrs=attrs)
    return self


def t_(self: Tensor) -> Tensor:
    """In-place :func:`t`: swaps the dims of a tensor with at most 2 of them."""
    _check_leaf(self)
    nd = self._data.ndim
    if nd > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _restride(self, self._data.T, TBackward1)


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """In-place :func:`transpose` (also ``swapaxes_`` and ``swapdims_``)."""
    _check_leaf(self)
    nd = self._data.ndim
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    return _restride(self, np.swapaxes(self._data, d0, d1) if nd else self._data.view(), TransposeBackward1, (d0, d1))


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """In-place :func:`unsqueeze`."""
    _check_leaf(self)
    d = wrap_dim(dim, self._data.ndim + 1)
    return _restride(self, np.expand_dims(self._data, d), UnsqueezeBackward1, d)


def squeeze_(self: Tensor, dim: Any = None) -> Tensor:
    """In-place :func:`squeeze`: all size-1 dims, one dim, or a tuple of dims."""
    _check_leaf(self)
    x = self._data
    if dim is None:
        dims, cls = tuple(range(x.ndim)), SqueezeBackward3
    else:
        dims = wrap_dims(dim, x.ndim)  # on a 0-dim tensor only dim 0 / -1 are valid, and nothing to squeeze
        cls = SqueezeBackward5 if isinstance(dim, (tuple, list)) else SqueezeBackward4
    keep = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return _restride(self, x.reshape(keep), cls)


attach_methods(t_=t_, transpose_=transpose_, swapaxes_=transpose_, swapdims_=transpose_, squeeze_=squeeze_, unsqueeze_=unsqueeze_)

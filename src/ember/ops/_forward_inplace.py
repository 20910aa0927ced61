"""Forward-mode AD for in-place ops: the written tensor's tangent is written in place too.

As in torch, ``x.op_(...)`` on a dual tensor updates ``x``'s tangent in place, so a view's tangent
(a view of its base's tangent) and the base's stay in step; a tensor without a tangent that is
written a dual value gets one (zeros, then the write). Called by ``ops/inplace.py`` while a dual
level is live.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import _forward_levels as _lv
from ._core import view_root


def share(src: Tensor, stand_in: Tensor) -> None:
    """Give ``stand_in`` (an in-place op's copy of ``src``'s old value) ``src``'s tangents."""
    for lv in _lv.visible():
        t = _lv.get(src, lv)
        if t is not None:
            _lv.put(stand_in, lv, t.clone())


def _aliased_zeros(t: Tensor, lv: _lv.Level) -> Tensor:
    """A zero tangent for ``t`` to write into: for a view, the matching view of its base's tangent
    (made, zero, when the base has none), so the base sees the write."""
    root = view_root(t)
    if root is t:
        z = _new(np.zeros_like(t._data))
        _lv.put(t, lv, z)
        return z
    rt = _lv.get(root, lv)
    if rt is None:
        rt = _new(np.zeros_like(root._data))
        _lv.put(root, lv, rt)
    ra, ta, r = root._data, rt._data, t._data
    if ta.strides == ra.strides and ta.dtype == ra.dtype and ta.flags.c_contiguous:
        off = r.__array_interface__["data"][0] - ra.__array_interface__["data"][0]
        z = _new(np.ndarray(r.shape, r.dtype, buffer=ta, offset=off, strides=r.strides))
        _lv.put(t, lv, z)
        return z
    z = _new(np.zeros_like(r))
    _lv.put(t, lv, z)
    return z


def written(self: Tensor, res: Tensor) -> None:
    """``self`` was overwritten with ``res``'s values: write ``res``'s tangent into ``self``'s."""
    for depth, lv in enumerate(_lv.visible()):
        rt = _lv.get(res, lv)
        if rt is None:
            continue
        st = _lv.get(self, lv)
        with _lv.hide_from(depth):
            if st is None:
                st = _aliased_zeros(self, lv)
            if st._data.flags.writeable and st._data.shape == rt._data.shape:
                old = _lv.step(self, lv)
                if old is not None and old.tangent is st:  # (ember.viz: the old step keeps its tangent)
                    old.tangent = st.clone()
                st.copy_(rt)
            else:
                _lv.put(self, lv, rt)
        _lv.set_step(self, lv, _lv.step(res, lv))  # (for ember.viz: self's tangent now is res's)


def setitem(self: Tensor, key: Any, value: Any) -> None:
    """``self[key] = value`` was written: the same write into the tangents (value's, or zero)."""
    for depth, lv in enumerate(_lv.visible()):
        vt = _lv.get(value, lv) if isinstance(value, Tensor) else None
        st = _lv.get(self, lv)
        if vt is None and st is None:
            continue
        with _lv.hide_from(depth):
            if st is None:
                st = _aliased_zeros(self, lv)
            st[key] = vt if vt is not None else 0.0

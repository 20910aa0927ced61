"""Odds and ends of torch's surface: in-place metadata ops (``t_``, ``transpose_``, ``squeeze_``,
``unsqueeze_``), ``fill_diagonal_``, ``cdist``, ``logcumsumexp`` and ``unique_consecutive``.

The in-place metadata ops change the tensor's own shape and strides (its array becomes a new NumPy
view of the same memory), bump the version and, when the tensor takes part in autograd, rewrite its
history as torch does: the tensor's new grad_fn (``TBackward1``, ``TransposeBackward1``,
``SqueezeBackward3/4/5``, ``UnsqueezeBackward1``) has the tensor's old history as its input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new, bump_version
from ._core import _state, attach, attach_methods, node_class, not_implemented_node, record, refresh_view, view_root, wrap_dim, wrap_dims
from .inplace import apply_inplace
from .reduction import _LEGACY_NAMES
from .shape import SqueezeBackward1, TBackward0, TransposeBackward0, UnsqueezeBackward0

# ------------------------------------------------------------------ in-place metadata ops
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
        old._rg, old.grad_fn, old._out_nr, old._accum = True, self.grad_fn, self._out_nr, self._accum
    self._data = arr
    bump_version(self)
    if grad:
        attach(self, cls, (old,), attrs=attrs)
        if self._meta is not None and "base" in self._meta:
            self._meta["v"] = self._vc[0]  # this view's history is current: no AsStrided refresh
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


# ------------------------------------------------------------------------ fill_diagonal_
def _diagonal_positions(shape: tuple, wrap: bool) -> np.ndarray:
    """Flat C-order positions of the main diagonal (wrapping after each block in a tall matrix)."""
    if len(shape) == 2 and wrap:
        return np.arange(0, shape[0] * shape[1], shape[1] + 1)
    n = min(shape)
    step = sum(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
    return np.arange(n) * step


def _filled(s: Tensor, value: Any) -> Tensor:
    # ``value`` everywhere, with a zero gradient to ``s`` (no ``s * 0``: that is NaN where s is inf)
    from .indexing import where

    return where(_new(np.zeros(s._data.shape, dtype=bool)), s, value)


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (all indices equal) with ``fill_value``; ``wrap`` continues the diagonal
    of a tall 2-D matrix after every ``ncols + 1`` rows, as NumPy's ``fill_diagonal`` does."""
    x = self._data
    if x.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if x.ndim > 2 and len(set(x.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    if self._rg and _state.enabled:
        root = view_root(self)
        if root._rg and root.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    pos = _diagonal_positions(x.shape, wrap)
    if not (self._rg and _state.enabled):
        x[np.unravel_index(pos, x.shape)] = fill_value
        bump_version(self)
        return self
    if x.flags.c_contiguous and pos.size:
        # torch writes through a strided view of the diagonal: the graph gets a CopySlices node
        step = int(pos[1] - pos[0]) if pos.size > 1 else 1
        diag = self.view(-1)[int(pos[0]):int(pos[-1]) + 1:step]
        apply_inplace(diag, _filled, fill_value)
        return self
    from .indexing import setitem

    setitem(self, tuple(_new(i) for i in np.unravel_index(pos, x.shape)), fill_value)
    return self


# ---------------------------------------------------------------------------------- cdist
CdistBackwardBackward0 = not_implemented_node("cdist_backward", "the derivative for '_cdist_backward' is not implemented.")


def _cdist_grads(n: Any, g: Tensor) -> tuple:
    x1, x2 = n.saved
    p = n.attrs
    a, b, d, gd = x1._data, x2._data, n.result._data, g._data
    diff = a[..., :, None, :] - b[..., None, :, :]
    dd = d[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 0:
            dx = np.zeros_like(diff)
        elif p == 1:
            dx = np.sign(diff)
        elif p == 2:
            dx = np.where(dd == 0, 0.0, diff / dd)
        elif np.isinf(p):
            dx = np.sign(diff) * (np.abs(diff) == dd)
        else:
            dx = np.where((dd == 0) | (diff == 0), 0.0, np.sign(diff) * (np.abs(diff) / dd) ** (p - 1))
    w = gd[..., None] * dx  # (..., P, R, M)
    g1 = record(CdistBackwardBackward0, w.sum(-2), (g, x1, x2)) if n.needs[0] else None
    g2 = record(CdistBackwardBackward0, -w.sum(-3), (g, x2, x1)) if n.needs[1] else None
    return g1, g2


CdistBackward0 = node_class("cdist", _cdist_grads, "_cdist_backward(grad, x1, x2, p, result) and its transpose")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each pair of rows of ``x1`` (..., P, M) and ``x2`` (..., R, M)."""
    a, b = x1._data, x2._data
    for name, arr in (("X1", a), ("X2", b)):
        if arr.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {arr.ndim}D")
    for name, arr in (("X1", a), ("X2", b)):
        if arr.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_LEGACY_NAMES[arr.dtype.name]}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected scalar type {_LEGACY_NAMES[a.dtype.name]} but found {_LEGACY_NAMES[b.dtype.name]}")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {a.shape[-1]} X2: {b.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        out = (diff != 0).sum(-1).astype(a.dtype)
    elif p == 1:
        out = diff.sum(-1)
    elif p == 2:
        out = np.sqrt((diff * diff).sum(-1))
    elif np.isinf(p):
        out = diff.max(-1, initial=0)
    else:
        out = (diff ** p).sum(-1) ** (1.0 / p)
    out = out.astype(a.dtype, copy=False)
    return record(CdistBackward0, out, (x1, x2), saved=(x1, x2), save_result=True, attrs=float(p))


# --------------------------------------------------------------------------- logcumsumexp
def _logcumsumexp_grad(n: Any, g: Tensor) -> Tensor:
    # d out_j / d x_i = exp(x_i - out_j) for j >= i; the sum over j is done in log space, the
    # positive and negative parts of grad separately, so nothing overflows
    from .indexing import where
    from .pointwise import exp, log
    from .shape import flip

    (x,) = n.saved
    d = n.attrs
    if x._data.ndim == 0:
        return g
    out = n.result
    parts = []
    for mask, mag in ((g._data > 0, g), (g._data < 0, -g)):
        if not mask.any():
            parts.append(None)
            continue
        m = _new(mask)
        # -inf (not log(0) - result) where this part of grad is 0: no inf - inf anywhere, to any order
        lg = where(m, log(where(m, mag, 1.0)) - out, float("-inf"))
        parts.append(exp(x + flip(logcumsumexp(flip(lg, (d,)), d), (d,))))
    pos, neg = parts
    if neg is None:
        return pos if pos is not None else g * 0
    return -neg if pos is None else pos - neg


LogcumsumexpBackward0 = node_class("logcumsumexp", _logcumsumexp_grad,
                                   "sum over j >= i of grad_j * exp(self_i - result_j), in log space")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, computed stably."""
    x = input._data
    if x.dtype.kind not in "fc":
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{_LEGACY_NAMES[x.dtype.name]}\'')
    d = wrap_dim(dim, x.ndim)
    out = np.logaddexp.accumulate(x, axis=d) if x.ndim else x.copy()
    return record(LogcumsumexpBackward0, out, (input,), saved=(input,), save_result=True, attrs=d)


# ---------------------------------------------------------------------- unique_consecutive
UniqueConsecutiveBackward0 = not_implemented_node("unique_consecutive",
                                                  "the derivative for 'unique_consecutive' is not implemented.")


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Collapse each run of equal consecutive elements (or slices along ``dim``) into one."""
    x = input._data
    if dim is None:
        flat = x.reshape(-1)
        starts = np.ones(flat.shape[0], dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        vals = flat[starts]
        inv_shape = x.shape
    else:
        d = wrap_dim(dim, x.ndim)
        rows = np.moveaxis(x, d, 0).reshape(x.shape[d], x.size // x.shape[d] if x.shape[d] else 0) if x.ndim else x.reshape(1, 1)
        starts = np.ones(rows.shape[0], dtype=bool)
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
        vals = np.compress(starts, x, axis=d) if x.ndim else x.reshape(1)
        inv_shape = (rows.shape[0],)
    inverse = (np.cumsum(starts) - 1).astype(np.int64).reshape(inv_shape)
    first = np.flatnonzero(starts)
    counts = np.diff(np.append(first, starts.shape[0])).astype(np.int64)
    out = record(UniqueConsecutiveBackward0, np.ascontiguousarray(vals), (input,))
    if not (return_inverse or return_counts):
        return out
    res = [out]
    if return_inverse:
        res.append(_new(inverse))
    if return_counts:
        res.append(_new(counts))
    return tuple(res)


attach_methods(
    t_=t_, transpose_=transpose_, swapaxes_=transpose_, swapdims_=transpose_, squeeze_=squeeze_,
    unsqueeze_=unsqueeze_, fill_diagonal_=fill_diagonal_, logcumsumexp=logcumsumexp,
    unique_consecutive=unique_consecutive,
)

"""Tensor printing: ``repr``/``str``/``format`` laid out exactly as torch does.

The layout follows torch's rules, learned by running torch: one common width for every
element, fixed or scientific notation picked from the magnitudes present, ``...`` when a
tensor has more than ``threshold`` elements, rows wrapped at ``linewidth``, and suffixes
(``dtype=``, ``grad_fn=``, ...) after the values.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _dtype
from ._meta import MetaArray

_DEFAULTS: dict[str, Any] = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES: dict[str, dict[str, Any]] = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_OPTS: dict[str, Any] = {**_DEFAULTS, "sci_mode": None}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set print options; ``profile`` ("default", "short", "full") applies first.

    As in torch, an unknown profile is ignored and ``sci_mode`` is always overwritten,
    so leaving it out returns to automatic notation.
    """
    if profile in _PROFILES:
        _OPTS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[key] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """A copy of the current print options."""
    return dict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change print options (same arguments as :func:`set_printoptions`)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Picks a notation and a common width from the values that will be shown."""

    __slots__ = ("floating", "int_mode", "precision", "sci_mode", "width")

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.precision = p = _OPTS["precision"]
        if not floating:
            # str() of a Python int/bool; the widest is at an extreme (or "False").
            self.width = max((len(str(v)) for v in _extremes(values.ravel()).tolist()), default=1)
            return
        vals = values.ravel().astype(np.float64)
        vals = vals[np.isfinite(vals) & (vals != 0)]
        self.width = 1
        if vals.size:
            absvals = np.abs(vals)
            lo, hi = float(absvals.min()), float(absvals.max())
            # Only extremes need formatting: a formatted length grows with |v| (and, for
            # scientific notation, with the exponent's digit count at either end).
            cands = _extremes(vals).tolist()
            self.int_mode = bool(np.all(vals == np.ceil(vals)))
            sci = _OPTS["sci_mode"]
            if sci is None:
                sci = hi / lo > 1000.0 or hi > 1.0e8 or (not self.int_mode and lo < 1.0e-4)
            self.sci_mode = sci
            if sci:
                self.width = max(len(f"{v:.{p}e}") for v in cands)
            elif self.int_mode:
                self.width = max(len(f"{v:.0f}") for v in cands) + 1  # the trailing "."
            else:
                self.width = max(len(f"{v:.{p}f}") for v in cands)
        # With no nonzero finite value, even a forced sci_mode leaves zeros as "0.".

    def format_all(self, values: list) -> list[str]:
        w, p = self.width, self.precision
        if not self.floating:
            return [str(v).rjust(w) for v in values]
        if self.sci_mode:
            return [f"{v:{w}.{p}e}" for v in values]
        if self.int_mode:
            return [(f"{v:.0f}." if math.isfinite(v) else f"{v:.0f}").rjust(w) for v in values]
        return [f"{v:.{p}f}".rjust(w) for v in values]


def _extremes(vals: np.ndarray) -> np.ndarray:
    """Largest and smallest positive and negative values (all of them when few)."""
    if vals.size <= 8:
        return vals
    pos, neg = vals[vals >= 0], vals[vals < 0]
    parts = [a for x in (pos, neg) if x.size for a in (x.min(keepdims=True), x.max(keepdims=True))]
    return np.concatenate(parts)


def _summarize(data: np.ndarray, edge: int) -> tuple[np.ndarray, list[bool]]:
    """Keep ``edge`` items at both ends of every long dimension; report which were cut."""
    cut = []
    for axis, n in enumerate(data.shape):
        cut.append(n > 2 * edge)
        if cut[-1]:
            data = data.take(np.r_[0:edge, n - edge:n], axis=axis)
    return data, cut


def _element_strings(data: np.ndarray, dtype: Any) -> tuple[list[str], int]:
    """Padded strings for every element of ``data`` (flat, C order) and their printed width."""
    if dtype.is_complex:
        real = _Formatter(data.real, True)
        imag = _Formatter(data.imag, True)
        flat = data.ravel()
        out = []
        for r, i in zip(real.format_all(flat.real.tolist()), imag.format_all(flat.imag.tolist())):
            i = i.lstrip() + "j"
            out.append(r + i if i[0] in "+-" else r + "+" + i)
        return out, real.width + imag.width + 1
    fmt = _Formatter(data, dtype.is_floating_point)
    return fmt.format_all(data.ravel().tolist()), fmt.width


def _layout(strs: list[str], start: int, shape: tuple, cut: list[bool], indent: int,
            item_len: int, edge: int) -> str:
    """Nested brackets for the block of ``strs`` starting at ``start`` with ``shape``."""
    n = shape[0]
    if len(shape) == 1:
        items = strs[start:start + n]
        if cut[0]:
            items = items[:edge] + [" ..."] + items[edge:]
        per_line = max(1, math.floor((_OPTS["linewidth"] - indent) / item_len))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    step = math.prod(shape[1:])
    rows = [_layout(strs, start + k * step, shape[1:], cut[1:], indent + 1, item_len, edge)
            for k in range(n)]
    if cut[0]:
        rows.insert(edge, "...")
    return "[" + ("," + "\n" * (len(shape) - 1) + " " * (indent + 1)).join(rows) + "]"


def _contents(data: np.ndarray, dtype: Any, indent: int) -> str:
    """The bracketed values (or bare scalar) of a non-empty tensor."""
    edge = _OPTS["edgeitems"]
    summarize = data.size > _OPTS["threshold"]
    if summarize and not edge and data.ndim:
        return "[...]"
    if summarize:
        data, cut = _summarize(data, edge)
    else:
        cut = [False] * data.ndim
    strs, width = _element_strings(data, dtype)
    if data.ndim == 0:
        return strs[0]
    return _layout(strs, 0, data.shape, cut, indent, width + 2, edge)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``, key=value`` suffixes, moving one to a new line when it would pass linewidth."""
    parts = [text]
    # Reproduces torch's count: two more than the last line's length.
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_len + len(suffix) + 2 > _OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _is_default_dtype(dtype: Any) -> bool:
    default = _dtype.get_default_dtype()
    complex_default = _dtype.complex128 if default is _dtype.float64 else _dtype.complex64
    return dtype in (default, complex_default, _dtype.int64, _dtype.bool_)


def tensor_repr(t: Any, *, tensor_contents: str | None = None, tangent: Any = None) -> str:
    """``repr(t)`` as torch prints it, e.g. ``tensor([1., 2.], dtype=ember.float64)``; a dual tensor's
    ``tangent`` (forward_ad) comes last."""
    prefix = "tensor("
    indent = len(prefix)
    data: np.ndarray = t._data
    dtype = t.dtype
    suffixes = []
    if type(data) is MetaArray:  # no values to show: the device and the size stand in for them
        suffixes.append("device='meta'")
        suffixes.append(f"size={tuple(data.shape)}")
        if dtype is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={dtype!r}")
        text = "..." if tensor_contents is None else tensor_contents
    elif data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        # No values hint at the dtype, so only the default float type goes unnamed.
        if dtype is not _dtype.get_default_dtype():
            suffixes.append(f"dtype={dtype!r}")
        text = "[]" if tensor_contents is None else tensor_contents
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(data.shape)}")
        if not _is_default_dtype(dtype):
            suffixes.append(f"dtype={dtype!r}")
        text = _contents(data, dtype, indent) if tensor_contents is None else tensor_contents
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(prefix + text, suffixes, indent)


def format_tensor(t: Any, spec: str) -> str:
    """``format(t, spec)``: a 0-dim tensor formats as its Python number, others only with ``""``."""
    cls = type(t)
    # torch formats the number only for plain tensors; subclasses (Parameter) use object's rules.
    is_subclass = any(c.__name__ == "Tensor" for c in cls.__mro__[1:])
    if t._data.ndim == 0 and not is_subclass:
        return format(t._data.item(), spec)
    if spec:
        raise TypeError(f"unsupported format string passed to {cls.__name__}.__format__")
    if cls.__str__ is object.__str__ and cls.__repr__ is object.__repr__:
        return tensor_repr(t)  # a bare stand-in object
    return str(t)

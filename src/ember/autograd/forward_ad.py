"""ember.autograd.forward_ad (torch.autograd.forward_ad): forward-mode automatic differentiation.

Inside ``with dual_level():``, ``make_dual(x, v)`` gives a tensor carrying the tangent ``v``;
every differentiable op then carries its output's tangent, ``J v``, alongside the value (ops/_forward.py
computes it from the op's forward derivative in the op table), and ``unpack_dual(y)`` returns
``(primal, tangent)``. When the level exits its tangents are gone. One level at a time, as in
torch; ``ember.func.jvp`` nests its own levels.

>>> import ember.autograd.forward_ad as fwAD
>>> with fwAD.dual_level():
...     y = fwAD.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0])) ** 2
...     fwAD.unpack_dual(y).tangent
tensor([2., 0.])
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._tensor import Tensor
from ..ops import creation
from ..ops.views import AliasBackward0, ViewBackward0, _view_of
from . import _forward_levels as _lv

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

_public: list[_lv.Level] = []  # the level this API works with (torch has one): index 0 while live


def _current() -> int:
    return len(_public) - 1


def enter_dual_level() -> int:
    """Enter a new forward-AD level and return its number; the other functions use it by default."""
    if _public:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _public.append(_lv.push(public=True))
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the forward-AD level ``level`` (the current one by default), dropping its tangents."""
    if level is None:
        level = _current()
    if level != _current():
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    _lv.pop(_public.pop())


def _level(level: int | None, what: str) -> _lv.Level | None:
    if level is None:
        level = _current()
    if level < 0:
        return None
    if level != _current():
        raise RuntimeError(f"Invalid level given to {what}")
    return _public[level]


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` (same shape) as its forward gradient. Copied to
    ``tensor``'s layout if it differs, as torch does. Differentiable in reverse mode as a view."""
    lv = _level(level, "_make_dual")
    if lv is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent.shape != tensor.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, this is "
            f"not supported. Tensor is of size {list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}.")
    if _lv.get(tensor, lv) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {_public.index(lv)} is not supported.")
    return dual_at(tensor, tangent, lv)


def dual_at(tensor: Tensor, tangent: Tensor, lv: _lv.Level) -> Tensor:
    """make_dual at level ``lv`` without the argument checks (``func.jvp``'s levels use it too)."""
    t, p = tangent._data, tensor._data
    if [s // t.itemsize for s in t.strides] != [s // p.itemsize for s in p.strides]:  # (element strides)
        tangent = creation.empty_like(tensor, dtype=tangent.dtype).copy_(tangent)
    with _lv.hide_from(_lv.levels.index(lv)):  # (the view keeps the outer levels' tangents only)
        out = _view_of(tensor, tensor._data.view(), ViewBackward0, attrs=None)
    _lv.put(out, lv, tangent, _lv.Step("make_dual", tangent))
    return out


def unpack_at(tensor: Tensor, lv: _lv.Level) -> UnpackedDualTensor:
    """unpack_dual at level ``lv``."""
    with _lv.hide_from(_lv.levels.index(lv)):
        primal = _view_of(tensor, tensor._data.view(), AliasBackward0)
    return UnpackedDualTensor(primal, _lv.get(tensor, lv))


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the ``primal`` (a view without the tangent) and the ``tangent``
    (None where the tensor has none at the level)."""

    primal: Tensor
    tangent: Tensor | None


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor`` at the current level: the primal is a view of ``tensor``
    carrying no tangent, the tangent the one stored (None if it has none, or no level is live)."""
    if level is None:
        level = _current()
    if level < 0 or level != _current():
        return UnpackedDualTensor(tensor, None)
    return unpack_at(tensor, _public[level])


class dual_level:
    """Context manager for forward AD: enters a level on entry (``with dual_level() as lvl``) and
    exits it, dropping every tangent made inside, on the way out."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return wrapped

"""Where torch puts the output of an op in memory: the strides a result shows in ``stride()``,
``is_contiguous()`` and whether ``view()`` works. NumPy lays results out by rules of its own
(order "K" sorts dims by every operand's strides and lets a C-ordered operand win; composite
expressions give C order), so each op family hands its result to one of these:

- ``iterated``: an elementwise op (torch's TensorIterator): dims sorted by the inputs' strides, the
  first input that orders two dims decides, broadcast dims never do;
- ``preserved``: ``clone``/``*_like``/``to``/``sort``/``flip`` (``preserve_format``): a dense,
  non-overlapping input's layout, else its dims' order by strides, densely;
- ``contiguous``: reductions, softmax, cumulative ops, ``repeat``/``masked_fill``/layer_norm... (torch
  allocates C order);
- ``suggested``: batch norm, ``roll``, padding (``suggest_memory_format``): channels-last for a
  channels-last input, else C order.

Each returns its argument untouched when it already has the layout (the common case: contiguous
inputs give contiguous results), and copies otherwise. No op imports here, so any ops module may
use it."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._meta import MetaArray
from .._tensor import Tensor

_ndarray = np.ndarray


def iterator_order(shape: tuple, operands: list) -> list:
    """The dims of ``shape`` from slowest to fastest as torch's TensorIterator lays out an output it
    allocates: sorted by the inputs' strides (``operands``: one stride per dim each; a 0 stride, a
    broadcast, defers to the next operand; equal strides put the smaller dim faster)."""
    n = len(shape)
    perm = list(range(n - 1, -1, -1))  # fastest first, as the iterator holds them

    def swap(d0: int, d1: int) -> int:
        for st in operands:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0 or shape[d0] == 1 or shape[d1] == 1:  # (a size-1 dim's stride is arbitrary)
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    for i in range(1, n):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm[::-1]


def _strides_in(a: np.ndarray, shape: tuple, common: Any) -> list:
    """``a``'s strides in elements as an operand of an output of ``shape`` (0 on broadcast dims).
    An operand of another dtype than the ``common`` one the op computes in is first converted with
    ``.to()`` (as torch's TensorIterator does on the CPU), which lays a non-dense one out densely."""
    own = (_dense_strides(a.shape, preserve_order(a)) if a.dtype != common and not _is_dense(a)
           else tuple(abs(s) // a.itemsize for s in a.strides))
    lead = len(shape) - a.ndim
    st = [0] * lead
    for k, n in enumerate(a.shape):
        st.append(0 if n == 1 and shape[lead + k] != 1 else own[k])
    return st


def _is_dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill its memory without gaps or repeats (in any order of dims)."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    expected = a.itemsize
    for s, n in sorted((abs(s), n) for s, n in zip(a.strides, a.shape) if n != 1):
        if s != expected:
            return False
        expected *= n
    return True


def _dense_strides(shape: tuple, perm: list) -> tuple:
    """The strides (in elements) of a dense array of ``shape`` whose dims run ``perm``, slowest first."""
    st = [0] * len(shape)
    step = 1
    for d in reversed(perm):
        st[d] = step
        step *= max(shape[d], 1)
    return tuple(st)


def laid_out(res: np.ndarray, perm: list) -> np.ndarray:
    """``res`` densely with its dims in memory in the order ``perm`` (slowest first): ``res``
    itself when it already is, else a copy."""
    isz = res.itemsize
    want = _dense_strides(res.shape, perm)
    have = res.strides
    for d, n in enumerate(res.shape):
        if n != 1 and have[d] != want[d] * isz:
            break
    else:
        if have == tuple(s * isz for s in want) or res.size == 0:
            return res
        # (only a size-1 dim's stride differs: the same memory, with the strides torch reports)
        return np.lib.stride_tricks.as_strided(res, strides=tuple(s * isz for s in want))
    return empty_in(res.shape, res.dtype, perm, res)


def empty_in(shape: tuple, dtype: Any, perm: list, fill: Any = None) -> np.ndarray:
    """A new array of ``shape`` with its dims in memory in the order ``perm`` (slowest first),
    holding ``fill`` when given."""
    out = np.empty([shape[d] for d in perm], dtype).transpose(np.argsort(perm))
    if fill is not None:
        out[...] = fill
    return out


def iterated(res: Any, *operands: Any, common: Any = None, uncast: int = -1) -> Any:
    """``res``, the result of an elementwise op on ``operands`` (Tensors, arrays or scalars, in the
    op's argument order), laid out as torch's TensorIterator allocates it. ``common``: the dtype
    the op computes in (default: the result's); ``uncast``: the position of an operand read as it
    is, whatever its dtype (where's condition)."""
    if type(res) is not _ndarray or res.ndim < 2:
        return res
    for a in operands:
        if isinstance(a, Tensor):
            a = a._data
        if type(a) is _ndarray and a.ndim > 1 and not a.flags.c_contiguous:
            break
    else:  # contiguous operands: a contiguous result
        return res if res.flags.c_contiguous else np.ascontiguousarray(res)
    arrays = [a._data if isinstance(a, Tensor) else a for a in operands]
    shape = res.shape
    common = res.dtype if common is None else common
    ops = [_strides_in(a, shape, a.dtype if k == uncast else common) for k, a in enumerate(arrays)
           if type(a) is _ndarray and a.ndim and a.size]
    return laid_out(res, iterator_order(shape, ops))


def _iterated_inputs(res: Any, inputs: Any) -> Any:
    """``iterated`` for ``record``: its inputs are Tensors or None (the common contiguous case first)."""
    for t in inputs:
        if t is not None and not t._data.flags.c_contiguous and t._data.ndim > 1:
            return iterated(res, *inputs)
    if type(res) is not _ndarray or res.flags.c_contiguous:
        return res
    return np.ascontiguousarray(res)


def preserve_order(like: np.ndarray) -> list:
    """The order of ``like``'s dims in memory that ``preserve_format`` keeps (slowest first)."""
    if like.ndim < 2 or like.flags.c_contiguous:
        return list(range(like.ndim))
    return iterator_order(like.shape, [[abs(s) // like.itemsize for s in like.strides]])


def preserved(res: Any, like: np.ndarray) -> Any:
    """``res`` (of ``like``'s shape) laid out as torch's ``preserve_format`` lays out a tensor like
    ``like``: dense in the order of ``like``'s strides (an expanded dim stays where it is)."""
    if type(res) is not _ndarray or res.ndim < 2:
        return res
    if like.flags.c_contiguous or like.ndim < 2:
        return res if res.flags.c_contiguous else np.ascontiguousarray(res)
    return laid_out(res, preserve_order(like))


def empty_preserved(like: np.ndarray, dtype: Any = None, memory_format: Any = None) -> np.ndarray:
    """An uninitialized array of ``like``'s shape (in ``dtype``), laid out as ``preserve_format``
    (``empty_like``): a dense, non-overlapping ``like``'s strides exactly (size-1 dims' too), else
    its dims' order. ``memory_format=contiguous_format``: C order."""
    dt = like.dtype if dtype is None else dtype
    if type(like) is MetaArray:
        return like.astype(dt)
    if like.ndim < 2 or like.flags.c_contiguous or getattr(memory_format, "name", None) == "contiguous_format":
        return np.empty(like.shape, dt)
    if _is_dense(like) and min(like.strides) > 0:
        isz = np.dtype(dt).itemsize
        return np.lib.stride_tricks.as_strided(np.empty(like.size, dt), like.shape,
                                               tuple(s // like.itemsize * isz for s in like.strides))
    return empty_in(like.shape, dt, preserve_order(like))


def contiguous(res: Any) -> Any:
    """``res`` in C order (torch's contiguous result of a reduction, roll, repeat...)."""
    if type(res) is not _ndarray:
        return res
    if not res.flags.c_contiguous:
        return np.ascontiguousarray(res)
    if res.ndim > 1 and 1 in res.shape:  # (a kept dim's stride: NumPy's may differ from torch's)
        return laid_out(res, list(range(res.ndim)))
    return res


def _channels_last_order(a: np.ndarray) -> list | None:
    """NHWC's (NDHWC's) order of dims when torch's ``suggest_memory_format`` finds ``a`` channels-last
    (its test, ``is_channels_last_strides_2d``/``_3d``), else None."""
    if a.ndim not in (4, 5) or a.flags.c_contiguous:
        return None
    sizes, strides = a.shape, [abs(s) // a.itemsize for s in a.strides]
    if strides[1] == 0:
        return None
    lo = 0
    walk = (1, 3, 2, 0) if a.ndim == 4 else (1, 4, 3, 2, 0)
    for d in walk:
        if sizes[d] == 1:  # (its stride is NumPy's, which need not be torch's: it orders nothing)
            continue
        if sizes[d] == 0 or strides[d] < lo or (d == 0 and lo == strides[1]):
            return None
        lo = strides[d] * sizes[d]
    return [0, 2, 3, 1] if a.ndim == 4 else [0, 2, 3, 4, 1]


def suggested(res: Any, like: np.ndarray) -> Any:
    """``res`` laid out as ``empty_like(like, like.suggest_memory_format())``: channels-last when
    ``like`` is a channels-last 4-D (5-D) array, else contiguous (batch norm, roll, padding...)."""
    if type(res) is not _ndarray:
        return res
    order = _channels_last_order(like) if res.ndim == like.ndim else None
    return contiguous(res) if order is None else laid_out(res, order)


def _first_preserved(res: Any, inputs: Any) -> Any:
    like = inputs[0]._data if inputs and isinstance(inputs[0], Tensor) else None
    return res if like is None else preserved(res, like)


# the layouts a node class names (``node_class(..., layout=...)``), applied by ``record`` to the
# result with the op's input Tensors
LAYOUTS = {
    "iterated": _iterated_inputs,
    # (an op that reads its inputs in their own dtype, as complex(real, imag): none is converted)
    "iterated_uncast": lambda res, inputs: iterated(res, *inputs, common=inputs[0]._data.dtype),
    "preserved": _first_preserved,
    "contiguous": lambda res, inputs: contiguous(res),
    "suggested": lambda res, inputs: suggested(res, inputs[0]._data),
}

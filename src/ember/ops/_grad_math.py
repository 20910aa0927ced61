"""The vocabulary derivative formulas are written in, so that each formula exists once.

A formula marked ``on_arrays`` (see ``_core.node_class``) uses only Python's operators and the
functions below. Each of them runs on NumPy arrays or on ember Tensors, whichever it is given:
a backward that records no graph hands the formula the saved arrays (the fast path: no Tensor
per step, no op dispatch), ``create_graph=True`` hands it the saved Tensors (the formula is then
recorded, and its own derivative comes from the table). One formula, two executions, the same
maths by construction; the tests compare both with torch.

    MulBackward0: lambda n, g: (g * conj(n.saved[1]), g * conj(n.saved[0]))

In array mode ``n.saved`` holds the arrays, ``n.result`` the output's array and ``g`` the
gradient's array; a formula may return NumPy scalars (0-d results), the node wraps them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import grad_mode
from . import _float32 as _f32
from ._core import _c as conj
from ._core import _fw, _propagate, attach, node_class, record, select_grad, select_np, where_np, zeros_grad
from ._erf import erf as _erf_np

__all__ = ["conj", "where", "select", "zeros", "is_complex", "exp", "log", "sign", "sgn", "abs",
           "nan_to_num", "sum", "mean", "expand", "unsqueeze_dims", "pow_scalar", "tanh_backward",
           "sigmoid_backward", "threshold_backward", "tanh", "sigmoid", "erf", "clamp", "numel", "const",
           "is_mask", "astype_like", "selection_node", "select_backward", "also_reads"]


def where(cond: Any, a: Any, b: Any) -> Any:
    """``cond ? a : b`` (a differentiable selection on Tensors)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor) or isinstance(cond, Tensor):
        from .indexing import where as _where

        return _where(cond if isinstance(cond, Tensor) else _new(np.asarray(cond)), a, b)
    return where_np(cond, a, b)


def select(g: Any, keep: Any, scale: Any = None) -> Any:
    """``g * scale`` where ``keep`` holds, else exactly 0 (torch selects: inf * 0 gives 0, not NaN)."""
    if isinstance(keep, Tensor):
        keep = keep._data
    if isinstance(g, Tensor):
        return select_grad(g, keep, scale)
    return select_np(g, keep, scale)


def zeros(g: Any) -> Any:
    """Zeros like ``g`` whatever ``g`` holds (``g * 0`` would turn inf into NaN)."""
    return zeros_grad(g) if isinstance(g, Tensor) else np.zeros(np.shape(g), np.asarray(g).dtype)


def is_complex(x: Any) -> bool:
    return (x._data if isinstance(x, Tensor) else np.asarray(x)).dtype.kind == "c"


def exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else np.log(x)


def sign(x: Any) -> Any:
    """-1, 0 or 1; 0 for NaN, as torch's sign (NumPy's is NaN)."""
    if isinstance(x, Tensor):
        return x.sign()
    s = np.sign(x)
    if np.asarray(s).dtype.kind != "f":
        return s
    return np.nan_to_num(s, copy=False) if isinstance(s, np.ndarray) else np.nan_to_num(s)


def sgn(x: Any) -> Any:
    """x / |x| (0 at 0): sign for real numbers, the unit phase for complex ones."""
    if isinstance(x, Tensor):
        return x.sgn() if x.is_complex() else x.sign()
    if x.dtype.kind != "c":
        return sign(x)
    a = np.abs(x)
    return np.where(a == 0, 0, x / np.where(a == 0, 1, a)).astype(x.dtype)


def abs(x: Any) -> Any:  # noqa: A001 (the formula vocabulary mirrors torch's names)
    return x.abs() if isinstance(x, Tensor) else np.abs(x)


def nan_to_num(x: Any) -> Any:
    """``x`` with NaN and infinities as 0; its derivative multiplies by isfinite(x), as torch's."""
    return x.nan_to_num(0.0, 0.0, 0.0) if isinstance(x, Tensor) else np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def sum(x: Any, dims: Any, keepdim: bool = False) -> Any:  # noqa: A001
    if isinstance(x, Tensor):  # (dims=(): no reduction, as NumPy's axis=(); torch's sum(()) sums everything)
        return x if dims == () else x.sum(dims, keepdim=keepdim)
    return x.sum(axis=dims, keepdims=keepdim)


def mean(x: Any, dims: Any, keepdim: bool = False) -> Any:
    if isinstance(x, Tensor):  # (dims=(): as in sum)
        return x if dims == () else x.mean(dims, keepdim=keepdim)
    return x.mean(axis=dims, keepdims=keepdim)


def expand(x: Any, shape: tuple) -> Any:
    """``x`` broadcast to ``shape`` (a read-only view on arrays)."""
    return x.expand(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def unsqueeze_dims(g: Any, dims: tuple, keepdim: bool) -> Any:
    """A reduction's gradient back at the input's rank: the reduced ``dims`` re-inserted."""
    if keepdim:
        return g
    if not isinstance(g, Tensor):
        return np.expand_dims(g, tuple(sorted(dims)))
    for d in sorted(dims):
        g = g.unsqueeze(d)
    return g


def pow_scalar(x: Any, e: Any) -> Any:
    """``x ** e`` for a Python number ``e``, with torch's rounding for float32."""
    return x ** e if isinstance(x, Tensor) else _f32.power_scalar(x, e)


# As in torch, the backward of tanh, sigmoid and relu is an op of its own (one fused NumPy
# expression instead of three ember ops), with its own derivative for double backward.
TanhBackwardBackward0 = node_class(
    "tanh_backward", lambda n, gg: (gg * (1 - n.saved[1] * n.saved[1]) if n.needs[0] else None,
                                    gg * n.saved[0] * n.saved[1] * -2 if n.needs[1] else None),
    "grad * (1 - result^2), -2 * grad * grad_output * result", on_arrays=True)
SigmoidBackwardBackward0 = node_class(
    "sigmoid_backward", lambda n, gg: (gg * n.saved[1] * (1 - n.saved[1]) if n.needs[0] else None,
                                       gg * n.saved[0] * (1 - 2 * n.saved[1]) if n.needs[1] else None),
    "grad * result * (1 - result), grad * grad_output * (1 - 2 * result)", on_arrays=True)
ThresholdBackwardBackward0 = node_class(
    "threshold_backward", lambda n, gg: (select(gg, ~(n.saved[1] <= n.attrs)) if n.needs[0] else None,
                                         zeros(gg) if n.needs[1] else None),
    "grad where self > threshold, else 0", on_arrays=True)


def _backward_op(cls: type, out: np.ndarray, grad_output: Tensor, output: Tensor, attrs: Any = None) -> Tensor:
    t = _new(out)
    if grad_mode._state.enabled and (grad_output._rg or output._rg):
        attach(t, cls, (grad_output, output), (grad_output, output), attrs=attrs)
    if _fw.on:
        _propagate(cls, (t,), (grad_output, output), (grad_output, output), attrs)
    return t


def tanh_backward(g: Any, y: Any) -> Any:
    """``g * (1 - y^2)`` in one rounding, as torch's tanh_backward (an op with its own derivative).
    (The plain product for complex numbers; a holomorphic node conjugates around it.)"""
    if isinstance(g, Tensor):
        if y._data.dtype.kind == "c":
            return g * (1 - y * y)
        return _backward_op(TanhBackwardBackward0, _f32.tanh_grad(g._data, y._data), g, y)
    if y.dtype.kind == "c":
        return g * (1 - y * y)
    return _f32.tanh_grad(g, y)


def sigmoid_backward(g: Any, y: Any) -> Any:
    """``g * y * (1 - y)`` in one rounding, as torch's sigmoid_backward (the plain product for
    complex numbers)."""
    if isinstance(g, Tensor):
        if y._data.dtype.kind == "c":
            return g * (y * (1 - y))
        return _backward_op(SigmoidBackwardBackward0, _f32.sigmoid_grad(g._data, y._data), g, y)
    if y.dtype.kind == "c":
        return g * (y * (1 - y))
    return _f32.sigmoid_grad(g, y)


def threshold_backward(g: Any, y: Any, threshold: float) -> Any:
    """relu's backward (as torch has it): 0 where ``y <= threshold``, else ``g`` (so a NaN passes ``g``)."""
    if isinstance(g, Tensor):
        out = select_grad(g.detach() if g._rg else g, ~(y._data <= threshold))._data
        return _backward_op(ThresholdBackwardBackward0, out, g, y, threshold)
    return select(g, ~(y <= threshold))


def selection_node(name: str) -> type:
    """The node class of ``name``'s backward op when that backward is a selection of the gradient
    (``select_backward``): its derivative selects ``gg`` the same way, and is 0 in the input."""
    return node_class(f"{name}_backward", lambda n, gg: (select(gg, *n.attrs) if n.needs[0] else None,
                                                         zeros(gg) if n.needs[1] else None),
                      "grad selected by the input's mask (times scale); 0 in self", on_arrays=True)


def select_backward(cls: type, g: Any, x: Any, keep: Any, scale: Any = None) -> Any:
    """``select(g, keep, scale)`` as the backward op ``cls`` (a ``selection_node``) of a piecewise-
    linear op of ``x``: torch's hardtanh_backward, leaky_relu_backward ... take the input, so under
    create_graph the gradient requires grad when ``x`` does (its derivative in ``x`` is 0)."""
    if isinstance(g, Tensor):
        keep = keep._data if isinstance(keep, Tensor) else keep  # (constants: held as arrays)
        scale = scale._data if isinstance(scale, Tensor) else scale
        out = select_grad(g.detach() if g._rg else g, keep, scale)._data
        return _backward_op(cls, out, g, x, (keep, scale))
    return select(g, keep, scale)


def _also_reads_grads(n: Any, gg: Any) -> tuple:
    meta, zero = n._in_meta, n.attrs
    return (gg if n.needs[0] else None,) + tuple(
        const(np.zeros(*meta[k]), gg) if zero and n.needs[k] else None for k in range(1, len(n.needs)))


AlsoReadsBackward0 = node_class("also_reads", _also_reads_grads, "grad for the value; 0 (or none) for the inputs it reads")


def also_reads(r: Any, *inputs: Any, zeros: bool = True) -> Any:
    """``r``, computed by a backward kernel that also takes the forward's ``inputs`` (torch's layer
    norm backward gives the bias gradient, its nll_loss backward the input's, from kernels taking
    the input): under create_graph it then requires grad when they do, with derivative 0 in them
    (``zeros=False``: no gradient at all, where torch's double backward leaves it undefined)."""
    if not isinstance(r, Tensor) or not any(isinstance(i, Tensor) and i._rg for i in inputs):
        return r
    return record(AlsoReadsBackward0, r._data, (r,) + inputs, attrs=zeros)


def tanh(x: Any) -> Any:
    return x.tanh() if isinstance(x, Tensor) else np.tanh(x)


def sigmoid(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.sigmoid()
    # exp(-x) overflows harmlessly to inf (ember's floating-point warnings are silenced)
    t = np.exp(-x, out=np.empty(np.shape(x), x.dtype))  # (an array even for 0-d x: written in place)
    t += 1
    return np.reciprocal(t, out=t)


def erf(x: Any) -> Any:
    return x.erf() if isinstance(x, Tensor) else _erf_np(x)


def clamp(x: Any, lo: Any, hi: Any) -> Any:
    return x.clamp(lo, hi) if isinstance(x, Tensor) else np.clip(x, lo, hi)


def numel(x: Any) -> int:
    return x.numel() if isinstance(x, Tensor) else np.size(x)


def const(arr: np.ndarray, like: Any) -> Any:
    """A constant array in the formula's world: the array itself, or a Tensor that needs no grad."""
    return _new(arr) if isinstance(like, Tensor) else arr


def is_mask(d: Any) -> bool:
    return (d._data if isinstance(d, Tensor) else np.asarray(d)).dtype == np.bool_


def astype_like(x: Any, like: Any) -> Any:
    """``x`` in ``like``'s dtype."""
    if isinstance(x, Tensor):
        return x.to(like.dtype) if x.dtype != like.dtype else x
    return np.asarray(x).astype((like._data if isinstance(like, Tensor) else like).dtype, copy=False)

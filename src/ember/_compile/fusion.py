"""Fusion: an elementwise op whose operand dies with it writes its result into that operand; a
convolution whose output only a relu reads computes the relu itself, and in the backward the
convolution's gradient kernel applies the relu's backward to each block of its output gradient.

``y = a + b`` allocates; when nothing reads ``a`` after this line (no later op, no backward node
that kept it, not returned, not the base of a view still in use) and ``a`` has ``y``'s shape and
dtype, ``y = np.add(a, b, out=a)`` computes the same numbers (the same ufunc, the operands in the
same order) without a new array. Only forward values the program itself made qualify (never an
input, a parameter or a gradient: the engine may hand one gradient array to two inputs), and only
large ones (below ``MIN_SIZE`` elements ``out=`` costs more than the allocation it saves).
"""

from __future__ import annotations

import math
from typing import Any

from ..ops.convolution import ConvolutionBackward0
from ..ops.pointwise import ReluBackward0
from .trace import Ref, Step

# kernel -> the ufunc its template applies (operands in template order)
UFUNCS = {"add": "np.add", "sub": "np.subtract", "mul": "np.multiply", "div": "np.true_divide",
          "add_scalar": "np.add", "sub_scalar": "np.subtract", "mul_scalar": "np.multiply",
          "div_scalar": "np.true_divide", "rsub_scalar": "np.subtract", "neg": "np.negative"}
# kernels whose output may be a view of their input (which then stays alive as long as the view)
VIEWS = {"reshape", "transpose", "t", "permute", "matmul_folded", "expand", "getitem", "split",
         "generic"}  # (an op called again may return a view: movedim, unbind, diagonal ...)
MIN_SIZE = 1024


def _reads(s: Step) -> list:
    if s.kind == "custom":  # (a user Function's saved tensors and those it keeps on ctx)
        _, saved, attrs = s.data
        return list(s.ins) + [x.name for x in _refs(saved)] + [x.name for x in attrs.values()]
    if s.kind != "node":
        return list(s.ins)
    _, saved, result, attrs, _ = s.data
    out = [x.name for x in _refs(saved)] + [x.name for x in _refs(attrs)]
    return out + list(s.ins) + ([result] if result else [])


def _refs(v: Any) -> list:
    if isinstance(v, Ref):
        return [v]
    if type(v) is tuple:
        return [r for x in v for r in _refs(x)]
    return []


def in_place(steps: list[Step], meta: dict, returns: list) -> dict[int, str]:
    """step index -> the operand (a dying forward value) its result is written into."""
    made: dict[str, str] = {}  # forward value -> the kernel that made it
    last: dict[str, float] = {}
    for k, s in enumerate(steps):
        if s.kind == "op":
            for o in s.outs:
                made[o] = s.data[0]
        for n in _reads(s):
            last[n] = k
    for n in returns:
        last[n] = math.inf
    for k in range(len(steps) - 1, -1, -1):  # a view keeps its base alive (chains: latest first)
        s = steps[k]
        if s.kind == "op" and s.data[0] in VIEWS:
            for base in s.ins[:1] if s.data[0] != "generic" else s.ins:  # (an op called again: any input)
                last[base] = max(last.get(base, k), *(last.get(o, k) for o in s.outs))
    chosen: dict[int, str] = {}
    for k, s in enumerate(steps):
        if s.kind != "op" or s.data[0] not in UFUNCS:
            continue
        out_meta = meta.get(s.outs[0])
        for c in s.ins:
            kernel = made.get(c)
            if kernel is None or kernel in VIEWS or last.get(c) != k or meta.get(c) != out_meta:
                continue
            if out_meta is None or math.prod(out_meta[0]) < MIN_SIZE:
                continue
            chosen[k] = c
            break
    return chosen


def line(s: Step, into: str, const: Any) -> str:
    """The step's template written as its ufunc with ``out=into``."""
    kernel, consts = s.data
    args = list(s.ins) + [const(c) for c in consts]
    if kernel == "rsub_scalar":  # (c - x)
        args = args[::-1]
    return f"{s.outs[0]} = {UFUNCS[kernel]}({', '.join(args)}, out={into})"


def dead_after(steps: list[Step], start: int, stop: int, returns: list) -> dict[int, list[str]]:
    """step index -> the values made in ``steps[start:stop]`` that nothing reads after it (nor
    returns): the program drops its names there, as the engine frees a node's buffers once it ran,
    so their memory is reused (warm in cache) instead of the whole step's arrays staying alive."""
    last: dict[str, int] = {}
    made: list[str] = []
    for k in range(start, stop):
        s = steps[k]
        for n in _reads(s):
            last[n] = k
        if s.kind != "acc":
            for o in s.outs:
                if o:
                    last.setdefault(o, k)  # (never read: dropped where it is made)
                    made.append(o)
    keep = set(returns)
    for k in range(stop, len(steps)):
        keep.update(_reads(steps[k]))
    out: dict[int, list[str]] = {}
    for n in made:
        if n not in keep:
            out.setdefault(last[n], []).append(n)
    return out


def _readers(steps: list[Step]) -> dict[str, list[int]]:
    """value name -> the indices of the steps that read it."""
    readers: dict[str, list[int]] = {}
    for k, s in enumerate(steps):
        for n in _reads(s):
            readers.setdefault(n, []).append(k)
    return readers


def conv_relu(steps: list[Step], meta: dict, returns: list) -> dict[int, int]:
    """conv step index -> the relu step that alone reads its output: the replay computes both in
    one call (``conv_forward(..., relu=True)``: the same maximum, on each block while it is in
    cache), and the convolution's own output is never made. Only where eager's relu takes the
    same path (``pointwise._relu_np``: a last dim of 8 or more), so the bits stay eager's."""
    readers = _readers(steps)
    out: dict[int, int] = {}
    for k, s in enumerate(steps):
        if s.kind != "op" or s.data[0] not in ("conv", "conv_nobias") or s.outs[0] in returns:
            continue
        r = readers.get(s.outs[0], [])
        shape = meta.get(s.outs[0], ((),))[0]
        if len(r) == 1 and steps[r[0]].kind == "op" and steps[r[0]].data[0] == "relu" and len(shape) and shape[-1] >= 8:
            out[k] = r[0]
    return out


def conv_relu_line(s: Step, relu: Step, const: Any) -> str:
    """The fused line of a ``conv_relu`` pair: the relu's output, the convolution's saved columns."""
    args = list(s.ins) + [const(c) for c in s.data[1]]
    bias = args.pop(2) if s.data[0] == "conv" else "None"
    return (f"{relu.outs[0]}, {s.outs[1]}, _, _ = conv_forward({', '.join(args)}, {bias}, True)"
            f"  # conv + relu: {s.outs[0]} is read by the relu alone")


def relu_conv_backward(steps: list[Step], meta: dict) -> dict[int, int]:
    """ReluBackward0 step -> the ConvolutionBackward0 step (of a stride-1 "flat" convolution) that
    alone takes the gradient it makes: the replay runs both as one call of the convolution's
    gradient kernel (``kernels.conv_backward_relu``: the same ``select_np`` on each block)."""
    readers = _readers(steps)
    out: dict[int, int] = {}
    for k, s in enumerate(steps):
        if s.kind != "node" or type(s.data[0]) is not ReluBackward0 or s.data[2] is None or not s.outs[0]:
            continue
        r = readers.get(s.outs[0], [])
        if len(r) != 1 or meta.get(s.data[2], (None, None))[1] not in ("float32", "float64"):  # (the relu's result)
            continue
        c = steps[r[0]]
        if c.kind == "node" and type(c.data[0]) is ConvolutionBackward0 and c.ins == (s.outs[0],) \
                and type(c.data[3]) is tuple and c.data[3][6] is True and len(c.data[1]) == 2:
            out[k] = r[0]
    return out


def relu_conv_backward_line(relu: Step, conv: Step, node: str, expr: Any) -> str:
    """The fused line of a ``relu_conv_backward`` pair (``node``: the convolution's replay node)."""
    outs = ", ".join(o or "_" for o in conv.outs)
    return (f"{outs}, = conv_backward_relu({node}, {expr(conv.data[3])}, {expr(conv.data[1][1])}, {relu.ins[0]}, "
            f"{relu.data[2]})  # {conv.note}, its grad through {relu.note.split(':')[0]}")

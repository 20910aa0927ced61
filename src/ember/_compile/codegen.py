"""Codegen: a traced call's steps written out as one Python function on NumPy arrays.

Every forward op is its kernel's template (``kernels.TEMPLATES``); every backward node is a call of
the node's own derivative formula on the arrays it saved (``on_arrays`` formulas take them as they
are; the others are handed Tensors around them, as the engine's plain loop does), so a derivative
still has one implementation. The engine's bookkeeping becomes plain lines: gradients that meet are
added, a broadcast input's gradient is summed back to its shape, leaves accumulate into ``.grad``.
The optimizer's ``step()`` and ``zero_grad()`` are called as they are (NumPy updates in place).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import engine
from ..nn.utils import clip_grad
from ..ops import inplace
from . import fusion, generic
from .backward import _VC
from .kernels import NAMESPACE, TEMPLATES
from .trace import Ref, Step, Tracer


def on_arrays(node: Any, saved: tuple, result: Any, grads: list) -> tuple:
    """Run a node's ``on_arrays`` formula on the replay's arrays."""
    node.saved = saved
    if result is not None:
        node._result = (result, _VC, 0)
    try:
        return node._run_on_arrays(grads)
    finally:
        node.saved, node._result = (), None  # (the step's arrays are not kept until the next one)


def on_tensors(node: Any, saved: tuple, result: Any, grads: list) -> list:
    """Run a formula written in ember ops: Tensors around the arrays (grad mode is off)."""
    node.saved = tuple([_new(s) if type(s) is np.ndarray else s for s in saved])
    if result is not None:
        node._result = (result, _VC, 0)
    try:
        outs = node._formula([None if g is None else _new(g) for g in grads])
    finally:
        node.saved, node._result = (), None
    return [None if o is None else o._data for o in outs]


def custom(node: Any, saved: tuple, grads: list) -> list:
    """A user Function's backward on Tensors around the replay's arrays (grad mode is off), through
    its node's own ``apply`` (materialized zeros, the count of gradients checked)."""
    node._saved = tuple([_new(s) if type(s) is np.ndarray else s for s in saved])
    node._saved_versions = (None,) * len(saved)
    try:
        outs = node.apply([None if g is None else _new(g) for g in grads])
    finally:
        node._saved = ()
    return [o._data if isinstance(o, Tensor) else None for o in outs]


def grad_of(t: Tensor) -> np.ndarray:
    """``t.grad``'s array, read by the traced function (it existed when the call was traced)."""
    if t._grad is None:
        raise RuntimeError("ember.compile: a .grad the traced call read is None in this replay")
    return t._grad._data


def accumulate(t: Tensor, g: np.ndarray) -> None:
    """A leaf's AccumulateGrad: the engine's own step (adds into ``.grad``, or copies ``g`` into it)."""
    t._accumulate_array(g, [g])


def accumulate_owned(t: Tensor, g: np.ndarray) -> None:
    """AccumulateGrad of a gradient nothing else in the program goes by: an empty ``.grad`` takes
    the array over without a copy, as the engine's plain loop does when no one else holds it."""
    if t._grad is None and t._meta is None and g.base is None and g.flags.writeable:
        t._grad = _new(g, None, None)
    else:
        t._accumulate_array(g, [g])


_CALLS = {"clip_grad_norm_": clip_grad.clip_grad_norm_}


def count_batch(t: Tensor) -> None:
    """A BatchNorm's ``num_batches_tracked += 1`` (its forward does it on the buffer's array)."""
    t._data[...] += 1
    t._vc[0] += 1


class _NoNode:
    """(stands for the node in the engine's error messages, which a traced replay cannot hit)"""

    def name(self) -> str:
        return "compiled"


def check_grad(g: np.ndarray, shape: tuple, dtype: Any) -> np.ndarray:
    """The engine's reduction of a gradient to its input's shape and dtype (the general case)."""
    return engine._check_grad(_NoNode(), 0, _new(g), (shape, dtype))._data  # type: ignore[arg-type]


def _literal(x: Any) -> bool:
    """Whether ``repr(x)`` reads back as ``x`` (inside a tuple constant)."""
    if type(x) is slice:
        return all(v is None or type(v) is int for v in (x.start, x.stop, x.step))
    return x is None or x is Ellipsis or type(x) in (int, bool, str) or (type(x) is float and math.isfinite(x))


class _Names:
    def __init__(self, ns: dict) -> None:
        self.ns = ns
        self.k = 0

    def const(self, v: Any) -> str:
        """An inline literal when ``repr`` reads back exactly, else a name in the namespace."""
        if v is None or type(v) in (bool, int, str) or (type(v) is float and math.isfinite(v)):
            return repr(v)
        if type(v) is tuple and all(_literal(x) for x in v):
            return repr(v)
        if isinstance(v, np.dtype) and v.name in ("float32", "float64", "int64"):
            return f"np.dtype({v.name!r})"
        name = getattr(v, "__name__", "")
        if callable(v) and name.isidentifier() and self.ns.get(name, v) is v:  # (a function: by its name)
            self.ns[name] = v
            return name
        name = f"C{self.k}"
        self.k += 1
        self.ns[name] = v
        return name

    def expr(self, v: Any) -> str:
        """A backward node's saved value or attr: a traced array's name, or a constant."""
        if isinstance(v, Ref):
            return f"_new({v.name})" if v.tensor else v.name
        if type(v) is tuple:
            inner = ", ".join(self.expr(x) for x in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        return self.const(v)


def _short(at: str) -> str:
    # "file:line: source" -> "file.py:12  source"
    parts = at.split(":", 2)
    if len(parts) < 3:
        return at
    return f"{os.path.basename(parts[0])}:{parts[1]}  {parts[2].strip()}"


_FORWARD_KINDS = ("op", "bump", "copy", "writeback", "fill", "setitem")


def generate(tr: Tracer, fn_name: str, returns: list) -> tuple[str, dict, int]:
    """The replay function's source, the namespace it runs in, and how many ops write in place."""
    ns: dict = dict(NAMESPACE)
    ns["__name__"] = "ember._compile.program"  # (NumPy's warnings silenced as eager's: ember/__init__.py)
    ns.update(_new=_new, on_arrays=on_arrays, on_tensors=on_tensors, custom=custom, grad_of=grad_of, call_op=generic.call_op,
              accumulate=accumulate, accumulate_owned=accumulate_owned,
              count_batch=count_batch, check_grad=check_grad, VC=_VC, setitem=inplace.setitem)
    names = _Names(ns)
    body: list[str] = [f"{name} = T_{name}._data" for name in tr.inputs]
    for name, t in tr.externals.items():
        ns[f"T_{name}"] = t
        body.append(f"{name} = T_{name}._data")
    for obj_name, obj in tr.objects.values():
        ns[obj_name] = obj
    section = None
    into = fusion.in_place(tr.steps, tr.meta, returns)
    bw = len(tr.steps) if tr.bw_start is None else tr.bw_start
    dead = fusion.dead_after(tr.steps, 0, bw, returns) if tr.bw_start is None else {}
    pairs = fusion.conv_relu(tr.steps, tr.meta, returns)
    bpairs = fusion.relu_conv_backward(tr.steps, tr.meta)
    # (an in-place op's copy of the old value that its op did not keep, as fill_'s: never made)
    unread = {s.outs[0] for s in tr.steps if s.kind == "copy"} - set(fusion._readers(tr.steps)) - set(returns)
    # (the fused convolutions' own outputs, the fused relus' gradients: never made)
    never = {tr.steps[k].outs[0] for k in pairs} | {tr.steps[k].outs[0] for k in bpairs} | unread
    for k, s in enumerate(tr.steps[:bw]):
        if s.kind == "copy" and s.outs[0] in unread:
            continue
        sec = "forward" if s.kind in _FORWARD_KINDS else "optimizer" if s.kind in ("call", "fn") else \
            "update" if s.kind in ("grad_of", "grad_none", "zero", "inplace") else "backward"
        if s.kind == "op" and section == "update":  # (the arithmetic of a hand-written update: lr * p.grad)
            sec = "update"
        if sec != section:
            body.append(f"# {sec}")
            section = sec
        if k in pairs:
            body.append(fusion.conv_relu_line(s, tr.steps[pairs[k]], names.const) + f"; {_short(s.note)}")
        elif k not in pairs.values():
            body.extend(_backward_lines(tr.steps, k, bpairs, into, names, ns, tr.meta))
        gone = [n for n in dead.get(k, ()) if n not in never]
        if gone:
            body.append(f"del {', '.join(gone)}")
    ret = ", ".join(returns)
    if tr.bw_start is not None:  # the outputs' backward: a function over the forward values it reads
        body.append("")
        body.append(f"def backward({', '.join(tr.grad_outs)}):  # CompiledFunctionBackward, run by the engine")
        inner = [ln for k in range(bw, len(tr.steps)) for ln in _backward_lines(tr.steps, k, bpairs, into, names, ns, tr.meta)]
        grads = ", ".join(g or "None" for g in tr.grad_ins)
        inner.append(f"return ({grads},)" if len(tr.grad_ins) == 1 else f"return ({grads})")
        body.extend(f"    {ln}" for ln in inner)
        body.append("")
        body.append(f"return ({ret},), backward" if len(returns) == 1 else f"return ({ret}), backward")
    else:
        body.append(f"return ({ret},)" if len(returns) == 1 else f"return ({ret})")
    src = f"def {fn_name}({', '.join('T_' + n for n in tr.inputs)}):\n" + "".join(
        f"    {ln}\n" if ln else "\n" for ln in body)
    return src, ns, len(into)


def _backward_lines(steps: list, k: int, bpairs: dict, into: dict, names: "_Names", ns: dict,
                    meta: dict) -> list[str]:
    """Step ``k``'s lines, where a relu's backward and the convolution's that takes its gradient
    (``fusion.relu_conv_backward``) are one call, written at the relu's step."""
    if k in bpairs:
        j = bpairs[k]
        ns[f"N{j}"] = steps[j].data[0]
        return [fusion.relu_conv_backward_line(steps[k], steps[j], f"N{j}", names.expr)]
    if k in bpairs.values():
        return []
    return _step_lines(steps[k], k, into, names, ns, meta)


def _step_lines(s: Step, k: int, into: dict, names: "_Names", ns: dict, meta: dict) -> list[str]:
    if k in into:
        return [fusion.line(s, into[k], names.const) + f"  # in place: {into[k]} is not read again; {_short(s.note)}"]
    lines = _lines(s, k, names, ns)
    if s.kind == "op":  # NumPy's ufuncs return a 0-d result as a scalar; eager keeps the array
        lines += [f"{o} = np.asarray({o})" for o in s.outs if o in meta and meta[o][0] == ()]
    return lines


def _lines(s: Step, k: int, names: _Names, ns: dict) -> list[str]:
    if s.kind == "op" and s.data[0] == "generic":  # (an op without a kernel: called again, see generic.py)
        fn, args, kwargs, name, shapes = s.data[1]
        fname = f"op_{name}" if name.isidentifier() else "op"
        if ns.get(fname, fn) is not fn:
            fname = names.const(fn) if ns.get(getattr(fn, "__name__", ""), fn) is not fn else f"{fname}{k}"
        ns.setdefault(fname, fn)
        a = generic.expr(args, Ref, names.const)
        kw = generic.expr(kwargs, Ref, names.const)
        return [f"{', '.join(s.outs)}, = call_op({fname}, {a}, {kw}, {shapes!r})  # {_short(s.note)}"]
    if s.kind == "op":
        kernel, consts = s.data
        fill = {f"o{i}": o for i, o in enumerate(s.outs)}
        fill["outs"] = ", ".join(s.outs)
        fill.update({f"i{i}": x for i, x in enumerate(s.ins)}, ins=", ".join(s.ins))
        fill.update({f"c{i}": names.const(c) for i, c in enumerate(consts)})
        lines = TEMPLATES[kernel].format(**fill).split("\n")
        lines[0] += f"  # {_short(s.note)}"
        return lines
    if s.kind == "node":
        rn, saved, result, attrs, style = s.data
        node = f"N{k}"
        ns[node] = rn
        lines = []
        if attrs is not None:  # (attrs that hold arrays of this step, as nll_loss's coefficients)
            lines.append(f"{node}.attrs = {names.expr(attrs)}")
        outs = ", ".join(o or "_" for o in s.outs)
        grads = ", ".join(g or "None" for g in s.ins)
        res = result or "None"
        if style == "helper":
            call = "on_arrays" if rn.on_arrays else "on_tensors"
            lines.append(f"{outs}, = {call}({node}, {names.expr(tuple(saved))}, {res}, [{grads}])  # {s.note}")
            if attrs is not None:  # (the step's arrays are not kept until the next call)
                lines.append(f"{node}.attrs = None")
            return lines
        # an on_arrays formula called as it is: the node holds the arrays it reads
        if saved:
            lines.append(f"{node}.saved = {names.expr(tuple(saved))}")
        if result is not None:
            lines.append(f"{node}._result = ({result}, VC, 0)")
        ns[f"D{k}"] = rn.derivative  # (bound to this node)
        lines.append(f"{outs}{',' if style == 'tuple' and len(s.outs) == 1 else ''} = D{k}({grads})  # {s.note}")
        if saved or result is not None:  # (as the engine frees a node's arrays once it ran)
            lines.append(f"{node}.saved, {node}._result = (), None" if saved and result is not None else
                         f"{node}.saved = ()" if saved else f"{node}._result = None")
        if attrs is not None:
            lines.append(f"{node}.attrs = None")
        return lines
    if s.kind == "custom":
        rn, saved, attrs = s.data
        node = f"N{k}"
        ns[node] = rn
        lines = [f"{node}.{a} = _new({r.name})" for a, r in attrs.items()]
        outs = ", ".join(o or "_" for o in s.outs)
        grads = ", ".join(g or "None" for g in s.ins)
        lines.append(f"{outs}, = custom({node}, {names.expr(tuple(saved))}, [{grads}])  # {s.note}")
        return lines
    if s.kind == "copy":
        return [f"{s.outs[0]} = {s.ins[0]}.copy()  # {s.note}"]
    if s.kind == "writeback":
        return [f"np.copyto({s.ins[0]}, {s.ins[1]}, casting='unsafe')  # {s.note}"]
    if s.kind == "grad_of":
        return [f"{s.outs[0]} = grad_of(T_{s.ins[0]})  # {s.note}"]
    if s.kind == "grad_none":
        return [f"T_{s.ins[0]}.grad = None"]
    if s.kind == "setitem":
        key, value = (generic.expr(v, Ref, names.const) for v in s.data)
        return [f"setitem(_new({s.ins[0]}), {key}, {value})  # {s.note}"]
    if s.kind == "fill":
        return [f"{s.ins[0]}[...] = {names.const(s.data)}  # {s.note}"]
    if s.kind == "zero":
        return [f"{s.ins[0]}[...] = 0  # {s.note}"] + ([f"{s.data}._vc[0] += 1"] if s.data else [])
    if s.kind == "inplace":
        ufunc, number, owner = s.data
        other = s.ins[1] if len(s.ins) > 1 else names.const(number)
        return [f"np.{ufunc}({s.ins[0]}, {other}, out={s.ins[0]})  # {s.note}"] + \
            ([f"{owner}._vc[0] += 1"] if owner else [])
    if s.kind == "sum":
        return [f"{s.outs[0]} = {s.ins[0]} + {s.ins[1]}"]
    if s.kind == "reduce":
        shape, dtype, got, gdtype = s.data
        if gdtype.kind == "f" and gdtype.itemsize >= 4 and len(shape) <= len(got):
            lead = len(got) - len(shape)
            axes = tuple(range(lead)) + tuple(lead + j for j, n in enumerate(shape) if n == 1 and got[lead + j] != 1)
            # (no axes to sum: NumPy's sum over none still adds its 0 identity, turning -0.0 into +0.0)
            line = f"{s.outs[0]} = {s.ins[0]}" + (f".sum(axis={axes!r}, keepdims=True)" if axes else "") + \
                f".reshape({shape!r})"
            if dtype != gdtype:
                line += f".astype({names.const(dtype)})"
            return [line + "  # summed over the broadcast dims"]
        return [f"{s.outs[0]} = check_grad({s.ins[0]}, {shape!r}, {names.const(dtype)})"]
    if s.kind == "root":
        shape, dtype = s.data
        dt = f"np.{dtype.name}" if dtype.name in ("float32", "float64") else names.const(dtype)
        return [f"{s.outs[0]} = np.ones({shape!r}, {dt})  # {s.note}"]
    if s.kind == "acc":
        p, g = s.ins
        if s.data:  # (the gradient is this program's alone: no copy)
            return [f"accumulate_owned(T_{p}, {g})  # {p}.grad += {g}"]
        return [f"accumulate(T_{p}, {g})  # {p}.grad += {g}"]
    if s.kind == "fn":  # (a function of the parameters' .grad arrays, called as eager calls it)
        fn_name, params, args = s.data
        ns[fn_name] = _CALLS[fn_name]
        return [f"{s.outs[0]} = {fn_name}({names.const(params)}, {', '.join(names.const(a) for a in args)})._data"
                f"  # {s.note}: scales every .grad in place"]
    if s.kind == "bump":
        return [f"count_batch(T_{s.ins[0]})  # {s.note}"]
    if s.kind == "call":
        method, args = s.data
        return [f"{s.ins[0]}.{method}({', '.join(names.const(a) for a in args)})  # {s.note}"]
    raise AssertionError(s.kind)

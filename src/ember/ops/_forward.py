"""Forward-mode AD through the op table: an op's output tangent from its inputs' tangents.

``record`` (and the few ops that attach their nodes themselves) call ``propagate`` when a dual
level is live (``_forward_levels.fw.on``). Per visible level whose tangents reach the op, it builds
the op's node (a stand-in, with the same saved values and attrs, when reverse mode records none)
and asks the node class for the output tangents:

- ``jvp(node, tangents)``, given to ``node_class(..., jvp=...)`` next to the backward formula:
  the forward derivative, one tangent per input (None: no tangent, i.e. zero) in, the output's
  tangent (a tuple for multi-output ops; None: zero) out. Written in ember ops, so it is itself
  differentiable (forward-over-reverse, reverse-over-forward and nested ``jvp`` work).
- Otherwise the op's one derivative gives it: its backward formula is linear in the incoming
  gradient, so ``J v = d/dg <vjp(g), v>``. The formula runs on Tensors with a ``g`` that requires
  grad, and one ``autograd.grad`` differentiates the inner product (one small extra backward).
  For complex numbers the inner product is ``Re(conj(vjp(g)) v)``, whose gradient in torch's
  convention is ``J v`` again.

This module sits below ``_core`` and imports no op module.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import _forward_levels as _lv
from ..autograd import grad_mode
from ..autograd.graph import _seq, grad_accumulator

_state = grad_mode._state
_object_new = object.__new__
fw = _lv.fw


def _differentiable(x: Any) -> bool:
    return x.dtype.kind in "fc" or x.dtype.name == "bfloat16"


def _edge(t: Tensor | None) -> tuple:
    if t is None or not t._rg or not _state.enabled:
        return (None, 0)
    fn = t.grad_fn
    return (fn, t._out_nr) if fn is not None else (grad_accumulator(t), 0)


def _stand_in(cls: type, outs: Sequence[Tensor | None], inputs: Sequence[Any], saved: tuple, attrs: Any,
              tangents: list) -> Any:
    """A node of class ``cls`` holding what the op's formulas read: the saved values, attrs, the
    inputs' metadata and the first output; its edges are the inputs' reverse-mode edges, so a
    tangent computed through it is differentiable where the inputs require grad."""
    n: Any = _object_new(cls)
    n._seq = next(_seq)
    n._extra = None
    n.next_functions = tuple(_edge(i) for i in inputs)
    n.needs = tuple((i is not None and i._rg) or v is not None for i, v in zip(inputs, tangents))
    n._in_meta = [None if i is None else (i._data.shape, i._data.dtype) for i in inputs]
    n.saved = saved
    n._versions = None
    o = outs[0]
    n._result = None if o is None else (o._data, o._vc, o._vc[0])
    n.attrs = attrs
    n._freed = False
    n.n_outputs = len(outs)
    return n


def propagate(cls: type, outs: Sequence[Tensor | None], inputs: Sequence[Any], saved: tuple = (),
              attrs: Any = None, node: Any = None) -> None:
    """Give the outputs ``outs`` of an op of node class ``cls`` their tangents at every visible level
    at which an input has one. ``node``: the node reverse mode recorded (its saved output is reused)."""
    inputs = [i if isinstance(i, Tensor) else None for i in inputs]
    for depth, lv in enumerate(_lv.visible()):
        ts = [None if i is None else _lv.get(i, lv) for i in inputs]
        if all(v is None for v in ts):
            continue
        n = _stand_in(cls, outs, inputs, saved, attrs, ts)
        if node is not None and type(node._result) is tuple:
            n._result = node._result
        # (a public level keeps how each tangent came, for ember.viz: read before an in-place op's put)
        ins = tuple(_lv.step(i, lv) or _lv.Step("tangent", v) for i, v in zip(inputs, ts)
                    if v is not None) if lv.public else ()
        with _lv.hide_from(depth):
            res = tangents(n, outs, inputs, ts)
        for o, tan in zip(outs, res):
            if o is not None and _differentiable(o._data):
                tan = tan if tan is not None else zeros_like(o)
                _lv.put(o, lv, tan, _lv.Step(cls.__name__, tan, ins) if lv.public else None)
        if fw.listener is not None and depth == 0:  # (autograd.explain_forward narrating)
            fw.listener(cls, inputs, ts, outs, res)


def tangents(n: Any, outs: Sequence[Tensor | None], inputs: Sequence[Any], ts: list) -> list:
    """The outputs' tangents (None: zero) from the inputs' tangents ``ts``."""
    # the tangent is differentiable (records a graph) only where reverse mode needs it to be
    diff = _state.enabled and any((i is not None and i._rg) or (v is not None and v._rg) for i, v in zip(inputs, ts))
    jvp = getattr(type(n), "jvp", None)
    prev, prev_link = _state.enabled, _zero_link[0]
    _state.enabled = diff
    _zero_link[0] = _linked(n, inputs, ts) if diff else None
    try:
        if jvp is not None:
            r = jvp(n, ts)
        else:
            r = _from_backward(n, outs, ts, diff)
    finally:
        _state.enabled = prev
        _zero_link[0] = prev_link
    r = list(r) if type(r) in (tuple, list) else [r]
    # (an input's tangent passed through as is, x + 1's, is copied: an in-place op on the output
    # writes its tangent in place, which must not reach the input's)
    r = [t.clone() if any(t is v for v in ts if v is not None) else t for t in r]
    return [_fit(t, o) for t, o in zip(r, outs)]


# the inputs a skipped zero term of the running ``jvp`` would connect its tangent to (see ``plus``)
_zero_link: list = [None]


def _linked(n: Any, inputs: Sequence[Any], ts: list) -> list | None:
    """torch fills a missing tangent with zeros and still evaluates its term of the forward formula,
    so under reverse mode ``x_t @ W + x @ 0`` is an ``AddBackward0`` connected to ``x`` (with a zero
    gradient). The inputs such a term would reach: those that require grad, when some input lacks a
    tangent and the rule reads saved primals (add's and the views' terms are free of them)."""
    if not any(v is None and i is not None and _differentiable(i._data) for i, v in zip(inputs, ts)):
        return None
    if not any(s is not None for s in n.saved):
        return None
    return [i for i in inputs if i is not None and i._rg and _differentiable(i._data)] or None


def _zero_linked_to(primals: list) -> Tensor:
    never = _new(np.zeros((), bool))
    zero = _new(np.zeros((), primals[0]._data.dtype))
    for p in primals:
        zero = zero + p.sum().where(never, 0.0)  # exactly 0, whatever p holds (no 0 * inf); its gradient to p is 0
    return zero


def _fit(t: Any, o: Tensor | None) -> Any:
    """A tangent shaped as its output: a broadcast input's tangent expands, a number becomes a tensor."""
    if t is None or o is None:
        return None
    if not isinstance(t, Tensor):
        t = _new(np.asarray(t, o._data.dtype))
    if t._data.shape != o._data.shape:
        t = t.expand(o._data.shape).clone()
    return t


def plus(*terms: Any) -> Any:
    """The sum of a ``jvp``'s terms, None (zero) standing for an input without a tangent. Under reverse
    mode a skipped term is added back as an exact zero connected to the primals it reads, as torch's
    zero-filled term is (same ``grad_fn``, ``requires_grad`` and zero gradients)."""
    out = None
    skipped = False
    for t in terms:
        if t is None:
            skipped = True
        else:
            out = t if out is None else out + t
    if skipped and out is not None and _zero_link[0] is not None:
        out = out + _zero_linked_to(_zero_link[0]).to(out.dtype)
    return out


def result(n: Any) -> Tensor:
    """The node's output as a Tensor (with its tangents at the outer levels), whatever ``n.result`` gives."""
    r = n.result
    return r if isinstance(r, Tensor) else _new(r)


def with_tangents(t: Tensor) -> Tensor:
    """``t``, a node's saved output rebuilt from its array, given that output's tangents (so that
    a backward formula reading it runs on the dual value: forward over reverse)."""
    if fw.on:
        for lv, tangent in _lv.tangents_of_array(t._data):
            _lv.put(t, lv, tangent)
    return t


def out_shape(n: Any) -> tuple:
    """The shape of a node's (first) output, for a ``jvp`` that reshapes its tangent the same way."""
    return n._result[0].shape


def zeros_like(o: Tensor) -> Tensor:
    return _new(np.zeros(o._data.shape, o._data.dtype))


def _from_backward(n: Any, outs: Sequence[Tensor | None], ts: list, diff: bool) -> list:
    """J v = d/dg <vjp(g), v>: the op's backward formula, differentiated in its incoming gradient."""
    from ..autograd import grad as autograd_grad

    _state.enabled = True
    # (at g = 0: the formula is linear in g, and a formula that checks g, eig's, accepts 0. A formula
    # that branches on g's sign needs a jvp of its own: logcumsumexp's)
    gs = [None if o is None or not _differentiable(o._data) else zeros_like(o).requires_grad_() for o in outs]
    try:
        vjps = n._formula(gs if n._multi else [gs[0]])
        total = None
        for vj, v in zip(vjps, ts):
            if v is None or not isinstance(vj, Tensor):
                continue
            term = (vj.conj() * v).real.sum() if vj.is_complex() or v.is_complex() else (vj * v).sum()
            total = term if total is None else total + term
        live = [g for g in gs if g is not None]
        if total is None or not total.requires_grad or not live:
            return [None] * len(outs)
        got = iter(autograd_grad(total, live, create_graph=diff, allow_unused=True))
    except (NotImplementedError, RuntimeError) as e:
        # the backward formula has no derivative of its own (torch implements no forward AD there either)
        if "not implemented" not in str(e):
            raise
        unsupported(_op_name(type(n).__name__))(n, ts)
    return [None if g is None else next(got) for g in gs]


def _op_name(node_name: str) -> str:
    """``MultiMarginLossBackward0`` -> ``multi_margin_loss``."""
    base = re.sub(r"Backward\d*$", "", node_name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


def unsupported(name: str) -> Callable:
    """The ``jvp`` of an op whose forward derivative torch does not implement: torch's error."""
    def jvp(n: Any, ts: list) -> Any:
        raise NotImplementedError(
            f"Trying to use forward AD with {name} that does not support it because it has not been implemented "
            "yet.\nPlease file an issue to PyTorch at https://github.com/pytorch/pytorch/issues/new?template="
            "feature-request.yml so that we can prioritize its implementation or submit a PR adding the "
            "implementation to derivatives.yaml")

    return jvp

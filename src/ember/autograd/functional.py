"""ember.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp (torch's signatures).

Built from reverse mode (autograd.grad) as torch builds them: a Jacobian row by row, jvp by the
double-vjp trick, Hessians as Jacobians of gradients; ``strategy="forward-mode"`` (which torch allows
only with ``vectorize=True``) takes the Jacobian column by column with dual tensors (forward_ad),
and a Hessian forward over reverse. ``vectorize`` is otherwise ignored (ember loops).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _tup(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _grad_preprocess(inputs: tuple, create_graph: bool) -> tuple:
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _zeros(t: Any) -> Any:
    from .._tensor import _new

    return _new(np.zeros(t._data.shape, t._data.dtype))


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool, strict: bool, what: str) -> tuple:
    from . import grad as _autograd_grad

    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        gs = (None,) * len(inputs)
    else:
        gs = _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs], create_graph=create_graph,
                            retain_graph=True, allow_unused=True)
    res = []
    for i, (g, x) in enumerate(zip(gs, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                                   f"not allowed in strict mode.")
            g = _zeros(x)
        res.append(g if create_graph else g.detach())
    return tuple(res)


def _check_v(v: Any, outs: tuple, name: str) -> tuple:
    from .._tensor import _new

    if v is None:
        for o in outs:
            if o._data.size != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
        return tuple(_new(np.ones(o._data.shape, o._data.dtype)) for o in outs)
    vs = _tup(v)
    if len(vs) != len(outs):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(outs)} but got {len(vs)}.")
    for a, o in zip(vs, outs):
        if a._data.shape != o._data.shape:
            raise RuntimeError(f"Entry 0 in v has invalid size: should be {list(o._data.shape)} but got {list(a._data.shape)}.")
    return vs


def _ret(x: tuple, single: bool) -> Any:
    return x[0] if single else x


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J)."""
    from .grad_mode import enable_grad

    single_in = not isinstance(inputs, (tuple, list))
    with enable_grad():
        ins = _grad_preprocess(_tup(inputs), create_graph)
        raw = func(*ins)
        single_out = not isinstance(raw, (tuple, list))
        outs = _tup(raw)
        vs = _check_v(v, outs, "vjp")
        gs = _grad(outs, ins, vs, create_graph, strict, "vjp")
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return _ret(outs, single_out), _ret(gs, single_in)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v), by differentiating a vjp with respect to its cotangent."""
    from .._tensor import _new
    from .grad_mode import enable_grad

    single_in = not isinstance(inputs, (tuple, list))
    with enable_grad():
        ins = _grad_preprocess(_tup(inputs), create_graph)
        if v is None:
            if len(ins) != 1 or ins[0]._data.size != 1:
                raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                                   "single Tensor with a single element.")
            vs = (_new(np.ones(ins[0]._data.shape, ins[0]._data.dtype)),)
        else:
            vs = _tup(v)
        raw = func(*ins)
        single_out = not isinstance(raw, (tuple, list))
        outs = _tup(raw)
        us = tuple(_new(np.zeros(o._data.shape, o._data.dtype)).requires_grad_(True) for o in outs)
        gs = _grad(outs, ins, us, True, strict, "jvp")
        gs_used = [(g, vv) for g, vv in zip(gs, vs) if g.requires_grad]
        if gs_used:
            from . import grad as _autograd_grad

            jv = _autograd_grad([g for g, _ in gs_used], us, [vv for _, vv in gs_used], create_graph=create_graph,
                                allow_unused=True)
        else:
            jv = (None,) * len(us)
        res = tuple((j if create_graph else j.detach()) if j is not None else _zeros(o) for j, o in zip(jv, outs))
    outs = tuple(o if create_graph else o.detach() for o in outs)
    del single_in
    return _ret(outs, single_out), _ret(res, single_out)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian: for each output and input, a tensor of shape output.shape + input.shape."""
    from .._tensor import _new
    from ..ops.shape import stack
    from .grad_mode import enable_grad

    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-'
                                      'mode"` are not supported together (yet). Please either set `create_graph=False` '
                                      'or `strategy="reverse-mode"`.')
        return _jacfwd(func, inputs, strict, vectorize)
    single_in = not isinstance(inputs, (tuple, list))
    with enable_grad():
        ins = _grad_preprocess(_tup(inputs), create_graph)
        raw = func(*ins)
        single_out = not isinstance(raw, (tuple, list))
        outs = _tup(raw)
        result = []
        for o in outs:
            rows: list[list] = [[] for _ in ins]
            for r in range(o._data.size):
                up = np.zeros(o._data.size, o._data.dtype)
                up[r] = 1
                gs = _grad((o,), ins, (_new(up.reshape(o._data.shape)),), create_graph, strict, "jacobian")
                for k, g in enumerate(gs):
                    rows[k].append(g)
            per_in = []
            for k, x in enumerate(ins):
                if rows[k]:
                    j = stack(rows[k]).reshape(tuple(o._data.shape) + tuple(x._data.shape))
                else:
                    j = _new(np.zeros(tuple(o._data.shape) + tuple(x._data.shape), x._data.dtype))
                per_in.append(j)
            result.append(_ret(tuple(per_in), single_in))
    return _ret(tuple(result), single_out)


def _jacfwd(func: Callable, inputs: Any, strict: bool, vectorize: bool) -> Any:
    """The Jacobian in forward mode: one pass with dual inputs per input element (a column each)."""
    from .._tensor import _new
    from ..ops.shape import stack
    from . import forward_ad as fwAD

    if strict:
        raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not '
                           'supported together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.')
    if not vectorize:  # (torch's message, its missing space included)
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                  "only implemented for `vectorize=True`.")
    single_in = not isinstance(inputs, (tuple, list))
    ins = tuple(x.detach() for x in _tup(inputs))
    cols: list[list] = [[] for _ in ins]  # per input: per element, the output tangents
    outs: tuple = ()
    single_out = True
    for k, x in enumerate(ins):
        for e in range(max(x._data.size, 1 if not outs and k == len(ins) - 1 else 0)):
            with fwAD.dual_level():
                duals = []
                for m, y in enumerate(ins):
                    t = np.zeros(y._data.shape, y._data.dtype)
                    if m == k and y._data.size:
                        t.reshape(-1)[e] = 1
                    duals.append(fwAD.make_dual(y, _new(t)))
                raw = func(*duals)
                single_out = not isinstance(raw, (tuple, list))
                unpacked = [fwAD.unpack_dual(o) for o in _tup(raw)]
            outs = tuple(u.primal.detach() for u in unpacked)
            if x._data.size:
                cols[k].append([_zeros(u.primal) if u.tangent is None else u.tangent.detach() for u in unpacked])
    result = []
    for i, o in enumerate(outs):
        per_in = []
        for k, x in enumerate(ins):
            shape = tuple(o._data.shape) + tuple(x._data.shape)
            per_in.append(stack([c[i] for c in cols[k]], -1).reshape(shape) if cols[k]
                          else _new(np.zeros(shape, o._data.dtype)))
        result.append(tuple(per_in) if single_in else per_in)
    # (torch's shapes of the answer: lists where both inputs and outputs are tuples)
    if single_in:
        return _ret(tuple(r[0] if isinstance(r, tuple) and len(r) == 1 else r for r in result), single_out)
    return result[0] if single_out else result


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    single_in = not isinstance(inputs, (tuple, list))
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    forward = outer_jacobian_strategy == "forward-mode"

    def grad_fn(*xs: Any) -> Any:
        from .grad_mode import enable_grad

        if forward:  # forward over reverse: the dual inputs are differentiated (their tangents kept)
            xs = tuple(x.requires_grad_() for x in xs)
        with enable_grad():
            out = func(*xs)
            if out._data.size != 1:
                raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
            gs = _grad((out,), xs, (_ones_like(out),), True, strict, "hessian")
        return gs[0] if single_in else gs

    return jacobian(grad_fn, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                    strategy=outer_jacobian_strategy)


def _ones_like(t: Any) -> Any:
    from .._tensor import _new

    return _new(np.ones(t._data.shape, t._data.dtype))


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H)."""
    from .grad_mode import enable_grad

    single_in = not isinstance(inputs, (tuple, list))
    with enable_grad():
        ins = _grad_preprocess(_tup(inputs), create_graph)
        out = func(*ins)
        if out._data.size != 1:
            raise RuntimeError("The function given to hvp should return a single Tensor with a single element")
        gs = _grad((out,), ins, (_ones_like(out),), True, strict, "vhp")
        vs = _tup(v) if v is not None else tuple(_ones_like(x) for x in ins)
        used = [(g, vv) for g, vv in zip(gs, vs) if g.requires_grad]
        if used:
            from . import grad as _autograd_grad

            hv = _autograd_grad([g for g, _ in used], ins, [vv for _, vv in used], create_graph=create_graph,
                                allow_unused=True)
        else:
            hv = (None,) * len(ins)
        res = tuple((h if create_graph else h.detach()) if h is not None else _zeros(x) for h, x in zip(hv, ins))
    return (out if create_graph else out.detach()), _ret(res, single_in)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v); the Hessian of a twice-differentiable scalar function is symmetric, so H v = v^T H."""
    return vhp(func, inputs, v, create_graph, strict)


__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

"""Ops without a kernel of their own, replayed by calling the op again.

An op of ember's op modules that ``kernels.HANDLERS`` does not cover (``gather``, ``xlogy``,
``movedim`` ...) is recorded as the call it was: the function, its arguments with the traced
tensors among them named, and the tensors it returned. The replay calls the same function on
Tensors around the replay's arrays (grad mode is off) and keeps their arrays: the eager op's own
arithmetic, so the result is eager's to the bit, at eager's cost for that one op. A random
factory called again draws from its generator what eager would, the replay keeping the order of
the draws. In-place ops and calls with ``out=`` never get here (the tracer breaks the graph on
them first).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, _new

# nn's ops that compute on arrays and record their nodes themselves (the tracer cannot look inside
# them: each is one op, called again at replay); none draws random numbers
NN_OPS = ("ember.nn._distance", "ember.nn.margin_losses", "ember.nn._interpolation", "ember.nn._grid_sample",
          "ember.nn._embedding_bag", "ember.nn._channel_shuffle", "ember.nn._attention_ops")
# where the ops live (a call into ember.autograd, ember.nn.init, distributions ... stays opaque)
MODULES = ("ember.ops", "ember.nn._ops", "ember.nn._rnn_ops", "ember._tensor", "ember.linalg", "ember.fft",
           "ember.special", *NN_OPS)
_by_code: dict | None = None
_modules_seen = 0
# ops whose result's shape depends on the values, not only on the shapes the guards check: the
# replay's later lines are written for the traced shapes, so these stay graph breaks (as in torch)
DATA_DEPENDENT = {"getitem", "__getitem__", "nonzero", "argwhere", "masked_select", "unique", "unique_consecutive",
                  "bincount", "repeat_interleave", "where", "tensor_split", "histogram", "histogramdd", "_unique2",
                  "nonzero_static", "combinations"}


def data_dependent(name: str, loc: dict) -> bool:
    """Whether the call of op ``name`` (its locals ``loc``) has a result shaped by the values
    (``where(cond)`` is ``nonzero``; ``where(cond, x, y)`` is elementwise)."""
    if name == "where":
        return loc.get("input") is None and loc.get("self") is None
    if name == "repeat_interleave":  # (each element a number of times: the shape is the arguments')
        return type(loc.get("repeats")) is not int
    if name == "one_hot":  # (unless the number of classes is inferred from the largest index)
        return loc.get("num_classes") == -1
    return name in DATA_DEPENDENT


def _functions(ns: Any) -> list:
    out = []
    for v in list(ns.values()):
        if isinstance(v, (staticmethod, classmethod)):
            v = v.__func__
        if isinstance(v, property):
            out += [f for f in (v.fget,) if f is not None]
        elif callable(v) and hasattr(v, "__code__"):
            out.append(v)
    return out


def _index() -> dict:
    """code object -> the functions made from it, over the op modules and Tensor's methods (built
    again when modules were imported since: ember.special and others load on first use)."""
    global _by_code, _modules_seen
    if _by_code is None or len(sys.modules) != _modules_seen:
        _modules_seen = len(sys.modules)
        found: list = _functions(vars(Tensor))
        for name, mod in list(sys.modules.items()):
            if mod is not None and any(name == m or name.startswith(m + ".") for m in MODULES):
                ns = vars(mod)
                found += _functions(ns)
                found += [f for c in list(ns.values()) if isinstance(c, type) and c.__module__ == name
                          for f in _functions(vars(c))]
        # (an op behind a wrapper, autocast's or vmap's: its own code is what the tracer sees called)
        found += [w for f in found for w in _wrapped(f)]
        _by_code = {}
        for f in found:
            fs = _by_code.setdefault(f.__code__, [])
            if not any(g is f for g in fs):
                fs.append(f)
    return _by_code


def _wrapped(f: Any) -> list:
    out = []
    while callable(getattr(f, "__wrapped__", None)) and hasattr(f.__wrapped__, "__code__"):
        f = f.__wrapped__
        out.append(f)
    return out


def function_of(frame: Any, loc: dict | None = None) -> Callable | None:
    """The function whose call ``frame`` is (among functions sharing one code object, the one
    whose closure holds what the frame sees: ``loc``, its locals at the call), or None."""
    code = frame.f_code
    fs = _index().get(code, [])
    if len(fs) > 1:
        loc = frame.f_locals if loc is None else loc
        fs = [f for f in fs if all(n in loc and loc[n] is c.cell_contents
                                   for n, c in zip(code.co_freevars, f.__closure__ or ()))]
    return fs[0] if len(fs) == 1 else None


def call_of(frame: Any, loc: dict | None = None) -> tuple | None:
    """(function, positional args, keyword args) of the call starting in ``frame`` (``loc``: its
    locals when it started, if it has run since), or None when it cannot be called again as made
    (an ``out=`` argument, a non-dense tensor)."""
    loc = frame.f_locals if loc is None else loc
    fn = function_of(frame, loc)
    if fn is None:
        return None
    code = frame.f_code
    n, k = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames
    args = [loc[v] for v in names[:n]]
    pos = n + k
    if code.co_flags & 0x04:  # *args
        args += list(loc[names[pos]])
        pos += 1
    kwargs = {v: loc[v] for v in names[n:n + k]}
    if code.co_flags & 0x08:  # **kwargs
        kwargs.update(loc[names[pos]])
    if kwargs.get("out") is not None or any(type(t._data) is not np.ndarray for t in tensors((args, kwargs))):
        return None
    if tensors_of((args, kwargs), np.ndarray):  # (an internal helper on arrays: they would be baked in as constants)
        return None
    return fn, tuple(args), kwargs


def tensors_of(x: Any, kind: Any) -> list:
    """The ``kind`` objects in ``x`` (nested tuples, lists, sets, dicts and named tuples), in order."""
    if isinstance(x, kind):
        return [x]
    if isinstance(x, (tuple, list, set)):
        return [t for v in x for t in tensors_of(v, kind)]
    if isinstance(x, dict):
        return [t for v in x.values() for t in tensors_of(v, kind)]
    return []


def tensors(x: Any) -> list:
    """The Tensors in ``x``, in order (``tensors_of``)."""
    return tensors_of(x, Tensor)


def call_op(fn: Callable, args: tuple, kwargs: dict, shapes: tuple) -> list:
    """Replay: the op called again; the arrays of the Tensors it returns, in order (of the
    ``shapes`` the trace saw: the program after this line is written for them)."""
    out = [t._data for t in tensors(fn(*args, **kwargs))]
    if tuple(a.shape for a in out) != shapes:
        raise RuntimeError(f"ember.compile: {getattr(fn, '__name__', 'an op')} returned shapes "
                           f"{[a.shape for a in out]} in this replay, {list(shapes)} when traced (a result whose shape "
                           "depends on the values); call the function uncompiled")
    return out


def swap(v: Any, name_of: Callable) -> Any:
    """``v`` with each Tensor replaced by ``name_of(tensor)`` (the trace's Ref of its array)."""
    if isinstance(v, Tensor):
        return name_of(v)
    if type(v) in (tuple, list):
        return type(v)(swap(x, name_of) for x in v)
    if type(v) is dict:
        return {k: swap(x, name_of) for k, x in v.items()}
    return v


def expr(v: Any, ref: type, const: Callable) -> str:
    """Python text rebuilding a swapped argument: a ``ref`` as ``_new(<name>)``, containers as
    themselves, anything else a constant (``const``)."""
    if isinstance(v, ref):
        return f"_new({v.name})"  # type: ignore[attr-defined]
    if type(v) in (tuple, list):
        inner = ", ".join(expr(x, ref, const) for x in v)
        return f"({inner},)" if type(v) is tuple and len(v) == 1 else f"({inner})" if type(v) is tuple else f"[{inner}]"
    if type(v) is dict and all(type(k) is str for k in v):
        return "{" + ", ".join(f"{k!r}: {expr(x, ref, const)}" for k, x in v.items()) + "}"
    return const(v)


__all__ = ["MODULES", "call_of", "call_op", "expr", "function_of", "swap", "tensors", "tensors_of", "_new"]

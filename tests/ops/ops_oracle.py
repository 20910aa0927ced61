"""The op oracle: run one function on ember and on torch from the same float64 NumPy inputs and compare
values, dtypes, shapes, grad_fn names, first gradients (random upstream grad) and second gradients
(create_graph=True, then a second grad of <grad, v>).

``case(fn, *arrays, ...)``: ``fn(lib, *tensors)`` may return a tensor or a tuple/list; arrays of a
floating dtype become leaves that require grad (unless ``grad=False``); integer/bool arrays and
non-array arguments are passed as is (arrays converted to tensors).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import ember


def _leaves(lib: Any, arrays: tuple, grad: bool, noncontig: bool) -> list:
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            if noncontig and a.ndim >= 2:
                t = lib.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)
                if grad and a.dtype.kind == "f":
                    t = t.detach().requires_grad_(True)
            else:
                t = lib.tensor(a.copy())
                if grad and a.dtype.kind == "f":
                    t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy(force=True) if hasattr(t, "detach") else np.asarray(t)


def close(e: Any, t: Any, what: str, rtol: float = 1e-7, atol: float = 1e-8) -> None:
    ea, ta = _np(e), _np(t)
    assert ea.shape == ta.shape, f"{what}: shape {ea.shape} != torch {ta.shape}"
    assert str(ea.dtype) == str(ta.dtype), f"{what}: dtype {ea.dtype} != torch {ta.dtype}"
    if ea.dtype.kind in "fc":
        np.testing.assert_allclose(ea, ta, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ea, ta, err_msg=what)


def _flat(r: Any) -> list:
    if isinstance(r, (tuple, list)):
        out = []
        for x in r:
            out += _flat(x)
        return out
    return [r]


def _name(t: Any) -> Any:
    return type(t.grad_fn).__name__ if getattr(t, "grad_fn", None) is not None else None


def _is_zero(x: Any) -> bool:
    return x is None or not np.any(_np(x))


def case(fn: Callable, *arrays: Any, grad: bool = True, second: bool = True, names: bool = True, seed: int = 0,
         rtol: float = 1e-7, atol: float = 1e-8, noncontig: bool = False, outputs: Any = None) -> None:
    """Compare ember and torch on ``fn``; see the module docstring."""
    eins = _leaves(ember, arrays, grad, noncontig)
    tins = _leaves(torch, arrays, grad, noncontig)
    eo, to = _flat(fn(ember, *eins)), _flat(fn(torch, *tins))
    assert len(eo) == len(to), f"{len(eo)} outputs vs torch {len(to)}"
    for i, (e, t) in enumerate(zip(eo, to)):
        if not isinstance(t, torch.Tensor):
            assert e == t, f"output {i}: {e} != torch {t}"
            continue
        close(e, t, f"output {i}", rtol, atol)
        if names:
            assert _name(e) == _name(t), f"output {i}: grad_fn {_name(e)} != torch {_name(t)}"
        assert e.requires_grad == t.requires_grad, f"output {i}: requires_grad {e.requires_grad} != {t.requires_grad}"
    if not grad:
        return
    sel = [i for i, t in enumerate(to) if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point]
    if outputs is not None:
        sel = [i for i in sel if i in outputs]
    if not sel:
        return
    eg_in = [x for x in eins if isinstance(x, ember.Tensor) and x.requires_grad]
    tg_in = [x for x in tins if isinstance(x, torch.Tensor) and x.requires_grad]
    rng = np.random.default_rng(seed)
    ups = [rng.standard_normal(tuple(to[i].shape)).astype(_np(to[i]).dtype) for i in sel]
    eg = ember.autograd.grad([eo[i] for i in sel], eg_in, [ember.tensor(u) for u in ups], allow_unused=True,
                             create_graph=second)
    tg = torch.autograd.grad([to[i] for i in sel], tg_in, [torch.tensor(u) for u in ups], allow_unused=True,
                             create_graph=second)
    for k, (a, b) in enumerate(zip(eg, tg)):
        if a is None or b is None:
            assert _is_zero(a) and _is_zero(b), f"grad {k}: None vs nonzero ({a} / {b})"
            continue
        close(a, b, f"grad of input {k}", rtol * 10, atol * 10)
    if not second:
        return
    pairs = [(a, b) for a, b in zip(eg, tg) if a is not None and b is not None and b.requires_grad]
    if not pairs:
        return
    vs = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
    ts = sum((b * torch.tensor(v.astype(_np(b).dtype))).sum() for (_, b), v in zip(pairs, vs))
    tg2 = torch.autograd.grad(ts, tg_in, allow_unused=True)
    ek = [(a, v) for (a, _), v in zip(pairs, vs) if a.requires_grad]
    if not ek:  # ember's first gradient is constant: torch's second must then be zero
        for k, b in enumerate(tg2):
            assert _is_zero(b), f"second grad {k}: ember's first gradient is not differentiable but torch's is nonzero"
        return
    es = sum((a * ember.tensor(v.astype(_np(a).dtype))).sum() for a, v in ek)
    eg2 = ember.autograd.grad(es, eg_in, allow_unused=True)
    for k, (a, b) in enumerate(zip(eg2, tg2)):
        if a is None or b is None:
            assert _is_zero(a) and _is_zero(b), f"second grad {k}: None vs nonzero"
            continue
        close(a, b, f"second grad of input {k}", rtol * 100, atol * 100)


def raises_like(fn: Callable, *args: Any) -> None:
    """ember and torch raise the same exception type for ``fn(lib, *args)`` (args made into tensors)."""
    def conv(lib: Any) -> list:
        return [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]

    try:
        fn(torch, *conv(torch))
    except Exception as te:  # noqa: BLE001
        ttype = type(te)
    else:
        raise AssertionError("torch did not raise")
    try:
        fn(ember, *conv(ember))
    except Exception as ee:  # noqa: BLE001
        assert isinstance(ee, ttype) or type(ee).__name__ == ttype.__name__.lstrip("_"), f"ember raised {type(ee).__name__}: {ee}; torch {ttype.__name__}"
        return
    raise AssertionError(f"ember did not raise (torch raised {ttype.__name__})")


def rnd(*shape: int, seed: int = 0, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed + 7 * len(shape) + sum(shape)).uniform(lo, hi, shape)


def pos(*shape: int, seed: int = 0) -> np.ndarray:
    return rnd(*shape, seed=seed, lo=0.2, hi=2.0)

"""The oracle: run the same computation in ember and in torch and compare everything.

``check(fn, *arrays)`` builds leaf tensors from the same float64 NumPy arrays in both libraries,
runs ``fn(lib, *leaves)``, and compares values, dtypes, shapes, grad_fn names, first gradients
(for a random upstream gradient) and, with ``second=True``, second derivatives through
``create_graph=True``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import ember

RTOL = {np.float64: 1e-7, np.float32: 1e-4, np.float16: 1e-2}


def _leaves(lib: Any, arrays: tuple, requires_grad: bool) -> list:
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            t = lib.tensor(a.copy())
            if requires_grad and a.dtype.kind == "f":
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy(force=True) if hasattr(t, "detach") else np.asarray(t)


def assert_close(e: Any, t: Any, what: str = "value", rtol: float | None = None, atol: float = 1e-6) -> None:
    ea, ta = _np(e), _np(t)
    assert ea.shape == ta.shape, f"{what}: shape {ea.shape} != torch {ta.shape}"
    assert str(ea.dtype) == str(ta.dtype), f"{what}: dtype {ea.dtype} != torch {ta.dtype}"
    if rtol is None:
        rtol = RTOL.get(ea.dtype.type, 0)
    if ea.dtype.kind in "fc":
        np.testing.assert_allclose(ea, ta, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(ea, ta, err_msg=what)


def _outputs(r: Any) -> list:
    return list(r) if isinstance(r, (tuple, list)) else [r]


def check(fn: Callable, *arrays: Any, grad: bool = True, second: bool = False, seed: int = 0,
          rtol: float | None = None, atol: float = 1e-6, check_names: bool = True) -> None:
    """Compare ember and torch on ``fn(lib, *inputs)``; NumPy arrays become leaf tensors."""
    eins = _leaves(ember, arrays, grad)
    tins = _leaves(torch, arrays, grad)
    eout, tout = _outputs(fn(ember, *eins)), _outputs(fn(torch, *tins))
    assert len(eout) == len(tout)
    for i, (e, t) in enumerate(zip(eout, tout)):
        assert_close(e, t, f"output {i}", rtol, atol)
        if check_names:
            en = type(e.grad_fn).__name__ if e.grad_fn is not None else None
            tn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
            assert en == tn, f"output {i}: grad_fn {en} != torch {tn}"
        assert e.requires_grad == t.requires_grad, f"output {i}: requires_grad differs"
    if not grad:
        return
    rng = np.random.default_rng(seed)
    pairs = [(e, t) for e, t in zip(eout, tout) if t.requires_grad and t.dtype.is_floating_point]
    if not pairs:
        return
    egins = [x for x in eins if isinstance(x, ember.Tensor) and x.requires_grad]
    tgins = [x for x in tins if isinstance(x, torch.Tensor) and x.requires_grad]
    ups = [rng.standard_normal(t.shape).astype(_np(t).dtype) for _, t in pairs]
    eg = ember.autograd.grad([e for e, _ in pairs], egins, [ember.tensor(u) for u in ups],
                             allow_unused=True, create_graph=second)
    tg = torch.autograd.grad([t for _, t in pairs], tgins, [torch.tensor(u) for u in ups],
                             allow_unused=True, create_graph=second)
    for i, (a, b) in enumerate(zip(eg, tg)):
        assert (a is None) == (b is None), f"grad {i}: None-ness differs ({a} vs {b})"
        if a is not None:
            assert_close(a, b, f"grad of input {i}", rtol, atol)
    if second:
        # differentiate sum(grad * v) once more with respect to every input
        # (torch marks some first grads differentiable that ember computes as constants, e.g. relu's
        # mask; a first grad without graph has a zero second derivative)
        idx = [i for i, (a, b) in enumerate(zip(eg, tg)) if a is not None and (a.requires_grad or b.requires_grad)]
        if not idx:
            return
        vs = {i: rng.standard_normal(tuple(eg[i].shape)) for i in idx}
        ek = [i for i in idx if eg[i].requires_grad]
        tk = [i for i in idx if tg[i].requires_grad]
        if ek:
            es = sum((eg[i] * ember.tensor(vs[i].astype(_np(eg[i]).dtype))).sum() for i in ek)
            eg2 = ember.autograd.grad(es, egins, allow_unused=True)
        else:
            eg2 = [None] * len(egins)
        if tk:
            ts = sum((tg[i] * torch.tensor(vs[i].astype(_np(tg[i]).dtype))).sum() for i in tk)
            tg2 = torch.autograd.grad(ts, tgins, allow_unused=True)
        else:
            tg2 = [None] * len(tgins)
        for i, (a, b) in enumerate(zip(eg2, tg2)):
            if a is None or b is None:
                # None and zeros both mean a zero second derivative
                z = a if a is not None else b
                assert z is None or not np.any(_np(z)), f"second grad {i}: None vs nonzero"
                continue
            assert_close(a, b, f"second grad of input {i}", rtol, max(atol, 1e-5))


def finite_difference_check(fn: Callable, *arrays: np.ndarray, eps: float = 1e-6, tol: float = 1e-5) -> None:
    """Central differences in float64 against ember's analytical gradient of sum(fn(...) * w)."""
    rng = np.random.default_rng(1)
    ins = [ember.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    out = fn(ember, *ins)
    w = rng.standard_normal(tuple(out.shape))
    (out * ember.tensor(w)).sum().backward()
    for k, a in enumerate(arrays):
        num = np.zeros(a.shape)
        flat = a.astype(np.float64).ravel()
        for j in range(flat.size):
            plus, minus = flat.copy(), flat.copy()
            plus[j] += eps
            minus[j] -= eps
            args_p = [ember.tensor(plus.reshape(a.shape)) if i == k else ember.tensor(arrays[i].astype(np.float64))
                      for i in range(len(arrays))]
            args_m = [ember.tensor(minus.reshape(a.shape)) if i == k else ember.tensor(arrays[i].astype(np.float64))
                      for i in range(len(arrays))]
            fp = (fn(ember, *args_p) * ember.tensor(w)).sum().item()
            fm = (fn(ember, *args_m) * ember.tensor(w)).sum().item()
            num.ravel()[j] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(ins[k].grad.numpy(), num, rtol=tol, atol=tol,
                                   err_msg=f"finite differences, input {k}")

"""ember.testing: check ember code against PyTorch in one line (torch is imported only when called)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _flat(r: Any) -> list:
    if isinstance(r, (tuple, list)):
        out = []
        for x in r:
            out += _flat(x)
        return out
    return [r]


def _is_bf16(t: Any) -> bool:
    return str(getattr(t, "dtype", "")).endswith("bfloat16")


def _arr(t: Any) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach()
    if _is_bf16(t) and hasattr(t, "float"):
        t = t.float()  # (neither torch nor ember hands out bfloat16 NumPy arrays; float32 holds the values)
    if hasattr(t, "numpy"):
        try:
            return np.asarray(t.numpy(force=True))
        except TypeError:
            return np.asarray(t.numpy())
    return np.asarray(t)


def assert_close(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None, msg: str = "",
                 check_dtype: bool = True) -> None:
    """Values, shapes and (by default) dtypes of two tensors (ember or torch) or arrays agree."""
    a, e = _arr(actual), _arr(expected)
    if check_dtype and _is_bf16(actual) != _is_bf16(expected):
        raise AssertionError(f"{msg}dtype mismatch: {actual.dtype} vs {expected.dtype}")
    if _is_bf16(actual):  # torch's default tolerances for bfloat16
        rtol, atol = 1.6e-2 if rtol is None else rtol, 1e-5 if atol is None else atol
    if a.shape != e.shape:
        raise AssertionError(f"{msg}shape mismatch: {a.shape} vs {e.shape}")
    if check_dtype and str(a.dtype) != str(e.dtype):
        raise AssertionError(f"{msg}dtype mismatch: {a.dtype} vs {e.dtype}")
    if a.dtype.kind in "fc":
        tol = {np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.float32): (1.3e-6, 1e-5), np.dtype(np.float16): (1e-3, 1e-5)}
        r0, a0 = tol.get(a.dtype, (1e-6, 1e-6))
        np.testing.assert_allclose(a, e, rtol=r0 if rtol is None else rtol, atol=a0 if atol is None else atol,
                                   equal_nan=True, err_msg=msg)
    else:
        np.testing.assert_array_equal(a, e, err_msg=msg)


def assert_matches_torch(fn: Callable, *inputs: Any, grad: bool = True, second_order: bool = False,
                         check_grad_fn: bool = True, rtol: float | None = None, atol: float | None = None,
                         seed: int = 0) -> None:
    """Run ``fn(lib, *tensors)`` with ``lib`` = ember and = torch on the same inputs and compare.

    ``inputs`` are NumPy arrays (or nested lists / numbers): floating arrays become leaves that require
    grad. Compared: every output's values, shape and dtype, grad_fn names, gradients of all inputs for a
    random upstream gradient, and with ``second_order`` the gradients of <grad, v> once more.
    """
    import torch

    import ember

    def leaves(lib: Any) -> list:
        out = []
        for x in inputs:
            if isinstance(x, (np.ndarray, list)):
                a = np.asarray(x)
                t = lib.tensor(a.copy())
                if grad and a.dtype.kind == "f":
                    t.requires_grad_(True)
                out.append(t)
            else:
                out.append(x)
        return out

    ein, tin = leaves(ember), leaves(torch)
    eo, to = _flat(fn(ember, *ein)), _flat(fn(torch, *tin))
    if len(eo) != len(to):
        raise AssertionError(f"ember returned {len(eo)} outputs, torch {len(to)}")
    for i, (e, t) in enumerate(zip(eo, to)):
        if not isinstance(t, torch.Tensor):
            if e != t:
                raise AssertionError(f"output {i}: {e!r} != torch {t!r}")
            continue
        assert_close(e, t, rtol=rtol, atol=atol, msg=f"output {i}: ")
        if check_grad_fn:
            en = type(e.grad_fn).__name__ if e.grad_fn is not None else None
            tn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
            if en != tn:
                raise AssertionError(f"output {i}: grad_fn {en} != torch {tn}")
    if not grad:
        return
    sel = [i for i, t in enumerate(to) if isinstance(t, torch.Tensor) and t.requires_grad]
    ex = [x for x in ein if isinstance(x, ember.Tensor) and x.requires_grad]
    tx = [x for x in tin if isinstance(x, torch.Tensor) and x.requires_grad]
    if not sel or not tx:
        return
    rng = np.random.default_rng(seed)
    ups = [rng.standard_normal(tuple(to[i].shape)).astype(_arr(to[i]).dtype) for i in sel]
    eg = ember.autograd.grad([eo[i] for i in sel], ex, [ember.tensor(u) for u in ups], allow_unused=True,
                             create_graph=second_order)
    tg = torch.autograd.grad([to[i] for i in sel], tx, [torch.tensor(u) for u in ups], allow_unused=True,
                             create_graph=second_order)
    for k, (a, b) in enumerate(zip(eg, tg)):
        if a is None or b is None:
            z = a if a is not None else b
            if z is not None and np.any(_arr(z)):
                raise AssertionError(f"grad of input {k}: one library returned None, the other nonzero")
            continue
        assert_close(a, b, rtol=rtol, atol=atol, msg=f"grad of input {k}: ")
    if second_order:
        # a first gradient without a graph has a zero second derivative: the other library's must be
        # zero too (one with a graph only in torch is a missing second derivative, not a skip)
        pairs = [(a, b) for a, b in zip(eg, tg) if a is not None and b is not None and (a.requires_grad or b.requires_grad)]
        if not pairs:
            return
        vs = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
        e1 = [(a, v) for (a, _), v in zip(pairs, vs) if a.requires_grad]
        t1 = [(b, v) for (_, b), v in zip(pairs, vs) if b.requires_grad]
        es: Any = sum((a * ember.tensor(v.astype(_arr(a).dtype))).sum() for a, v in e1)
        ts: Any = sum((b * torch.tensor(v.astype(_arr(b).dtype))).sum() for b, v in t1)
        e2: Any = ember.autograd.grad(es, ex, allow_unused=True) if e1 else [None] * len(ex)
        t2: Any = torch.autograd.grad(ts, tx, allow_unused=True) if t1 else [None] * len(tx)
        for k, (a, b) in enumerate(zip(e2, t2)):
            if a is None or b is None:
                z2: Any = a if a is not None else b
                if z2 is not None and np.any(_arr(z2)):
                    raise AssertionError(f"second grad of input {k}: zero (no graph) in one library, nonzero in the other")
                continue
            assert_close(a, b, rtol=rtol, atol=atol, msg=f"second grad of input {k}: ")


__all__ = ["assert_close", "assert_matches_torch"]

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

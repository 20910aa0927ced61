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


_DEFAULT_TOL = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5), "float16": (1e-3, 1e-5)}


def _tol(value: Any, dtype: np.dtype, which: int) -> float:
    """``value`` as given, looked up by dtype name in a dict, or (None) the default for the dtype."""
    if isinstance(value, dict):
        value = value.get(dtype.name)
    if value is None:
        return _DEFAULT_TOL.get(dtype.name, (1e-6, 1e-6))[which]
    return float(value)


def assert_close(actual: Any, expected: Any, *, rtol: Any = None, atol: Any = None, msg: str = "",
                 check_dtype: bool = True) -> None:
    """Values, shapes and (by default) dtypes of two tensors (ember or torch) or arrays agree. ``rtol``
    and ``atol``: numbers, dicts by dtype name (``{"float32": 1e-4}``) or None for the dtype's default."""
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
        np.testing.assert_allclose(a, e, rtol=_tol(rtol, a.dtype, 0), atol=_tol(atol, a.dtype, 1), equal_nan=True,
                                   err_msg=msg)
    else:
        np.testing.assert_array_equal(a, e, err_msg=msg)


def _scaled(tol: Any, k: float) -> Any:
    """A tolerance (number, dict by dtype or None for the defaults) multiplied by ``k``."""
    if k == 1:
        return tol
    if isinstance(tol, dict):
        return {d: v * k for d, v in tol.items()}
    if tol is None:
        return {d: v[0] * k for d, v in _DEFAULT_TOL.items()}
    return tol * k


def _leaves(lib: Any, inputs: tuple, grad: bool, noncontiguous: bool, arrays_only: bool) -> list:
    out = []
    for x in inputs:
        if isinstance(x, np.ndarray) or (isinstance(x, list) and not arrays_only):
            a = np.asarray(x)
            if noncontiguous and a.ndim >= 2:  # the same values, in a transposed memory layout
                t = lib.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)
            else:
                t = lib.tensor(a.copy())
            if grad and a.dtype.kind == "f":
                t = t.detach().requires_grad_(True) if noncontiguous and a.ndim >= 2 else t.requires_grad_(True)
            out.append(t)
        else:
            out.append(x)
    return out


def _both_zero(a: Any, b: Any, rtol: Any, atol: Any, msg: str) -> None:
    """A None gradient means zero: the other library's, if any, must be zero within the tolerances."""
    other = a if a is not None else b
    if other is not None:
        z = _arr(other)
        try:
            assert_close(z, np.zeros_like(z), rtol=rtol, atol=atol, check_dtype=False)
        except AssertionError:
            raise AssertionError(msg) from None


def assert_matches_torch(fn: Callable, *inputs: Any, grad: bool = True, second_order: bool = False,
                         check_grad_fn: bool = True, rtol: Any = None, atol: Any = None, seed: int = 0,
                         noncontiguous: bool = False, outputs: Any = None, check_requires_grad: bool = False,
                         grad_tolerance: float = 1.0, second_tolerance: float = 1.0,
                         arrays_only: bool = False) -> None:
    """Run ``fn(lib, *tensors)`` with ``lib`` = ember and = torch on the same inputs and compare.

    ``inputs`` are NumPy arrays (or nested lists / numbers): floating arrays become leaves that require
    grad (``noncontiguous``: laid out transposed in memory; ``arrays_only``: lists are passed as they are).
    Compared: every output's values, shape and dtype, grad_fn names (``check_grad_fn``), requires_grad
    (``check_requires_grad``), gradients of all inputs for a random upstream gradient of the ``outputs``
    chosen (all by default), and with ``second_order`` the gradients of <grad, v> once more. A None
    gradient and a zero one both mean zero. Gradients are compared at ``grad_tolerance`` times the
    tolerances, second derivatives at ``second_tolerance`` times.
    """
    import torch

    import ember

    ein = _leaves(ember, inputs, grad, noncontiguous, arrays_only)
    tin = _leaves(torch, inputs, grad, noncontiguous, arrays_only)
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
        if check_requires_grad and e.requires_grad != t.requires_grad:
            raise AssertionError(f"output {i}: requires_grad {e.requires_grad} != torch {t.requires_grad}")
    if not grad:
        return
    sel = [i for i, t in enumerate(to) if isinstance(t, torch.Tensor) and t.requires_grad
           and (t.dtype.is_floating_point or t.dtype.is_complex) and (outputs is None or i in outputs)]
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
    g_rtol, g_atol = _scaled(rtol, grad_tolerance), _scaled(atol, grad_tolerance)
    for k, (a, b) in enumerate(zip(eg, tg)):
        if a is None or b is None:
            _both_zero(a, b, g_rtol, g_atol, f"grad of input {k}: one library returned None, the other nonzero")
            continue
        assert_close(a, b, rtol=g_rtol, atol=g_atol, msg=f"grad of input {k}: ")
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
        s_rtol, s_atol = _scaled(rtol, second_tolerance), _scaled(atol, second_tolerance)
        for k, (a, b) in enumerate(zip(e2, t2)):
            if a is None or b is None:
                _both_zero(a, b, s_rtol, s_atol,
                           f"second grad of input {k}: zero (no graph) in one library, nonzero in the other")
                continue
            assert_close(a, b, rtol=s_rtol, atol=s_atol, msg=f"second grad of input {k}: ")


__all__ = ["assert_close", "assert_matches_torch"]

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

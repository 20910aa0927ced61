"""The general tests' presets of the one torch oracle, ``ember.testing.assert_matches_torch``.

``check(fn, *arrays)`` builds leaf tensors from the same NumPy arrays in both libraries, runs
``fn(lib, *leaves)``, and compares values, dtypes, shapes, grad_fn names, first gradients (for a
random upstream gradient) and, with ``second=True``, second derivatives through ``create_graph=True``.
``finite_difference_check`` compares ember's gradient with central differences instead.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import ember
from ember.testing import assert_close as _assert_close
from ember.testing import assert_matches_torch

# the tolerances by dtype these tests use (looser than ember.testing's defaults for float32 and float16)
RTOL = {"float64": 1e-7, "float32": 1e-4, "float16": 1e-2}


def assert_close(e: Any, t: Any, what: str = "value", rtol: float | None = None, atol: float = 1e-6) -> None:
    _assert_close(e, t, rtol=RTOL if rtol is None else rtol, atol=atol, msg=f"{what}: ")


def check(fn: Callable, *arrays: Any, grad: bool = True, second: bool = False, seed: int = 0,
          rtol: float | None = None, atol: float = 1e-6, check_names: bool = True) -> None:
    """Compare ember and torch on ``fn(lib, *inputs)`` (NumPy arrays become leaf tensors):
    ``ember.testing.assert_matches_torch`` with these tests' tolerances (second derivatives at 10x)."""
    assert_matches_torch(fn, *arrays, grad=grad, second_order=second, check_grad_fn=bool(check_names),
                         rtol=RTOL if rtol is None else rtol, atol=atol, seed=seed, check_requires_grad=True,
                         second_tolerance=10, arrays_only=True)


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

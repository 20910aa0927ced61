"""The op tests' presets of the one torch oracle, ``ember.testing.assert_matches_torch``: run one function
on ember and on torch from the same float64 NumPy inputs and compare values, dtypes, shapes, grad_fn names,
first gradients (random upstream grad) and second gradients (create_graph=True, then a grad of <grad, v>).

``case(fn, *arrays, ...)``: ``fn(lib, *tensors)`` may return a tensor or a tuple/list; arrays of a
floating dtype become leaves that require grad (unless ``grad=False``); integer/bool arrays and
non-array arguments are passed as is (arrays converted to tensors).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import ember
from ember.testing import assert_close, assert_matches_torch


def close(e: Any, t: Any, what: str, rtol: float = 1e-7, atol: float = 1e-8) -> None:
    assert_close(e, t, rtol=rtol, atol=atol, msg=f"{what}: ")


def case(fn: Callable, *arrays: Any, grad: bool = True, second: bool = True, names: bool = True, seed: int = 0,
         rtol: float = 1e-7, atol: float = 1e-8, noncontig: bool = False, outputs: Any = None) -> None:
    """Compare ember and torch on ``fn``: ``ember.testing.assert_matches_torch`` with the op tests'
    settings (tight tolerances, 10x for gradients and 100x for second derivatives, requires_grad
    compared, only arrays made into tensors)."""
    assert_matches_torch(fn, *arrays, grad=grad, second_order=second, check_grad_fn=names, rtol=rtol, atol=atol,
                         seed=seed, noncontiguous=noncontig, outputs=outputs, check_requires_grad=True,
                         grad_tolerance=10, second_tolerance=100, arrays_only=True)


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

"""The vectorised forms of randperm's shuffle and of 32-bit randint give exactly what the plain
algorithms (and torch) give; the one-BLAS-thread block leaves results and settings as they were."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import _blas
from ember._random.shuffle import _forward_shuffle


def _shuffle_loop(j: np.ndarray, n: int) -> np.ndarray:
    perm = list(range(n))
    for i, k in enumerate(j.tolist()):
        perm[i], perm[k] = perm[k], perm[i]
    return np.array(perm)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 33, 1000])
def test_forward_shuffle_is_the_swap_loop(n):
    rng = np.random.default_rng(n)
    for _ in range(200 if n < 100 else 5):
        j = rng.integers(np.arange(n - 1), n)          # j[i] in [i, n)
        assert (_forward_shuffle(j, n) == _shuffle_loop(j, n)).all()
    # the extremes: every step a self-swap, every step swapping with the last position
    assert (_forward_shuffle(np.arange(n - 1), n) == np.arange(n)).all()
    last = np.full(n - 1, n - 1)
    assert (_forward_shuffle(last, n) == _shuffle_loop(last, n)).all()


def test_randperm_large_matches_torch():
    torch.manual_seed(5)
    ember.manual_seed(5)
    assert (ember.randperm(200_000).numpy() == torch.randperm(200_000).numpy()).all()


@pytest.mark.parametrize("dt", ["int64", "int32", "int16", "int8", "uint8", "float32", "float64"])
@pytest.mark.parametrize("lo,hi", [(0, 100), (-50, 50), (0, 2), (5, 120), (-(1 << 23), 1 << 23)])
def test_randint_32bit_draws_match_torch(dt, lo, hi):
    tdt, edt = getattr(torch, dt), getattr(ember, dt)
    info = np.iinfo(dt) if dt.startswith(("int", "uint")) else None
    if info is not None and (lo < info.min or hi - 1 > info.max):
        pytest.skip("range outside the dtype")
    torch.manual_seed(1)
    ember.manual_seed(1)
    t = torch.randint(lo, hi, (999,), dtype=tdt).numpy()
    e = ember.randint(lo, hi, (999,), dtype=edt).numpy()
    assert e.dtype == t.dtype and (e == t).all()
    t = torch.empty(64, dtype=tdt).random_(lo, hi).numpy()
    e = ember.empty(64, dtype=edt).random_(lo, hi).numpy()
    assert (e == t).all()


def test_one_thread_block_restores_and_keeps_results():
    a = np.random.default_rng(0).standard_normal((300, 200))
    b = np.random.default_rng(1).standard_normal((200, 100))
    ref = a @ b
    local, setter, getter = _blas._find()
    before = getter() if getter is not None else None
    with _blas.one_thread():
        inside = a @ b
        if getter is not None and local is None:
            assert getter() == 1
    assert np.allclose(inside, ref, rtol=1e-12, atol=1e-12)
    if getter is not None:
        assert getter() == before

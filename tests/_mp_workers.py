"""Functions that tests/test_multiprocessing.py runs in other processes (this module imports no torch)."""

from __future__ import annotations

import ember


def _add_rank(rank: int, t) -> None:
    t.add_(rank + 1)


def _train(rank: int, model) -> None:
    ember.manual_seed(rank)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    x = ember.randn(8, 3)
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()


def _fail(rank: int) -> None:
    if rank == 1:
        raise ValueError("boom in rank 1")

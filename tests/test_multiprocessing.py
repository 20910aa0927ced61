"""ember.multiprocessing: tensors in shared memory reach spawned and forked processes by name (Hogwild
training updates the parent's parameters), spawn's error reporting, and torch's printing/flags."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.multiprocessing as mp

# (the workers live in a module without torch, so spawned processes start fast)
from _mp_workers import _add_rank, _fail, _train


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_shared_tensor_updates_reach_the_parent(method):
    t = ember.zeros(4)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    ctx = mp.get_context(method)
    procs = [ctx.Process(target=_add_rank, args=(r, t)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    np.testing.assert_array_equal(t.numpy(), np.full(4, 3.0, np.float32))


def test_unshared_tensor_is_copied():
    t = ember.zeros(2)
    p = mp.get_context("spawn").Process(target=_add_rank, args=(0, t))
    p.start()
    p.join()
    np.testing.assert_array_equal(t.numpy(), [0.0, 0.0])


def test_hogwild_training_changes_the_shared_model():
    ember.manual_seed(0)
    model = ember.nn.Linear(3, 2)
    before = model.weight.detach().clone()
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    mp.spawn(_train, args=(model,), nprocs=2)
    assert not np.allclose(model.weight.detach().numpy(), before.numpy())
    # one process alone gives the sequential result: compare with torch on the same stream
    ember.manual_seed(0)
    solo = ember.nn.Linear(3, 2).share_memory()
    mp.spawn(_train, args=(solo,), nprocs=1)
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2)
    torch.manual_seed(0)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    x = torch.randn(8, 3)
    for _ in range(3):
        opt.zero_grad()
        ref(x).pow(2).mean().backward()
        opt.step()
    np.testing.assert_allclose(solo.weight.detach().numpy(), ref.weight.detach().numpy(), rtol=1e-6)


def test_spawn_reports_the_child_error():
    with pytest.raises(mp.ProcessRaisedException, match="boom in rank 1"):
        mp.spawn(_fail, nprocs=2)


def test_torch_namespace_parity():
    assert torch.multiprocessing.get_sharing_strategy() in torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()
    for name in ("Process", "Queue", "Pool", "set_start_method", "get_context", "spawn", "cpu_count"):
        assert hasattr(mp, name) and hasattr(torch.multiprocessing, name)
    for L in (torch, ember):
        t = L.ones(2)
        assert not t.is_shared()
        t.share_memory_()
        assert t.is_shared()

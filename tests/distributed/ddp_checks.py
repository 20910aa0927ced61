"""Run under mpiexec: DistributedDataParallel training equals single-process full-batch training.

Every rank also trains a plain copy of the model on the whole batch (no communication), starting
from rank 0's initial parameters; after the same steps the DDP replica must match it to float32
precision. Rank 1 starts from different parameters on purpose: the wrap must broadcast rank 0's.
Outcomes are gathered to rank 0 and written as JSON to argv[1].
"""

from __future__ import annotations

import copy
import json
import sys
import traceback

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
from ember.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()
BATCH = 12                                      # divisible by 2 and 3


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 2 * 2, 5))


def models(make) -> tuple[nn.Module, nn.Module]:
    """(this rank's replica, the single-process reference): rank 0's initial parameters for the reference."""
    ember.manual_seed(0)
    reference = make()
    ember.manual_seed(100 + R)
    replica = make() if R else copy.deepcopy(reference)
    return replica, reference


def shard(x: ember.Tensor) -> ember.Tensor:
    k = BATCH // N
    return x[R * k:(R + 1) * k]


def close(a: nn.Module, b: nn.Module) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=2e-6, err_msg=name)


def train(make, x, loss_fn, opt_cls, steps: int = 4, compiled: bool = False, **ddp_kwargs) -> tuple[DDP, nn.Module]:
    replica, reference = models(make)
    ddp = DDP(replica, **ddp_kwargs)
    run = ember.compile(ddp) if compiled else ddp
    opt = opt_cls(ddp.parameters())
    ref_opt = opt_cls(reference.parameters())
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(run(shard(x)), shard_targets(x)).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(reference(x), targets(x)).backward()
        ref_opt.step()
    return ddp, reference


def targets(x: ember.Tensor) -> ember.Tensor:
    return _targets[x.shape[1:]]


def shard_targets(x: ember.Tensor) -> ember.Tensor:
    return shard(_targets[x.shape[1:]])


g = np.random.default_rng(0)
X_MLP = ember.tensor(g.standard_normal((BATCH, 6)).astype(np.float32))
X_CNN = ember.tensor(g.standard_normal((BATCH, 1, 8, 8)).astype(np.float32))
_targets = {X_MLP.shape[1:]: ember.tensor(g.standard_normal((BATCH, 3)).astype(np.float32)),
            X_CNN.shape[1:]: ember.tensor(g.integers(0, 5, BATCH))}


def sgd(params):
    return ember.optim.SGD(params, lr=0.1, momentum=0.9)


def adam(params):
    return ember.optim.Adam(params, lr=0.01)


def check_mlp_sgd() -> None:
    ddp, ref = train(mlp, X_MLP, F.mse_loss, sgd)
    close(ddp.module, ref)


def check_compiled_ddp_averages_as_eager() -> None:
    # torch.compile(DDP(model)): the forward replayed (DDP's set-up for the averaging a replayed
    # call), backward and step outside; a graph break would warn, and fail here
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for make, x, loss_fn, opt in ((mlp, X_MLP, F.mse_loss, sgd), (cnn, X_CNN, F.cross_entropy, adam)):
            ddp, ref = train(make, x, loss_fn, opt, compiled=True, bucket_cap_mb=0.0002)
            close(ddp.module, ref)


def check_mlp_small_buckets() -> None:
    ddp, ref = train(mlp, X_MLP, F.mse_loss, adam, bucket_cap_mb=0.0002)  # 210 bytes: 3 buckets
    assert len(ddp._buckets) >= 3, len(ddp._buckets)
    close(ddp.module, ref)


def check_cnn_adam() -> None:
    ddp, ref = train(cnn, X_CNN, F.cross_entropy, adam)
    close(ddp.module, ref)


def check_broadcast_at_wrap_and_buffers() -> None:
    m = nn.Linear(2, 2)
    m.register_buffer("count", ember.full((2,), float(R)))
    ember.manual_seed(R)
    nn.init.normal_(m.weight)
    ddp = DDP(m)
    w = [None] * N
    dist.all_gather_object(w, m.weight.detach().numpy().tolist())
    assert all(x == w[0] for x in w), w
    assert m.count.tolist() == [0.0, 0.0]
    m.count.fill_(float(R + 5))
    ddp(ember.ones(1, 2))                       # forward re-broadcasts rank 0's buffers
    assert m.count.tolist() == [5.0, 5.0], m.count.tolist()


def check_no_sync_accumulates_then_averages() -> None:
    replica, reference = models(mlp)
    ddp = DDP(replica)
    x, y = shard(X_MLP), shard_targets(X_MLP)
    half = x.shape[0] // 2
    with ddp.no_sync():
        (F.mse_loss(ddp(x[:half]), y[:half]) / 2).backward()
    first = [p.grad.clone() for p in replica.parameters()]
    (F.mse_loss(ddp(x[half:]), y[half:]) / 2).backward()
    F.mse_loss(reference(X_MLP), targets(X_MLP)).backward()
    for p, q in zip(replica.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    # inside no_sync the gradient was this rank's own: it differs across ranks
    seen = [None] * N
    dist.all_gather_object(seen, first[0].numpy())
    assert not np.allclose(seen[0], seen[1])


def check_no_sync_after_a_forward_without_backward() -> None:
    replica, reference = models(mlp)
    ddp = DDP(replica)
    ddp(shard(X_MLP))                           # an evaluation forward, gradients on, no backward
    with ember.no_grad():
        ddp(shard(X_MLP))
    with ddp.no_sync():                         # must stay local: no reduction was started above
        F.mse_loss(ddp(shard(X_MLP)), shard_targets(X_MLP)).backward()
    seen = [None] * N
    dist.all_gather_object(seen, replica[0].weight.grad.numpy())
    assert not np.allclose(seen[0], seen[1])
    ddp.zero_grad()
    F.mse_loss(ddp(shard(X_MLP)), shard_targets(X_MLP)).backward()
    F.mse_loss(reference(X_MLP), targets(X_MLP)).backward()
    for p, q in zip(replica.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


def check_forward_sync_buffers_off() -> None:
    m = nn.Linear(2, 2)
    m.register_buffer("count", ember.full((2,), float(R)))
    ddp = DDP(m, forward_sync_buffers=False)
    assert m.count.tolist() == [0.0, 0.0]       # still synced at wrap
    m.count.fill_(float(R + 5))
    ddp(ember.ones(1, 2))
    assert m.count.tolist() == [float(R + 5)] * 2


class TwoHeads(nn.Module):
    """head_b takes part on rank 0 only; never_used on no rank."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.head_a = nn.Linear(8, 3)
        self.head_b = nn.Linear(8, 3)
        self.never_used = nn.Linear(8, 3)

    def forward(self, x, use_b: bool):
        h = self.body(x).tanh()
        return self.head_a(h) + (self.head_b(h) if use_b else 0)


def check_find_unused_parameters() -> None:
    replica, reference = models(TwoHeads)
    ddp = DDP(replica, find_unused_parameters=True)
    for _ in range(2):
        ddp.zero_grad()
        F.mse_loss(ddp(shard(X_MLP), use_b=R == 0), shard_targets(X_MLP)).backward()
        reference.zero_grad()
        k = BATCH // N
        loss = sum(F.mse_loss(reference(X_MLP[r * k:(r + 1) * k], use_b=r == 0), targets(X_MLP)[r * k:(r + 1) * k])
                   for r in range(N)) / N
        loss.backward()
        for name, p in replica.named_parameters():
            q = dict(reference.named_parameters())[name]
            if name.startswith("never_used"):
                assert p.grad is None, name
            else:
                np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def check_unused_without_find_unused_raises() -> None:
    replica, _ = models(TwoHeads)
    ddp = DDP(replica)
    F.mse_loss(ddp(shard(X_MLP), use_b=False), shard_targets(X_MLP)).backward()
    try:
        ddp(shard(X_MLP), use_b=False)
    except RuntimeError as e:
        assert "Expected to have finished reduction in the prior iteration" in str(e)
        assert "find_unused_parameters=True" in str(e)
    else:
        raise AssertionError("no error")


def check_state_dict_and_module() -> None:
    m = mlp()
    ddp = DDP(m)
    assert ddp.module is m
    assert list(ddp.state_dict()) == ["module." + k for k in m.state_dict()]
    ddp.load_state_dict(ddp.state_dict())
    fresh = mlp()
    fresh.load_state_dict(ddp.module.state_dict())


def main() -> None:
    results = {}
    for name, fn in sorted((k, v) for k, v in globals().items() if k.startswith("check_")):
        try:
            fn()
            results[name[6:]] = "ok"
        except Exception:  # noqa: BLE001  (reported per check, per rank)
            results[name[6:]] = f"rank {R}: {traceback.format_exc()}"
        dist.barrier()
    gathered = [None] * N
    dist.all_gather_object(gathered, results)
    if R == 0:
        with open(sys.argv[1], "w") as f:
            json.dump({k: "; ".join(r[k] for r in gathered if r[k] != "ok") or "ok" for k in results}, f)


main()

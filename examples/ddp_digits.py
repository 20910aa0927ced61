"""Train the digits MLP data-parallel: the same script on one process, on two, or across machines.

Each process (rank) holds a full copy of the model and trains on its own share of every epoch's
samples (``DistributedSampler``); ``DistributedDataParallel`` averages the gradients across the
ranks during ``backward()``, so every copy takes the same optimizer step, the one a single process
would take on the whole batch. Rank 0 prints the progress and the held-out accuracy.

Run:
    python examples/ddp_digits.py                                              # one process
    python -m ember.distributed.run --nproc-per-node 2 examples/ddp_digits.py  # two processes
    mpiexec -n 2 python examples/ddp_digits.py                                 # the same, MPI's way
    python -m ember.distributed.run --nnodes 2 --nproc-per-node 4 --hostfile hosts examples/ddp_digits.py
    python examples/ddp_digits.py --compile                                    # torch.compile(DDP(model))
Needs scikit-learn (the ``examples`` extra) and, for more than one process, MPI:
    pip install -e '.[examples,distributed]'
Write ``torch`` for ``ember`` in the imports and it runs on PyTorch (under torchrun).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import ember as torch
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset, random_split


def load_data(seed: int, limit: int | None) -> tuple[TensorDataset, TensorDataset]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("this example needs scikit-learn; from ember's checkout: pip install -e '.[examples]'")
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target, dtype=torch.int64)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    # the same seed on every rank: every rank makes the same split
    return random_split(TensorDataset(x, y), [0.8, 0.2], generator=torch.Generator().manual_seed(seed))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="passes over the training set (default 20, 3 with --tiny)")
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch, split across the ranks")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true",
                        help="run the model through torch.compile (backward and step stay outside)")
    parser.add_argument("--tiny", action="store_true", help="a quick run on a part of the data (for the tests)")
    args = parser.parse_args(argv)

    # one process started plainly needs no MPI; under mpiexec / ember.distributed.run, join the group
    launched = int(os.environ.get("WORLD_SIZE", os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1")))) > 1
    if launched or dist.is_available():
        dist.init_process_group("gloo")
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)

    def say(*words: object) -> None:
        if rank == 0:
            print(*words, flush=True)

    torch.manual_seed(args.seed)          # the same initial model everywhere (DDP also broadcasts rank 0's)
    train_set, test_set = load_data(args.seed, 600 if args.tiny else None)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train_set, batch_size=max(1, args.batch_size // world), sampler=sampler)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    if dist.is_initialized():
        model = DDP(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    run = torch.compile(model) if args.compile else model  # (DDP's gradient averaging still runs in backward)
    say(f"digits: {len(train_set)} training images on {world} process{'es' if world > 1 else ''}, "
        f"{len(sampler)} per rank per epoch, global batch {args.batch_size}")

    epochs = args.epochs or (3 if args.tiny else 20)
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        sampler.set_epoch(epoch)          # a new shuffle each epoch, the same one on every rank
        total = torch.zeros(2)
        for x, y in loader:
            loss = F.cross_entropy(run(x), y)
            optimizer.zero_grad()
            loss.backward()               # DDP averages the gradients across the ranks here
            optimizer.step()
            total += torch.tensor([loss.item() * len(y), len(y)])
        if dist.is_initialized():
            dist.all_reduce(total)        # the epoch's mean loss over every rank's samples
        say(f"epoch {epoch:2d}/{epochs}: train loss {total[0].item() / total[1].item():.4f}")
    seconds = time.perf_counter() - t0

    net = model.module if isinstance(model, DDP) else model
    with torch.no_grad():
        x, y = (torch.stack(t) for t in zip(*[test_set[i] for i in range(len(test_set))]))
        accuracy = (net(x).argmax(1) == y).float().mean().item()
    say(f"held-out accuracy: {accuracy:.2%} ({len(test_set)} images) after {epochs} epochs in {seconds:.1f}s")
    if dist.is_initialized():
        dist.destroy_process_group()
    return {"accuracy": accuracy, "seconds": seconds, "world": world}


if __name__ == "__main__":
    main()

"""ember.distributed's speed: all-reduce bandwidth against raw mpi4py, and DDP's scaling of the W2 MLP step.

    python benchmarks/distributed.py [--quick | --tiny]

1. All-reduce of float32 tensors from 1 KB to 64 MB on 2 processes: ``dist.all_reduce`` on an ember
   tensor against ``comm.Allreduce(MPI.IN_PLACE, array)`` on the same NumPy array, interleaved, medians.
   Bus bandwidth as nccl-tests defines it: bytes * 2 (n - 1) / n / time.
2. The W2 MLP step (784-512-512-10, global batch 256, SGD) on 1 process and, with
   DistributedDataParallel, on 2 processes of 128 samples each; steps per second and the speed-up.

Each part runs in its own processes (started here through mpiexec); needs the ``distributed`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
SIZES = [1 << k for k in range(10, 27, 2)]          # 1 KB, 4 KB, ..., 64 MB


def _allreduce_worker(quick: bool, tiny: bool) -> None:
    import ember
    import ember.distributed as dist

    dist.init_process_group("gloo")
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, n = comm.Get_rank(), comm.Get_size()
    rows = []
    for nbytes in SIZES[:4] if tiny else SIZES:
        arr = np.ones(nbytes // 4, np.float32)
        t = ember.ones(nbytes // 4)
        reps = 2 if tiny else max(5, min(400 if not quick else 100, int(4e8 / nbytes)))
        ours, raw = [], []
        for _ in range(2):                                      # warm-up: MPI's first use of a size costs more
            comm.Allreduce(MPI.IN_PLACE, arr, MPI.SUM)
            dist.all_reduce(t)
        for _ in range(reps):                                   # interleaved: drift hits both alike
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, arr, MPI.SUM)
            raw.append(time.perf_counter() - t0)
            comm.Barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            ours.append(time.perf_counter() - t0)
        arr[:] = 1
        t.fill_(1)
        check = ember.ones(4)
        dist.all_reduce(check)
        assert check.tolist() == [float(n)] * 4
        ours_s, raw_s = statistics.median(ours), statistics.median(raw)
        rows.append({"bytes": nbytes, "ember_us": ours_s * 1e6, "mpi4py_us": raw_s * 1e6,
                     "ember_busbw_gbs": nbytes * 2 * (n - 1) / n / ours_s / 1e9,
                     "mpi4py_busbw_gbs": nbytes * 2 * (n - 1) / n / raw_s / 1e9})
    if rank == 0:
        print(json.dumps(rows))


def _ddp_worker(quick: bool, tiny: bool, wrap: bool) -> None:
    import ember
    import ember.distributed as dist
    import ember.nn as nn
    import ember.nn.functional as F
    from ember.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("gloo")
    rank, n = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(0)
    batch = 16 if tiny else 256
    x = ember.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 10, batch))
    k = batch // n
    x, y = x[rank * k:(rank + 1) * k], y[rank * k:(rank + 1) * k]
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    net = DDP(model) if wrap else model
    opt = ember.optim.SGD(net.parameters(), lr=0.01)

    def step() -> float:
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(2):
        step()
    times = []
    for _ in range(2 if tiny else 10 if quick else 30):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    medians: list = [None] * n
    dist.all_gather_object(medians, statistics.median(times))
    if rank == 0:
        print(json.dumps({"processes": n, "ddp": wrap, "ms_per_step": max(medians) * 1e3}))


def _launch(n: int, args: list[str], threads: int | None) -> str:
    from ember.distributed.run import _is_open_mpi, find_mpiexec, mpiexec_command

    env = dict(os.environ)
    src = str(HERE.parents[1] / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    mpiexec = find_mpiexec()
    cmd = mpiexec_command(mpiexec, n, n, None, _is_open_mpi(mpiexec)) + [sys.executable, str(HERE)] + args
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    p.add_argument("--tiny", action="store_true", help="a smoke test: small sizes, two repetitions")
    p.add_argument("--worker", choices=["allreduce", "ddp", "plain"], help=argparse.SUPPRESS)
    a = p.parse_args()
    flags = (["--quick"] if a.quick else []) + (["--tiny"] if a.tiny else [])
    if a.worker == "allreduce":
        return _allreduce_worker(a.quick, a.tiny)
    if a.worker in ("ddp", "plain"):
        return _ddp_worker(a.quick, a.tiny, a.worker == "ddp")
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    import ember.distributed as dist

    if not dist.is_available():
        raise SystemExit("needs mpi4py and MPI: pip install -e '.[distributed]'")
    rows = json.loads(_launch(2, ["--worker", "allreduce"] + flags, threads=1))
    print("all-reduce, float32, 2 processes (medians; bus bandwidth = bytes * 2(n-1)/n / time)")
    print(f"{'size':>8} | {'ember us':>9} | {'mpi4py us':>9} | {'ember GB/s':>10} | {'mpi4py GB/s':>11} | ember / mpi4py time")
    for r in rows:
        size = f"{r['bytes'] >> 20} MB" if r["bytes"] >= 1 << 20 else f"{r['bytes'] >> 10} KB"
        print(f"{size:>8} | {r['ember_us']:9.1f} | {r['mpi4py_us']:9.1f} | {r['ember_busbw_gbs']:10.3f} | "
              f"{r['mpi4py_busbw_gbs']:11.3f} | {r['ember_us'] / r['mpi4py_us']:.2f}")
    print("\nW2 MLP step (784-512-512-10, SGD), global batch 256 (medians; the slowest rank)")
    runs = [("1 process, plain model, BLAS threads as they come", 1, "plain", None),
            ("1 process, plain model, 1 BLAS thread", 1, "plain", 1),
            ("1 process, DDP, 1 BLAS thread", 1, "ddp", 1),
            ("2 processes x 128 samples, DDP, 1 BLAS thread each", 2, "ddp", 1)]
    results = {}
    for label, n, worker, threads in runs:
        results[label] = json.loads(_launch(n, ["--worker", worker] + flags, threads))["ms_per_step"]
    base = results["1 process, plain model, 1 BLAS thread"]
    for label, ms in results.items():
        print(f"  {label:52s} {ms:8.2f} ms/step   speed-up {base / ms:.2f}x")


if __name__ == "__main__":
    main()

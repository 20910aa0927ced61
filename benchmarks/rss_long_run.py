"""Memory over a long run: resident set size across 10,000 training steps of the examples' digits MLP.

    python benchmarks/rss_long_run.py [--steps 10000] [--lib ember|torch] [--every 1000]

Trains examples/train_digits_mlp.py's model (Adam, cross-entropy, batches of 32 from a shuffling
DataLoader, evaluation under no_grad every epoch) and prints RSS every ``--every`` steps, then the
RSS after warm-up, at the end and their ratio. A leak (graphs kept alive, a growing cache, optimizer
state that accumulates) shows as a ratio above 1; flat memory, a ratio near 1.00, is the target.
Needs scikit-learn (the ``examples`` extra) for the bundled digits.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from workloads import rss_mb  # noqa: E402

WARMUP = 200  # steps before the baseline: first-touch allocations, allocator pools, BLAS buffers


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--lib", default="ember", choices=["ember", "torch"])
    parser.add_argument("--every", type=int, default=1000)
    args = parser.parse_args(argv)

    lib = importlib.import_module(args.lib)
    F = lib.nn.functional
    sys.path.insert(0, str(ROOT / "examples"))
    import train_digits_mlp as example  # its model and data, for either library

    if args.lib == "torch":  # the example imports ember as torch: point it at torch itself
        example.torch, example.nn, example.F = lib, lib.nn, F
        example.DataLoader, example.TensorDataset = lib.utils.data.DataLoader, lib.utils.data.TensorDataset
        example.random_split = lib.utils.data.random_split
    from sklearn.datasets import load_digits

    lib.manual_seed(0)
    train, test = example.load_data(load_digits, seed=0)
    train_loader = lib.utils.data.DataLoader(train, batch_size=32, shuffle=True)
    test_loader = lib.utils.data.DataLoader(test, batch_size=256)
    model = example.make_model()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    step, baseline, samples = 0, None, []
    start = time.perf_counter()
    while step < args.steps:
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            if step == min(WARMUP, args.steps):
                gc.collect()
                baseline = rss_mb()
            if step % args.every == 0 or step == args.steps:
                gc.collect()
                samples.append((step, rss_mb(), loss.item()))
                print(f"step {step:6d}  rss {samples[-1][1]:7.1f} MB  loss {samples[-1][2]:.4f}", flush=True)
            if step == args.steps:
                break
        example.evaluate(model, test_loader)  # an epoch's held-out pass, as the example does
    end = samples[-1][1]
    result = {"lib": args.lib, "steps": step, "start_rss_mb": round(baseline, 1), "end_rss_mb": round(end, 1),
              "ratio": round(end / baseline, 3), "seconds": round(time.perf_counter() - start, 1)}
    print(f"{args.lib}: RSS after {min(WARMUP, step)} warm-up steps {baseline:.1f} MB, after {step} steps "
          f"{end:.1f} MB, ratio {end / baseline:.3f} ({result['seconds']} s)")
    return result


if __name__ == "__main__":
    main()

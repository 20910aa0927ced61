"""Before/after in one run: ember from two source trees and torch, the same workloads, interleaved.

    python benchmarks/ab.py BEFORE_SRC AFTER_SRC [--rounds 3] [--only W1,W2,W3,W5]

BEFORE_SRC / AFTER_SRC are ``src`` folders (e.g. of a ``git worktree add /tmp/before <rev>``). Each
workload runs ``--quick`` in a fresh process per library and round; the medians and bests print with
their ratios to torch and after/before. This is how a change's speed claim is measured (machines
drift between runs, so before and after must share one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
METRICS = {"W1": "us_per_op", "W2": "ms_per_step", "W3": "ms_per_step", "W5": "ms", "W8": "ms", "W9": "ms_per_step"}


def _run(lib: str, work: str, src: str) -> float | None:
    env = dict(os.environ, PYTHONPATH=src)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # as run.py: NumPy 2's OpenBLAS needs neither
        env.pop(k, None)
    p = subprocess.run([sys.executable, str(HERE / "workloads.py"), lib, work, "--quick"], capture_output=True,
                       text=True, env=env, timeout=1800)
    if p.returncode:
        print(f"  {lib} {work}: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])[METRICS[work]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="W1,W2,W3,W5")
    a = ap.parse_args()
    works = a.only.split(",")
    res: dict = {}
    for r in range(a.rounds):
        for work in works:
            for name, lib, src in (("before", "ember", a.before), ("after", "ember", a.after), ("torch", "torch", a.after)):
                v = _run(lib, work, src)
                if v is not None:
                    res.setdefault((work, name), []).append(v)
                print(f"round {r} {work} {name}: {v}", flush=True)
    print()
    for work in works:
        got = [res.get((work, n)) for n in ("before", "after", "torch")]
        if not all(got):
            continue
        for how, f in (("median", statistics.median), ("best", min)):
            b, af, t = (f(v) for v in got)
            print(f"{work} {how:6}: before {b:.3f} ({b / t:.3f}x torch)  after {af:.3f} ({af / t:.3f}x torch)  "
                  f"torch {t:.3f} {METRICS[work]}  after/before {af / b:.3f}")


if __name__ == "__main__":
    main()

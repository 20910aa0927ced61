"""Run the benchmark suite: each workload for ember and its peers in separate processes,
interleaved (ember, torch, numpy, ember, torch, numpy ...), medians and ratios from the same run.

    python benchmarks/run.py [--quick | --tiny] [--only W1,W2] [--libs ember,torch,numpy] [--peer-malloc-tuning]

Prints a table and writes benchmarks/results/latest.json. A library whose loss or gradients
disagree with the hand-written NumPy reference is reported as WRONG, not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
KEEP_BLAS_ENV = "--keep-blas-env" in sys.argv
# ember tunes glibc malloc at import (src/ember/_allocator.py); --peer-malloc-tuning gives every
# other library the same settings through glibc's environment variables, for a like-for-like run
PEER_MALLOC = "--peer-malloc-tuning" in sys.argv
PEER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
                   "MALLOC_TOP_PAD_": str(64 << 20)}
# workload -> (metric, unit, peers); lower is better everywhere
WORKLOADS = {
    "W1": ("us_per_op", "us/op", ["ember", "torch", "numpy", "autograd", "mygrad", "tinygrad"]),
    "W2": ("ms_per_step", "ms/step", ["ember", "torch", "numpy", "tinygrad"]),
    "W2rss": ("peak_rss_mb", "MB peak", ["ember", "torch", "numpy"]),
    "W3": ("ms_per_step", "ms/step", ["ember", "torch"]),
    "W4_100k": ("seconds", "s", ["ember", "torch", "numpy", "micrograd"]),
    "W4_1M": ("seconds", "s", ["ember", "torch", "numpy", "micrograd"]),
    "W5": ("ms", "ms", ["ember", "torch", "numpy"]),
    "W6": ("import_s", "s", ["ember", "torch", "numpy"]),
    "W8": ("ms", "ms", ["ember", "torch", "numpy"]),
    "W9": ("ms_per_step", "ms/step", ["ember", "torch"]),
}


def installed(lib: str) -> bool:
    if lib == "numpy":
        return True
    try:
        __import__(lib)
    except ImportError:
        return False
    return True


def run_one(lib: str, work: str, flags: list) -> dict:
    if work == "W6":  # import time in a fresh interpreter (numpy's own import included)
        code = f"import time; t = time.perf_counter(); import {lib}; print(time.perf_counter() - t)"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        if proc.returncode:
            return {"error": proc.stderr.strip().splitlines()[-1]}
        return {"loss": 0.0, "grads": [], "import_s": float(proc.stdout)}
    cmd = [sys.executable, str(HERE / "workloads.py"), lib, work] + flags
    env = dict(os.environ)
    if not KEEP_BLAS_ENV:
        # some machines pin OpenBLAS to an old kernel (OPENBLAS_CORETYPE) for old builds' sake;
        # NumPy 2's OpenBLAS is fine without, and far faster: unset for the benchmark processes only
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    if PEER_MALLOC and lib != "ember":
        env.update(PEER_MALLOC_ENV)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def agree(res: dict, ref: dict) -> bool:
    if "error" in res or "error" in ref:
        return False
    if not np.isclose(res["loss"], ref["loss"], rtol=1e-3, atol=1e-4):
        return False
    return np.allclose(np.asarray(res["grads"], float), np.asarray(ref["grads"], float), rtol=2e-3, atol=1e-4)


def _details(work: str, row: dict, libs: list) -> str:
    """The figures besides the headline metric that the issue asks for."""
    ok = [lib for lib in libs if row[lib]["status"] == "ok"]
    if work == "W1":
        return "; ".join(f"{lib} forward {row[lib]['fwd_us_per_op']:.3g} + backward {row[lib]['bwd_us_per_op']:.3g} us/op"
                         for lib in ok if "fwd_us_per_op" in row[lib] and lib != "numpy")  # (numpy: one pass)
    if work == "W2rss":
        return "; ".join(f"{lib} RSS at step 10 {row[lib]['rss_step10']:.1f} MB, step 50 {row[lib]['rss_step50']:.1f} MB"
                         for lib in ok)
    if work.startswith("W4"):
        return "; ".join(f"{lib} peak {row[lib]['peak_rss_mb']:.0f} MB" + (
            f", {row[lib]['rss_after_mb']:.0f} MB after backward" if "rss_after_mb" in row[lib] else "") for lib in ok)
    return ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats, skip the 1M-op chain")
    ap.add_argument("--tiny", action="store_true", help="each workload once at a small size (a smoke test)")
    ap.add_argument("--only", default="")
    ap.add_argument("--libs", default="")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep-blas-env", action="store_true", help="keep OPENBLAS_CORETYPE/L2_SIZE if set")
    ap.add_argument("--peer-malloc-tuning", action="store_true",
                    help="give the peers ember's malloc settings (glibc environment variables)")
    args = ap.parse_args()
    works = [w for w in WORKLOADS if not args.only or w in args.only.split(",")]
    if args.quick and not args.only:
        works = [w for w in works if w != "W4_1M"]
    report = {}
    flags = ["--tiny"] if args.tiny else ["--quick"] if args.quick else []
    if args.tiny:
        args.rounds = 1
    floor = run_one("numpy", "W7", flags)
    print(f"machine NumPy float32 matmul: {floor['gflops']:.1f} GFLOP/s; W2 arithmetic floor {floor['floor_ms']:.2f} ms")
    for work in works:
        metric, unit, peers = WORKLOADS[work]
        libs = [p for p in peers if installed(p) and (not args.libs or p in args.libs.split(","))]
        rounds = 1 if work.startswith("W4") or work == "W2rss" else args.rounds
        samples: dict = {lib: [] for lib in libs}
        last: dict = {}
        for _ in range(rounds):
            for lib in libs:  # interleaved, so drifting machine load hits every library alike
                r = run_one(lib, work, flags)
                last[lib] = r
                if "error" not in r:
                    samples[lib].append(r[metric])
        ref = last.get("numpy") or last.get("torch")
        row = {}
        for lib in libs:
            r = last[lib]
            if "error" in r:
                row[lib] = {"status": "error", "detail": r["error"]}
            elif work not in ("W6",) and ref is not None and not agree(r, ref):
                row[lib] = {"status": "WRONG", "loss": r["loss"], "ref_loss": ref["loss"]}
            else:
                row[lib] = {"status": "ok", metric: float(np.median(samples[lib])), **{k: v for k, v in r.items()
                                                                                      if k not in ("grads",)}}
        report[work] = row
        base = row.get("ember", {}).get(metric)
        parts = []
        for lib in libs:
            v = row[lib].get(metric)
            if v is None:
                parts.append(f"{lib}: {row[lib]['status']}")
            else:
                ratio = f" (ember/{lib} {base / v:.2f}x)" if base and lib != "ember" else ""
                parts.append(f"{lib} {v:.3g} {unit}{ratio}")
        print(f"{work:8s} " + "; ".join(parts))
        detail = _details(work, row, libs)
        if detail:
            print(f"{'':8s} {detail}")
        if work == "W2":  # W7: each library's step as a multiple of the arithmetic floor
            print(f"{'':8s} " + ", ".join(f"{lib}/floor {row[lib][metric] / floor['floor_ms']:.2f}x"
                                          for lib in libs if metric in row[lib]))
            for lib in libs:
                if metric in row[lib]:
                    row[lib]["x_floor"] = row[lib][metric] / floor["floor_ms"]
    report["W7"] = floor
    if args.tiny:
        return  # smoke test: its figures mean nothing, so they don't replace real ones
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=1))
    print(f"wrote {out / 'latest.json'}")


if __name__ == "__main__":
    main()

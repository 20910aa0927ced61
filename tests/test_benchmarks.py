"""Every benchmark workload runs once at a tiny size, and ember agrees with the reference
(hand-written NumPy, or torch where there is none): the benchmark code cannot rot unnoticed.
Speed is measured by `make bench`, never here."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import run as runner  # noqa: E402
import workloads  # noqa: E402

# workload -> (metric, libraries compared with the first reference)
CASES = {
    "W1": ("us_per_op", ["numpy", "torch"]),
    "W2": ("ms_per_step", ["numpy", "torch"]),
    "W2rss": ("peak_rss_mb", ["numpy"]),
    "W3": ("ms_per_step", ["torch"]),
    "W4_100k": ("seconds", ["numpy", "torch"]),
    "W4_1M": ("seconds", ["numpy"]),
    "W5": ("ms", ["numpy", "torch"]),
    "W8": ("ms", ["numpy", "torch"]),
    "W9": ("ms_per_step", ["torch"]),
}


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    monkeypatch.setattr(workloads, "TINY", True)


@pytest.mark.parametrize("work", list(CASES))
def test_workload_runs_and_agrees(work):
    metric, refs = CASES[work]
    workloads.lib_module("ember")
    res = workloads.run("ember", work)
    assert math.isfinite(res[metric]) and res[metric] > 0
    for ref in refs:
        if ref == "torch":
            workloads.lib_module("torch")
        other = workloads.run(ref, work)
        assert runner.agree(res, other), (work, ref, res["loss"], other["loss"], res["grads"], other["grads"])


def test_floor_and_import():
    floor = workloads.run("numpy", "W7")
    assert floor["gflops"] > 0 and floor["floor_ms"] > 0
    assert workloads.run("ember", "W6")["import_s"] >= 0


def test_runner_end_to_end():
    # the runner itself: separate processes, the agreement check and the table
    out = subprocess.run([sys.executable, str(BENCH / "run.py"), "--tiny", "--only", "W1,W6", "--libs", "ember,numpy"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "W1       ember" in out.stdout and "WRONG" not in out.stdout and "W6       ember" in out.stdout

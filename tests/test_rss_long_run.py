"""benchmarks/rss_long_run.py runs (a few steps: the benchmark's code cannot rot unnoticed; its
memory figures are measured by running it for 10,000 steps, never here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import rss_long_run  # noqa: E402


def test_long_run_benchmark_runs_and_reports(capsys) -> None:
    result = rss_long_run.main(["--steps", "60", "--every", "30"])
    out = capsys.readouterr().out
    assert result["steps"] == 60 and result["start_rss_mb"] > 0 and result["ratio"] > 0
    assert "step     30" in out and "ratio" in out

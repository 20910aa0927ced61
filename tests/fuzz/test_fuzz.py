"""The differential fuzzer in CI: a bounded seeded sample of random programs, each compared with
torch, and every saved reproducer in regressions/ replayed. ``make fuzz`` runs the large sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .generate import generate
from .program import Program
from .run import check
from .shrink import shrink

N = int(os.environ.get("EMBER_FUZZ_N", "2000"))
BLOCK = 250  # programs per test, so a failure names a small seed range
REGRESSIONS = sorted((Path(__file__).parent / "regressions").glob("*.json"))


@pytest.mark.parametrize("start", range(0, N, BLOCK))
def test_seeded_sample(start: int) -> None:
    failures = []
    for seed in range(start, min(start + BLOCK, N)):
        prog = generate(seed)
        out = check(prog)
        if out.category and not out.known:
            small = shrink(prog, out.category, budget=100)
            detail = check(small).mismatches or out.mismatches
            failures.append(f"seed {seed} [{out.category}]\n{small.source()}\n# {detail[0].detail}")
    assert not failures, f"{len(failures)} programs differ from torch:\n\n" + "\n\n".join(failures[:5])


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression(path: Path) -> None:
    prog = Program.from_json(path.read_text())
    out = check(prog)
    assert not out.mismatches, f"{prog.note}\n{prog.source()}\n# {out.mismatches[0].category}: {out.mismatches[0].detail}"

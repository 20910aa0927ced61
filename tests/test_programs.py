"""The corpus of real public PyTorch programs (tests/programs/) runs on ember and prints what torch prints.

Each program runs under torch and under ember (``python -m ember run``) through the comparator
(``ember._compare``): text exactly, numbers within float32 tolerance. Programs that need an API
another branch is adding are listed in KNOWN_FAILING with the first missing API or mismatch; they
are strict xfails, so one that starts passing must leave the list.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ember._compare import compare

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))

KNOWN_FAILING: dict[str, str] = {
}

requires_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch as the reference")


def _param(path: Path):
    reason = KNOWN_FAILING.get(path.stem)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


@requires_torch
@pytest.mark.parametrize("program", [_param(p) for p in PROGRAMS])
def test_program_matches_torch(program: Path) -> None:
    # one thread each: the two runs share the machine, and CI has two cores
    result = compare(str(program), timeout=300, env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    assert result.ok, "\n" + result.report()


def test_every_program_names_its_source() -> None:
    for program in PROGRAMS:
        head = program.read_text(encoding="utf-8").splitlines()[:6]
        assert any(line.startswith("# Source:") for line in head), program.name
        assert any(line.startswith("# Changes") for line in program.read_text(encoding="utf-8").splitlines()[:8])


def test_known_failing_names_real_programs() -> None:
    stems = {p.stem for p in PROGRAMS}
    assert set(KNOWN_FAILING) <= stems, set(KNOWN_FAILING) - stems

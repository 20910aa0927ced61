"""Each collective, on 2 and on 3 processes, against NumPy's computation of its result.

One mpiexec launch per process count runs every check (collective_checks.py); each check is then a
test of its own here. A check that raises on any rank fails with that rank's traceback."""

from __future__ import annotations

import json
import re

import pytest

from .launch import HERE, mpirun, needs_mpi

NAMES = sorted(re.findall(r"^def check_(\w+)", (HERE / "collective_checks.py").read_text(), re.M))
_cache: dict = {}


def outcomes(n: int, tmp_path_factory: pytest.TempPathFactory) -> dict:
    if n not in _cache:
        out = tmp_path_factory.mktemp("coll") / "results.json"
        proc = mpirun(n, HERE / "collective_checks.py", str(out), timeout=60)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        _cache[n] = json.loads(out.read_text())
    return _cache[n]


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("name", NAMES)
def test_collective_matches_numpy(name: str, n: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert outcomes(n, tmp_path_factory)[name] == "ok"

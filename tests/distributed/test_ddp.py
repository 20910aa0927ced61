"""DistributedDataParallel on 2 (and 3) processes equals single-process training on the full batch:
an MLP with SGD+momentum and with Adam in small buckets, a small CNN with Adam, no_sync's
accumulation, find_unused_parameters, buffers and parameters broadcast from rank 0, the
``module.`` state_dict keys. One mpiexec launch per process count (ddp_checks.py)."""

from __future__ import annotations

import json
import re

import pytest

from .launch import HERE, mpirun, needs_mpi

NAMES = sorted(re.findall(r"^def check_(\w+)", (HERE / "ddp_checks.py").read_text(), re.M))
_cache: dict = {}


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("name", NAMES)
def test_ddp_matches_single_process(name: str, n: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    if n not in _cache:
        out = tmp_path_factory.mktemp("ddp") / "results.json"
        proc = mpirun(n, HERE / "ddp_checks.py", str(out))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        _cache[n] = json.loads(out.read_text())
    assert _cache[n][name] == "ok"

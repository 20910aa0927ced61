"""Running a script on N MPI processes from a test: ``mpiexec`` (oversubscribed where Open MPI needs
it), ember from this checkout, a timeout so a hang fails instead of blocking the suite.

Tests that need MPI skip, saying why, when mpi4py or mpiexec is missing here; ``make test`` installs
both (``pip install -e '.[test,distributed]'``), so in CI they run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ember.distributed import is_available
from ember.distributed.run import _is_open_mpi, find_mpiexec, mpiexec_command

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _mpiexec() -> str | None:
    if not is_available():
        return None
    try:
        return find_mpiexec()
    except SystemExit:
        return None


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason="mpi4py or mpiexec is not installed here: "
                               "pip install -e '.[distributed]' (make test installs it)")


def env() -> dict:
    """The environment for child processes: ember from this checkout, no inherited rank variables."""
    e = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)] + ([e["PYTHONPATH"]] if e.get("PYTHONPATH") else []))
    return e


def mpirun(n: int, script: Path | str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``mpiexec -n n python script args`` with a timeout; a timeout fails the test with the output so far."""
    assert MPIEXEC is not None
    cmd = mpiexec_command(MPIEXEC, n, n, None, _is_open_mpi(MPIEXEC)) + [sys.executable, str(script), *args]
    return run(cmd, timeout)


def run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``cmd`` with ``env()``; a timeout (a hang) fails the test with what it printed."""
    # a session of its own, so that a hang is ended by killing mpiexec and every rank it started
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=ROOT,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout} s (a hang):\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

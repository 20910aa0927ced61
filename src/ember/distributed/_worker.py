"""What each rank runs under ``ember.distributed.run``: set torch's per-rank variables from MPI's
launcher, then run the script as ``__main__`` (``python -m ember.distributed._worker script.py args``).

A rank that fails (an exception, or ``sys.exit`` with a non-zero status) must bring the whole job
down: MPICH's mpiexec only tears a job down when a rank aborts or dies by a signal, not when one
exits with an error while the others wait in a collective. So the failing rank prints its error,
then calls ``MPI_Abort`` (or, before MPI started, ends itself with SIGTERM).

MPI is not started here: the variables come from the environment mpiexec gives each process (MPICH's
hydra and Open MPI name them differently), so a script may read ``LOCAL_RANK`` before calling
``init_process_group``.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import time
import traceback

# (torch's name, MPICH / PMI name, Open MPI name, PMIx name)
_SOURCES = (("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"),
            ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", None),
            ("LOCAL_RANK", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", None),
            ("LOCAL_WORLD_SIZE", "MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", None))


def set_rank_environment(environ: dict | None = None) -> None:
    """Fill torch's RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE and GROUP_RANK from MPI's variables."""
    env = os.environ if environ is None else environ
    for name, *mpi_names in _SOURCES:
        for source in mpi_names:
            if source is not None and source in env:
                env[name] = env[source]
                break
    env.setdefault("RANK", "0")
    env.setdefault("WORLD_SIZE", "1")
    env.setdefault("LOCAL_RANK", env["RANK"])
    env.setdefault("LOCAL_WORLD_SIZE", env["WORLD_SIZE"])
    env["GROUP_RANK"] = str(int(env["RANK"]) // max(1, int(env["LOCAL_WORLD_SIZE"])))


def main() -> None:
    """Set the rank variables and run the script (or ``-m`` module) with its arguments."""
    argv = sys.argv[1:]
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        raise SystemExit("usage: python -m ember.distributed._worker [-m] script.py [args...]")
    set_rank_environment()
    sys.argv = argv
    try:
        if as_module:
            runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as e:
        if e.code in (None, 0):
            raise
        if not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
        _stop_job(f"exited with status {e.code}")
    except BaseException:  # noqa: BLE001  (KeyboardInterrupt too: the other ranks must not wait on this one)
        traceback.print_exc()
        _stop_job(f"stopped on the uncaught {sys.exc_info()[0].__name__} above")  # type: ignore[union-attr]


def _stop_job(why: str) -> None:
    print(f"ember.distributed: rank {os.environ.get('RANK')} of {os.environ.get('WORLD_SIZE')} {why}; stopping all ranks",
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    time.sleep(0.3)  # let mpiexec forward this rank's output before the job is torn down
    MPI = sys.modules.get("mpi4py.MPI")
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.COMM_WORLD.Abort(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    main()

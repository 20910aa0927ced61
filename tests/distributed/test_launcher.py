"""``python -m ember.distributed.run``: torchrun's flags, torch's variables in each rank, and a rank
that fails (exception, non-zero exit before init, killed) ending the whole job with a message
instead of leaving the others waiting. Plain ``mpiexec`` with an uncaught exception too."""

from __future__ import annotations

import sys

import pytest

from ember.distributed import _worker
from ember.distributed.run import main, mpiexec_command

from .launch import HERE, mpirun, needs_mpi, run

LAUNCH = [sys.executable, "-m", "ember.distributed.run"]
SCRIPT = str(HERE / "launcher_script.py")


@needs_mpi
def test_launcher_sets_torchs_variables_and_passes_arguments():
    proc = run(LAUNCH + ["--nproc-per-node", "3", "--master-port", "29700", SCRIPT, "--lr", "0.1"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    envs = sorted(line for line in proc.stdout.splitlines() if line.startswith("env"))
    assert envs == [f"env {r} {r} 3 3 127.0.0.1 29700 --lr 0.1" for r in range(3)]
    assert proc.stdout.count("sum [3.0, 3.0]") == 3


@needs_mpi
@pytest.mark.parametrize("how", ["raise", "exit_before_init", "kill"])
def test_a_failing_rank_ends_the_job(how):
    proc = run(LAUNCH + ["--nproc_per_node=2", SCRIPT, how], timeout=60)
    assert proc.returncode != 0
    assert "sum" not in proc.stdout
    assert "ember.distributed.run: the job failed" in proc.stderr
    if how == "raise":
        assert "ValueError: rank 1 fails on purpose" in proc.stderr
        assert "rank 1 of 2 stopped on the uncaught ValueError" in proc.stderr
    if how == "exit_before_init":
        assert "rank 1 of 2 exited with status 3" in proc.stderr


@needs_mpi
def test_plain_mpiexec_uncaught_exception_aborts_the_job():
    proc = mpirun(2, SCRIPT, "raise", timeout=60)
    assert proc.returncode != 0
    assert "rank 1 of 2 stopped on the uncaught ValueError above; aborting all ranks" in proc.stderr


def test_other_nodes_have_nothing_to_start(capsys):
    assert main(["--nnodes", "2", "--node-rank", "1", "--hostfile", "hosts", "train.py"]) == 0
    assert "the launcher on node 0 starts every machine's processes" in capsys.readouterr().err


def test_several_nodes_need_a_hostfile():
    with pytest.raises(SystemExit, match="--nnodes > 1 needs --hostfile"):
        main(["--nnodes", "2", "--nproc-per-node", "2", "train.py"])


def test_mpiexec_command_for_each_mpi():
    assert mpiexec_command("mpiexec", 8, 4, "hosts", open_mpi=False) == ["mpiexec", "-n", "8", "-f", "hosts", "-ppn", "4"]
    assert mpiexec_command("mpirun", 8, 4, "hosts", open_mpi=True) == [
        "mpirun", "-n", "8", "--hostfile", "hosts", "--map-by", "ppr:4:node"]
    assert mpiexec_command("mpirun", 3, 3, None, open_mpi=True) == ["mpirun", "-n", "3", "--oversubscribe"]


@pytest.mark.parametrize("mpi_env", [
    {"PMI_RANK": "5", "PMI_SIZE": "8", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "4"},                     # MPICH
    {"OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_SIZE": "8", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
     "OMPI_COMM_WORLD_LOCAL_SIZE": "4"},                                                                    # Open MPI
])
def test_rank_variables_from_either_mpi(mpi_env):
    env = dict(mpi_env)
    _worker.set_rank_environment(env)
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"], env["LOCAL_WORLD_SIZE"], env["GROUP_RANK"]) == ("5", "8", "1", "4", "1")

"""ember.distributed's errors: torch's messages before init, and on 2 ranks the misuse torch catches
(mismatched tensors, a second init, ...) raising on every rank instead of hanging. Also: without
mpi4py, importing works and init names the extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.distributed as tdist

import ember
import ember.distributed as dist

from .launch import HERE, env, mpirun, needs_mpi


@pytest.mark.parametrize("call", ["get_rank", "get_world_size", "barrier", "all_reduce", "broadcast"])
def test_before_init_raises_torchs_error(call):
    args = {"all_reduce": lambda m: (m.ones(2),), "broadcast": lambda m: (m.ones(2), 0)}.get(call, lambda m: ())
    with pytest.raises(ValueError) as want:
        getattr(tdist, call)(*args(torch))
    with pytest.raises(ValueError) as got:
        getattr(dist, call)(*args(ember))
    assert str(got.value) == str(want.value)
    assert not dist.is_initialized()


def test_reduce_op_members_as_torchs():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert repr(getattr(dist.ReduceOp, name)) == repr(getattr(tdist.ReduceOp, name))


def test_without_mpi4py_import_works_and_init_names_the_extra():
    # mpi4py made unimportable: the package still imports and answers, and init says what to install
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import time; t = time.perf_counter(); import ember.distributed as d, ember.nn.parallel\n"
            "assert d.is_available() is False and d.is_initialized() is False\n"
            "try:\n    d.init_process_group('gloo')\nexcept RuntimeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install 'ember[distributed]'" in out.stdout and "mpi4py" in out.stdout


def test_import_ember_does_not_load_mpi4py():
    code = "import sys, ember, ember.nn, ember.utils.data, ember.distributed; print(sys.modules.get('mpi4py') is not None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), timeout=60)
    assert out.stdout.strip() == "False", out.stderr


@needs_mpi
def test_launched_alone_with_a_larger_world_size_refuses():
    # torch's variables promise 2 ranks but MPI started one process: a clear error, not a wait forever
    code = "import ember.distributed as d; d.init_process_group('gloo', init_method='env://')"
    e = dict(env(), WORLD_SIZE="2", RANK="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=60)
    assert out.returncode != 0
    assert "world_size 2 (from WORLD_SIZE) but MPI started this process as rank 0 of 1" in out.stderr


def test_missing_names_say_ember_does_not_implement_them():
    with pytest.raises(AttributeError, match="ember does not implement torch.distributed.TCPStore"):
        getattr(dist, "TCPStore")  # noqa: B009


def test_unknown_backend_refused():
    with pytest.raises(RuntimeError, match="'gloo' or 'mpi'"):
        dist.init_process_group("nccl")


@needs_mpi
def test_misuse_on_two_ranks_raises_everywhere():
    proc = mpirun(2, HERE / "error_checks.py")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    for rank in (0, 1):
        for name in ("shape", "dtype", "gather_shape", "second_init", "avg_int", "gather_list_off_dst", "send_to_self",
                     "list_length", "splits", "ddp_model", "short_recv", "still works"):
            assert f"rank {rank}: {name} ok" in proc.stdout, (rank, name, proc.stdout)

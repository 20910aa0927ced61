"""``ember.distributed``: torch.distributed's API on MPI, through mpi4py.

Start the processes with ``python -m ember.distributed.run --nproc-per-node N train.py`` (or
``mpiexec -n N python train.py``), then call ``init_process_group("gloo")`` in each. Importing this
package does not load MPI: ``is_available()`` checks for it, ``init_process_group`` starts it, and
without mpi4py raises an error saying to ``pip install 'ember[distributed]'``.
"""

from __future__ import annotations

from typing import Any

from . import _mpi
from .all_to_all import all_to_all, all_to_all_single
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .distributed_c10d import (
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    new_group,
)
from .object_collectives import all_gather_object, broadcast_object_list, gather_object, scatter_object_list
from .point_to_point import P2POp, batch_isend_irecv, irecv, isend, recv, send


def is_available() -> bool:
    """Whether ember.distributed can run here: mpi4py and an MPI library load (MPI is not started)."""
    return _mpi.load() is not None


__all__ = [
    "is_available", "init_process_group", "destroy_process_group", "is_initialized", "get_rank", "get_world_size",
    "get_backend", "new_group", "group", "GroupMember", "ProcessGroup", "get_process_group_ranks", "get_global_rank",
    "get_group_rank", "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_torchelastic_launched",
    "ReduceOp", "Work", "all_reduce", "broadcast", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter",
    "reduce_scatter_tensor", "gather", "scatter", "barrier", "send", "recv", "isend", "irecv", "broadcast_object_list",
    "all_gather_object", "gather_object", "scatter_object_list", "all_to_all", "all_to_all_single", "P2POp",
    "batch_isend_irecv", "monitored_barrier",
]


def monitored_barrier(group: Any = None, timeout: Any = None, wait_all_ranks: bool = False) -> None:
    """A barrier (MPI has no timeouts: a rank that died has already ended the job through mpiexec)."""
    barrier(group)


def __getattr__(name: str) -> Any:
    # torch.distributed's other names (TCPStore, the tensor-parallel and FSDP packages, ...) are not here
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"ember does not implement torch.distributed.{name}")

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""The process groups: starting and stopping the default group, sub-groups, ranks and sizes.

Both of torch's CPU backend names, ``"gloo"`` and ``"mpi"``, map onto MPI. The processes are started
and connected by ``mpiexec`` (directly or through ``python -m ember.distributed.run``), so rendezvous
is already done when ``init_process_group`` runs: it checks that torch's variables (``RANK``,
``WORLD_SIZE``) agree with what MPI says, and refuses clearly when they do not (for instance a
script started by hand with ``WORLD_SIZE=2`` but no ``mpiexec``).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from datetime import timedelta
from typing import Any

from . import _mpi

_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class ProcessGroup:
    """A set of ranks that run collectives together, over one MPI communicator.

    ``rank()`` and ``size()`` are this process's place in the group and the group's size; the
    group's ranks are numbered 0..size-1 in the order of their global ranks.
    """

    def __init__(self, comm: Any, ranks: list[int], backend: str) -> None:
        self._comm = comm
        self._ranks = ranks      # global rank of each group rank
        self._backend = backend

    def rank(self) -> int:
        """This process's rank within the group."""
        return self._comm.Get_rank()

    def size(self) -> int:
        """The number of ranks in the group."""
        return len(self._ranks)

    def name(self) -> str:
        """The backend's name, as given to ``init_process_group``."""
        return self._backend

    def __repr__(self) -> str:
        return f"<ember.distributed.ProcessGroup backend={self._backend!r} ranks={self._ranks}>"


class GroupMember:
    """Stand-ins torch's API hands out: ``WORLD`` (the default group) and ``NON_GROUP_MEMBER``, what
    ``new_group`` returns to ranks left out of the new group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER: Any = -100


class group:  # noqa: N801  (torch's spelling: dist.group.WORLD)
    """``group.WORLD``: the default process group once ``init_process_group`` has run, else None."""

    WORLD: ProcessGroup | None = None


class _State:
    default: ProcessGroup | None = None
    subgroups: list[ProcessGroup] = []
    saved_excepthook: Any = None


_state = _State()


def is_initialized() -> bool:
    """Whether the default process group has been initialized."""
    return _state.default is not None


def is_mpi_available() -> bool:
    """Whether mpi4py and an MPI library can be loaded (ember's backends all run on MPI)."""
    return _mpi.load() is not None


def is_gloo_available() -> bool:
    """Whether backend ``"gloo"`` can be used: ember maps it onto MPI, so the same as ``is_mpi_available``."""
    return is_mpi_available()


def is_nccl_available() -> bool:
    """Always False: ember runs on CPUs only."""
    return False


def is_torchelastic_launched() -> bool:
    """Whether this process was started by a torchrun-style launcher (``ember.distributed.run`` sets its variables)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _default() -> ProcessGroup:
    if _state.default is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state.default


def _backend_name(backend: Any) -> str:
    name = "gloo" if backend is None else str(backend).lower()
    if name.startswith("cpu:"):
        name = name[4:].split(",")[0]
    if name not in ("gloo", "mpi"):
        raise RuntimeError(f"ember.distributed runs on MPI, with the CPU backends 'gloo' or 'mpi'; got backend {backend!r}"
                           " (ember has no GPU backends such as nccl)")
    return name


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment variable {name} "
                         f"expected, but its value {value!r} is not an integer")


def _abort_on_uncaught(MPI: Any, world: int) -> None:
    """An uncaught exception on one rank would leave the others waiting in their next collective;
    print it, then abort the whole job (mpiexec then stops every rank)."""
    previous = sys.excepthook
    _state.saved_excepthook = previous

    def hook(kind: Any, value: Any, tb: Any) -> None:
        previous(kind, value, tb)
        if kind is KeyboardInterrupt or _state.default is None:
            return
        rank = MPI.COMM_WORLD.Get_rank()
        print(f"ember.distributed: rank {rank} of {world} stopped on the uncaught {kind.__name__} above; "
              "aborting all ranks", file=sys.stderr, flush=True)
        time.sleep(0.3)  # let mpiexec forward the traceback before the abort tears the job down
        MPI.COMM_WORLD.Abort(1)

    sys.excepthook = hook


def init_process_group(backend: Any = None, init_method: str | None = None, timeout: timedelta | None = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the default process group of all ranks that ``mpiexec`` started.

    ``backend``: ``"gloo"`` or ``"mpi"`` (both run on MPI). ``init_method``: ``"env://"`` (the
    default) reads ``RANK`` and ``WORLD_SIZE`` when set; they, and ``rank`` / ``world_size`` when
    given, must agree with MPI's own numbering. ``timeout`` is accepted for torch's signature; MPI
    has no collective timeouts (a dying rank makes ``mpiexec`` stop the job instead).
    """
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = _backend_name(backend)
    if init_method is not None and not init_method.startswith(("env://", "tcp://", "file://", "mpi://")):
        raise ValueError(f"ember.distributed does not understand init_method {init_method!r}: use 'env://'")
    MPI = _mpi.require()
    comm = MPI.COMM_WORLD
    mpi_rank, mpi_size = comm.Get_rank(), comm.Get_size()
    for what, given, env, actual in (("world_size", world_size, "WORLD_SIZE", mpi_size), ("rank", rank, "RANK", mpi_rank)):
        wanted = given if given is not None and given >= 0 else _env_int(env)
        if wanted is not None and wanted != actual:
            raise RuntimeError(
                f"init_process_group: {what} {wanted} (from {'the argument' if given is not None and given >= 0 else env}) "
                f"but MPI started this process as rank {mpi_rank} of {mpi_size}. ember.distributed connects processes "
                "through MPI: start them with `python -m ember.distributed.run --nproc-per-node N script.py` or "
                "`mpiexec -n N python script.py`")
    pg = ProcessGroup(comm, list(range(mpi_size)), name)
    _state.default = pg
    group.WORLD = GroupMember.WORLD = pg
    if mpi_size > 1:
        _abort_on_uncaught(MPI, mpi_size)


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave ``group``, or with no argument the default group and every sub-group (MPI itself stays
    up until the process exits, so ``init_process_group`` may run again)."""
    if group is None or group is _state.default:
        if _state.default is None:
            raise AssertionError("Process group cannot be None")
        for sub in _state.subgroups:
            sub._comm.Free()
        _state.subgroups = []
        _state.default = None
        globals()["group"].WORLD = GroupMember.WORLD = None
        if _state.saved_excepthook is not None:
            sys.excepthook, _state.saved_excepthook = _state.saved_excepthook, None
        return
    if group in _state.subgroups:
        _state.subgroups.remove(group)
        group._comm.Free()


def new_group(ranks: list[int] | None = None, timeout: timedelta | None = None, backend: Any = None,
              pg_options: Any = None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id: Any = None) -> Any:
    """A process group of the given global ``ranks`` (all ranks when None). Every rank of the default
    group must call it, in the same order; ranks left out get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default()
    size = world.size()
    chosen = sorted(range(size) if ranks is None else {int(r) for r in ranks})
    for r in chosen:
        if not 0 <= r < size:
            raise ValueError(f"new_group: rank {r} is outside the default group's ranks 0..{size - 1}")
    MPI = _mpi.require()
    comm = world._comm.Create(world._comm.Get_group().Incl(chosen))
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, chosen, world._backend if backend is None else _backend_name(backend))
    _state.subgroups.append(pg)
    return pg


def _group(g: Any, op_name: str) -> ProcessGroup | None:
    """The group a call runs in; None (after torch's warning) when this rank is not a member."""
    if g is None or g is GroupMember.WORLD:
        return _default()
    _default()
    if g is GroupMember.NON_GROUP_MEMBER:
        warnings.warn(f"Running {op_name} on global rank {get_rank()} which does not belong to the given group.",
                      UserWarning, stacklevel=3)
        return None
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"{op_name}: group must be a ProcessGroup from new_group, got {type(g).__name__}")
    return g


def get_rank(group: Any = None) -> int:
    """This process's rank in ``group`` (the default group when None); -1 when not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        _default()
        return -1
    return (_default() if group is None else group).rank()


def get_world_size(group: Any = None) -> int:
    """The number of ranks in ``group`` (the default group when None); -1 when not a member."""
    if group is GroupMember.NON_GROUP_MEMBER:
        _default()
        return -1
    return (_default() if group is None else group).size()


def get_backend(group: Any = None) -> str:
    """The backend name of ``group`` (the default group when None)."""
    return (_default() if group is None else group).name()


def get_process_group_ranks(group: Any) -> list[int]:
    """The global ranks of ``group``'s members, in group-rank order."""
    return list((_default() if group is None else group)._ranks)


def get_global_rank(group: Any, group_rank: int) -> int:
    """The global rank of ``group``'s rank ``group_rank``."""
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]


def get_group_rank(group: Any, global_rank: int) -> int:
    """The rank within ``group`` of global rank ``global_rank``."""
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def _root(pg: ProcessGroup, global_rank: int | None, group_rank: int | None, what: str) -> int:
    """The group rank of a collective's root, given as a global rank (``src``/``dst``) or a group rank."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError(f"Can not specify both {what} and group_{what}")
        root = group_rank
    else:
        g = 0 if global_rank is None else global_rank
        if g not in pg._ranks:
            raise ValueError(f"Global rank {g} is not part of group {pg}")
        root = pg._ranks.index(g)
    if not 0 <= root < pg.size():
        raise ValueError(f"Group rank {root} is not part of group {pg}")
    return root

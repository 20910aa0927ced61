"""ember.multiprocessing (torch.multiprocessing): Python's ``multiprocessing`` with ember tensors that
can live in shared memory. A tensor moved there with ``share_memory_()`` (or a model with
``Module.share_memory()``) reaches the processes it is passed to by name, not by copy, so they all
update the same parameters; ``spawn`` starts ``nprocs`` copies of a function, as torch's does."""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F403  (Process, Queue, Pool, set_start_method ... as torch re-exports them)
from typing import Any, Callable

from .. import _shared_memory

_shared_memory.register_reducers()

__all__ = [name for name in multiprocessing.__all__] + [
    "spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
    "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]


def get_all_sharing_strategies() -> set:
    """The ways tensors can be shared between processes: ember has one, named shared-memory blocks."""
    return {"file_system"}


def get_sharing_strategy() -> str:
    """The current sharing strategy (always ``"file_system"``: named shared-memory blocks)."""
    return "file_system"


def set_sharing_strategy(new_strategy: str) -> None:
    """Accepts torch's strategy names; ember always shares through named shared-memory blocks."""
    if new_strategy not in ("file_system", "file_descriptor"):
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}")


class ProcessException(Exception):
    """A spawned process failed."""

    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid


class ProcessRaisedException(ProcessException):
    """A spawned process raised an exception (its traceback is in the message)."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code (or was killed by a signal)."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code


def _wrap(fn: Callable, i: int, args: tuple, error_queue: Any) -> None:
    import traceback

    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        error_queue.put(traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    """The processes ``start_processes`` started; ``join()`` waits for them and raises if one failed."""

    def __init__(self, processes: list, error_queues: list) -> None:
        self.processes = processes
        self.error_queues = error_queues

    def pids(self) -> list:
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the processes; True when all have finished. A failure stops the others and raises."""
        for p in self.processes:
            p.join(timeout)
        for i, (p, q) in enumerate(zip(self.processes, self.error_queues)):
            if p.exitcode not in (0, None):
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                if not q.empty():
                    raise ProcessRaisedException(f"\n\n-- Process {i} terminated with the following error:\n{q.get()}",
                                                 i, p.pid)
                raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}", i, p.pid,
                                             p.exitcode)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:
    """Start ``nprocs`` processes running ``fn(i, *args)`` with the given start method."""
    ctx: Any = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, args, q), daemon=daemon)
        p.start()
        processes.append(p)
        queues.append(q)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:
    """Run ``fn(i, *args)`` in ``nprocs`` new processes (i = 0 .. nprocs - 1); with ``join`` wait for
    them all, raising ``ProcessRaisedException`` with the child's traceback if one fails."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


from .. import _namespace  # noqa: E402

_namespace.tidy(__name__)  # dir() and tab completion list the public API only

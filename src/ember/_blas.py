"""NumPy's BLAS thread count: run a stretch of small products on one thread, or set it process-wide.

A recurrent layer makes one small GEMM per time step (batch x hidden times hidden x 4 hidden).
NumPy's OpenBLAS splits each of them across its threads, and waking the pool costs more than the
product itself; on a machine whose cores are busy with other processes a step can wait
milliseconds for a thread to be scheduled. Inside ``one_thread()`` those products run on the
calling thread alone. The count it lowers is the process's (``openblas_set_num_threads_local``
also sets the global count in NumPy's OpenBLAS 0.3.31, and returns the global one), so blocks on
several threads share it: the first in lowers it, the last out restores it. ``set_num_threads``/
``get_num_threads`` reach the same count (what ``ember.set_num_threads`` applies, as torch's
intra-op setting is). Where NumPy's BLAS is not OpenBLAS, or its library cannot be found, all of
them do nothing.

``helper()`` is the one thread that a sequential loop (the LSTM's time steps) hands independent
NumPy work to (the next steps' input rearrangement, the finished steps' weight-gradient GEMMs) while
it runs on: NumPy releases the GIL inside its kernels, so the two use two cores. It exists only
where BLAS may use more than one thread, so ``set_num_threads(1)`` keeps ember on one core.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterator

_SETTERS: Any = None  # (set_local | None, set_global | None, get_global | None), found on first use
_LIB: Any = None  # the OpenBLAS library they came from


def _sym(lib: Any, *names: str) -> Any:
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn
    return None


def _find() -> tuple:
    libs = set()
    try:
        with open("/proc/self/maps") as f:  # NumPy's OpenBLAS is loaded already: find its file
            for line in f:
                path = line.split()[-1] if line.count("/") else ""
                if "openblas" in path.lower() and "numpy" in path.lower():
                    libs.add(path)
    except OSError:
        return None, None, None
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue

        local = _sym(lib, "openblas_set_num_threads_local")
        setter = _sym(lib, "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                      "openblas_set_num_threads")
        getter = _sym(lib, "scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                      "openblas_get_num_threads")
        if local is not None or (setter is not None and getter is not None):
            for fn in (local, getter):
                if fn is not None:
                    fn.restype = ctypes.c_int
            global _LIB
            _LIB = lib
            return local, setter, getter
    return None, None, None


def _setters() -> tuple:
    global _SETTERS
    if _SETTERS is None:
        _SETTERS = _find()
    return _SETTERS


_HOLD = threading.Lock()
_held: list = [0, None]  # threads inside one_thread(), and the count to restore when the last one leaves


def get_num_threads() -> int | None:
    """NumPy's BLAS process-wide thread count, or None where that library was not found (inside
    ``one_thread()`` blocks, the count they will restore)."""
    _, setter, getter = _setters()
    if setter is None or getter is None:
        return None
    with _HOLD:
        return _held[1] if _held[0] else getter()


def set_num_threads(n: int) -> bool:
    """Set NumPy's BLAS process-wide thread count to ``n``; False where that library was not found.
    While ``one_thread()`` blocks run, it takes effect when the last of them ends."""
    _, setter, getter = _setters()
    if setter is None or getter is None:
        return False
    with _HOLD:
        if _held[0]:
            _held[1] = n
        else:
            setter(n)
    return True


def _set(n: int) -> int | None:
    """Set the count to ``n``; the one it replaces (None where no setter was found)."""
    local, setter, getter = _setters()
    if setter is not None and getter is not None:
        old = getter()
        setter(n)
        return old
    return local(n) if local is not None else None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Within the block, NumPy's BLAS calls use a single thread (the process's count: see above)."""
    with _HOLD:
        if _held[0] == 0:
            _held[1] = _set(1)
        _held[0] += 1
    try:
        yield
    finally:
        with _HOLD:
            _held[0] -= 1
            if _held[0] == 0 and _held[1] is not None:
                _set(_held[1])


_HELPER: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, the executor)


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def helper() -> ThreadPoolExecutor | None:
    """ember's helper thread, or None where BLAS is held to one thread (or one CPU is available).

    Created on first use, and afresh in a forked child (a fork copies no threads, and an executor
    whose thread is gone would wait forever). Its jobs should run under ``one_thread()``: the caller
    keeps one core, the helper the other."""
    global _HELPER
    n = get_num_threads()
    if (n if n is not None else _cpus()) < 2 or _cpus() < 2:
        return None
    pid = os.getpid()
    if _HELPER is None or _HELPER[0] != pid:
        _stop_spinning()
        _HELPER = (pid, ThreadPoolExecutor(1, thread_name_prefix="ember-helper"))
    return _HELPER[1]


def _stop_spinning() -> None:
    """OpenBLAS's idle threads busy-wait 2^28 cycles (~0.1 s) after each job before they sleep (a
    process that sleeps after one GEMM burns 0.1 s of CPU), so in a training loop, which runs a
    threaded GEMM every few milliseconds, one of them spins on the second core all the time and would
    take half of it from the helper. Unless the user chose OPENBLAS_THREAD_TIMEOUT, ember sets it to
    its minimum (2^4 cycles: they sleep at once, and a threaded GEMM wakes them with one futex call)
    and restarts them so that it takes effect; only while no other Python thread runs, so that no
    BLAS call is in flight."""
    if _LIB is None or "OPENBLAS_THREAD_TIMEOUT" in os.environ or threading.active_count() > 1:
        return
    read_env = getattr(_LIB, "openblas_read_env", None)
    shutdown = getattr(_LIB, "blas_thread_shutdown_", None)
    if read_env is None or shutdown is None:
        return
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = "4"
    read_env()
    shutdown()  # (the next threaded call starts them again, with the new timeout)


def _on_one_thread(fn: Callable[..., None], args: tuple) -> None:
    with one_thread():
        fn(*args)


def run_soon(pool: ThreadPoolExecutor | None, fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    """Queue ``fn(*args)`` on ``pool`` (BLAS on one thread there) and return its wait: it returns once
    ``fn`` has run, and runs it on the waiting thread if the helper has not started it yet (so a
    thread that waits never idles behind a queue). With no pool, ``fn`` runs at the wait."""
    if pool is None:
        return functools.partial(fn, *args)
    future = pool.submit(_on_one_thread, fn, args)

    def wait() -> None:
        if future.cancel():  # not started: do it here
            fn(*args)
        else:
            future.result()

    return wait

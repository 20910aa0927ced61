"""NumPy's BLAS thread count: run a stretch of small products on one thread, or set it process-wide.

A recurrent layer makes one small GEMM per time step (batch x hidden times hidden x 4 hidden).
NumPy's OpenBLAS splits each of them across its threads, and waking the pool costs more than the
product itself; on a machine whose cores are busy with other processes a step can wait
milliseconds for a thread to be scheduled. Inside ``one_thread()`` those products run on the
calling thread alone (OpenBLAS's thread-local setting where it has one, so other Python threads
keep theirs). ``set_num_threads``/``get_num_threads`` reach the same library's process-wide count (what
``ember.set_num_threads`` applies, as torch's intra-op setting is). Where NumPy's BLAS is not OpenBLAS, or
its library cannot be found, all of them do nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
from typing import Any, Iterator

_SETTERS: Any = None  # (set_local | None, set_global | None, get_global | None), found on first use


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
            return local, setter, getter
    return None, None, None


def _setters() -> tuple:
    global _SETTERS
    if _SETTERS is None:
        _SETTERS = _find()
    return _SETTERS


def get_num_threads() -> int | None:
    """NumPy's BLAS process-wide thread count, or None where that library was not found."""
    _, setter, getter = _setters()
    return getter() if setter is not None and getter is not None else None


def set_num_threads(n: int) -> bool:
    """Set NumPy's BLAS process-wide thread count to ``n``; False where that library was not found."""
    _, setter, getter = _setters()
    if setter is None or getter is None:
        return False
    setter(n)
    return True


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Within the block, NumPy's BLAS calls from this thread use a single thread."""
    local, setter, getter = _setters()
    if local is not None:
        old = local(1)
        try:
            yield
        finally:
            local(old)
    elif setter is not None:
        old = getter()
        setter(1)
        try:
            yield
        finally:
            setter(old)
    else:
        yield

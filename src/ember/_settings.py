"""Process-wide switches torch scripts set on their first lines: matmul precision, threads, determinism.

ember computes with NumPy on the CPU, so none of them changes a result; they hold and report what
was set, validating it as torch does, so that scripts which set and read them run unchanged. The
intra-op thread count is the exception: it is applied to NumPy's BLAS (through ``_blas``), which does
the work torch's intra-op threads would.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

_state: dict[str, Any] = {"matmul_precision": "highest", "deterministic": False, "warn_only": False, "debug_mode": 0,
          "interop_threads": None, "threads": None}
_PRECISIONS = ("highest", "high", "medium")


def get_float32_matmul_precision() -> str:
    """The float32 matmul precision last set ('highest' by default)."""
    return _state["matmul_precision"]


def set_float32_matmul_precision(precision: str) -> None:
    """Set the float32 matmul precision ('highest', 'high', 'medium'); NumPy always computes at 'highest'."""
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["matmul_precision"] = precision


def _default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def get_num_threads() -> int:
    """The number of threads for intra-op parallelism: NumPy's BLAS's count where its library is found,
    else the number last set (the CPUs available, until set)."""
    from . import _blas  # imported here: finding the library reads /proc, which `import ember` need not do

    n = _blas.get_num_threads()
    if n is not None:
        return n
    n = _state["threads"]
    return _default_threads() if n is None else n


def set_num_threads(num: int) -> None:
    """Set the number of intra-op threads: NumPy's BLAS, for the whole process, uses ``num`` threads.

    Where NumPy's BLAS library cannot be found (not OpenBLAS), the number is only recorded.
    """
    from . import _blas

    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    if num > 2 ** 31 - 1:  # torch takes a C int
        raise ValueError("Overflow when unpacking long")
    _state["threads"] = num
    _blas.set_num_threads(num)


def get_num_interop_threads() -> int:
    """The number of threads for inter-op parallelism."""
    n = _state["interop_threads"]
    return _default_threads() if n is None else n


def set_num_interop_threads(num: int) -> None:
    """Set the number of inter-op threads (recorded only)."""
    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop_threads"] = num


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms; ember's NumPy kernels already are, so this only records it."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    _state["deterministic"] = mode
    _state["warn_only"] = bool(warn_only) and mode
    _state["debug_mode"] = (1 if warn_only else 2) if mode else 0


def are_deterministic_algorithms_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True)`` is in force."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether determinism was requested with ``warn_only=True``."""
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """Set determinism by level: 'default' / 0 off, 'warn' / 1 warn only, 'error' / 2 on."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """The determinism level: 0 off, 1 warn only, 2 on."""
    return _state["debug_mode"]

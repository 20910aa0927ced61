"""Loading MPI through mpi4py on first use, and translating ember's dtypes and reduce ops to MPI's.

``import ember.distributed`` must work (and stay cheap) where mpi4py or an MPI library is missing,
so nothing here imports mpi4py at module level. mpi4py is loaded with ``rc.initialize = False``:
loading proves the library is there (``is_available``) without starting MPI, which only
``init_process_group`` does.
"""

from __future__ import annotations

import atexit
import enum
import sys
from typing import Any

import numpy as np

INSTALL_HINT = "pip install 'ember[distributed]'"

_loaded: Any = None     # the mpi4py.MPI module once loaded
_load_error: BaseException | None = None


def load() -> Any:
    """mpi4py's ``MPI`` module (not yet initialized), or None when mpi4py or its MPI library is missing."""
    global _loaded, _load_error
    if _loaded is not None or _load_error is not None:
        return _loaded
    try:
        import mpi4py

        if "mpi4py.MPI" not in sys.modules:
            # load the library now, start MPI in init_process_group (loading costs ~0.1 s, MPI_Init more)
            saved = mpi4py.rc.initialize
            mpi4py.rc.initialize = False
            try:
                from mpi4py import MPI
            finally:
                mpi4py.rc.initialize = saved
        else:
            from mpi4py import MPI
    except Exception as e:  # noqa: BLE001  (ImportError, or mpi4py's RuntimeError when libmpi is absent)
        _load_error = e
        return None
    _loaded = MPI
    return MPI


def require() -> Any:
    """The ``MPI`` module, initialized; a RuntimeError naming the extra to install when it is missing."""
    MPI = load()
    if MPI is None:
        raise RuntimeError(
            "ember.distributed runs on MPI through mpi4py, which could not be loaded "
            f"({type(_load_error).__name__}: {_load_error}). Install both with: {INSTALL_HINT}")
    if not MPI.Is_initialized():
        MPI.Init_thread(MPI.THREAD_MULTIPLE)
        atexit.register(_finalize)
    return MPI


def _finalize() -> None:
    MPI = _loaded
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.Finalize()


class RedOpType(enum.Enum):
    """The reduction a collective applies across ranks (``ReduceOp.SUM`` and so on)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"


_OPS: dict = {}   # (RedOpType, on booleans) -> MPI.Op, filled on first use
_BOOL_OPS = {RedOpType.SUM: RedOpType.MAX, RedOpType.AVG: RedOpType.MAX, RedOpType.PRODUCT: RedOpType.MIN}


def mpi_op(op: RedOpType, bool_data: bool = False) -> Any:
    """The MPI operation for ``op`` (AVG reduces as SUM, the caller divides). On booleans, stored as
    uint8, SUM and PRODUCT become or / and as torch's are."""
    found = _OPS.get((op, bool_data))
    if found is not None:
        return found
    MPI = _loaded
    table = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
             RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
    wanted = _BOOL_OPS.get(op, op) if bool_data else op
    if wanted not in table:
        raise ValueError(f"ember.distributed does not support {op} (ember does not implement torch.distributed.ReduceOp.{op.name})")
    _OPS[(op, bool_data)] = table[wanted]
    return table[wanted]


# dtypes MPI has no type for travel widened (float16 and bfloat16 as float32) and come back rounded
_WIDEN = {"float16": np.float32, "bfloat16": np.float32}


def wire_array(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """A C-contiguous array MPI can send for ``a`` and whether it is a copy (to be written back)."""
    if a.dtype == np.bool_:
        return np.ascontiguousarray(a).view(np.uint8), not a.flags.c_contiguous
    wide = _WIDEN.get(a.dtype.name)
    if wide is not None:
        return a.astype(wide), True
    if a.flags.c_contiguous:
        return a, False
    return np.ascontiguousarray(a), True


def dtype_code(dtype: np.dtype) -> int:
    """An integer naming ``dtype`` (its name's first 8 ASCII bytes), compared across ranks to catch mismatches."""
    code = _CODES.get(dtype)
    if code is None:
        code = _CODES[dtype] = int.from_bytes(dtype.name.encode()[:8], "little")
    return code


_CODES: dict = {}

"""Collectives and point-to-point messages on tensors, in place as torch's are.

Each call works on the tensors' NumPy arrays through MPI's buffer interface (no pickling). Before
a collective every rank shares a few integers describing its tensor (dtype and shape), so tensors
that differ across ranks raise the same RuntimeError on every rank instead of hanging or silently
summing mismatched data. ``async_op=True`` starts MPI's non-blocking form and returns a ``Work``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import Tensor
from . import _mpi
from ._mpi import RedOpType
from .distributed_c10d import ProcessGroup, _group, _root


class ReduceOp:
    """The reductions collectives can apply: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``,
    and the bitwise ``BAND``, ``BOR``, ``BXOR`` (on integer and boolean tensors)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class Work:
    """The handle of a collective or message started with ``async_op=True`` (or ``isend``/``irecv``):
    ``wait()`` blocks until it is done, ``is_completed()`` asks without blocking."""

    def __init__(self, requests: list, finish: Callable[[], Any] | None = None, result: list | None = None,
                 statuses: list | None = None) -> None:
        self._requests = requests
        self._statuses = statuses
        self._finish = finish
        self._done = False
        self._result = result or []

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout: Any = None) -> bool:
        """Block until the operation has finished (its results written into the tensors); returns True."""
        if not self._done:
            _mpi.require().Request.Waitall(self._requests, self._statuses)
            self._complete()
        return True

    def is_completed(self) -> bool:
        """Whether the operation has finished, without blocking (finishing it when it has)."""
        if not self._done and _mpi.require().Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        """Whether the operation finished without error (errors raise from ``wait``)."""
        return self.is_completed()

    def result(self) -> list:
        """The tensors the operation wrote, once waited for."""
        self.wait()
        return self._result

    def synchronize(self) -> None:
        """The same as ``wait()`` on CPU tensors."""
        self.wait()


def _tensor(t: Any, param: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type ember.Tensor but got {type(t)} instead.")
    return t


def _tensors(ts: Any, param: str) -> list[Tensor]:
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type List[ember.Tensor] but got {type(ts)} instead.")
    return list(ts)


def _describe(a: np.ndarray | None) -> str:
    return "nothing" if a is None else f"{a.dtype} {list(a.shape)}"


def _check_same(pg: ProcessGroup, a: np.ndarray, op_name: str) -> None:
    """Every rank's ``a`` must have one dtype and shape; all ranks raise the same error when not."""
    MPI = _mpi.require()
    shape = list(a.shape)
    mine = np.array([a.ndim, _mpi.dtype_code(a.dtype), a.size] + (shape + [0] * 8)[:8], np.int64)
    rows = np.empty((pg.size(), mine.size), np.int64)
    pg._comm.Allgather([mine, MPI.INT64_T], [rows, MPI.INT64_T])
    if (rows == rows[0]).all():
        return
    described = []
    for rank, row in zip(pg._ranks, rows):
        dims = [int(d) for d in row[3:3 + min(int(row[0]), 8)]]
        name = np.dtype(a.dtype).name if row[1] == mine[1] else "another dtype"
        described.append(f"rank {rank}: {name} {dims}")
    raise RuntimeError(f"{op_name}: the ranks passed tensors of different shapes or dtypes ({', '.join(described)})")


def _write_back(t: Tensor, buf: np.ndarray, copied: bool) -> None:
    a = t._data
    if copied:
        a[...] = buf.view(np.bool_) if a.dtype == np.bool_ else buf
    t._vc[0] += 1


def _check_avg(op: RedOpType, a: np.ndarray) -> None:
    if op is RedOpType.AVG and a.dtype.kind not in "fc" and a.dtype != np.bool_:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_torch_name(a.dtype)}")
    if op is RedOpType.PREMUL_SUM:
        raise ValueError("ember.distributed does not implement ReduceOp.PREMUL_SUM")


def _torch_name(dtype: np.dtype) -> str:
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte"}.get(dtype.name, dtype.name)


def _run(pg: ProcessGroup, async_op: bool, blocking: Callable[[], Any], start: Callable[[], Any],
         finish: Callable[[], Any], result: list) -> Work | None:
    """Run a collective now, or start it and hand back its Work."""
    if async_op:
        return Work([start()], finish, result)
    blocking()
    finish()
    return None


def _finisher(t: Tensor, buf: np.ndarray, copied: bool, op: RedOpType | None, size: int) -> Callable[[], None]:
    def finish() -> None:
        if op is RedOpType.AVG and buf.dtype.kind in "fc":
            np.divide(buf, size, out=buf, casting="unsafe")
        _write_back(t, buf, copied)
    return finish


def all_reduce(tensor: Tensor, op: Any = RedOpType.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` across all ranks of ``group`` with ``op``; every rank ends with the result, in place."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "all_reduce")
    if pg is None:
        return None
    MPI = _mpi.require()
    _check_avg(op, t._data)
    _check_same(pg, t._data, "all_reduce")
    buf, copied = _mpi.wire_array(t._data)
    mop = _mpi.mpi_op(op, t._data.dtype == np.bool_)
    return _run(pg, async_op, lambda: pg._comm.Allreduce(MPI.IN_PLACE, buf, mop),
                lambda: pg._comm.Iallreduce(MPI.IN_PLACE, buf, mop), _finisher(t, buf, copied, op, pg.size()), [t])


def broadcast(tensor: Tensor, src: int | None = None, group: Any = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank of ``group``."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "broadcast")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "src")
    _check_same(pg, t._data, "broadcast")
    buf, copied = _mpi.wire_array(t._data)
    copied = copied and pg.rank() != root
    return _run(pg, async_op, lambda: pg._comm.Bcast(buf, root), lambda: pg._comm.Ibcast(buf, root),
                _finisher(t, buf, copied, None, pg.size()), [t])


def reduce(tensor: Tensor, dst: int | None = None, op: Any = RedOpType.SUM, group: Any = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:
    """Reduce ``tensor`` across ``group`` with ``op`` into rank ``dst``'s ``tensor`` (the others' are left as they were)."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "reduce")
    if pg is None:
        return None
    MPI = _mpi.require()
    root = _root(pg, dst, group_dst, "dst")
    _check_avg(op, t._data)
    _check_same(pg, t._data, "reduce")
    buf, copied = _mpi.wire_array(t._data)
    mop = _mpi.mpi_op(op, t._data.dtype == np.bool_)
    if pg.rank() == root:
        args: tuple = (MPI.IN_PLACE, buf, mop, root)
        finish = _finisher(t, buf, copied, op, pg.size())
    else:  # MPI reads, never writes, a non-root's send buffer
        args = (buf, None, mop, root)
        finish = lambda: None  # noqa: E731
    return _run(pg, async_op, lambda: pg._comm.Reduce(*args), lambda: pg._comm.Ireduce(*args), finish, [t])


def _into_list(outs: list[Tensor], stacked: np.ndarray) -> Callable[[], None]:
    def finish() -> None:
        for t, part in zip(outs, stacked):
            _write_back(t, part, True)
    return finish


def _check_list(outs: list[Tensor], pg: ProcessGroup, like: np.ndarray, op_name: str, param: str) -> None:
    if len(outs) != pg.size():
        raise ValueError(f"{op_name}: `{param}` must hold one tensor per rank ({pg.size()}), got {len(outs)}")
    for i, o in enumerate(outs):
        if o._data.shape != like.shape or o._data.dtype != like.dtype:
            raise RuntimeError(f"{op_name}: {param}[{i}] is {_describe(o._data)} but the tensor is {_describe(like)}")


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False) -> Work | None:
    """Gather every rank's ``tensor`` into ``tensor_list`` (one tensor per rank, in rank order) on all ranks."""
    outs, t = _tensors(tensor_list, "tensor_list"), _tensor(tensor, "tensor")
    pg = _group(group, "all_gather")
    if pg is None:
        return None
    _check_list(outs, pg, t._data, "all_gather", "tensor_list")
    _check_same(pg, t._data, "all_gather")
    buf, _ = _mpi.wire_array(t._data)
    stacked = np.empty((pg.size(),) + buf.shape, buf.dtype)
    return _run(pg, async_op, lambda: pg._comm.Allgather(buf, stacked), lambda: pg._comm.Iallgather(buf, stacked),
                _into_list(outs, stacked), outs)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """Gather every rank's ``input_tensor`` into ``output_tensor``, concatenated (or stacked) along dim 0."""
    out, t = _tensor(output_tensor, "output_tensor"), _tensor(input_tensor, "input_tensor")
    pg = _group(group, "all_gather_into_tensor")
    if pg is None:
        return None
    if out._data.size != pg.size() * t._data.size or out._data.dtype != t._data.dtype:
        raise ValueError(f"all_gather_into_tensor: output tensor must be of the input's dtype and world_size ({pg.size()}) "
                         f"times its size, got output {_describe(out._data)} for input {_describe(t._data)}")
    _check_same(pg, t._data, "all_gather_into_tensor")
    buf, _ = _mpi.wire_array(t._data)
    whole, copied = _mpi.wire_array(out._data)
    return _run(pg, async_op, lambda: pg._comm.Allgather(buf, whole), lambda: pg._comm.Iallgather(buf, whole),
                _finisher(out, whole, copied, None, pg.size()), [out])


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: Any = RedOpType.SUM, group: Any = None,
                   async_op: bool = False) -> Work | None:
    """Reduce ``input_list`` across ranks element-wise; rank i receives the reduction of everyone's ``input_list[i]``."""
    out, ins = _tensor(output, "output"), _tensors(input_list, "input_list")
    pg = _group(group, "reduce_scatter")
    if pg is None:
        return None
    _check_list(ins, pg, out._data, "reduce_scatter", "input_list")
    stacked = np.stack([i._data for i in ins])
    return _reduce_scatter(pg, out, stacked, op, async_op, "reduce_scatter")


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = RedOpType.SUM, group: Any = None,
                          async_op: bool = False) -> Work | None:
    """Reduce ``input`` across ranks, then give rank i the i-th of ``world_size`` equal chunks (along dim 0)."""
    out, t = _tensor(output, "output"), _tensor(input, "input")
    pg = _group(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    if t._data.size != pg.size() * out._data.size or out._data.dtype != t._data.dtype:
        raise ValueError(f"reduce_scatter_tensor: input tensor must be of the output's dtype and world_size ({pg.size()}) "
                         f"times its size, got input {_describe(t._data)} for output {_describe(out._data)}")
    return _reduce_scatter(pg, out, t._data, op, async_op, "reduce_scatter_tensor")


def _reduce_scatter(pg: ProcessGroup, out: Tensor, whole: np.ndarray, op: Any, async_op: bool, op_name: str) -> Work | None:
    _check_avg(op, out._data)
    _check_same(pg, out._data, op_name)
    send, _ = _mpi.wire_array(whole)
    recv, copied = _mpi.wire_array(out._data)
    mop = _mpi.mpi_op(op, out._data.dtype == np.bool_)
    return _run(pg, async_op, lambda: pg._comm.Reduce_scatter_block(send, recv, mop),
                lambda: pg._comm.Ireduce_scatter_block(send, recv, mop), _finisher(out, recv, copied, op, pg.size()), [out])


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Collect every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (the others pass no list)."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "gather")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "dst")
    buf, _ = _mpi.wire_array(t._data)
    if pg.rank() == root:
        outs = _tensors(gather_list if gather_list is not None else [], "gather_list")
        _check_list(outs, pg, t._data, "gather", "gather_list")
        stacked = np.empty((pg.size(),) + buf.shape, buf.dtype)
        finish = _into_list(outs, stacked)
    else:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
        outs, stacked, finish = [], None, lambda: None  # type: ignore[assignment]
    _check_same(pg, t._data, "gather")
    return _run(pg, async_op, lambda: pg._comm.Gather(buf, stacked, root), lambda: pg._comm.Igather(buf, stacked, root),
                finish, outs)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None, group: Any = None,
            async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Send ``scatter_list[i]`` from rank ``src`` into rank i's ``tensor`` (the other ranks pass no list)."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "scatter")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "src")
    if pg.rank() == root:
        ins = _tensors(scatter_list if scatter_list is not None else [], "scatter_list")
        _check_list(ins, pg, t._data, "scatter", "scatter_list")
        send = _mpi.wire_array(np.stack([i._data for i in ins]))[0]
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        send = None
    _check_same(pg, t._data, "scatter")
    recv, copied = _mpi.wire_array(t._data)
    return _run(pg, async_op, lambda: pg._comm.Scatter(send, recv, root), lambda: pg._comm.Iscatter(send, recv, root),
                _finisher(t, recv, copied, None, pg.size()), [t])


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank of ``group`` has reached this call."""
    pg = _group(group, "barrier")
    if pg is None:
        return None
    return _run(pg, async_op, pg._comm.Barrier, pg._comm.Ibarrier, lambda: None, [])

"""``all_to_all_single`` and ``all_to_all``: every rank sends a (possibly different) piece to every rank.

Before the exchange every rank shares how many elements it sends to each rank, so a receiver whose
expected sizes disagree with what the senders send raises on every rank, instead of MPI reading
past a buffer or hanging.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from . import _mpi
from .collectives import Work, _run, _tensor, _tensors, _write_back
from .distributed_c10d import ProcessGroup, _group


def _exchange_counts(pg: ProcessGroup, send: list[int], recv: list[int], op_name: str) -> None:
    """Every rank's send counts, gathered; rank i must expect from rank j what rank j sends to rank i."""
    MPI = _mpi.require()
    n = pg.size()
    mine = np.array(send, np.int64)
    table = np.empty((n, n), np.int64)
    pg._comm.Allgather([mine, MPI.INT64_T], [table, MPI.INT64_T])
    me = pg.rank()
    expected = table[:, me]
    bad = [j for j in range(n) if expected[j] != recv[j]]
    flags = np.array([1 if bad else 0], np.int64)
    pg._comm.Allreduce(MPI.IN_PLACE, [flags, MPI.INT64_T], MPI.MAX)
    if flags[0]:
        detail = ", ".join(f"rank {pg._ranks[j]} sends {expected[j]} elements where {recv[j]} are expected" for j in bad)
        raise RuntimeError(f"{op_name}: the ranks' split sizes do not match ({detail or 'on another rank'})")


def _splits(t: Tensor, sizes: list[int] | None, n: int, what: str) -> list[int]:
    rows = t._data.shape[0] if t._data.ndim else 1
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise ValueError(f"all_to_all_single: {what} tensor's dim 0 ({rows}) must divide by the world size ({n}) "
                             "when no split sizes are given")
        return [rows // n] * n
    if len(sizes) != n or sum(sizes) != rows:
        raise ValueError(f"all_to_all_single: {what}_split_sizes {list(sizes)} must have one entry per rank ({n}) "
                         f"summing to dim 0 ({rows})")
    return [int(s) for s in sizes]


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list[int] | None = None,
                      input_split_sizes: list[int] | None = None, group: Any = None, async_op: bool = False) -> Work | None:
    """Split ``input`` along dim 0 (evenly, or by ``input_split_sizes``) and send piece i to rank i;
    ``output`` receives the pieces from every rank, in rank order."""
    out, t = _tensor(output, "output"), _tensor(input, "input")
    pg = _group(group, "all_to_all_single")
    if pg is None:
        return None
    n = pg.size()
    if out._data.dtype != t._data.dtype:
        raise RuntimeError(f"all_to_all_single: output is {out._data.dtype} but input is {t._data.dtype}")
    row_in = t._data[0].size if t._data.ndim and t._data.shape[0] else 1
    row_out = out._data[0].size if out._data.ndim and out._data.shape[0] else 1
    send_counts = [s * row_in for s in _splits(t, input_split_sizes, n, "input")]
    recv_counts = [s * row_out for s in _splits(out, output_split_sizes, n, "output")]
    _exchange_counts(pg, send_counts, recv_counts, "all_to_all_single")
    send, _ = _mpi.wire_array(t._data)
    recv, copied = _mpi.wire_array(out._data)
    sdis = np.concatenate([[0], np.cumsum(send_counts)[:-1]]).astype(int).tolist()
    rdis = np.concatenate([[0], np.cumsum(recv_counts)[:-1]]).astype(int).tolist()
    s_spec, r_spec = [send.reshape(-1), (send_counts, sdis)], [recv.reshape(-1), (recv_counts, rdis)]
    return _run(pg, async_op, lambda: pg._comm.Alltoallv(s_spec, r_spec), lambda: pg._comm.Ialltoallv(s_spec, r_spec),
                lambda: _write_back(out, recv, copied), [out])


def all_to_all(output_tensor_list: list[Tensor], input_tensor_list: list[Tensor], group: Any = None,
               async_op: bool = False) -> Work | None:
    """Send ``input_tensor_list[i]`` to rank i; ``output_tensor_list[j]`` receives what rank j sent here."""
    outs, ins = _tensors(output_tensor_list, "output_tensor_list"), _tensors(input_tensor_list, "input_tensor_list")
    pg = _group(group, "all_to_all")
    if pg is None:
        return None
    n = pg.size()
    if len(outs) != n or len(ins) != n:
        raise ValueError(f"all_to_all: both lists must hold one tensor per rank ({n}), got {len(outs)} and {len(ins)}")
    dtypes = {x._data.dtype for x in outs + ins}
    if len(dtypes) != 1:
        raise RuntimeError(f"all_to_all: the tensors must share one dtype, got {sorted(str(d) for d in dtypes)}")
    send_counts, recv_counts = [x._data.size for x in ins], [x._data.size for x in outs]
    _exchange_counts(pg, send_counts, recv_counts, "all_to_all")
    send = _mpi.wire_array(np.concatenate([x._data.ravel() for x in ins]))[0]
    recv = np.empty(sum(recv_counts), send.dtype)
    sdis = np.concatenate([[0], np.cumsum(send_counts)[:-1]]).astype(int).tolist()
    rdis = np.concatenate([[0], np.cumsum(recv_counts)[:-1]]).astype(int).tolist()
    s_spec, r_spec = [send, (send_counts, sdis)], [recv, (recv_counts, rdis)]

    def finish() -> None:
        for x, o, c in zip(outs, rdis, recv_counts):
            _write_back(x, recv[o:o + c].reshape(x._data.shape), True)

    return _run(pg, async_op, lambda: pg._comm.Alltoallv(s_spec, r_spec), lambda: pg._comm.Ialltoallv(s_spec, r_spec),
                finish, outs)

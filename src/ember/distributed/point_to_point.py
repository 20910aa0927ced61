"""Messages between two ranks: ``send``/``recv`` and their non-blocking forms ``isend``/``irecv``.

A received message must fill the receiving tensor exactly: a shorter one raises (MPI would
otherwise leave the tail untouched) and so does a longer one (MPI's truncation error).
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from . import _mpi
from .collectives import Work, _tensor, _write_back
from .distributed_c10d import ProcessGroup, _group, _root


def _peer(pg: ProcessGroup, rank: int | None, group_rank: int | None, what: str) -> int:
    peer = _root(pg, rank, group_rank, what)
    if peer == pg.rank():
        raise ValueError(f"Invalid {'destination' if what == 'dst' else 'source'} rank: should not be the same as the rank "
                         "of the current process.")
    return peer


def _check_tag(tag: int) -> int:
    if not isinstance(tag, int) or tag < 0:
        raise ValueError(f"tag must be a non-negative integer, got {tag!r}")
    return tag


def send(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0, group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst``, returning once it has been handed over."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "send")
    if pg is None:
        return
    peer = _peer(pg, dst, group_dst, "dst")
    buf, _ = _mpi.wire_array(t._data)
    pg._comm.Send(buf, peer, _check_tag(tag))


def isend(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
          group_dst: int | None = None) -> Work | None:
    """Start sending ``tensor`` to rank ``dst``; ``wait()`` on the returned Work before changing ``tensor``."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "isend")
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "dst")
    buf, _ = _mpi.wire_array(t._data)
    return Work([pg._comm.Isend(buf, peer, _check_tag(tag))], None, [t])


def _receiver(pg: ProcessGroup, t: Tensor, buf: Any, copied: bool, status: Any) -> Any:
    MPI = _mpi.require()

    def finish() -> None:
        got = status.Get_count(MPI.BYTE) // buf.itemsize
        if got != buf.size:
            raise RuntimeError(f"recv: rank {pg._ranks[status.Get_source()]} sent {got} elements but the receiving tensor "
                               f"holds {buf.size} ({t._data.dtype} {list(t._data.shape)})")
        _write_back(t, buf, copied)
    return finish


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0, group_src: int | None = None) -> int:
    """Receive a message into ``tensor`` from rank ``src`` (any rank when None); returns the sender's rank."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "recv")
    if pg is None:
        return -1
    MPI = _mpi.require()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "src")
    buf, copied = _mpi.wire_array(t._data)
    status = MPI.Status()
    try:
        pg._comm.Recv(buf, peer, _check_tag(tag), status)
    except MPI.Exception as e:
        raise RuntimeError(f"recv: the message does not fit the receiving tensor ({t._data.dtype} {list(t._data.shape)}): {e}")
    _receiver(pg, t, buf, copied, status)()
    return pg._ranks[status.Get_source()]


def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
          group_src: int | None = None) -> Work | None:
    """Start receiving a message into ``tensor`` from rank ``src`` (any rank when None); returns a Work."""
    t = _tensor(tensor, "tensor")
    pg = _group(group, "irecv")
    if pg is None:
        return None
    MPI = _mpi.require()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "src")
    buf, copied = _mpi.wire_array(t._data)
    status = MPI.Status()
    req = pg._comm.Irecv(buf, peer, _check_tag(tag))
    return Work([req], _receiver(pg, t, buf, copied, status), [t], [status])


class P2POp:
    """One send or receive for ``batch_isend_irecv``: ``P2POp(dist.isend, tensor, peer)`` or with ``dist.irecv``."""

    def __init__(self, op: Any, tensor: Tensor, peer: int | None = None, group: Any = None, tag: int = 0,
                 group_peer: int | None = None) -> None:
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work | None]:
    """Start every send and receive of ``p2p_op_list`` at once; returns their Work handles, in order."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]

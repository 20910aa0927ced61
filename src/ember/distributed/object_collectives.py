"""Collectives on picklable Python objects (a config dict, a list of metrics): ``broadcast_object_list``,
``all_gather_object``, ``gather_object``, ``scatter_object_list``. They pickle, so they are for small
things; tensors inside travel with their data."""

from __future__ import annotations

from typing import Any

from .distributed_c10d import _group, _root


def broadcast_object_list(object_list: list, src: int | None = None, group: Any = None, device: Any = None,
                          group_src: int | None = None) -> None:
    """Replace the items of ``object_list`` on every rank with those of rank ``src``'s list (of the same length)."""
    pg = _group(group, "broadcast_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "src")
    got = pg._comm.bcast(list(object_list) if pg.rank() == root else len(object_list), root)
    if len(got) != len(object_list):
        raise RuntimeError(f"broadcast_object_list: rank {pg._ranks[root]} sent {len(got)} objects into a list of {len(object_list)}")
    object_list[:] = got


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Fill ``object_list`` (one slot per rank) with every rank's ``obj``, in rank order, on all ranks."""
    pg = _group(group, "all_gather_object")
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list must have one slot per rank ({pg.size()}), got {len(object_list)}")
    object_list[:] = pg._comm.allgather(obj)


def gather_object(obj: Any, object_gather_list: list | None = None, dst: int | None = None, group: Any = None,
                  group_dst: int | None = None) -> None:
    """Collect every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (the others pass None)."""
    pg = _group(group, "gather_object")
    if pg is None:
        return
    root = _root(pg, dst, group_dst, "dst")
    if pg.rank() == root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(f"gather_object: object_gather_list on the destination must have one slot per rank ({pg.size()})")
    got = pg._comm.gather(obj, root)
    if pg.rank() == root:
        object_gather_list[:] = got  # type: ignore[index]


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list: list | None = None,
                        src: int | None = None, group: Any = None, group_src: int | None = None) -> None:
    """Give rank i item i of rank ``src``'s ``scatter_object_input_list``, as ``scatter_object_output_list[0]``."""
    pg = _group(group, "scatter_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    items = None
    if pg.rank() == root:
        items = list(scatter_object_input_list or [])
        if len(items) != pg.size():
            raise ValueError(f"scatter_object_list: the source's input list must have one item per rank ({pg.size()})")
    scatter_object_output_list[0] = pg._comm.scatter(items, root)

"""Tensors in shared memory, for ``torch.multiprocessing``-style training (Hogwild): ``share_memory_()``
moves a tensor's array into a named shared-memory block, and a tensor so shared travels to another
process (through ``multiprocessing``'s pickler) as the block's name, so both processes update the
same numbers. Other tensors are pickled by value, as usual."""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from multiprocessing import shared_memory

# (multiprocessing is imported on first use: it costs `import ember` several milliseconds)
_BLOCKS: dict[str, shared_memory.SharedMemory] = {}  # this process's blocks, kept open while it runs
_CREATED: list[str] = []  # the blocks this process made, unlinked when it exits
_REGISTERED = False


def share_memory_(tensor: Any) -> Any:
    """Move ``tensor``'s data into shared memory (a no-op if it is there already); returns ``tensor``."""
    if is_shared(tensor):
        return tensor
    from multiprocessing import shared_memory

    arr = tensor._data
    block = shared_memory.SharedMemory(create=True, size=max(arr.nbytes, 1))
    _BLOCKS[block.name] = block
    if not _CREATED:
        atexit.register(_unlink_created)
    _CREATED.append(block.name)
    shared: np.ndarray = np.ndarray(arr.shape, arr.dtype, buffer=block.buf)
    shared[...] = arr
    tensor._data = shared
    tensor._meta_dict()["shared_memory"] = block.name
    register_reducers()
    return tensor


def is_shared(tensor: Any) -> bool:
    """Whether ``tensor``'s data lives in shared memory."""
    return tensor._meta is not None and "shared_memory" in tensor._meta


def _unlink_created() -> None:
    for name in _CREATED:
        block = _BLOCKS.pop(name, None)
        if block is not None:
            try:
                block.unlink()
            except FileNotFoundError:
                pass


def _rebuild_shared(cls: type, name: str, shape: tuple, dtype: str, requires_grad: bool) -> Any:
    from multiprocessing import shared_memory

    from ._tensor import _new

    block = _BLOCKS.get(name)
    if block is None:
        block = _BLOCKS[name] = shared_memory.SharedMemory(name=name)
    arr: np.ndarray = np.ndarray(shape, np.dtype(dtype), buffer=block.buf)
    t = _new(arr)
    if cls is not type(t):
        t = cls(t, requires_grad)  # (Parameter)
    t.requires_grad = requires_grad
    t._meta_dict()["shared_memory"] = name
    return t


def _reduce_tensor(t: Any) -> Any:
    if is_shared(t) and t.grad_fn is None:
        return _rebuild_shared, (type(t), t._meta["shared_memory"], t._data.shape, t._data.dtype.str, t.requires_grad)
    return t.__reduce_ex__(2)


# the tensor classes whose pickling goes through _reduce_tensor (nn.parameter adds Parameter)
SHAREABLE: list[type] = []


def register_reducers() -> None:
    """Teach ``multiprocessing``'s pickler to send shared tensors by name (once per process)."""
    global _REGISTERED
    from multiprocessing import reduction

    from ._tensor import Tensor

    if Tensor not in SHAREABLE:
        SHAREABLE.insert(0, Tensor)
    for cls in SHAREABLE:
        reduction.ForkingPickler.register(cls, _reduce_tensor)
    _REGISTERED = True


def shareable(cls: type) -> None:
    """Declare a Tensor subclass whose instances may be sent by shared-memory name."""
    SHAREABLE.append(cls)
    if _REGISTERED:
        from multiprocessing import reduction

        reduction.ForkingPickler.register(cls, _reduce_tensor)

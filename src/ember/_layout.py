"""``ember.memory_format`` and ``ember.layout``: the names torch scripts pass as ``memory_format=`` / ``layout=``.

ember's tensors are strided NumPy arrays in row-major order; the objects exist so that
``model.to(memory_format=ember.channels_last)`` and ``x.layout == ember.strided`` run and print as in
torch. Asking for channels-last does not reorder the data.
"""

from __future__ import annotations

from . import _dtype


class memory_format:
    """A memory layout request (``ember.contiguous_format``, ``ember.channels_last`` ...)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{_dtype.PREFIX[0]}.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # pickled as the module-level singleton


class layout:
    """A tensor storage layout (``ember.strided``; torch's sparse layouts are named but unsupported)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{_dtype.PREFIX[0]}.{self.name}"

    def __reduce__(self) -> str:
        return self.name


memory_format.__module__ = layout.__module__ = "ember"
# (the singletons' __reduce__ names them in this module, where pickle finds them)
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")

__all__ = ["memory_format", "layout", "contiguous_format", "preserve_format", "channels_last", "channels_last_3d",
           "strided", "sparse_coo", "sparse_csr"]

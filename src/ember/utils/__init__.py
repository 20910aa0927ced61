"""ember.utils: data loading (torch.utils.data), activation checkpointing (torch.utils.checkpoint) and hook
handles (torch.utils.hooks)."""

from typing import Any

__all__ = ["data", "checkpoint", "hooks"]


def __getattr__(name: str) -> Any:
    # loaded on first use: the autograd engine imports ember.utils.hooks while `import ember` runs
    if name in ("data", "checkpoint", "hooks"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

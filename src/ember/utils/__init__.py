"""ember.utils: data loading (torch.utils.data) and activation checkpointing (torch.utils.checkpoint)."""

from typing import Any

from . import data

__all__ = ["data", "checkpoint"]


def __getattr__(name: str) -> Any:
    if name == "checkpoint":  # loaded on first use
        import importlib

        return importlib.import_module(f"{__name__}.checkpoint")
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")

"""``DataParallel`` and ``data_parallel`` on a machine without GPUs.

torch's CPU build keeps ``DataParallel`` usable as a plain wrapper (no devices to scatter to, so
its forward calls the wrapped module), while the functional ``data_parallel`` cannot find a
device type and refuses.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..modules.module import Module


class DataParallel(Module):
    """Wrap ``module`` for data parallelism; with no GPU, forward runs ``module`` unchanged."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        # no accelerator: torch leaves the device list empty and never scatters
        self.device_ids: list = []

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Call the wrapped module on the inputs as given."""
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[Any] | None = None,
                  output_device: Any = None, dim: int = 0, module_kwargs: Any = None) -> Any:
    """Evaluate ``module`` in parallel over GPUs: without one, raises torch's RuntimeError."""
    raise RuntimeError("device type could not be determined")

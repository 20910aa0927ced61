"""``ember.cuda``: the CUDA namespace of a build without CUDA, answering as torch's CPU build does.

Queries say there is no GPU (``is_available()`` is False, ``device_count()`` is 0), the calls torch
lets through without a GPU (seeding, ``empty_cache``, memory counters) do nothing, and the ones
that need a device raise torch's ``AssertionError``. Scripts written for ``device = 'cuda' if
torch.cuda.is_available() else 'cpu'`` therefore take their CPU branch.
"""

from __future__ import annotations

from typing import Any

from .._device import OutOfMemoryError  # noqa: F401  (torch.cuda.OutOfMemoryError)
from .._no_device import (  # noqa: F401
    empty_cache,
    manual_seed,
    manual_seed_all,
    max_memory_allocated,
    max_memory_reserved,
    memory_allocated,
    memory_reserved,
    seed,
    seed_all,
)
from . import amp  # noqa: F401  (the deprecated autocast / GradScaler spellings)


def _not_compiled() -> AssertionError:
    return AssertionError("ember not compiled with CUDA enabled")


def is_available() -> bool:
    """Whether a CUDA GPU can be used: never, in ember today."""
    return False


def device_count() -> int:
    """The number of CUDA GPUs: 0."""
    return 0


def is_initialized() -> bool:
    """Whether CUDA has been initialised: never without a GPU."""
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether the current GPU supports bfloat16: False without one."""
    return False


def get_arch_list() -> list:
    """The CUDA architectures this build targets: none."""
    return []


def memory_stats(device: Any = None) -> dict:
    """The caching allocator's statistics: none."""
    import collections

    return collections.OrderedDict()


def _needs_cuda(name: str, doc: str) -> Any:
    def fn(*args: Any, **kwargs: Any) -> Any:
        raise _not_compiled()

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc + " Raises torch's AssertionError: ember has no CUDA backend."
    return fn


synchronize = _needs_cuda("synchronize", "Wait for every kernel on a GPU to finish.")
current_device = _needs_cuda("current_device", "The index of the selected GPU.")
set_device = _needs_cuda("set_device", "Select a GPU.")
get_device_name = _needs_cuda("get_device_name", "A GPU's name.")
get_device_properties = _needs_cuda("get_device_properties", "A GPU's properties.")
get_device_capability = _needs_cuda("get_device_capability", "A GPU's compute capability.")
init = _needs_cuda("init", "Initialise CUDA.")
get_rng_state = _needs_cuda("get_rng_state", "A GPU generator's state.")
initial_seed = _needs_cuda("initial_seed", "A GPU generator's initial seed.")
ipc_collect = _needs_cuda("ipc_collect", "Free GPU memory shared between processes.")
mem_get_info = _needs_cuda("mem_get_info", "Free and total memory of a GPU.")
current_stream = _needs_cuda("current_stream", "The current CUDA stream.")
reset_peak_memory_stats = _needs_cuda("reset_peak_memory_stats", "Reset the peak memory counters.")


class device:
    """``with ember.cuda.device(i):`` selects GPU ``i``; entering it fails without CUDA, as in torch."""

    def __init__(self, device: Any) -> None:
        self.idx = device

    def __enter__(self) -> None:
        raise RuntimeError("ember was compiled without CUDA support")

    def __exit__(self, *exc: Any) -> None:
        return None


def __getattr__(name: str) -> Any:
    # torch.cuda.FloatTensor & co. exist as types that cannot be instantiated on a CPU build
    from .. import _legacy

    cls = _legacy.cuda_type(name)
    if cls is None:
        raise AttributeError(f"module 'ember.cuda' has no attribute '{name}'")
    globals()[name] = cls
    return cls

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""``ember.backends.cuda``: cuBLAS and scaled-dot-product-attention switches of a build without CUDA."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

from .. import _settings


class _CuBLAS:
    """``ember.backends.cuda.matmul``: cuBLAS's flags (``allow_tf32`` mirrors the float32 matmul precision)."""

    _flags = {"allow_fp16_reduced_precision_reduction": True, "allow_bf16_reduced_precision_reduction": True}

    def __getattr__(self, name: str) -> Any:
        if name == "allow_tf32":
            return _settings.get_float32_matmul_precision() != "highest"
        if name in self._flags:
            return self._flags[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "allow_tf32":
            _settings.set_float32_matmul_precision("high" if value else "highest")
        elif name in self._flags:
            self._flags[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = _CuBLAS()

_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    """Whether ember was built with CUDA: no."""
    return False


def flash_sdp_enabled() -> bool:
    """Whether flash attention may be chosen by scaled_dot_product_attention."""
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    """Allow or forbid flash attention (recorded; ember always computes attention in plain maths)."""
    _sdp["flash"] = enabled


def mem_efficient_sdp_enabled() -> bool:
    """Whether memory-efficient attention may be chosen."""
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Allow or forbid memory-efficient attention (recorded only)."""
    _sdp["mem_efficient"] = enabled


def math_sdp_enabled() -> bool:
    """Whether the plain-maths attention may be chosen."""
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    """Allow or forbid the plain-maths attention (recorded only)."""
    _sdp["math"] = enabled


def cudnn_sdp_enabled() -> bool:
    """Whether cuDNN attention may be chosen."""
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Allow or forbid cuDNN attention (recorded only)."""
    _sdp["cudnn"] = enabled


@contextlib.contextmanager
def _sdp_flags(flags: dict) -> Iterator[None]:
    old = dict(_sdp)
    _sdp.update(flags)
    try:
        yield
    finally:
        _sdp.update(old)


def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True) -> Any:
    """Deprecated context manager choosing the attention kernels allowed inside it."""
    warnings.warn("`ember.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `ember.nn.attention.sdpa_kernel()` for the new context manager, with "
                  "updated signature.", FutureWarning, stacklevel=2)
    return _sdp_flags({"flash": enable_flash, "math": enable_math, "mem_efficient": enable_mem_efficient,
                       "cudnn": enable_cudnn})

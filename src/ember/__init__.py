"""ember: PyTorch's autograd and training toolkit in readable Python on NumPy.

``import ember as torch`` and write PyTorch: tensors record every operation on a dynamic graph,
and ``backward()`` / ``ember.autograd.grad()`` walk it back with the chain rule.
"""

from __future__ import annotations

import builtins as _builtins
import sys as _sys
import typing as _typing
import warnings as _warnings

# torch does not warn when a float op overflows or meets 0/0; NumPy's warnings for ember's own
# computations (inf, nan results) are silenced rather than wrapped in costly errstate blocks
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember(\.|$)")

from . import _allocator

_allocator.tune()

from . import _dtype
from ._dtype import (bool_ as bool, complex64, complex128, dtype, float16, float32, float64,  # noqa: A004
                     get_default_dtype, int8, int16, int32, int64, promote_types, set_default_dtype, uint8)
from ._dtype import bfloat16
from ._finfo import finfo, iinfo
from ._printing import get_printoptions, printoptions, set_printoptions
from ._tensor import Size, Tensor, device
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .autograd.grad_mode import is_inference_mode_enabled
from . import ops
from .ops import *  # noqa: F403  (the public op functions: ember.ops.__all__)
from .ops.spellings import range  # noqa: A004  (torch.range; not in ops' namespace, which uses builtin range)
from ._functional_spellings import *  # noqa: F403  (torch.conv2d, torch.dropout ...: nn.functional, loaded on first call)
from .ops.complex import complex  # noqa: A004  (not in ops' namespace, where builtin complex is used)
from .autograd import functional as _autograd_functional  # noqa: F401  (sets ember.autograd.functional)
from .autograd import forward_ad as _forward_ad  # noqa: F401  (sets ember.autograd.forward_ad)
from .autograd.forward_explain import explain_forward as _explain_forward  # noqa: E402

autograd.explain_forward = _explain_forward  # (beside explain: it sits above the autograd core)
from .autograd import gradcheck as _gradcheck

# torch.autograd.gradcheck is the function (the module sits under it); installed from here, above ops
# (through an Any: to mypy, autograd.gradcheck is the submodule)
_autograd: _typing.Any = autograd
_autograd.gradcheck, _autograd.gradgradcheck = _gradcheck.gradcheck, _gradcheck.gradgradcheck
_autograd.GradcheckError = _gradcheck.GradcheckError
del _autograd_functional, _gradcheck, _autograd
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from . import random

from .ops.reduction import return_types
from ._device import OutOfMemoryError, get_default_device, set_default_device
from ._settings import (are_deterministic_algorithms_enabled, get_deterministic_debug_mode,
                        get_float32_matmul_precision, get_num_interop_threads, get_num_threads,
                        is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode,
                        set_float32_matmul_precision, set_num_interop_threads, set_num_threads,
                        use_deterministic_algorithms)
from ._legacy import *  # noqa: F403  (FloatTensor, LongTensor ... set_default_tensor_type)
from ._compile.api import compile  # noqa: A004
from ._layout import *  # noqa: F403  (memory_format, channels_last ..., layout, strided)
from .amp.autocast_mode import (autocast, get_autocast_cpu_dtype, get_autocast_dtype, get_autocast_gpu_dtype,
                                is_autocast_cpu_enabled, is_autocast_enabled, set_autocast_dtype,
                                set_autocast_enabled)

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128

__version__ = "0.1.0"

from math import e, inf, nan, pi  # noqa: E402  (torch.pi, torch.e, torch.inf, torch.nan)

newaxis = None  # torch.newaxis, as NumPy's


def is_tensor(obj: object) -> _builtins.bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> _builtins.bool:
    return input.is_floating_point()


def numel(input: Tensor) -> _builtins.int:
    return input.numel()


def result_type(tensor1: object, tensor2: object) -> dtype:
    from .ops._core import result_dtype

    return result_dtype(tensor1, tensor2)


def can_cast(from_: dtype, to: dtype) -> _builtins.bool:
    if from_.category > to.category:
        return False
    return True


def detach(input: Tensor) -> Tensor:
    return input.detach()


from . import linalg  # noqa: E402
from . import sparse  # noqa: E402
from .sparse._coo import sparse_coo_tensor  # noqa: E402
from .sparse._ops import spmm  # noqa: E402

# Loaded on first use, to keep `import ember` fast: ember.nn, ember.optim, ember.utils,
# ember.testing, ember.save / ember.load.
_LAZY_MODULES = ("nn", "optim", "utils", "testing", "serialization", "viz", "cuda", "mps", "accelerator", "backends",
                 "jit", "cpu", "compiler", "version", "fft", "special", "xpu", "multiprocessing", "func", "distributed", "distributions",
                 "_dynamo", "_inductor", "_logging")


def __getattr__(name: str) -> _typing.Any:
    import importlib

    if name in _LAZY_MODULES:
        mod = importlib.import_module(f"ember.{name}")
        globals()[name] = mod
        return mod
    if name == "vmap":  # torch.vmap is torch.func.vmap
        from .func import vmap

        globals()["vmap"] = vmap
        return vmap
    if name in ("save", "load"):
        from . import serialization

        fn = getattr(serialization, name)
        globals()[name] = fn
        return fn
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


from . import _namespace  # noqa: E402

__all__ = _namespace.public_names(_sys.modules[__name__]) + ["nn", "optim", "utils", "testing", "save", "load", "vmap"]
# dir() and tab completion list the public API only (no helper modules, typing names, node classes)
for _name in (__name__, "ember.autograd", "ember.autograd.functional", "ember.random", "ember.linalg", "ember.amp"):
    _namespace.tidy(_name, extra=tuple(n for n in _LAZY_MODULES if n[0] != "_") + ("save", "load", "vmap")
                    if _name == __name__ else ())
del _name

from . import _docs  # noqa: E402

# help() text of the op functions and Tensor members whose code has none (ember/_docs/*.py)
_docs.attach(_sys.modules[__name__], "torch")
_docs.attach(Tensor, "tensor")
_docs.attach(linalg, "linalg")
_docs.attach(autograd, "autograd")
from .ops import _vmap_hook  # noqa: E402

_vmap_hook.install([globals(), vars(ops)], ops.__all__)  # (after the docs) ember.func.vmap sees ember.X calls
_vmap_hook.install([vars(linalg)], linalg.__all__, prefix="linalg.")

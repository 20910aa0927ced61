"""Lazy modules: layers whose input size is read from their first input (``nn.LazyLinear(10)``), as
d2l and other newer code write them. Until that call their parameters are ``UninitializedParameter``s;
the first forward materialises them, runs the layer's own ``reset_parameters`` (so the random stream
is the one torch draws from at that point) and turns the module into its ordinary class
(``LazyLinear`` becomes ``Linear``). Loading a state dict materialises them from the saved shapes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._tensor import Tensor, _new
from ...autograd.grad_mode import no_grad
from ..parameter import UninitializedBuffer, UninitializedParameter, _Uninitialized
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d


class LazyModuleMixin:
    """The mechanism behind the lazy layers: a forward pre-hook that calls ``initialize_parameters``
    with the first input, then becomes ``cls_to_become``."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)  # type: ignore[attr-defined]

    def has_uninitialized_params(self) -> bool:
        """Whether any parameter or buffer still waits for its shape."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())  # type: ignore[attr-defined]
        return any(isinstance(t, _Uninitialized) for t in tensors)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Give every uninitialised parameter its shape, read from the first input."""
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list,
                              assign: bool = False) -> None:
        for group in (self._parameters, self._buffers):  # type: ignore[attr-defined]
            for name, t in group.items():
                saved = state_dict.get(prefix + name)
                if isinstance(t, _Uninitialized) and isinstance(saved, Tensor):
                    t.materialize(tuple(saved.shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,  # type: ignore[misc]
                                      missing_keys, unexpected_keys, error_msgs, assign)


def _infer_parameters(module: Any, args: tuple) -> None:
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last dimension of its first input.

    >>> layer = ember.nn.LazyLinear(2)
    >>> layer
    LazyLinear(in_features=0, out_features=2, bias=True)
    >>> _ = layer(ember.ones(4, 3))
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    _nd = 2

    def _lazy_init(self, out_channels: int, bias: bool, dtype: Any) -> None:
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:  # type: ignore[attr-defined]
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if not self.has_uninitialized_params():
            return
        s: Any = self
        with no_grad():
            s.in_channels = input.shape[1] if input.dim() == self._nd + 2 else input.shape[0]
            if s.in_channels % s.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            if s.transposed:
                s.weight.materialize((s.in_channels, s.out_channels // s.groups, *s.kernel_size))
            else:
                s.weight.materialize((s.out_channels, s.in_channels // s.groups, *s.kernel_size))
            if s.bias is not None:
                s.bias.materialize((s.out_channels,))
            s.reset_parameters()


def _lazy_conv(name: str, base: Any, nd: int) -> type:
    def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)
        self._lazy_init(out_channels, bias, dtype)

    doc = f"``{base.__name__}`` whose ``in_channels`` is read from its first input."
    return type(name, (_LazyConvMixin, base), {"__init__": __init__, "cls_to_become": base, "_nd": nd,
                                               "__doc__": doc, "__module__": __name__})


def _lazy_conv_transpose(name: str, base: Any, nd: int) -> type:
    def __init__(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation, padding_mode)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)
        self._lazy_init(out_channels, bias, dtype)

    doc = f"``{base.__name__}`` whose ``in_channels`` is read from its first input."
    return type(name, (_LazyConvMixin, base), {"__init__": __init__, "cls_to_become": base, "_nd": nd,
                                               "__doc__": doc, "__module__": __name__})


LazyConv1d = _lazy_conv("LazyConv1d", Conv1d, 1)
LazyConv2d = _lazy_conv("LazyConv2d", Conv2d, 2)
LazyConv3d = _lazy_conv("LazyConv3d", Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose("LazyConvTranspose1d", ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose("LazyConvTranspose2d", ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose("LazyConvTranspose3d", ConvTranspose3d, 3)


class _LazyNormMixin(LazyModuleMixin):
    def _lazy_init(self, affine: bool, track_running_stats: bool, dtype: Any) -> None:
        s: Any = self
        s.affine, s.track_running_stats = affine, track_running_stats
        if affine:
            s.weight = UninitializedParameter(dtype=dtype)
            s.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            s.running_mean = UninitializedBuffer(dtype=dtype)
            s.running_var = UninitializedBuffer(dtype=dtype)
            s.num_batches_tracked = _new(np.array(0, np.int64))

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:  # type: ignore[attr-defined]
            super().reset_parameters()  # type: ignore[misc]

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if not self.has_uninitialized_params():
            return
        s: Any = self
        with no_grad():
            s.num_features = input.shape[1]  # (dimension 1 even for unbatched instance-norm input, as torch reads it)
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(s, name, None)
                if isinstance(t, _Uninitialized):
                    t.materialize((s.num_features,))
            s.reset_parameters()


def _lazy_norm(name: str, base: Any, default_affine: bool) -> type:
    def __init__(self: Any, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = default_affine,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None) -> None:
        base.__init__(self, 0, eps, momentum, False, False)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)
        self._lazy_init(affine, track_running_stats, dtype)

    doc = f"``{base.__name__}`` whose ``num_features`` is read from its first input."
    attrs = {"__init__": __init__, "cls_to_become": base, "__doc__": doc, "__module__": __name__}
    return type(name, (_LazyNormMixin, base), attrs)


LazyBatchNorm1d = _lazy_norm("LazyBatchNorm1d", BatchNorm1d, True)
LazyBatchNorm2d = _lazy_norm("LazyBatchNorm2d", BatchNorm2d, True)
LazyBatchNorm3d = _lazy_norm("LazyBatchNorm3d", BatchNorm3d, True)
LazyInstanceNorm1d = _lazy_norm("LazyInstanceNorm1d", InstanceNorm1d, True)
LazyInstanceNorm2d = _lazy_norm("LazyInstanceNorm2d", InstanceNorm2d, True)
LazyInstanceNorm3d = _lazy_norm("LazyInstanceNorm3d", InstanceNorm3d, True)

"""Identity, Linear, Bilinear."""

from __future__ import annotations

import math
from typing import Any

from ..._tensor import Tensor
from ..._typing import DeviceLikeType, DType
from .. import functional as F
from .. import init
from ._utils import empty_param
from .module import Module


class Identity(Module):
    """Returns its input unchanged (a placeholder layer; constructor arguments are ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    """y = x W^T + b, with torch's default initialisation (kaiming-uniform weight, uniform bias).

    Args: ``in_features``, ``out_features``, ``bias`` (learn an additive bias). Input (*, in_features),
    output (*, out_features); ``weight`` is (out_features, in_features).

    >>> layer = ember.nn.Linear(3, 2)
    >>> layer(ember.randn(5, 3)).shape
    ember.Size([5, 2])
    >>> layer.weight.shape
    ember.Size([2, 3])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: DeviceLikeType | None = None,
                 dtype: DType | None = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = empty_param(out_features, in_features, dtype=dtype)
        if bias:
            self.bias = empty_param(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    pass


class Bilinear(Module):
    """y = x1^T A x2 + b."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: DeviceLikeType | None = None, dtype: DType | None = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = empty_param(out_features, in1_features, in2_features, dtype=dtype)
        if bias:
            self.bias = empty_param(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

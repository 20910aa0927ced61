"""Helpers shared by the distribution families: broadcasting parameters, probabilities <-> logits,
lazily computed attributes and the standard-normal draw that reparameterised samplers use."""

from __future__ import annotations

from numbers import Number
from typing import Any, Callable, Generic, TypeVar

from .._tensor import Tensor
from . import _ops as ops

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

T = TypeVar("T")
R = TypeVar("R")


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Broadcast tensors and Python numbers against each other.

    Numbers become tensors of the first tensor's dtype (the default dtype when all are numbers),
    then everything is broadcast with ``broadcast_tensors``."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), ops.get_default_dtype())
        values = tuple(v if isinstance(v, Tensor) else ops.tensor(v, dtype=dtype) for v in values)
    return tuple(ops.broadcast_tensors(*values))


def _standard_normal(shape: Any, dtype: Any, device: Any = None) -> Tensor:
    """Standard normals of ``shape``: the draws ``torch.empty(shape).normal_()`` makes."""
    return ops.empty(shape, dtype=dtype).normal_()


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum the rightmost ``dim`` dimensions of ``value`` (none when ``dim`` is 0)."""
    if dim == 0:
        return value
    return value.reshape(value.shape[: value.dim() - dim] + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: the sigmoid of each for binary events, else a softmax over the
    last dimension."""
    if is_binary:
        return ops.sigmoid(logits)
    return ops.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Keep probabilities within ``[eps, 1 - eps]`` (``eps`` of their dtype), so logs stay finite."""
    eps = ops.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped first): ``log(p) - log1p(-p)`` for binary events,
    else ``log(p)``."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ops.log(ps_clamped) - ops.log1p(-ps_clamped)
    return ops.log(ps_clamped)


class lazy_property(Generic[T, R]):
    """A property computed on first access and then stored on the instance (so it is computed once).

    The distributions use it for whichever of ``probs`` / ``logits`` was not given."""

    def __init__(self, wrapped: Callable[[T], R]) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ops.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property looks like on the class: a property too, so documentation tools see one."""

    def __init__(self, wrapped: Callable) -> None:
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (from diagonal ``diag``) of the last two dims, flattened row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    idx = ops.arange(n)
    tril_mask = idx < idx.view(-1, 1) + (diag + 1)
    return mat[..., tril_mask]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of :func:`tril_matrix_to_vec`: a lower-triangular matrix from its packed entries."""
    # the side n solves n * (n + 1) / 2 + n * diag = len(vec) (diag shifts the count)
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = ops.finfo(vec.dtype).eps
    if not round(n) - n < eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n.item()) if isinstance(n, Tensor) else round(n)
    mat = vec.new_zeros(vec.shape[:-1] + (n, n))
    idx = ops.arange(n)
    tril_mask = idx < idx.view(-1, 1) + (diag + 1)
    mat[..., tril_mask] = vec
    return mat

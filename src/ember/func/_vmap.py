"""torch.func.vmap: ``func`` mapped over a batch dimension of its inputs.

ember maps by running ``func`` once per batch element and stacking the results (torch's fallback
for ops without a batching rule, here for every op), so any function vmaps, including ones that
call other transforms (``vmap(grad(f))``), at the cost of a Python loop over the batch."""

from __future__ import annotations

import functools
from typing import Any, Callable

from .. import random as _random
from .._tensor import Tensor
from ..ops import joining
from ._pytree import tree_flatten

_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                 "'different' randomness flags on vmap or perform the randomness operation out of vmap")


def _fname(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def _batch_size(func: Callable, flat_args: list, flat_dims: list, in_dims: Any) -> int:
    sizes = []
    for x, d in zip(flat_args, flat_dims):
        if d is None:
            continue
        if not isinstance(x, Tensor):
            raise ValueError(f"vmap({_fname(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input "
                             f"but the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please "
                             "use None as the respective in_dim")
        if not -x.dim() <= d < x.dim():
            raise ValueError(f"vmap({_fname(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, "
                             f"but that input is a Tensor of dimensionality {x.dim()} so expected in_dim to satisfy "
                             f"-{x.dim()} <= in_dim < {x.dim()}.")
        sizes.append(x.shape[d])
    if not sizes:
        raise ValueError(f"vmap({_fname(func)}, in_dims={in_dims}, ...)(<inputs>): at least one input must be a "
                         "Tensor to vmap over (got in_dims that are all None)")
    if len(set(sizes)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return sizes[0]


def _expand_dims(in_dims: Any, args: tuple) -> list:
    """One in_dim per leaf of ``args``, broadcasting an int or a per-argument structure."""
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * len(tree_flatten(args)[0])
    if not isinstance(in_dims, tuple) or len(in_dims) != len(args):
        raise ValueError(f"vmap(..., in_dims={in_dims}): in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {in_dims} but inputs has {len(args)} arguments")
    out: list = []
    for d, a in zip(in_dims, args):
        n = len(tree_flatten(a)[0])
        out += [d] * n if isinstance(d, int) or d is None else tree_flatten(d)[0]
    return out


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` applied to each slice of its inputs along ``in_dims`` (an int, None for an input that
    is not mapped, or one entry per argument), the results stacked along ``out_dims``.
    ``randomness``: "error" (random ops inside raise), "same" (every slice draws the same numbers)
    or "different".

    >>> ember.func.vmap(ember.dot)(ember.ones(3, 2), ember.ones(3, 2))
    tensor([2., 2., 2.])
    """
    if randomness not in ("error", "same", "different"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flat_args, rebuild = tree_flatten(args)
        flat_dims = _expand_dims(in_dims, args)
        n = _batch_size(func, flat_args, flat_dims, in_dims)
        results = []
        state = _random.get_rng_state()
        for i in range(n):
            if randomness == "same":
                _random.set_rng_state(state)
            sliced = [x.select(d, i) if d is not None else x for x, d in zip(flat_args, flat_dims)]
            before = _random.get_rng_state() if randomness == "error" else None
            out = func(*rebuild(sliced), **kwargs)
            if before is not None and not _random.get_rng_state().equal(before):
                _random.set_rng_state(before)
                raise RuntimeError(_RANDOM_ERROR)
            results.append(out)
        flat0, out_rebuild = tree_flatten(results[0]) if results else ([], lambda x: x)
        outs = [tree_flatten(r)[0] for r in results]
        dims: list = [out_dims] * len(flat0) if isinstance(out_dims, int) or out_dims is None else tree_flatten(out_dims)[0]
        stacked = []
        for k, first in enumerate(flat0):
            if dims[k] is None:
                stacked.append(first)
                continue
            if not isinstance(first, Tensor):
                raise ValueError(f"vmap({_fname(func)}, ...): `{_fname(func)}` must only return Tensors, got type "
                                 f"{type(first)}. Did you mean to set out_dims= to None for output?")
            stacked.append(joining.stack([o[k] for o in outs], dims[k]))
        return out_rebuild(stacked)

    return wrapper

"""torch.func.vmap: ``func`` run once on whole batches of its inputs.

Each mapped input enters ``func`` as a BatchedTensor (``_batched``) with its batch dim moved to the
front; the ops ``func`` calls run on the whole batch through their batching rules
(``_batching_rules``), and the outputs leave with the batch dim moved to ``out_dims``. Nested vmap
opens one level per call; ``chunk_size`` runs the batch in pieces and concatenates.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from .. import ops
from .. import random as _random
from .._tensor import Tensor
from . import _batched, _batching_rules  # noqa: F401  (the rules fill _batched.RULES)
from ._pytree import tree_flatten, tree_spec


def _fname(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def _batch_size(func: Callable, flat_args: list, flat_dims: list, in_dims: Any) -> int:
    sizes = []
    for x, d in zip(flat_args, flat_dims):
        if d is None:
            continue
        if not isinstance(d, int):
            raise ValueError(f"vmap({_fname(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims must be int or None "
                             f"(got {d!r} of type {type(d)})")
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


def _match(dims: Any, tree: Any) -> list | None:
    """One dim per leaf of ``tree`` (an int or None applies to a whole subtree); None if they do not fit."""
    if isinstance(dims, int) or dims is None:
        return [dims] * len(tree_flatten(tree)[0])
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and len(dims) == len(tree):
        parts = [_match(d, t) for d, t in zip(dims, tree)]
    elif isinstance(dims, dict) and isinstance(tree, dict) and set(dims) == set(tree):
        parts = [_match(dims[k], tree[k]) for k in tree]
    else:
        return None
    return None if any(p is None for p in parts) else [d for p in parts for d in p]  # type: ignore[union-attr]


def _broadcast_dims(func: Callable, dims: Any, tree: Any, what: str, shown: str) -> list:
    """One dim per leaf of ``tree``, or torch's error for ``dims`` that do not fit its structure."""
    flat = _match(dims, tree)
    if flat is None:
        which = "inputs" if what == "in_dim" else "outputs"
        raise ValueError(f"vmap({_fname(func)}, {shown})(<inputs>): {what}s is not compatible with the structure of "
                         f"`{which}`. {what}s has structure {tree_spec(dims)} but {which} has structure "
                         f"{tree_spec(tree)}.")
    return flat


def _unbatch(func: Callable, out: Any, out_dims: Any, level: int, size: int) -> Any:
    """``func``'s outputs with this level's batch dim moved to ``out_dims``."""
    leaves, rebuild = tree_flatten(out)
    dims = _broadcast_dims(func, out_dims, out, "out_dim", f"..., out_dims={out_dims}")
    result = []
    for x, d in zip(leaves, dims):
        batched = isinstance(x, _batched.BatchedTensor) and x._level == level
        if d is None:
            if batched:
                raise ValueError(f"vmap({_fname(func)}, ...): `{_fname(func)}` can not return a BatchedTensor when "
                                 "out_dim is None")
            result.append(x)
        elif not isinstance(x, Tensor):
            raise ValueError(f"vmap({_fname(func)}, ...): `{_fname(func)}` must only return Tensors, got type "
                             f"{type(x)}. Did you mean to set out_dims= to None for output?")
        elif batched:
            result.append(x._phys.movedim(0, d))
        else:  # an output that does not depend on the batch: the same value for every element
            result.append(x.unsqueeze(d).expand(*x.shape[:d % (x.dim() + 1)], size, *x.shape[d % (x.dim() + 1):]))
    return rebuild(result)


def _run(func: Callable, args: tuple, kwargs: dict, flat_dims: list, size: int, out_dims: Any,
         randomness: str) -> Any:
    flat_args, rebuild = tree_flatten(args)
    level = _batched.push(size, randomness)
    try:
        inputs = [x if d is None else _batched.wrap(x.movedim(d, 0), level) for x, d in zip(flat_args, flat_dims)]
        # (a safety net for a random op no rule saw; the generator is shared by all threads, so only
        # while this is the one thread can a change of its state be this vmap's doing)
        before = _random.get_rng_state() if randomness == "error" and threading.active_count() == 1 else None
        out = _batched.entry(func)(*rebuild(inputs), **kwargs)
        if before is not None and not _random.get_rng_state().equal(before):  # (a random op the rules missed)
            _random.set_rng_state(before)
            raise RuntimeError(_batched.RANDOM_ERROR)
        return _unbatch(func, out, out_dims, level, size)
    finally:
        _batched.pop()


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """``func`` mapped over dim ``in_dims`` of its inputs (an int, None for an input that is not
    mapped, or a structure matching the arguments), the results' batch dim at ``out_dims``. The
    ops run once on the whole batch; an op without a batching rule runs once per element with a
    performance warning. ``randomness``: random ops raise ("error"), draw the same numbers for every
    element ("same") or independent ones ("different"). ``chunk_size`` maps that many at a time.

    >>> ember.func.vmap(ember.dot)(ember.ones(3, 2), ember.ones(3, 2))
    tensor([2., 2., 2.])
    """
    if randomness not in ("error", "same", "different"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not isinstance(in_dims, (int, tuple)) and in_dims is not None:
            raise ValueError(f"vmap({_fname(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int "
                             f"or a (potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
        flat_dims = _broadcast_dims(func, in_dims, args, "in_dim", f"in_dims={in_dims}, ...")
        flat_args, rebuild = tree_flatten(args)
        size = _batch_size(func, flat_args, flat_dims, in_dims)
        if chunk_size is None or chunk_size >= size:
            return _run(func, args, kwargs, flat_dims, size, out_dims, randomness)
        pieces = []
        state = _random.get_rng_state() if randomness == "same" else None
        for start in range(0, size, chunk_size):
            if state is not None:  # (the same numbers for every element, across chunks too)
                _random.set_rng_state(state)
            n = min(chunk_size, size - start)
            chunk = [x if d is None else x.narrow(d, start, n) for x, d in zip(flat_args, flat_dims)]
            pieces.append(_run(func, rebuild(chunk), kwargs, flat_dims, n, out_dims, randomness))
        flat_pieces = [tree_flatten(p)[0] for p in pieces]
        leaves, out_rebuild = tree_flatten(pieces[0])
        dims = _broadcast_dims(func, out_dims, pieces[0], "out_dim", f"..., out_dims={out_dims}")
        return out_rebuild([leaves[k] if d is None else ops.cat([fp[k] for fp in flat_pieces], d)
                            for k, d in enumerate(dims)])

    return wrapper

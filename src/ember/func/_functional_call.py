"""Calling a module with parameters and buffers other than its own (``functional_call``), and
stacking the states of several models for ``vmap`` ensembles (``stack_module_state``)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..ops import joining


@contextlib.contextmanager
def _swapped(module: Any, tensors: dict, strict: bool) -> Iterator[None]:
    own = dict(module.named_parameters()) | dict(module.named_buffers())
    if strict:
        missing = [k for k in own if k not in tensors]
        unexpected = [k for k in tensors if k not in own]
        if missing or unexpected:
            parts = []
            if unexpected:
                parts.append(f"Unexpected key(s): {', '.join(repr(k) for k in unexpected)}.")
            if missing:
                parts.append(f"Missing key(s): {', '.join(repr(k) for k in missing)}.")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(parts))
    saved = []
    try:
        for name, value in tensors.items():
            *path, leaf = name.split(".")
            owner = module
            for p in path:
                owner = getattr(owner, p)
            for store in ("_parameters", "_buffers"):
                d = owner.__dict__.get(store, {})
                if leaf in d:
                    saved.append((d, leaf, d[leaf]))
                    d[leaf] = value
                    break
            else:
                saved.append((owner.__dict__, leaf, owner.__dict__.get(leaf)))
                owner.__dict__[leaf] = value
        yield
    finally:
        for d, leaf, old in reversed(saved):
            d[leaf] = old


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with its parameters and buffers replaced, for this call only, by
    the tensors in ``parameter_and_buffer_dicts`` (one dict, or several to merge), keyed by
    ``named_parameters()`` names; the module itself is left as it was.

    >>> m = ember.nn.Linear(2, 1)
    >>> ember.func.functional_call(m, {"weight": ember.ones(1, 2), "bias": ember.zeros(1)}, (ember.ones(2),))
    tensor([2.])
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = dict(parameter_and_buffer_dicts)
    else:
        tensors = {}
        for d in parameter_and_buffer_dicts:
            dup = set(tensors) & set(d)
            if dup:
                raise ValueError(f"{sorted(dup)} appeared in multiple dictionaries; behavior of functional call is "
                                 "ambiguous")
            tensors.update(d)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, tensors, strict):
        return module(*args, **(kwargs or {}))


def stack_module_state(models: Any) -> tuple:
    """The parameters and the buffers of several models of one architecture, each stacked along a new
    first dimension (``(params, buffers)`` dicts, parameters detached leaves that require grad)."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {k: joining.stack([dict(m.named_parameters())[k].detach() for m in models]).requires_grad_(
              dict(models[0].named_parameters())[k].requires_grad) for k, _ in models[0].named_parameters()}
    buffers = {k: joining.stack([dict(m.named_buffers())[k] for m in models]) for k, _ in models[0].named_buffers()}
    return params, buffers

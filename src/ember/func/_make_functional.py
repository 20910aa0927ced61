"""functorch's first module API, kept because older tutorials and papers' code still call it:
``make_functional`` / ``make_functional_with_buffers`` turn a module into a function of its parameters
(``fmodel(params, buffers, x)``), and ``combine_state_for_ensemble`` stacks several models' states for
``vmap``. torch deprecated them in favour of ``torch.func.functional_call``; here they are thin layers
over ember's ``functional_call`` (``_functional_call._swapped``).

The returned module holds a copy of the model whose parameters and buffers are meta tensors (shapes,
no data), so it cannot be run by mistake without the state passed in.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from ..nn.modules.module import Module
from ..ops import joining
from ._functional_call import _swapped


def deprecated(name: str, use: str = "functional_call(model, params_and_buffers, args)", stacklevel: int = 3) -> None:
    """torch's FutureWarning for a functorch name: functorch now lives in torch.func."""
    warnings.warn(f"`functorch.{name}` is deprecated since PyTorch 2.0 (functorch now lives in torch.func): call "
                  f"`torch.func.{use}` instead.", FutureWarning, stacklevel=stacklevel)


def _aliases(model: Module, store: str) -> tuple[tuple, dict]:
    """The distinct tensors in ``store`` (parameters or buffers) with every name each is reachable by
    (a tied weight has several), in ``named_parameters()`` order."""
    names: dict[int, list] = {}
    first: dict[int, Any] = {}
    for mod_name, mod in model.named_modules(remove_duplicate=False):
        for leaf, t in mod.__dict__.get(store, {}).items():
            if t is None:
                continue
            full = f"{mod_name}.{leaf}" if mod_name else leaf
            names.setdefault(id(t), []).append(full)
            first.setdefault(id(t), t)
    tensors = tuple(first[k] for k in names)
    return tensors, {names[k][0]: tuple(names[k]) for k in names}


def _state(model: Module, with_buffers: bool, disable_autograd_tracking: bool) -> tuple:
    stateless = copy.deepcopy(model)
    params, param_map = _aliases(stateless, "_parameters")
    buffers, buffer_map = _aliases(stateless, "_buffers") if with_buffers else ((), {})
    params = tuple(p.detach().requires_grad_(p.requires_grad and not disable_autograd_tracking) for p in params)
    buffers = tuple(b.detach() for b in buffers)
    stateless.to("meta")  # the data lives in the returned tensors only
    return stateless, params, param_map, buffers, buffer_map


class _FunctionalBase(Module):
    def __init__(self, stateless_model: Module, param_map: dict, buffer_map: dict) -> None:
        super().__init__()
        self.stateless_model = stateless_model
        self._param_map = param_map
        self._buffer_map = buffer_map
        self.param_names = tuple(param_map)
        self.buffer_names = tuple(buffer_map)

    def _call(self, tensors: tuple, names: tuple, args: tuple, kwargs: dict) -> Any:
        maps = {**self._param_map, **self._buffer_map}
        swap = {alias: t for name, t in zip(names, tensors) for alias in maps[name]}
        with _swapped(self.stateless_model, swap, strict=False):
            return self.stateless_model(*args, **kwargs)


class FunctionalModule(_FunctionalBase):
    """A model as a function of its parameters: ``fmodel(params, *args)`` (from ``make_functional``)."""

    def forward(self, params: Any, *args: Any, **kwargs: Any) -> Any:
        return self._call(tuple(params), self.param_names, args, kwargs)


class FunctionalModuleWithBuffers(_FunctionalBase):
    """A model as a function of its parameters and buffers: ``fmodel(params, buffers, *args)``
    (from ``make_functional_with_buffers``)."""

    def forward(self, params: Any, buffers: Any, *args: Any, **kwargs: Any) -> Any:
        return self._call(tuple(params) + tuple(buffers), self.param_names + self.buffer_names, args, kwargs)


def make_functional(model: Module, disable_autograd_tracking: bool = False) -> tuple:
    """``(fmodel, params)``: ``fmodel(params, x)`` computes ``model(x)`` with ``params`` (copies of the
    model's parameters, leaves that require grad unless ``disable_autograd_tracking``). For a model
    with buffers use ``make_functional_with_buffers``."""
    deprecated("make_functional")
    if not isinstance(model, Module):
        raise RuntimeError(f"make_functional(model): Expected model to be an nn.Module, got {type(model).__name__}")
    if any(True for _ in model.buffers()):
        raise RuntimeError("make_functional(model): `model` has buffers. Please use "
                           "make_functional_with_buffers(model) instead.")
    stateless, params, param_map, _, _ = _state(model, False, disable_autograd_tracking)
    return FunctionalModule(stateless, param_map, {}), params


def make_functional_with_buffers(model: Module, disable_autograd_tracking: bool = False) -> tuple:
    """``(fmodel, params, buffers)``: ``fmodel(params, buffers, x)`` computes ``model(x)`` with copies of
    its parameters and buffers (a training-mode batch norm updates the ``buffers`` passed in)."""
    deprecated("make_functional_with_buffers")
    if not isinstance(model, Module):
        raise RuntimeError("make_functional_with_buffers(model): Expected model to be an nn.Module, got "
                           f"{type(model).__name__}")
    stateless, params, param_map, buffers, buffer_map = _state(model, True, disable_autograd_tracking)
    return FunctionalModuleWithBuffers(stateless, param_map, buffer_map), params, buffers


def combine_state_for_ensemble(models: Any) -> tuple:
    """``(fmodel, params, buffers)`` for ``vmap(fmodel)(params, buffers, x)`` over an ensemble: each
    parameter and buffer of the (same-class, same-mode) models stacked along a new first dimension,
    detached (call ``requires_grad_()`` on them to train)."""
    deprecated("combine_state_for_ensemble", "stack_module_state(models)")
    models = list(models)
    if not models:
        raise RuntimeError("combine_state_for_ensemble: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to be of the same class.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        fmodel, _, _ = make_functional_with_buffers(models[0])
    states = [(_aliases(m, "_parameters")[0], _aliases(m, "_buffers")[0]) for m in models]
    params = tuple(joining.stack([s[0][i] for s in states]).detach() for i in range(len(states[0][0])))
    buffers = tuple(joining.stack([s[1][i] for s in states]).detach() for i in range(len(states[0][1])))
    return fmodel, params, buffers

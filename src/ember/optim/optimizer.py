"""Optimizer: param_groups, state, zero_grad, step(closure), state_dict / load_state_dict."""

from __future__ import annotations

import functools
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Iterable

import numpy as np

from .._tensor import Tensor, _new
from .._typing import ParamsT
from ..utils.hooks import RemovableHandle


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _scalar(v: float, dtype: Any = np.float32) -> Tensor:
    return _new(np.array(v, dtype))


_GLOBAL_STEP_PRE_HOOKS: OrderedDict = OrderedDict()
_GLOBAL_STEP_POST_HOOKS: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` before every optimizer's ``step``; it may return new ``(args, kwargs)``."""
    h = RemovableHandle(_GLOBAL_STEP_PRE_HOOKS)
    _GLOBAL_STEP_PRE_HOOKS[h.id] = hook
    return h


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    h = RemovableHandle(_GLOBAL_STEP_POST_HOOKS)
    _GLOBAL_STEP_POST_HOOKS[h.id] = hook
    return h


def _hooks(opt: Any, name: str) -> OrderedDict:
    return opt.__dict__.setdefault(name, OrderedDict())  # (made on first use: optimizers pickled without them load)


def _run_step_hooks(step: Callable) -> Callable:
    """``step`` with the global and the optimizer's own step pre- and post-hooks around it."""
    @functools.wraps(step)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        # (a subclass's step that calls super().step() runs the hooks twice, as torch's does)
        return _hooked_step(step, self, args, kwargs)

    wrapper._runs_step_hooks = True  # type: ignore[attr-defined]
    return wrapper


def _hooked_step(step: Callable, self: Any, args: tuple, kwargs: dict) -> Any:
    args = (self,) + args  # (as torch passes them: the optimizer is the first of the step's arguments)
    for pre in chain(_GLOBAL_STEP_PRE_HOOKS.values(), _hooks(self, "_optimizer_step_pre_hooks").values()):
        res = pre(self, args, kwargs)
        if res is not None:
            if not (isinstance(res, tuple) and len(res) == 2):
                raise RuntimeError(f"{pre} must return None or a tuple of (new_args, new_kwargs), but got {res}.")
            args, kwargs = res
    out = step(*args, **kwargs)
    for post in chain(_GLOBAL_STEP_POST_HOOKS.values(), _hooks(self, "_optimizer_step_post_hooks").values()):
        post(self, args, kwargs)
    return out


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of params and hyper-parameters) and per-parameter ``state``."""

    _opt_called: bool  # set once step() has run, when an LR scheduler wraps it (optim/_lr_scheduler_base)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_runs_step_hooks", False):
            cls.step = _run_step_hooks(step)  # type: ignore[method-assign]

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` before this optimizer's ``step``; it may return new ``(args, kwargs)``."""
        h = RemovableHandle(_hooks(self, "_optimizer_step_pre_hooks"))
        _hooks(self, "_optimizer_step_pre_hooks")[h.id] = hook
        return h

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` after this optimizer's ``step``."""
        h = RemovableHandle(_hooks(self, "_optimizer_step_post_hooks"))
        _hooks(self, "_optimizer_step_post_hooks")[h.id] = hook
        return h

    def _register(self, name: str, hook: Callable, prepend: bool) -> RemovableHandle:
        d = _hooks(self, name)
        h = RemovableHandle(d)
        d[h.id] = hook
        if prepend:
            d.move_to_end(h.id, last=False)
        return h

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` before ``state_dict()`` packs the state."""
        return self._register("_optimizer_state_dict_pre_hooks", hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` after ``state_dict()``; it may return a replacement dict."""
        return self._register("_optimizer_state_dict_post_hooks", hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` before ``load_state_dict``; it may return a replacement dict."""
        return self._register("_optimizer_load_state_dict_pre_hooks", hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` after ``load_state_dict`` has loaded."""
        return self._register("_optimizer_load_state_dict_post_hooks", hook, prepend)

    def __init__(self, params: ParamsT, defaults: dict) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {params.type()}")
        param_groups: list[Any] = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for g in param_groups:
            self.add_param_group(g)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}  # (no hooks)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        s += ")"
        return s

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            import warnings

            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        param_set: set = set()
        for group in self.param_groups:
            param_set.update(id(p) for p in group["params"])
        if not param_set.isdisjoint(id(p) for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        if p.grad.grad_fn is not None:
                            p.grad.detach_()
                        else:
                            p.grad.requires_grad_(False)
                        p.grad._data[...] = 0
                        p.grad._vc[0] += 1

    def step(self, closure: Callable | None = None) -> Any:
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad._data
                if g.dtype != p._data.dtype:
                    g = g.astype(p._data.dtype)
                st = self.state.get(p)
                if st is None:
                    st = {}
                self._update(p, p._data, g, group, st)
                if st:
                    self.state[p] = st
                p._vc[0] += 1
        return loss

    def _update(self, p: Tensor, x: np.ndarray, g: np.ndarray, group: dict, state: dict) -> None:
        raise NotImplementedError

    step = _run_step_hooks(step)  # type: ignore[method-assign]

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict:
        for pre in tuple(_hooks(self, "_optimizer_state_dict_pre_hooks").values()):
            pre(self)
        packed = self._packed_state_dict()
        for post in tuple(_hooks(self, "_optimizer_state_dict_post_hooks").values()):
            res = post(self, packed)
            if res is not None:
                packed = res
        return packed

    def _packed_state_dict(self) -> dict:
        param_mappings: dict = {}
        start_index = 0

        def pack_group(group: dict) -> dict:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        for pre in tuple(_hooks(self, "_optimizer_load_state_dict_pre_hooks").values()):
            res = pre(self, state_dict)
            if res is not None:
                state_dict = res
        self._load_packed(state_dict)
        for post in tuple(_hooks(self, "_optimizer_load_state_dict_post_hooks").values()):
            post(self)

    def _load_packed(self, state_dict: dict) -> None:
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast_state(param, key, val) for key, val in v.items()}
            else:
                state[k] = v
        new_groups = []
        for group, ng in zip(groups, saved_groups):
            ng["params"] = group["params"]
            new_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": new_groups})


def _cast_state(param: Tensor, key: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        if key == "step":
            return _new(np.array(value._data, copy=True))
        arr = value._data
        if param._data.dtype.kind == "f":
            arr = arr.astype(param._data.dtype)
        return _new(np.array(arr, copy=True))
    if isinstance(value, dict):
        return {k: _cast_state(param, k, v) for k, v in value.items()}
    return value


def _params_list(params: Iterable) -> list:
    return list(params)

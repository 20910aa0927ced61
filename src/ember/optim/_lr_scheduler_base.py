"""The base of torch's chainable learning-rate schedulers, ``LRScheduler``, and what the schedulers
share: the get_lr() warning, the optimizer-step tracking and the state of per-group lambdas."""

from __future__ import annotations

import functools
import types
import warnings
import weakref
from typing import Any, cast

from .optimizer import Optimizer


class LRScheduler:
    """The base of the learning-rate schedulers: ``step()`` advances ``last_epoch`` and sets each parameter
    group's ``lr`` to ``get_lr()``; ``get_last_lr()`` returns the rates last set.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler "
                                   "with last_epoch >= 0.\nThis typically happens when:\n1. You're trying to resume "
                                   "training from a checkpoint but haven't properly loaded the optimizer state\n2. "
                                   "You're using last_epoch >= 0 for a fresh training run (not recommended)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        _track_step_called(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        # both flags are state torch saves: the first step is the constructor's, and get_lr() may tell
        # a call from step() from a user's call
        self._is_initial = True
        self._get_lr_called_within_step = False
        self._step_count = 0
        self.step()
        self._is_initial = False

    def state_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        return self._last_lr

    def get_lr(self) -> list:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        if self._step_count == 1:  # the first step after the constructor's
            if not getattr(self.optimizer.step, "_wrapped_by_lr_sched", False):
                warnings.warn("Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                              "initialization. Please, make sure to call `optimizer.step()` before "
                              "`lr_scheduler.step()`. See more details at "
                              "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate", UserWarning,
                              stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 "
                              "and later, you should call them in the opposite order: `optimizer.step()` before "
                              "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first "
                              "value of the learning rate schedule. See more details at "
                              "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate", UserWarning,
                              stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
                          "where possible. Please use `scheduler.step()` to step the scheduler. During the "
                          "deprecation, if epoch is different from None, the closed form is used instead of the new "
                          "chainable form, where available. Please open an issue if you are unable to replicate "
                          "your use case: https://github.com/pytorch/pytorch/issues/new/choose.",
                          UserWarning, stacklevel=2)
        self._set_lrs(epoch)

    def _set_lrs(self, epoch: int | None) -> None:
        # SequentialLR calls this directly at a milestone: no deprecation warning, no step counted (as torch)
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


_LRScheduler = LRScheduler
LRScheduler.__module__ = "ember.optim.lr_scheduler"  # where torch users find it (reprs, pickles)


def _warn_get_lr_outside_step(sched: LRScheduler) -> None:
    """Warn, as torch does, when a user calls ``get_lr()``: it computes the *next* rates (and may move them),
    which is rarely what was meant; ``get_last_lr()`` gives the current ones."""
    if not getattr(sched, "_get_lr_called_within_step", True):
        warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                      UserWarning, stacklevel=3)


def _track_step_called(optimizer: Optimizer) -> None:
    """Wrap the optimizer's ``step`` (once) so that it records ``_opt_called``: a scheduler stepped before any
    optimizer step warns, as torch's does. The wrapper holds the optimizer weakly (no reference cycle)."""
    step = optimizer.step
    if getattr(step, "_wrapped_by_lr_sched", False):
        return
    func, ref = getattr(step, "__func__", None), weakref.ref(optimizer)

    @functools.wraps(step)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opt = cast(Optimizer, ref())  # (alive: the wrapper is called through it)
        opt._opt_called = True
        return func(opt, *args, **kwargs) if func is not None else step(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True  # type: ignore[attr-defined]
    optimizer.step = wrapper  # type: ignore[method-assign]  # (an instance attribute over the method, as torch sets it)


class _LambdaState:
    """state_dict / load_state_dict of the schedulers driven by per-group lambdas (LambdaLR,
    MultiplicativeLR): a plain function is saved as None, any other callable as its attributes."""

    lr_lambdas: list

    def state_dict(self) -> dict:
        """The scheduler's state; a lambda's own attributes are saved only for callable objects."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state from :meth:`state_dict` (leaving ``state_dict`` as it was)."""
        lr_lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        state_dict["lr_lambdas"] = lr_lambdas
        for idx, fn in enumerate(lr_lambdas):
            if fn is not None:
                self.lr_lambdas[idx].__dict__.update(fn)

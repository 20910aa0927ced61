"""torch.utils.checkpoint: trade compute for memory by re-running a forward during backward.

Two variants, as in torch:

* reentrant (``use_reentrant=True``): an ``autograd.Function`` whose forward runs the function
  without recording a graph; its backward re-runs it with grad on and backpropagates through the
  fresh graph (the output's grad_fn is ``CheckpointFunctionBackward``);
* non-reentrant (``use_reentrant=False``): the function runs normally, but under
  ``saved_tensors_hooks`` that keep only a position for each tensor an op saves; the first unpack
  in backward re-runs the function and hands back the recomputed tensors (grad_fns are the ops' own).

Both restore the forward's RNG state for the re-run (``preserve_rng_state``), so dropout draws the
same mask.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable

from .. import autograd
from .. import random as _random
from .._tensor import Tensor
from ..autograd import engine as _engine
from ..autograd.anomaly_mode import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "detach_variable",
           "check_backward_validity", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """The recomputation did not save what the original forward saved."""


def noop_context_fn() -> tuple:
    """The default ``context_fn``: no extra context around the forward or the recomputation."""
    import contextlib

    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Detach each tensor of ``inputs``, keeping its requires_grad (fresh leaves for the re-run)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warn when no tensor input requires grad: the checkpoint would give no gradients."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


class CheckpointFunction(autograd.Function):
    """The reentrant checkpoint: forward without a graph, backward re-runs and backpropagates."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = _random.get_rng_state()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensor_inputs.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensor_inputs)
        return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        if not _engine.is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an "
                "`inputs` parameter to .backward(). To resolve this error, you can either set "
                "use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _random.fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                _random.set_rng_state(ctx.fwd_cpu_state)
            detached = detach_variable(tuple(inputs))
            with autograd.enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, out_grads = [], []
        for out, g in zip(outputs, grads):
            if isinstance(out, Tensor) and out.requires_grad:
                outs.append(out)
                out_grads.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(outs, out_grads)
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


class _Frame:
    """One non-reentrant checkpoint call: what it needs to re-run, and the re-run's saved tensors."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any, check: bool) -> None:
        self.function, self.args, self.kwargs, self.rng_state = function, args, kwargs, rng_state
        self.check = check  # determinism_check="default": compare what the re-run saves
        self.metas: list = []  # shape, dtype, device of each tensor the original forward saved
        self.recomputed: dict = {}  # position -> recomputed tensor, consumed by unpacking

    def pack(self, t: Tensor) -> int:
        self.metas.append(_meta(t))
        return len(self.metas) - 1

    def unpack(self, pos: int) -> Tensor:
        if pos not in self.recomputed:
            self.recompute()
        return self.recomputed.pop(pos)

    def recompute(self) -> None:
        saved: list = []

        def keep(t: Tensor) -> Tensor:
            saved.append(t.detach())
            return t

        with _random.fork_rng(enabled=self.rng_state is not None):
            if self.rng_state is not None:
                _random.set_rng_state(self.rng_state)
            with autograd.enable_grad(), saved_tensors_hooks(keep, lambda t: t):
                self.function(*self.args, **self.kwargs)
        if self.check:
            if len(saved) != len(self.metas):
                raise CheckpointError(
                    "torch.utils.checkpoint: A different number of tensors was saved during the original forward "
                    f"and recomputation.\nNumber of tensors saved during forward: {len(self.metas)}\n"
                    f"Number of tensors saved during recomputation: {len(saved)}.\n")
            diff = "".join(f"tensor at position {i}:\nsaved metadata: {m}\nrecomputed metadata: {_meta(t)}\n"
                           for i, (m, t) in enumerate(zip(self.metas, saved)) if m != _meta(t))
            if diff:
                raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have "
                                      f"different metadata than during the forward pass.\n{diff}.\n")
        self.recomputed = dict(enumerate(saved))


def _meta(t: Tensor) -> dict:
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable = noop_context_fn, determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, **kwargs: Any) -> Any:
    """Run ``function(*args)`` without keeping its intermediate tensors; backward runs it again.

    ``preserve_rng_state`` (default True) replays the forward's random stream in the re-run.
    Not passing ``use_reentrant`` warns and uses the reentrant variant, as torch 2.13 does.
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
            "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False "
            "is recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    frame = _Frame(function, args, kwargs, _random.get_rng_state() if preserve else None, determinism_check == "default")
    fwd_ctx, recompute_ctx = context_fn()
    if context_fn is not noop_context_fn:
        inner = frame.function

        def with_ctx(*a: Any, **k: Any) -> Any:
            with recompute_ctx:
                return inner(*a, **k)

        frame.function = with_ctx
    with fwd_ctx, saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(functions: Any, segments: int, input: Tensor, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run a Sequential (or list of modules) in ``segments`` chunks, checkpointing all but the last."""
    from ..nn.modules.container import Sequential

    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
            "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
            "two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start: int, end: int, functions: list) -> Callable:
        def forward(input: Any) -> Any:
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

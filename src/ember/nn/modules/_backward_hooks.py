"""A module's full backward hooks (``register_full_backward_hook`` / ``_pre_hook``): identity nodes on its
inputs and outputs catch the gradients that flow through the module."""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor


class _BackwardHook:
    """Wires a module's full backward hooks: identity nodes on its inputs and outputs catch the gradients."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.n_inputs = 0
        self.input_mask: list = []
        self.grad_outputs: Any = None
        self.inputs_need_grad = False

    def setup_input(self, args: tuple) -> tuple:
        from ...autograd import grad_mode

        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(idx)
        tensors = [args[i] for i in idx]
        self.inputs_need_grad = grad_mode.is_grad_enabled() and any(t._rg for t in tensors)
        if not self.inputs_need_grad:
            return args
        outs = _BackwardHookFunction.apply(self, "input", *tensors)
        outs = outs if isinstance(outs, tuple) else (outs,)
        new = list(args)
        for i, o in zip(idx, outs):
            new[i] = o
        return tuple(new)

    def setup_output(self, out: Any) -> Any:
        from ...autograd import grad_mode

        single = isinstance(out, Tensor)
        seq = (out,) if single else out
        if not isinstance(seq, tuple) or not grad_mode.is_grad_enabled():
            return out
        idx = [i for i, a in enumerate(seq) if isinstance(a, Tensor)]
        tensors = [seq[i] for i in idx]
        if not any(t._rg for t in tensors):
            return out
        self.n_outputs = len(tensors)
        res = _BackwardHookFunction.apply(self, "output", *tensors)
        res = res if isinstance(res, tuple) else (res,)
        new = list(seq)
        for i, o in zip(idx, res):
            new[i] = o
        return new[0] if single else tuple(new)

    def on_outputs(self, grads: tuple) -> tuple:
        m = self.module
        for hook in tuple(m._backward_pre_hooks.values()):
            res = hook(m, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        self.grad_outputs = grads
        if not self.inputs_need_grad:
            for hook in tuple(m._backward_hooks.values()):
                hook(m, (None,) * self.n_inputs, grads)
        return grads

    def on_inputs(self, grads: tuple) -> tuple:
        m = self.module
        for hook in tuple(m._backward_hooks.values()):
            res = hook(m, grads, self.grad_outputs)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grads):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                       f"{len(res)}, but expected {len(grads)}")
                grads = res
        return grads


def _make_hook_function() -> type:
    from ...autograd.function import Function

    class BackwardHookFunction(Function):
        @staticmethod
        def forward(ctx: Any, hook: _BackwardHook, kind: str, *tensors: Any) -> Any:
            ctx.hook, ctx.kind = hook, kind
            ctx.set_materialize_grads(False)
            ctx.mark_non_differentiable(*[t for t in tensors if not t._rg])
            outs = tuple(t.view_as(t) for t in tensors)
            return outs[0] if len(outs) == 1 else outs

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> Any:
            if ctx.kind == "output":
                grads = ctx.hook.on_outputs(tuple(grads))
            else:
                grads = ctx.hook.on_inputs(tuple(grads))
            return (None, None) + tuple(grads)

    return BackwardHookFunction


class _LazyFn:
    fn: Any = None

    @classmethod
    def apply(cls, *args: Any) -> Any:
        if cls.fn is None:
            cls.fn = _make_hook_function()
        return cls.fn.apply(*args)


_BackwardHookFunction = _LazyFn

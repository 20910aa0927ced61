"""ember.func (torch.func): function transforms that compose: ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap``, plus ``functional_call`` and
``stack_module_state`` for treating a module as a function of its parameters.

``vmap(grad(loss))`` gives per-sample gradients; ``jacrev(jacrev(f))`` a Hessian. ember runs them on
its reverse-mode engine, ``jvp``/``jacfwd`` with dual tensors (forward mode); ``vmap`` runs each op once
on the whole batch (``_batched``, ``_batching_rules``), so ``grad`` inside it backpropagates every element
in one pass."""

from __future__ import annotations

from ._forward_transforms import hessian, jacfwd, jvp
from ._functional_call import functional_call, stack_module_state
from ._grad_transforms import grad, grad_and_value, jacrev, vjp
from ._vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "stack_module_state",
           "vjp", "vmap"]

from .. import _namespace  # noqa: E402

_namespace.tidy(__name__)  # dir() and tab completion list the public API only

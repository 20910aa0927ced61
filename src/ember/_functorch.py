"""What ``import functorch`` gives under ``ember run``: the transforms of ``ember.func`` under their
functorch names (each warning, as torch's do, that it moved to torch.func), plus functorch's module API
(``make_functional``, ``make_functional_with_buffers``, ``combine_state_for_ensemble``) that older
torch.func tutorials still use."""

from __future__ import annotations

import functools
from typing import Any, Callable

from . import func as _func
from .func._make_functional import (
    FunctionalModule,
    FunctionalModuleWithBuffers,
    combine_state_for_ensemble,
    deprecated,
    make_functional,
    make_functional_with_buffers,
)


def _moved(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        deprecated(fn.__name__, fn.__name__)
        return fn(*args, **kwargs)

    return call


grad = _moved(_func.grad)
grad_and_value = _moved(_func.grad_and_value)
hessian = _moved(_func.hessian)
jacfwd = _moved(_func.jacfwd)
jacrev = _moved(_func.jacrev)
jvp = _moved(_func.jvp)
vjp = _moved(_func.vjp)
vmap = _moved(_func.vmap)

__all__ = ["FunctionalModule", "FunctionalModuleWithBuffers", "combine_state_for_ensemble", "grad", "grad_and_value",
           "hessian", "jacfwd", "jacrev", "jvp", "make_functional", "make_functional_with_buffers", "vjp", "vmap"]

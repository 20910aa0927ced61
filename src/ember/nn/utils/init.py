"""``skip_init``: build a module without spending time (or random numbers) on initialising it."""

from __future__ import annotations

import inspect
from typing import Any


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Any:
    """An instance of ``module_cls(*args, **kwargs)`` whose parameters are left for the caller to set.

    torch builds it on the meta device and allocates empty memory; ember builds it normally and then
    rewinds the default generator, so the random stream is the one torch's ``skip_init`` leaves
    (the parameter values themselves are unspecified, as in torch)."""
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    from ...random import get_rng_state, set_rng_state

    state = get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)

"""ember.utils.hooks: the handle every ``register_*hook`` returns (torch.utils.hooks)."""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Unregisters a hook: ``remove()`` (or leaving a ``with`` block) drops entry ``id`` from the hooks dict
    and from each ``extra_dict`` (per-hook flags kept beside it). The handle refers to the dicts weakly, so
    it keeps neither them nor their owner alive; the dicts must be weak-referenceable (an OrderedDict)."""

    next_id: int = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = [] if extra_dict is None else extra_dict if isinstance(extra_dict, list) else [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self) -> None:
        """Drop the hook (a second call does nothing)."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __getstate__(self) -> tuple:
        # weak references do not pickle: keep the dicts themselves (or None once gone)
        if self.extra_dict_ref:
            return self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref)
        return self.hooks_dict_ref(), self.id

    def __setstate__(self, state: tuple) -> None:
        from collections import OrderedDict

        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = () if len(state) < 3 else tuple(
            weakref.ref(OrderedDict() if d is None else d) for d in state[2])

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

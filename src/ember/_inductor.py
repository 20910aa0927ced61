"""``torch._inductor``: the code generator behind torch.compile's default backend, which ember does
not have (``ember.compile`` writes NumPy programs instead). Scripts tune it before compiling
(gpt-fast's ``torch._inductor.config.coordinate_descent_tuning = True``); its ``config`` keeps
what they set, which changes nothing here."""

from __future__ import annotations

from typing import Any


class _Config:
    """``torch._inductor.config``: any setting is kept (and read back), none changes what ember does;
    a nested group (``config.triton.unique_kernel_names``) is another such object."""

    def __init__(self, path: str = "torch._inductor.config") -> None:
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_values", {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        values = object.__getattribute__(self, "_values")
        if name not in values:
            values[name] = _Config(f"{self._path}.{name}")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __repr__(self) -> str:
        return f"<{self._path}: {self._values!r}>"


config = _Config()

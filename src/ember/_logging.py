"""``torch._logging``: which of torch.compile's logs to print (``set_logs``, or the ``TORCH_LOGS``
environment variable, as ``TORCH_LOGS="recompiles,output_code"``).

ember's compiler prints two of them: ``recompiles`` (each time a compiled function traces again,
the guard that failed) and ``output_code`` (each program it generates, the NumPy source that
``compiled.source()`` returns). Graph breaks are warnings in ember whatever the setting; the other
names torch knows (``dynamo``, ``inductor``, ``aot_graphs`` ...) are accepted and print nothing,
ember having no such stage.
"""

from __future__ import annotations

import os
from typing import Any

from . import _compile


def set_logs(**kwargs: Any) -> None:
    """Turn torch.compile's logs on or off by name (``set_logs(recompiles=True)``); a call replaces
    the previous settings, as torch's does."""
    _compile.config_values["logs"] = {name for name, on in kwargs.items() if on}


def enabled(name: str) -> bool:
    """Whether log ``name`` is on: set by ``set_logs``, else named in ``TORCH_LOGS``."""
    logs = _compile.config_values.get("logs")
    if logs is None:
        logs = {n.strip().lstrip("+-") for n in os.environ.get("TORCH_LOGS", "").split(",") if n.strip()}
    return name in logs

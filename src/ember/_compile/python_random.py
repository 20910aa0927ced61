"""Random numbers drawn in Python, which a replay (running no Python) would not draw again.

Python's ``random`` module is seen by the tracer's profile, as calls of its functions or of a
``random.Random``'s C methods; NumPy's global generator is not (its Cython functions make no
profile events), so its state is compared before and after the traced call. Either is a graph
break; ember's own random ops are replayed, drawing what eager draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMPY = ("the function draws random numbers from NumPy's global generator (np.random), which a replay would not "
         "draw again (ember's own random ops are replayed)")


def message(what: str) -> str:
    return f"{what}() draws random numbers in Python, which a replay would not draw again (ember's own random ops are replayed)"


def from_ember(frame: Any) -> bool:
    """Whether ``frame`` runs ember's own code (whose draws, if any, are ember's to replay)."""
    return frame is not None and frame.f_globals.get("__name__", "").startswith("ember")


def numpy_draws() -> tuple:
    """Where NumPy's global generator stands (its key position and the words it has used)."""
    state = np.random.get_state(legacy=False)["state"]
    return state["pos"], state["key"].tobytes()

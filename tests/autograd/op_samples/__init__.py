"""The op table's sample calls, gathered from one module per family of ops.

``SAMPLES``: every sample; ``EXEMPT``: node class name -> why no sample checks its derivative.
"""

from __future__ import annotations

from . import linalg, nn, pointwise, reduction, shape, sparse

_MODULES = (pointwise, shape, reduction, linalg, nn, sparse)

SAMPLES = [s for mod in _MODULES for s in mod.SAMPLES]
EXEMPT = {k: v for mod in _MODULES for k, v in mod.EXEMPT.items()}

"""``ember.backends``: the switches torch exposes per backend (cuDNN, cuBLAS, MPS, opt_einsum).

ember has none of these backends; each answers ``is_available()`` as a CPU-only torch build does
and keeps its flags, so that scripts that set ``ember.backends.cudnn.benchmark = True`` run unchanged.
"""

from . import cuda, cudnn, mps, opt_einsum  # noqa: F401

__all__ = ["cuda", "cudnn", "mps", "opt_einsum"]

from .. import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

"""``ember.special``: torch.special's functions, reusing ember's ops where they exist.

The functions ember had already (erf, sigmoid as ``expit``, lgamma as ``gammaln`` ...) are the
same ops, with the same graph nodes as torch; the rest live in ``ember.ops.special_functions``
(SciPy provides their values, imported on first use).
"""

from __future__ import annotations

from typing import Any

from ._tensor import Tensor
from .ops.binary_functions import xlogy  # noqa: F401  (re-exported)
from .ops.elementary import (  # noqa: F401  (re-exported)
    RoundBackward1,
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    lgamma,
    log1p,
    logit,
    polygamma,
)
from .ops.elementary import round as _round
from .ops.pointwise import (  # noqa: F401  (re-exported)
    _out,
    not_implemented,
    sigmoid,
)
from .ops.reduction import log_softmax as _log_softmax
from .ops.reduction import logsumexp as _logsumexp
from .ops.reduction import softmax as _softmax
from .ops.special_functions import (  # noqa: F401  (re-exported)
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    entr,
    erfcx,
    gammainc,
    gammaincc,
    hermite_polynomial_h,
    hermite_polynomial_he,
    i0,
    i0e,
    i1,
    i1e,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    log_ndtr,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    multigammaln,
    ndtr,
    ndtri,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    sinc,
    spherical_bessel_j0,
    xlog1py,
    zeta,
)

expit = sigmoid
gammaln = lgamma
psi = digamma



def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Round half to even (to ``decimals`` places), floating-point tensors only."""
    x = input._data
    if x.dtype.kind not in "fc":
        raise not_implemented("round_vml_cpu", x.dtype)
    # torch records the decimals overload here, even for 0 places
    return _round(input, decimals=decimals, out=out)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """softmax along ``dim`` (``dtype``: cast the input first)."""
    return _softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log_softmax along ``dim`` (``dtype``: cast the input first)."""
    return _log_softmax(input, dim, dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """log(sum(exp(input))) along ``dim``, computed stably."""
    return _logsumexp(input, dim, keepdim)


__all__ = sorted(n for n in dir() if not n.startswith("_") and n not in ("annotations", "Any", "Tensor", "lgamma",
                                                                         "sigmoid", "np", "record",
                                                                         "not_implemented", "RoundBackward1"))

from . import _namespace as _ns  # noqa: E402
from .ops import _vmap_hook  # noqa: E402

_vmap_hook.install([globals()], __all__, prefix="special.")  # ember.func.vmap sees special.X calls
_ns.tidy(__name__)  # dir() and tab completion show only __all__

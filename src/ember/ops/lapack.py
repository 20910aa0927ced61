"""What the linear-algebra ops share around NumPy's LAPACK wrappers: square-matrix checks,
torch's errors (``LinAlgError``, singular input), named-tuple results and the recording of
multi-output nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ._core import _c, _fw, _propagate, attach, needs_grad
from ._forward import with_tangents
from .reduction import _LEGACY_NAMES, _named

_RT = {
    "slogdet": _named("slogdet", ("sign", "logabsdet")),
    "qr": _named("qr", ("Q", "R")),
    "eigh": _named("eigh", ("eigenvalues", "eigenvectors")),
    "svd": _named("svd", ("U", "S", "Vh")),
    "inv_ex": _named("linalg_inv_ex", ("inverse", "info")),  # (torch names the linalg ones so)
    "cholesky_ex": _named("linalg_cholesky_ex", ("L", "info")),
}


class LinAlgError(RuntimeError):
    """A matrix that is singular, not positive-definite, ... (``torch.linalg.LinAlgError``)."""


def _square(A: Tensor, name: str, square: bool = True) -> np.ndarray:
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    a = A._data
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")
    if a.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_LEGACY_NAMES[A.dtype.name]}")
    return a


def _multi(cls: type, arrays: list, inputs: tuple, saved: tuple = (), attrs: Any = None, save_result: int | None = None) -> list:
    outs = [_new(a if a.flags.c_contiguous else a.copy()) for a in (np.asarray(x) for x in arrays)]
    if needs_grad(*inputs):
        node = attach(outs[0], cls, inputs, saved, attrs=attrs)
        node.n_outputs = len(outs)
        for i, o in enumerate(outs[1:], 1):
            o._grad_fn, o._rg, o._out_nr = node, True, i
    if _fw.on:  # (the tangents wait for _keep_outputs: the formulas read the outputs it keeps)
        _pending[id(outs[0])] = (cls, inputs, saved)
    return outs


_pending: dict = {}  # id(first output) -> (node class, inputs, saved): a forward-mode step _keep_outputs makes


def _results(n: Any) -> tuple:
    """The node's saved outputs, attached to it (as ``result`` is) when building a higher-order graph."""
    from ..autograd import grad_mode

    out = []
    for k, (arr, vc) in enumerate(n.attrs[0]):
        t = with_tangents(_new(arr, n if grad_mode._state.enabled else None, vc))
        t._out_nr = k
        out.append(t)
    return tuple(out)


def _keep_outputs(outs: list, extra: Any = None) -> None:
    node = outs[0].grad_fn
    if node is not None:
        node.attrs = (tuple((o._data, o._vc) for o in outs), extra)
    step = _pending.pop(id(outs[0]), None) if _fw.on else None
    if step is not None:
        cls, inputs, saved = step
        _propagate(cls, outs, inputs, saved, (tuple((o._data, o._vc) for o in outs), extra))


def _mT(t: Tensor) -> Tensor:
    return t.transpose(-2, -1)


def _mH(t: Tensor) -> Tensor:
    # the conjugate transpose: derivatives of complex matrices use it where real ones transpose
    return _c(t.transpose(-2, -1))


def _singular(name: str) -> RuntimeError:
    return LinAlgError(f"linalg.{name}: The diagonal element 1 is zero, the inversion could not be completed because "
                        "the input matrix is singular.")

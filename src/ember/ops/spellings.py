"""torch's other spellings of ops ember already has: the function forms of in-place methods
(``torch.acos_``), in-place comparisons and cumulative ops (``x.gt_``, ``x.cumsum_``), the legacy
linear-algebra calls older code still writes (``torch.svd``, ``torch.qr``, ``torch.cholesky``,
``torch.lu``, ``torch.lu_solve``), ``hsplit``/``vsplit``/``dsplit``, ``torch.range`` and a few
predicates. Each is a thin call into the op that does the work, so its derivative is that op's."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _dtype, _shared_memory
from .._tensor import Size, Tensor
from . import creation, cumulative, joining, linalg, views
from .decompositions import cholesky as _linalg_cholesky
from .decompositions import pinv as _pinv
from .decompositions import qr as _linalg_qr
from .decompositions import svd as _linalg_svd
from .elementary import polygamma
from .inplace import make_inplace
from .lu import lu_factor_ex
from .lu import lu_solve as _linalg_lu_solve
from .matrix_functions import matrix_power
from .reduction import _named

# --------------------------------------------------------------------------- legacy linear algebra
_SVD = _named("svd", ("U", "S", "V"))
_QR = _named("qr", ("Q", "R"))


_WARNED: set = set()


def _deprecated(message: str) -> None:
    """torch's deprecation notice for a legacy call, given once a process (as torch's TORCH_WARN_ONCE)."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """The singular value decomposition ``input = U diag(S) V^H``, returned as ``(U, S, V)``.

    torch's older form of ``ember.linalg.svd``: it returns ``V`` (not ``Vh``), ``some=True`` gives
    the reduced factors, and with ``compute_uv=False`` ``U`` and ``V`` are zero matrices."""
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        S = _linalg_svd(input, full_matrices=False)[1]
        zeros = [creation.zeros(*batch, k, k, dtype=input.dtype) for k in (m, n)]
        return _SVD(zeros[0], S, zeros[1])
    U, S, Vh = _linalg_svd(input, full_matrices=not some)
    return _SVD(U, S, Vh.mH)


def qr(input: Tensor, some: bool = True) -> Any:
    """The QR decomposition, as ``ember.linalg.qr(input, 'reduced' if some else 'complete')``."""
    _deprecated("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                "release.\nThe boolean parameter 'some' has been replaced with a string parameter 'mode'.\n"
                "Q, R = torch.qr(A, some)\nshould be replaced with\n"
                "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    Q, R = _linalg_qr(input, "reduced" if some else "complete")
    return _QR(Q, R)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor of a symmetric positive-definite matrix: lower (``L L^H = A``) or, with
    ``upper=True``, upper (``U^H U = A``). Deprecated in torch for ``ember.linalg.cholesky``."""
    _deprecated("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a "
                "future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\n"
                "L = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be replaced with\n"
                "U = torch.linalg.cholesky(A).mH\nThis transform will produce equivalent results for all valid "
                "(symmetric positive definite) inputs.")
    L = _linalg_cholesky(input)
    return L.mH if upper else L


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple:
    """The LU factorisation packed as torch's older ``torch.lu`` returns it: ``(LU, pivots)``, plus
    ``infos`` with ``get_infos=True`` (then a singular matrix is reported there, not raised)."""
    _deprecated("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will "
                "be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\n"
                "should be replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
                "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
                "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")
    LU, pivots, infos = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    return (LU, pivots, infos) if get_infos else (LU, pivots)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """Solves ``A X = b`` from ``torch.lu``'s factorisation of ``A`` (note the argument order)."""
    _deprecated("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\n"
                "X = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    return _linalg_lu_solve(LU_data, LU_pivots, b)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The Moore-Penrose pseudo-inverse (``ember.linalg.pinv`` with ``rtol=rcond``)."""
    return _pinv(input, rtol=rcond)


def _removed(name: str, replacement: str) -> Any:
    def removed(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"This function was deprecated since version 1.9 and is now removed. Use "
                           f"`{replacement}` instead of `torch.{name}` (see its documentation: the arguments and "
                           "results differ).")

    removed.__name__ = name
    removed.__doc__ = f"Removed from torch in 1.9: raises, naming ``{replacement}``."
    return removed


solve = _removed("solve", "torch.linalg.solve")
lstsq = _removed("lstsq", "torch.linalg.lstsq")
eig = _removed("eig", "torch.linalg.eig")
symeig = _removed("symeig", "torch.linalg.eigh")
matrix_rank = _removed("matrix_rank", "torch.linalg.matrix_rank")


def get_device(input: Tensor) -> int:
    """The index of the device ``input`` is on: -1 for the CPU (ember's only device)."""
    return -1


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors (torch's older name for ``outer``)."""
    return linalg.outer(input, vec2)


# --------------------------------------------------------------------------- splitting
def _split_along(name: str, input: Tensor, indices_or_sections: Any, dim: int, min_dim: int) -> tuple:
    if input.dim() < min_dim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor "
                           f"with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, int):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {indices_or_sections}!")
    return joining.tensor_split(input, indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """Splits ``input`` horizontally: along dimension 1, or 0 for a 1-D tensor (sections must divide it)."""
    return _split_along("hsplit", input, indices_or_sections, 0 if input.dim() == 1 else 1, 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """Splits a tensor of at least two dimensions vertically, along dimension 0."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """Splits a tensor of at least three dimensions depth-wise, along dimension 2."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    """Splits ``input`` along ``dim`` into pieces of the given sizes (which must add up to its size)."""
    return joining.split(input, list(split_sizes), dim)


def unsafe_split(input: Tensor, split_size: Any, dim: int = 0) -> tuple:
    """``split`` without torch's view-aliasing checks (ember's pieces are views either way)."""
    return joining.split(input, split_size, dim)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """``chunk`` without torch's view-aliasing checks (ember's pieces are views either way)."""
    return joining.chunk(input, chunks, dim)


# --------------------------------------------------------------------------- creation and predicates
def range(start: Any, end: Any, step: Any = 1, *, dtype: Any = None, device: Any = None,  # noqa: A001
          requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` inclusive, ``step`` apart, in the default float dtype.
    Deprecated in torch (its end is inclusive, unlike Python's ``range``): use ``arange``."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = int(np.floor((end - start) / step)) + 1
    dt = dtype or _dtype.get_default_dtype()
    values = np.asarray(start, np.float64) + np.arange(n, dtype=np.float64) * step
    return creation.tensor(values.astype(dt.np), dtype=dt, requires_grad=requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding ``s``, in the default float dtype unless ``dtype`` says otherwise."""
    return creation.tensor(float(s) if not isinstance(s, complex) else s,
                           dtype=dtype or _dtype.get_default_dtype(), requires_grad=requires_grad)


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is non-zero (``bool(input)``; ambiguous for other sizes)."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(()) != 0)


def is_signed(input: Tensor) -> bool:
    """Whether ``input``'s dtype is a signed type (every float and complex type, and the signed ints)."""
    return input.dtype.is_signed


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def typename(obj: Any) -> str:
    """The type's name as torch spells it: ``x.type()`` for a tensor, else ``module.QualName``."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = "" if cls.__module__ in ("builtins", "__builtin__", None) else cls.__module__ + "."
    return module + cls.__qualname__


# --------------------------------------------------------------------------- Tensor methods
def _new(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Legacy ``x.new(...)``: sizes give an uninitialised tensor, data a tensor of ``x``'s dtype."""
    dt = dtype or self.dtype
    if not args:
        return creation.empty(0, dtype=dt, requires_grad=requires_grad)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0] if args[0].dtype == dt else args[0].to(dt)
    if len(args) == 1 and not isinstance(args[0], (int, Size)):
        return creation.tensor(args[0], dtype=dt, requires_grad=requires_grad)
    size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
    return creation.empty(*size, dtype=dt, requires_grad=requires_grad)


def _cfloat(self: Tensor) -> Tensor:
    """``self`` as complex64 (``self.to(ember.complex64)``)."""
    return self.to(_dtype.complex64)


def _cdouble(self: Tensor) -> Tensor:
    """``self`` as complex128 (``self.to(ember.complex128)``)."""
    return self.to(_dtype.complex128)


def _lu_solve_method(self: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """Solves ``A X = self`` from ``torch.lu``'s factorisation of ``A``."""
    return lu_solve(self, LU_data, LU_pivots)


_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal")
_METHOD_OPS = {name: getattr(Tensor, name) for name in _COMPARISONS}


def _attach() -> None:
    methods: dict[str, Any] = {name + "_": make_inplace(fn) for name, fn in _METHOD_OPS.items()}
    methods.update(
        cumsum_=make_inplace(cumulative.cumsum), cumprod_=make_inplace(cumulative.cumprod),
        addmm_=make_inplace(linalg.addmm), addmv_=make_inplace(linalg.addmv), baddbmm_=make_inplace(linalg.baddbmm),
        addbmm_=make_inplace(linalg.addbmm), polygamma_=make_inplace(lambda self, n: polygamma(n, self)),
        svd=svd, qr=qr, cholesky=cholesky, lu=lu, lu_solve=_lu_solve_method,
        ger=ger, hsplit=hsplit, vsplit=vsplit, dsplit=dsplit, split_with_sizes=split_with_sizes,
        unsafe_split=unsafe_split, unsafe_chunk=unsafe_chunk, is_nonzero=is_nonzero, is_signed=is_signed,
        is_same_size=is_same_size, new=_new,
        cfloat=_cfloat, cdouble=_cdouble,
        matrix_power=matrix_power, share_memory_=_shared_memory.share_memory_, is_shared=_shared_memory.is_shared,
    )
    for name, fn in methods.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)


_attach()
moveaxis = views.movedim

# torch's function forms of in-place methods (torch.acos_(x) is x.acos_())
_INPLACE_FUNCTIONS = (
    "acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ atanh_ clip_ cosh_ "
    "fix_ logit_ nan_to_num_ negative_ reciprocal_ sinh_ square_ tan_ xlogy_ detach_"
).split()
globals().update({name: getattr(Tensor, name) for name in _INPLACE_FUNCTIONS})

# (``range`` is exported by ember itself: ops and its users need the builtin)
__all__ = ["svd", "qr", "cholesky", "lu", "lu_solve", "ger", "hsplit", "vsplit", "dsplit", "split_with_sizes",
           "unsafe_split", "unsafe_chunk", "scalar_tensor", "pinverse", "solve", "lstsq", "eig", "symeig", "matrix_rank",
           "get_device", "is_nonzero", "is_signed", "is_same_size",
           "typename", "moveaxis", "matrix_power", *_INPLACE_FUNCTIONS]

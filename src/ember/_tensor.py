"""class Tensor: a NumPy array plus autograd state.

Operators and most methods are attached by ``ember.ops`` when the package is imported, so this
module depends only on the autograd layer and the dtype table.
"""

from __future__ import annotations

import sys
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Iterator
from weakref import ref as _weakref

import numpy as np

from . import _device, _dtype, _meta
from ._device import device
from ._dtype import dtype as _dtype_cls
from ._meta import MetaArray
from .autograd import function as _function
from .autograd import grad_mode
from .autograd.graph import RemovableHandle, _add_hook

_NP2DT = _dtype._FROM_NP
# references to a gradient held only by the engine on its way into AccumulateGrad: the node's
# grads list, its local name, _accumulate's argument, and getrefcount's own argument (the array:
# the tensor, the local ``d`` and getrefcount's argument)
_STEAL_REFCOUNT = 4


class Size(tuple):
    """``ember.Size``: the shape of a tensor, a tuple that prints as ``ember.Size([4, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{_dtype.PREFIX[0]}.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):  # slices stay Size
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))


_CPU = _device.CPU
_META_DEVICE = _device.device("meta")
_check_device = _device.check


class Tensor:
    """A multi-dimensional array that records the operations applied to it for autograd."""

    __slots__ = ("_data", "_rg", "_grad_fn", "_out_nr", "_grad", "_vc", "_accum", "_meta", "__weakref__")

    __array_priority__ = 1000  # NumPy defers to our reflected operators

    if TYPE_CHECKING:
        # for the type checker only: the slots' types, and the methods and operators that
        # ember.ops attaches at import (attach_methods), which a static checker cannot see
        _data: np.ndarray
        _rg: bool
        _grad_fn: Any
        _out_nr: int
        _grad: Tensor | None
        _vc: list[Any]  # [version count, where the last in-place change happened]
        _accum: Any
        _meta: dict[str, Any] | None

        def __getattr__(self, name: str) -> Any: ...
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __invert__(self) -> Tensor: ...
        def __and__(self, other: Any) -> Tensor: ...
        def __or__(self, other: Any) -> Tensor: ...
        def __xor__(self, other: Any) -> Tensor: ...
        def __lt__(self, other: Any) -> Tensor: ...
        def __le__(self, other: Any) -> Tensor: ...
        def __gt__(self, other: Any) -> Tensor: ...
        def __ge__(self, other: Any) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __setitem__(self, index: Any, value: Any) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the legacy constructor: Tensor(2, 3) is uninitialised float, Tensor([1, 2]) copies data
        dt = _dtype.get_default_dtype().np
        if len(args) == 1 and not isinstance(args[0], int):
            arr = np.array(args[0]._data if isinstance(args[0], Tensor) else args[0], dtype=dt)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = np.empty(tuple(shape), dtype=dt)
        _init(self, arr)

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def dtype(self) -> _dtype_cls:
        return _NP2DT[self._data.dtype]

    @property
    def device(self) -> device:
        return _META_DEVICE if type(self._data) is MetaArray else _CPU

    @property
    def _base(self) -> Tensor | None:
        """The tensor this view's memory belongs to (the first of a chain of views); None if not a view."""
        m = self._meta
        if m is None or "base" not in m:
            return None
        t = m["base"]
        while t._meta is not None and "base" in t._meta:
            t = t._meta["base"]
        return t

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (``_base`` is that other)."""
        return self._meta is not None and "base" in self._meta

    @property
    def is_meta(self) -> bool:
        """Whether this is a meta tensor: a shape and a dtype without data (``x.to('meta')``)."""
        return type(self._data) is MetaArray

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def layout(self) -> Any:
        from ._layout import strided

        return strided

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None) -> Any:
        if type(self._data) is MetaArray:  # (its zero strides are ember's, not the tensor's)
            st = _meta.contiguous_strides(self._data.shape)
        else:
            st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[self._wrap_dim(dim)]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or _dtype.is_bfloat16(self._data.dtype)

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def get_device(self) -> int:
        return -1

    def _wrap_dim(self, dim: int, ndim: int | None = None) -> int:
        n = self._data.ndim if ndim is None else ndim
        lo, hi = (-1, 0) if n == 0 else (-n, n - 1)
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"dim must be an int, not {type(dim).__name__}")
        if dim < lo or dim > hi:
            raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
        return dim % n if n else 0

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        if self._meta is not None and "base" in self._meta and self._meta["v"] != self._vc[0]:
            self._refresh_view()  # (a view sees its base's history since an in-place op on the base)
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and self._data.dtype.kind not in "fc" and not _dtype.is_bfloat16(self._data.dtype):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if value and self._meta is not None and "views" in self._meta:
            # (a leaf's earlier views do not follow requires_grad_, as in torch; nor can an in-place op
            # make it require grad later: a leaf that requires grad refuses in-place ops)
            del self._meta["views"], self._meta["views_cap"]
            if not self._meta:
                self._meta = None
        self._rg = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Any:
        """The node that made this tensor (None for a leaf). Internal hot paths read ``_grad_fn``
        after refreshing a view themselves; this public read refreshes it, as requires_grad does."""
        if self._meta is not None and "base" in self._meta and self._meta["v"] != self._vc[0]:
            self._refresh_view()  # (a view sees its base's history since an in-place op on the base)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, value: Any) -> None:
        raise AttributeError("attribute 'grad_fn' of 'Tensor' objects is not writable")

    @grad_fn.deleter
    def grad_fn(self) -> None:
        raise AttributeError("attribute 'grad_fn' of 'Tensor' objects is not writable")

    @property
    def is_leaf(self) -> bool:
        return not self.requires_grad or self.grad_fn is None

    def _refresh_view(self) -> None:
        """Give a view whose base was modified in place the base's new history (ops/_core installs it)."""

    @property
    def output_nr(self) -> int:
        return self._out_nr

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def grad(self) -> "Tensor | None":
        if self.grad_fn is not None and not self.retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access "
                "the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_dtype.CPP_NAMES[value.dtype.name]}' to a tensor "
                    f"with grad_dtype '{_dtype.LEGACY_NAMES[self.dtype.name]}'. The gradient must match the tensor's "
                    "grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a "
                    "specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of "
                    "a tensor and its gradient may break downstream systems that assume they match.")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of size "
                    f"'{list(self._data.shape)}'. Please ensure that the gradient and the tensor are the same size")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._meta is not None and self._meta.get("retains_grad", False)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (a no-op on leaves)."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self.retains_grad:
            return
        self._meta_dict()["retains_grad"] = True
        self.grad_fn._retain_output(self._out_nr, self)

    def _meta_dict(self) -> dict:
        if self._meta is None:
            self._meta = {}
        return self._meta

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; it may return a new grad."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(self._out_nr, hook)
        return _add_hook(self._meta_dict().setdefault("hooks", OrderedDict()), hook)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> RemovableHandle:
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return _add_hook(self._meta_dict().setdefault("post_acc_hooks", OrderedDict()), hook)

    def _accumulate(self, g: "Tensor", retained: bool = False) -> None:
        # AccumulateGrad: the first gradient is copied (it may be shared with other tensors);
        # later ones add in place, or out of place when building a graph (create_graph=True).
        cur = self._grad
        if grad_mode._state.enabled:
            self._grad = g if cur is None else cur + g
        elif cur is None:
            d = g._data
            # take over a freshly computed gradient that nothing else refers to (as torch's
            # AccumulateGrad does); anything possibly shared (the same tensor sent to two inputs,
            # the user's own gradient argument, a view) is copied
            if (not retained and sys.getrefcount(g) <= _STEAL_REFCOUNT and d.base is None
                    and d.flags.writeable and sys.getrefcount(d) <= 3 and g._meta is None):
                self._grad = g
            else:
                self._grad = _new(np.array(d, copy=True), None, None)
        elif cur._rg:
            self._grad = cur + g
        else:
            d = cur._data
            if d.flags.writeable:
                np.add(d, g._data, out=d, casting="unsafe")
                cur._vc[0] += 1
            else:
                self._grad = _new(d + g._data, None, None)

    def _accumulate_array(self, d: np.ndarray, holder: list) -> None:
        # AccumulateGrad in the engine's plain loop, on the gradient's array: the first one is
        # taken over when nothing else refers to it (``holder``, the engine's list, does), else
        # copied; later ones add in place
        cur = self._grad
        if cur is None:
            if d.base is None and d.flags.writeable and sys.getrefcount(d) <= 4 and self._meta is None:
                self._grad = _new(d, None, None)
            else:
                self._grad = _new(np.array(d, copy=True), None, None)
        elif cur._rg:
            self._grad = cur + _new(d)
        else:
            c = cur._data
            if c.flags.writeable:
                np.add(c, d, out=c, casting="unsafe")
                cur._vc[0] += 1
            else:
                self._grad = _new(c + d, None, None)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data (and version counter) that is cut from the graph."""
        return _new(self._data, None, self._vc)

    def detach_(self) -> "Tensor":
        self._grad_fn = None
        self._rg = False
        return self

    @property
    def data(self) -> "Tensor":
        # shares the storage but, unlike detach(), not the version counter (as torch's .data)
        return _new(self._data, None, None)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._rg and value._data.dtype.kind not in "fc":
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Tensor | Sequence[Tensor] | None = None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        Walks the graph that recorded ``self`` back to its leaves with the chain rule; gradients add
        to what ``.grad`` already holds (call ``optimizer.zero_grad()`` between steps).

        Args:
            gradient: d(loss)/d(self), needed when ``self`` is not a scalar (the vector of the
                vector-Jacobian product); a scalar's defaults to 1.
            retain_graph: keep the graph's saved tensors so backward can run through it again
                (defaults to ``create_graph``).
            create_graph: record the backward pass itself, for higher-order derivatives.
            inputs: accumulate only into these leaves.

        >>> x = ember.tensor([1., 2., 3.], requires_grad=True)
        >>> (x ** 2).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
        """
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        # torch refuses only while grad mode is on (a custom Function's forward runs with it off)
        if self._rg and not force and grad_mode._state.enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if _dtype.is_bfloat16(self._data.dtype):
            raise TypeError("Got unsupported ScalarType BFloat16")
        if type(self._data) is MetaArray:
            raise TypeError("can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the tensor to "
                            "host memory first.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()  # torch's refusal for a tensor that requires grad, while grad mode is on
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return np.array(a, copy=True) if copy else a

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        if type(self._data) is MetaArray:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def _one_element(self) -> Any:
        # float(t) / int(t) / complex(t) word it differently from t.item()
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        return float(self._one_element())

    def __int__(self) -> int:
        return int(self._one_element())

    def __complex__(self) -> complex:
        return complex(self._one_element())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element: Any) -> bool:
        if isinstance(element, Tensor):
            element = element._data
        return bool((self._data == element).any())

    def __reduce_ex__(self, proto: Any) -> tuple:
        return (_rebuild, (self._data, self._rg))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the "
                "moment.")
        new = type(self).__new__(type(self))
        _init(new, self._data.copy())
        new._rg = self._rg
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        if hasattr(self, "__dict__"):
            import copy

            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = new
        return new

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._printing import tensor_repr
        from .autograd import _forward_levels as _lv

        # (the tangent at forward_ad's level, as torch prints it)
        tangent = next((_lv.get(self, lv) for lv in _lv.levels if lv.public), None) if _lv.levels else None
        return tensor_repr(self, tensor_contents=tensor_contents, tangent=tangent)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        from ._printing import format_tensor

        return format_tensor(self, spec)

    # dtype conversions -------------------------------------------------
    def _cast_np(self, npdtype: Any) -> "Tensor":
        return self.to(_NP2DT[np.dtype(npdtype)])

    def cpu(self) -> "Tensor":
        if type(self._data) is MetaArray:
            raise NotImplementedError(_meta.NO_DATA)
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> "Tensor":
        """Copy to a CUDA device: raises torch's CPU-build error (ember has no CUDA backend yet)."""
        _check_device("cuda" if device is None else device)
        return self  # pragma: no cover

    @property
    def is_cpu(self) -> bool:
        return type(self._data) is not MetaArray

    @property
    def is_mps(self) -> bool:
        return False

    def is_pinned(self, device: Any = None) -> bool:
        return False

    def pin_memory(self, device: Any = None) -> "Tensor":
        """Pinned memory exists only for an accelerator's transfers; a CPU-only build raises as torch does."""
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def float(self) -> "Tensor":
        return self.to(_dtype.float32)

    def double(self) -> "Tensor":
        return self.to(_dtype.float64)

    def half(self) -> "Tensor":
        return self.to(_dtype.float16)

    def bfloat16(self) -> "Tensor":
        return self.to(_dtype.bfloat16)

    def long(self) -> "Tensor":
        return self.to(_dtype.int64)

    def int(self) -> "Tensor":
        return self.to(_dtype.int32)

    def short(self) -> "Tensor":
        return self.to(_dtype.int16)

    def char(self) -> "Tensor":
        return self.to(_dtype.int8)

    def byte(self) -> "Tensor":
        return self.to(_dtype.uint8)

    def bool(self) -> "Tensor":
        return self.to(_dtype.bool_)

    def _bump(self) -> None:
        self._vc[0] += 1


_PACKAGE_DIR = __file__.rsplit("/", 1)[0]


def bump_version(t: Tensor) -> None:
    """Count an in-place change of ``t`` and remember where the user's code made it, so that a
    backward that finds a saved tensor modified can say which line did it (beyond torch)."""
    vc = t._vc
    vc[0] += 1
    f: Any = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    site = f'File "{f.f_code.co_filename}", line {f.f_lineno}, in {f.f_code.co_name}' if f is not None else None
    if len(vc) == 1:
        vc.append(site)
    else:
        vc[1] = site


def track_view(base: Tensor, view: Tensor) -> None:
    """Remember (weakly) a view made in grad mode of a tensor that does not require grad: an in-place
    op that later makes the base require grad must make the view require grad too (its history is
    then read anew, as AsStridedBackward0), or ops on the view would silently drop the gradient."""
    m = base._meta
    if m is None:
        base._meta = {"views": [_weakref(view)], "views_cap": 64}
        return
    views = m.get("views")
    if views is None:
        m["views"] = views = []
        m["views_cap"] = 64
    elif len(views) >= m["views_cap"]:  # (a long-lived base viewed many times: drop the dead, amortized)
        views[:] = [r for r in views if r() is not None]
        m["views_cap"] = max(64, 2 * len(views))
    views.append(_weakref(view))


def views_require_grad(t: Tensor) -> None:
    """``t`` now requires grad after an in-place op: so do the views tracked on it, and theirs."""
    m = t._meta
    if m is None or "views" not in m:
        return
    views = m.pop("views")
    del m["views_cap"]
    for r in views:
        v = r()
        if v is not None and not v._rg and (v._data.dtype.kind in "fc" or _dtype.is_bfloat16(v._data.dtype)):
            v._rg = True  # (its grad_fn is stale: the next use or read refreshes it from the base)
            views_require_grad(v)


def _init(t: Tensor, arr: np.ndarray) -> None:
    t._data = arr
    t._rg = False
    t._grad_fn = None
    t._out_nr = 0
    t._grad = None
    t._vc = [0]
    t._accum = None
    t._meta = None


def _new(arr: Any, grad_fn: Any = None, vc: list | None = None) -> Tensor:
    """Wrap a NumPy array (no copy) as a Tensor; ``grad_fn`` makes it a non-leaf output."""
    if type(arr) is not np.ndarray and type(arr) is not MetaArray:
        arr = np.asarray(arr)
    t = object.__new__(Tensor)
    t._data = arr
    t._rg = grad_fn is not None
    t._grad_fn = grad_fn
    t._out_nr = 0
    t._grad = None
    t._vc = [0] if vc is None else vc
    t._accum = None
    t._meta = None
    return t


def _rebuild(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = _new(data)
    t._rg = requires_grad
    return t


# print as ember.Tensor / ember.Size, where torch keeps them (torch.Tensor)
Tensor.__module__ = Size.__module__ = "ember"
_function._Tensor = Tensor
_function._new_tensor = _new
_function._views_require_grad = views_require_grad

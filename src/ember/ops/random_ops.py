"""Tensor-level random sampling: the in-place ``Tensor.uniform_``/``normal_``/``bernoulli_``/
``random_``/``exponential_``/``cauchy_``/``log_normal_``/``geometric_`` methods, ``Tensor.bernoulli``,
``Tensor.multinomial``, ``bernoulli``, ``poisson`` and the ``*_like`` samplers.

The numbers come from :mod:`ember.random`, which follows torch's CPU kernels draw for draw.  What
this module adds is torch's *placement*: a sampler writes values in the order of the tensor's
memory (for a transposed or strided view that is not the logical C order), and ``normal_`` on a
non-contiguous tensor takes torch's scalar path.  So after the same seed ember and torch hold the
same numbers in the same places whatever the layout.

In-place samplers follow torch's autograd rules: a leaf that requires grad is refused under grad
mode; a non-leaf gets a ``<Name>Backward`` node whose gradient is zero (the values no longer
depend on the old ones).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from typing import Any

import numpy as np

from .. import _dtype
from .. import random as _random
from .._tensor import Tensor, _new, bump_version
from ._core import _state, attach, attach_methods, node_class, zeros_grad
from ._strides import empty_preserved
from .indexing import check_inplace

__all__ = ["bernoulli", "multinomial", "poisson", "rand_like", "randn_like", "randint_like"]


def _gen(generator: Any) -> _random.Generator:
    if generator is None:
        return _random.default_generator
    if not isinstance(generator, _random.Generator):
        raise TypeError(f"expected a torch.Generator, but got {type(generator).__name__}")
    return generator


# --------------------------------------------------------------------------- layout
def _memory_axes(arr: np.ndarray) -> tuple[int, ...] | None:
    """The axis order in which ``arr``'s elements lie in memory (outermost first), or None when
    that is the plain C order.  torch's TensorIterator visits elements this way: dimensions sorted
    by stride, ties (size-1 or broadcast dimensions) in their original order."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return None
    st = arr.strides
    axes = tuple(sorted(range(arr.ndim), key=lambda i: -abs(st[i]) if arr.shape[i] > 1 else 0))
    order = [i for i in axes if arr.shape[i] > 1]
    if order == sorted(order):
        return None
    # keep size-1 axes where they were: only the relative order of the real axes matters
    real = iter(order)
    return tuple(next(real) if arr.shape[i] > 1 else i for i in range(arr.ndim))


def _memory_view(arr: np.ndarray) -> np.ndarray:
    """A view of ``arr`` whose C order is ``arr``'s memory order."""
    axes = _memory_axes(arr)
    return arr if axes is None else arr.transpose(axes)


# --------------------------------------------------------------------------- in-place machinery
_ZERO = "zeros (the sampled values do not depend on self)"


def _zero_grad(n: Any, g: Any) -> tuple:
    return (zeros_grad(g),)


_NODES: dict = {}


def _node(name: str, suffix: int = 0) -> type:
    """The backward node class ``<Name>Backward<suffix>`` (torch's names for these samplers)."""
    cls = _NODES.get((name, suffix))
    if cls is None:
        cls = _NODES[(name, suffix)] = node_class(name, _zero_grad, _ZERO, suffix)
    return cls


def _target(self: Tensor) -> np.ndarray:
    """Check that ``self`` may be written in place and return the view to fill (memory order)."""
    if not isinstance(self, Tensor):
        raise TypeError(f"expected a Tensor, got {type(self).__name__}")
    check_inplace(self)
    arr = self._data
    if not arr.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    return _memory_view(arr)


def _store(self: Tensor, view: np.ndarray, values: np.ndarray, node: str, suffix: int = 0) -> Tensor:
    """Write ``values`` (in ``view``'s C order) into ``self`` and do the in-place bookkeeping."""
    np.copyto(view, values.reshape(view.shape), casting="unsafe")
    bump_version(self)
    if self._rg and _state.enabled and self.grad_fn is not None:
        # torch's rebase: the new node's input edge is self's old history
        old = _new(self._data, None, None)
        old._rg, old._grad_fn, old._out_nr, old._accum = True, self._grad_fn, self._out_nr, self._accum
        res = _new(self._data)
        attach(res, _node(node, suffix), (old,))
        self._grad_fn, self._out_nr = res._grad_fn, 0
    return self


def _number(v: Any, what: str) -> float:
    if isinstance(v, Tensor):
        if v._data.size != 1:
            raise RuntimeError(f"a Tensor with {v._data.size} elements cannot be converted to Scalar")
        return v._data.item()
    if isinstance(v, (bool, int, float, np.integer, np.floating)):
        return v
    raise TypeError(f"{what} must be a number, not {type(v).__name__}")


def _from_to(args: tuple, kwargs: dict, names: tuple[str, str], defaults: tuple) -> tuple:
    """Positional or keyword arguments ``(from, to)`` (``from`` is a Python keyword: torch accepts
    it through ``**{'from': ...}``)."""
    a, b = defaults
    if len(args) > 2:
        raise TypeError(f"expected at most 2 positional arguments, got {len(args)}")
    if len(args) >= 1:
        a = args[0]
    if len(args) == 2:
        b = args[1]
    for k in list(kwargs):
        if k == names[0]:
            a = kwargs.pop(k)
        elif k == names[1]:
            b = kwargs.pop(k)
    if kwargs:
        raise TypeError(f"got an unexpected keyword argument '{next(iter(kwargs))}'")
    return a, b


# --------------------------------------------------------------------------- in-place samplers
def uniform_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """``uniform_(from=0, to=1, *, generator=None)``: fill with U[from, to) samples."""
    low, high = _from_to(args, kwargs, ("from", "to"), (0.0, 1.0))
    view = _target(self)
    vals = _gen(generator).uniform(view.shape, view.dtype, _number(low, "from"), _number(high, "to"))
    return _store(self, view, vals, "uniform")


def normal_(self: Tensor, mean: Any = 0.0, std: Any = 1.0, *, generator: Any = None) -> Tensor:
    """``normal_(mean=0, std=1, *, generator=None)``: fill with N(mean, std^2) samples.

    A non-contiguous tensor takes torch's scalar (cached Box-Muller) path at any size."""
    view = _target(self)
    vals = _gen(generator).normal(view.shape, view.dtype, _number(mean, "mean"), _number(std, "std"),
                                  contiguous=bool(self._data.flags.c_contiguous))
    return _store(self, view, vals, "normal")


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """``bernoulli_(p=0.5, *, generator=None)``: 1 with probability ``p`` (a number or a tensor
    broadcastable to self), else 0."""
    g = _gen(generator)
    if isinstance(p, Tensor):
        view = _target(self)
        pb = _expand_to(p._data, self._data.shape)
        axes = _memory_axes(self._data)
        if axes is not None:
            pb = pb.transpose(axes)
        vals = g.bernoulli(pb, view.shape, view.dtype)
        return _store(self, view, vals, "bernoulli", 1)
    view = _target(self)
    vals = g.bernoulli(float(_number(p, "p")), view.shape, view.dtype)
    return _store(self, view, vals, "bernoulli", 2)


def _expand_to(p: np.ndarray, shape: tuple) -> np.ndarray:
    try:
        if np.broadcast_shapes(p.shape, shape) != tuple(shape):
            raise ValueError
        return np.broadcast_to(p, shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({shape[-1] if shape else 1}) must match the size of tensor b "
                           f"({p.shape[-1] if p.ndim else 1}) at non-singleton dimension "
                           f"{max(len(shape) - 1, 0)}") from None


_MISSING = object()


def random_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """``random_()``, ``random_(to)``, ``random_(from, to)`` (``to=None``: up to the dtype's max)."""
    frm, to = _from_to(args, kwargs, ("from", "to"), (_MISSING, _MISSING))
    if len(args) == 1 and to is _MISSING:      # random_(to)
        frm, to = _MISSING, frm
    view = _target(self)
    g = _gen(generator)
    if frm is _MISSING and to is _MISSING:
        vals, suffix = g.random_(view.shape, view.dtype), 2
    elif frm is _MISSING:
        if to is None:
            raise TypeError("random_() received an invalid combination of arguments - got (to=None)")
        vals, suffix = g.random_(view.shape, view.dtype, None, int(_number(to, "to"))), 1
    else:
        hi = None if to is _MISSING or to is None else int(_number(to, "to"))
        vals, suffix = g.random_(view.shape, view.dtype, int(_number(frm, "from")), hi), 0
    return _store(self, view, vals, "random", suffix)


def exponential_(self: Tensor, lambd: Any = 1.0, *, generator: Any = None) -> Tensor:
    """``exponential_(lambd=1, *, generator=None)``: samples of Exp(lambd)."""
    view = _target(self)
    vals = _gen(generator).exponential(view.shape, view.dtype, _number(lambd, "lambd"))
    return _store(self, view, vals, "exponential")


def cauchy_(self: Tensor, median: Any = 0.0, sigma: Any = 1.0, *, generator: Any = None) -> Tensor:
    """``cauchy_(median=0, sigma=1, *, generator=None)``."""
    view = _target(self)
    vals = _gen(generator).cauchy(view.shape, view.dtype, _number(median, "median"), _number(sigma, "sigma"))
    return _store(self, view, vals, "cauchy")


def log_normal_(self: Tensor, mean: Any = 1.0, std: Any = 2.0, *, generator: Any = None) -> Tensor:
    """``log_normal_(mean=1, std=2, *, generator=None)``: exp of N(mean, std^2) samples."""
    view = _target(self)
    vals = _gen(generator).log_normal(view.shape, view.dtype, _number(mean, "mean"), _number(std, "std"))
    return _store(self, view, vals, "log_normal")


def geometric_(self: Tensor, p: Any, *, generator: Any = None) -> Tensor:
    """``geometric_(p, *, generator=None)``: the number of Bernoulli(p) trials up to the first success."""
    view = _target(self)
    vals = _gen(generator).geometric(view.shape, view.dtype, _number(p, "p"))
    return _store(self, view, vals, "geometric")


# --------------------------------------------------------------------------- out-of-place samplers
BernoulliBackward0 = _node("bernoulli")
PoissonBackward0 = _node("poisson")


def _with_zero_grad(out: np.ndarray, input: Tensor, cls: type) -> Tensor:
    t = _new(out)
    if input._rg and _state.enabled:
        attach(t, cls, (input,))
    return t


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, out: Any = None) -> Tensor:
    """``torch.bernoulli(input)`` (``input`` holds the probabilities) or ``torch.bernoulli(input, p)``
    (a tensor shaped like ``input`` filled with Bernoulli(p) draws)."""
    g = _gen(generator)
    x = input._data
    if p is None:
        res = _with_zero_grad(g.bernoulli(x, x.shape, x.dtype), input, BernoulliBackward0)
    else:
        res = _new(g.bernoulli(float(_number(p, "p")), x.shape, x.dtype))
    if out is not None:
        from .inplace import copy_

        return copy_(out, res)
    return res


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None,
                out: Any = None) -> Tensor:
    """``torch.multinomial``: indices drawn from the rows of ``input`` (int64)."""
    x = input._data
    g = _gen(generator)
    axes = _memory_axes(x)
    if axes is not None and not (replacement and num_samples > 1):
        # without replacement the exponential keys fill empty_like(input), i.e. input's memory order
        x = np.ascontiguousarray(x.transpose(axes))
        keys = g.exponential(x.shape, x.dtype, 1.0).transpose(np.argsort(axes))
        res = _new(_keyed_choice(input._data, keys, int(num_samples)))
    else:
        res = _new(g.multinomial(x, num_samples, replacement))
    if out is not None:
        from .inplace import copy_

        return copy_(out, res)
    return res


def _keyed_choice(probs: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """Sampling without replacement from given Exp(1) keys (only reached for non-contiguous
    2-D inputs, after ``Generator.multinomial``'s checks would pass)."""
    if k <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if k > probs.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    with np.errstate(invalid="ignore"):
        if not np.all(np.isfinite(probs) & (probs >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(np.all(probs == 0, axis=-1)):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    with np.errstate(divide="ignore", invalid="ignore"):
        key = probs / q
    if k == 1:
        return np.argmax(key, axis=-1)[..., None].astype(np.int64)
    return np.argsort(-key, axis=-1, kind="stable")[..., :k].astype(np.int64)


def _tensor_bernoulli(self: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    return bernoulli(self, p, generator=generator)


def _tensor_multinomial(self: Tensor, num_samples: int, replacement: bool = False, *,
                        generator: Any = None) -> Tensor:
    return multinomial(self, num_samples, replacement, generator=generator)


def rand_like(input: Tensor, *, dtype: Any = None, generator: Any = None, requires_grad: bool = False,
              device: Any = None, memory_format: Any = None, layout: Any = None) -> Tensor:
    """``torch.rand_like``: like ``input`` (its layout kept, as torch does) filled by ``uniform_``."""
    t = _like(input, dtype, device)
    uniform_(t, generator=generator)
    return _finish_like(t, requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, generator: Any = None, requires_grad: bool = False,
               device: Any = None, memory_format: Any = None, layout: Any = None) -> Tensor:
    """``torch.randn_like``: a transposed ``input`` gives a transposed result filled by torch's
    non-contiguous (scalar) normal path."""
    t = _like(input, dtype, device)
    normal_(t, generator=generator)
    return _finish_like(t, requires_grad)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, dtype: Any = None, generator: Any = None,
                 requires_grad: bool = False, device: Any = None, memory_format: Any = None,
                 layout: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    t = _like(input, dtype, device)
    random_(t, int(low), int(high), generator=generator)
    return _finish_like(t, requires_grad)


def _like(input: Tensor, dtype: Any, device: Any) -> Tensor:
    from .._tensor import _check_device
    from .creation import _np_dtype

    _check_device(device)
    npd = _np_dtype(dtype) or input._data.dtype
    return _new(empty_preserved(input._data, npd))


def _finish_like(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        if t._data.dtype.kind not in "fc" and not _dtype.is_bfloat16(t._data.dtype):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._rg = True
    return t


# --------------------------------------------------------------------------- poisson
def _libm_lgamma() -> Any:
    """glibc's ``lgamma`` (Python's ``math.lgamma`` is CPython's own and may differ in the last bit)."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        fn = lib.lgamma
        fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
        return fn
    except (OSError, AttributeError):
        return math.lgamma


_lgamma = _libm_lgamma()


def _poisson_one(lam: float, u53: Any) -> float:
    """One Poisson(lam) sample: multiplication of uniforms below 10, Hormann's transformed
    rejection (PTRS) from 10 on; ``u53()`` yields torch's double uniforms."""
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = u53() - 0.5
            v = u53()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return float(k)
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - _lgamma(k + 1):
                return float(k)
    if lam == 0:
        return 0.0
    enlam = math.exp(-lam)
    x = 0
    prod = 1.0
    while True:
        prod *= u53()
        if prod > enlam:
            x += 1
        else:
            return float(x)


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """``torch.poisson(rates)``: one Poisson sample per rate, in the rates' dtype."""
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError(f"\"poisson_cpu\" not implemented for '{_random._tname(x.dtype)}'")
    with np.errstate(invalid="ignore"):
        if x.size and not np.all(x >= 0):
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    g = _gen(generator)
    draw = lambda: float(g._u53(1)[0])   # noqa: E731
    flat = np.ascontiguousarray(x).reshape(-1).astype(np.float64).tolist()
    vals = np.array([_poisson_one(lam, draw) for lam in flat], dtype=np.float64)
    return _with_zero_grad(vals.astype(x.dtype).reshape(x.shape), input, PoissonBackward0)


attach_methods(
    uniform_=uniform_, normal_=normal_, bernoulli_=bernoulli_, random_=random_, exponential_=exponential_,
    cauchy_=cauchy_, log_normal_=log_normal_, geometric_=geometric_, bernoulli=_tensor_bernoulli,
    multinomial=_tensor_multinomial,
)

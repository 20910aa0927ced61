"""The batched tensors of ``vmap`` and the dispatch of ops on them.

A ``BatchedTensor`` is the value one vmapped call sees: a physical Tensor ``_phys`` whose first dim
is the batch of vmap level ``_level``; its logical ``shape``/``dim()``/``len()`` hide that dim. In
nested vmap the physical tensor is itself batched at a lower level (``BatchedTensor(2,
BatchedTensor(1, plain))``), so the plain array underneath has one batch dim per level at the front,
outermost first.

An op on batched arguments reaches ``dispatch`` two ways: Tensor methods and operators through the
overrides this module installs on the subclass (plain tensors never see them), and the public op
functions (``ember.cat``, ``F.linear`` ...) through ``ops._vmap_hook`` while a level is active.
``dispatch`` runs the op's batching rule (``_batching_rules.RULES``): one call on the physical
tensors, the batch dim carried through. An op without a rule runs once per batch element and the
results are stacked, with torch's performance warning. Rules call ops on physical tensors through
the same public surface, so a physical tensor that is batched at a lower level dispatches again.

Autograd runs on the plain physical tensors underneath: ``grad`` here is ``autograd.grad`` for
batched outputs and inputs, which ``func.grad``/``vjp`` call inside vmap.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable

from .. import autograd, ops
from .. import random as _random
from .._tensor import Size, Tensor
from ..ops import _vmap_hook


class _Level:
    __slots__ = ("size", "randomness")

    def __init__(self, size: int, randomness: str) -> None:
        self.size, self.randomness = size, randomness


class _ThreadState(threading.local):
    """Each thread's own vmap levels: vmaps on two threads do not see each other's."""

    def __init__(self) -> None:
        self.levels: list[_Level] = []  # the active vmap levels: level k is levels[k - 1]
        self.ceiling = [0]  # the highest level a random op without batched arguments draws for (below a running rule's level)


_tls = _ThreadState()
_dispatching: dict[int, Callable] = {}  # while vmap runs: id of a function that is a Tensor method -> its dispatch
_swap_lock = threading.Lock()
_threads_in_vmap = [0]  # the methods stay swapped while any thread runs a vmap

RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                "'different' randomness flags on vmap or perform the randomness operation out of vmap")
_DATA_DEPENDENT = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We "
                   "don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues .")
_ITEM = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on a "
         "Tensor, please try to rewrite what you're doing with other operations. If error is occurring somewhere "
         "inside PyTorch internals, please file a bug report.")
_NO_STORAGE = "Cannot access data pointer of Tensor that doesn't have storage"
INPLACE_ERROR = ("vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` "
                 "in extra_args that has more elements than `self`. This happened due to `other` being vmapped over "
                 "but `self` not being vmapped over in a vmap. Please try to use out-of-place operators instead of "
                 "inplace arithmetic. If said operator is being called inside the PyTorch framework, please file a bug "
                 "report instead.")

# ops that draw random numbers: vmap's ``randomness`` decides what they do
RANDOM_OPS = frozenset(
    "rand randn randint randperm normal rand_like randn_like randint_like bernoulli multinomial poisson uniform_ "
    "normal_ bernoulli_ random_ exponential_ geometric_ cauchy_ log_normal_ dropout dropout1d dropout2d dropout3d "
    "alpha_dropout feature_alpha_dropout rrelu gumbel_softmax".split())


# (namespace, name, dispatching wrapper) of the shared functions, (name, wrapper) of the Tensor
# methods: made once, so that opening a vmap costs only the swaps (it is paid per vmapped call)
_swaps: tuple[list, list] = ([], [])
_wrapper_of: dict[int, Callable] = {}  # id of a function that is a Tensor method -> its first wrapper (``entry``)


def _build_swaps() -> None:
    shared, methods = _swaps
    shared.clear()
    methods.clear()
    _wrapper_of.clear()
    for namespace, name, fn in _vmap_hook.shared:
        op = name if name in RULES else _vmap_hook._op_names.get(id(fn), name)  # (special.expit: sigmoid's rule)
        shared.append((namespace, name, _method(op, fn)))
        _wrapper_of.setdefault(id(fn), shared[-1][2])
    for name, fn in _TENSOR_METHODS.items():
        methods.append((name, _method(name, fn)))
        _wrapper_of.setdefault(id(fn), methods[-1][1])


def push(size: int, randomness: str) -> int:
    """Open a vmap level of batch ``size`` on this thread; returns its number."""
    levels = _tls.levels
    levels.append(_Level(size, randomness))
    if len(levels) == 1:  # plain tensors' methods see batched arguments too (``w.mul_(x)``), as does ember.sum
        with _swap_lock:
            _threads_in_vmap[0] += 1
            if _threads_in_vmap[0] == 1:
                _swap_in()
    _tls.ceiling.append(len(levels))
    return len(levels)


def pop() -> None:
    """Close this thread's innermost vmap level."""
    levels = _tls.levels
    levels.pop()
    _tls.ceiling.pop()
    if not levels:
        with _swap_lock:
            _threads_in_vmap[0] -= 1
            if _threads_in_vmap[0] == 0:
                _swap_out()


def _swap_in() -> None:
    # (other threads' plain calls go through dispatch meanwhile: with no level of theirs, it calls the op)
    _vmap_hook.handler = dispatch
    if len(_swaps[0]) != len(_vmap_hook.shared) or len(_swaps[1]) != len(_TENSOR_METHODS):
        _build_swaps()
    for namespace, name, wrapper in _swaps[0]:
        namespace[name] = wrapper
    for name, wrapper in _swaps[1]:
        setattr(Tensor, name, wrapper)
    _dispatching.update(_wrapper_of)


def _swap_out() -> None:
    _vmap_hook.handler = None
    for name, fn in _TENSOR_METHODS.items():
        setattr(Tensor, name, fn)
    for namespace, name, fn in _vmap_hook.shared:
        namespace[name] = fn
    _dispatching.clear()


def entry(func: Callable) -> Callable:
    """``func`` as a transform should call it inside vmap: a Tensor method or an op function that
    also is one, passed as a value before vmap swapped it in (``vmap(ember.dot)``,
    ``jacrev(ember.sin)``, ``vmap(ember.Tensor.t)``), goes through ``dispatch``."""
    return _dispatching.get(id(func), func)


def active() -> bool:
    """Whether a vmap level is open."""
    return bool(_tls.levels)


def level_size(level: int) -> int:
    """The batch size of vmap level ``level``."""
    return _tls.levels[level - 1].size


class BatchedTensor(Tensor):
    """A Tensor inside ``vmap``: ``_phys`` holds the whole batch along its first dim; the logical
    shape is that of one batch element."""

    __slots__ = ("_phys", "_level")
    _phys: Tensor
    _level: int

    @property
    def shape(self) -> Size:
        return Size(self._phys.shape[1:])

    @property
    def _data(self) -> Any:  # type: ignore[override]
        # reached only by an op that vmap's dispatch did not see: say so instead of a NumPy error
        raise RuntimeError("vmap: an ember op received a batched tensor outside vmap's dispatch (a function "
                           "captured before vmap, such as `from ember import dot`, or one no rule or fallback "
                           "covers); call it as ember.X(...) or as a Tensor method inside the vmapped function")

    def size(self, dim: int | None = None) -> Any:
        s = self.shape
        return s if dim is None else s[self._wrap_dim(dim, len(s))]

    def _wrap_dim(self, dim: int, ndim: int | None = None) -> int:
        n = self.dim() if ndim is None else ndim
        if not -max(n, 1) <= dim < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
                             f"but got {dim})")
        return dim % max(n, 1)

    @property
    def ndim(self) -> int:
        return self._phys.dim() - 1

    def dim(self) -> int:
        return self._phys.dim() - 1

    def numel(self) -> int:
        return self.shape.numel()

    def __len__(self) -> int:
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Any:
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    @property
    def dtype(self) -> Any:
        return self._phys.dtype

    @property
    def device(self) -> Any:
        return self._phys.device

    @property
    def layout(self) -> Any:
        return self._phys.layout

    @property  # type: ignore[misc]
    def requires_grad(self) -> bool:
        return self._phys.requires_grad

    @property
    def is_leaf(self) -> bool:
        return self._phys.is_leaf

    @property  # type: ignore[misc]  # (read-only, as on Tensor)
    def grad_fn(self) -> Any:
        return self._phys.grad_fn

    @property  # type: ignore[misc]
    def grad(self) -> None:
        return None

    @property  # type: ignore[misc]
    def data(self) -> Tensor:
        return wrap(self._phys.data, self._level)

    def is_floating_point(self) -> bool:
        return self._phys.is_floating_point()

    def is_complex(self) -> bool:
        return self._phys.is_complex()

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        value = repr(self._phys).replace("\n", "\n    ")
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n    {value}\n)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __hash__(self) -> int:
        return id(self)

    def item(self) -> Any:
        raise RuntimeError(_ITEM)

    def __bool__(self) -> bool:
        raise RuntimeError(_DATA_DEPENDENT)

    __float__ = __int__ = __index__ = __complex__ = __bool__  # type: ignore[assignment]

    def tolist(self) -> Any:
        raise RuntimeError(_NO_STORAGE)

    def numpy(self, *, force: bool = False) -> Any:
        raise RuntimeError(_NO_STORAGE)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise RuntimeError(_NO_STORAGE)


def wrap(phys: Tensor, level: int) -> BatchedTensor:
    """``phys`` (batch along dim 0) as the batched value of vmap level ``level``."""
    t = object.__new__(BatchedTensor)
    t._phys, t._level = phys, level
    return t


_TENSOR_METHODS: dict[str, Callable] = {}  # the Tensor's methods, which vmap routes through ``dispatch``


def _install_overrides() -> None:
    """Every Tensor method and tensor-valued property, on BatchedTensor, goes through ``dispatch``;
    while vmap runs, the methods of plain tensors do too."""
    own = set(vars(BatchedTensor))
    for name, attr in list(vars(Tensor).items()):
        if name.startswith("_") and not (name.startswith("__") and name[2:-2] in _OPERATORS):
            continue
        if callable(attr) and not isinstance(attr, (type, property)) and name not in _NOT_OPS:
            _TENSOR_METHODS[name] = attr
        if name in own:
            continue
        if isinstance(attr, property):
            if name in ("T", "mT", "H", "mH", "real", "imag") and attr.fget is not None:
                setattr(BatchedTensor, name, property(_method(name, attr.fget)))
            elif name not in ("shape", "dtype", "device", "layout", "ndim"):
                setattr(BatchedTensor, name, property(_physical_attribute(name)))
        elif callable(attr) and not isinstance(attr, type):
            setattr(BatchedTensor, name, _method(name, attr))


# Tensor members that are no ops: left alone on plain tensors
_NOT_OPS = frozenset("size dim numel stride is_contiguous is_floating_point is_complex element_size data_ptr "
                     "get_device register_hook register_post_accumulate_grad_hook retain_grad backward cpu cuda "
                     "is_pinned pin_memory item tolist numpy".split())
_OPERATORS = set(
    "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow matmul rmatmul neg pos abs eq "
    "ne lt le gt ge and rand or ror xor rxor invert lshift rshift rlshift rrshift getitem setitem iadd isub imul "
    "itruediv imod ifloordiv ipow iand ior ixor ilshift irshift".split())


def _physical_attribute(name: str) -> Callable:
    def get(self: BatchedTensor) -> Any:
        return getattr(self._phys, name)

    return get


def _method(name: str, fn: Callable) -> Callable:
    def method(*args: Any, **kwargs: Any) -> Any:
        return dispatch(name, fn, args, kwargs)

    method.__name__ = name
    return method


# ---------------------------------------------------------------------------------------------- dispatch
# op name -> batching rule(Call, args, kwargs): result, or NotImplemented for a case it leaves to the
# per-element loop. Filled by ``_batching_rules``.
RULES: dict[str, Callable[..., Any]] = {}


def top_level(args: tuple, kwargs: dict) -> int:
    """The highest vmap level among the arguments (0: none is batched)."""
    best = 0
    for a in (*args, *kwargs.values()) if kwargs else args:
        if type(a) is BatchedTensor:
            best = max(best, a._level)
        elif type(a) is list or type(a) is tuple:
            for x in a:
                if type(x) is BatchedTensor:
                    best = max(best, x._level)
    return best


class Call:
    """What a batching rule gets: the level it runs at and the op itself (``call`` re-dispatches, so
    physical tensors batched at a lower level are handled there)."""

    __slots__ = ("level", "name", "fn")

    def __init__(self, level: int, name: str, fn: Callable) -> None:
        self.level, self.name, self.fn = level, name, fn

    @property
    def size(self) -> int:
        return _tls.levels[self.level - 1].size

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return dispatch(self.name, self.fn, args, kwargs)

    def batched(self, x: Any) -> bool:
        return type(x) is BatchedTensor and x._level == self.level

    def phys(self, x: Any) -> Any:
        """The physical tensor of ``x`` at this level, unbatched ``x`` expanded along the batch."""
        if self.batched(x):
            return x._phys
        return x.unsqueeze(0).expand(self.size, *x.shape)

    def wrap(self, out: Any) -> Any:
        """Each tensor in ``out`` (a tensor or a tuple of them) as batched at this level."""
        if isinstance(out, Tensor):
            return wrap(out, self.level)
        if isinstance(out, tuple):
            items = [self.wrap(o) for o in out]
            return type(out)(*items) if hasattr(out, "_fields") else type(out)(items)
        if isinstance(out, list):
            return [self.wrap(o) for o in out]
        return out


def dispatch(name: str, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Run op ``fn`` (public name ``name``) on ``args`` that may hold BatchedTensors."""
    level = top_level(args, kwargs)
    if level == 0:
        if name in RANDOM_OPS and _tls.levels:
            return _random_unbatched(fn, args, kwargs, _tls.ceiling[-1])
        return fn(*args, **kwargs)
    _tls.ceiling.append(level - 1)
    try:
        return _run_rule(name, fn, args, kwargs, level)
    finally:
        _tls.ceiling.pop()


def _run_rule(name: str, fn: Callable, args: tuple, kwargs: dict, level: int) -> Any:
    c = Call(level, name, fn)
    rule = RULES.get(name)
    if rule is not None and name not in RANDOM_OPS:
        out = rule(c, args, kwargs)
        if out is not NotImplemented:
            return out
    if name in RANDOM_OPS:
        mode = _tls.levels[level - 1].randomness
        if mode == "error":
            raise RuntimeError(RANDOM_ERROR)
        if rule is not None:
            out = rule(c, args, kwargs)
            if out is not NotImplemented:
                return out
        return loop(c, args, kwargs, same_rng=mode == "same")
    warnings.warn(f"There is a performance drop because we have not yet implemented the batching rule for {name}. "
                  "Please file us an issue on GitHub so that we can prioritize its implementation.", stacklevel=3)
    return loop(c, args, kwargs)


def _random_unbatched(fn: Callable, args: tuple, kwargs: dict, level: int) -> Any:
    """A random op without batched arguments (``ember.randn(3)``) under the levels up to ``level``."""
    if level == 0:
        return fn(*args, **kwargs)
    mode = _tls.levels[level - 1].randomness
    if mode == "error":
        raise RuntimeError(RANDOM_ERROR)
    if mode == "same":
        return _random_unbatched(fn, args, kwargs, level - 1)
    draws = [_random_unbatched(fn, args, kwargs, level - 1) for _ in range(_tls.levels[level - 1].size)]
    return _stack(draws, level)


def _slice(x: Any, c: Call, i: int) -> Any:
    if c.batched(x):
        return x._phys.select(0, i)
    if isinstance(x, (list, tuple)) and any(c.batched(v) for v in x):
        return type(x)(_slice(v, c, i) for v in x)
    return x


def _stack(results: list, level: int) -> Any:
    first = results[0]
    if isinstance(first, Tensor):
        return wrap(ops.stack(results), level)
    if isinstance(first, (tuple, list)):
        items = [_stack([r[k] for r in results], level) for k in range(len(first))]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    if first is None or all(r == first for r in results):
        return first
    raise RuntimeError(_DATA_DEPENDENT)


def loop(c: Call, args: tuple, kwargs: dict, same_rng: bool = False) -> Any:
    """The op run once per batch element at level ``c.level``, results stacked (torch's fallback)."""
    state = _random.get_rng_state() if same_rng else None
    results = []
    for i in range(c.size):
        if state is not None:
            _random.set_rng_state(state)
        results.append(c.call(*(_slice(a, c, i) for a in args), **{k: _slice(v, c, i) for k, v in kwargs.items()}))
    if is_inplace(c.name):
        return args[0]
    return _stack(results, c.level)


def is_inplace(name: str) -> bool:
    """Whether op ``name`` writes into its first argument."""
    return (name.endswith("_") and not name.startswith("__")) or (name.startswith("__i") and name[3:-2] in _OPERATORS)


# ---------------------------------------------------------------------------------------------- autograd
def levels_of(x: Any) -> list:
    """The vmap levels ``x`` is batched at, outermost first."""
    out = []
    while type(x) is BatchedTensor:
        out.append(x._level)
        x = x._phys
    return out[::-1]


def add_level(x: Tensor, level: int) -> Tensor:
    """``x`` batched at ``level`` too (expanded along that level's batch), lower levels kept beneath."""
    if type(x) is BatchedTensor and x._level > level:
        return wrap(add_level(x._phys, level), x._level)
    return wrap(x.unsqueeze(0).expand(level_size(level), *x.shape), level)


def lift(x: Any, levels: Any = None) -> Any:
    """``x`` batched at every level of ``levels`` (default: every active one). ``func.grad`` lifts
    the inputs it differentiates, so that a backward of the batched output gives one gradient per
    batch element, also for inputs the caller did not batch (weights passed with in_dims None)."""
    if not isinstance(x, Tensor):
        return x
    have = set(levels_of(x))
    for level in range(1, len(_tls.levels) + 1) if levels is None else levels:
        if level not in have:
            x = add_level(x, level)
    return x


def unwrap(x: Tensor) -> Tensor:
    """The plain tensor under every vmap level of ``x``."""
    while type(x) is BatchedTensor:
        x = x._phys
    return x


def rewrap(x: Tensor, levels: list) -> Tensor:
    """Plain ``x`` batched at ``levels`` (outermost first), as ``levels_of`` lists them."""
    for level in levels:
        x = wrap(x, level)
    return x


def more_batched(cotangents: list, outputs: list) -> bool:
    """Whether some cotangent is batched at a vmap level its output is not (``vmap(vjp_fn)``)."""
    return any(set(levels_of(c)) - set(levels_of(o)) for o, c in zip(outputs, cotangents))


def grad(outputs: list, inputs: list, grad_outputs: list | None = None, **kwargs: Any) -> list:
    """``autograd.grad`` for outputs, inputs and grad_outputs that may be batched: run on the plain
    physical tensors underneath, each gradient batched as its input is. A missing grad_output is
    ones (the per-element scalar losses of ``func.grad``)."""
    cts = list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    if not any(type(t) is BatchedTensor for t in (*outputs, *inputs, *cts)):
        return list(autograd.grad(outputs, inputs, grad_outputs, **kwargs))
    plain_outs, plain_cts = [], []
    for o, ct in zip(outputs, cts):
        plain = unwrap(o)
        plain_outs.append(plain)
        plain_cts.append(ops.ones_like(plain) if ct is None else unwrap(lift(ct, levels_of(o))))
    plain_ins = [unwrap(x) for x in inputs]
    res = autograd.grad(plain_outs, plain_ins, plain_cts, **kwargs)
    return [g if g is None else rewrap(g, levels_of(x)) for g, x in zip(res, inputs)]


_install_overrides()

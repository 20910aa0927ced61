"""NumPy's argument names as torch accepts them: ``axis`` for ``dim``, ``keepdims`` for ``keepdim``.

torch's C++ argument parser lets every *native* function and Tensor method spell ``dim`` as ``axis``,
``keepdim`` as ``keepdims``, ``input`` as ``x``/``a``/``x1`` and ``other`` as ``x2``
(``x.sum(axis=1)``, ``P.sum(1, keepdims=True)``, ``torch.cat(ts, axis=1)``). The functions torch
writes in Python (``torch.norm``, ``torch.split``, ``torch.unique``, ``Tensor.unflatten`` ...) never
went through that parser and reject the NumPy names.

ember does the same with one mechanism: :func:`install` replaces each op (function and method) that
has a ``dim`` or ``keepdim`` parameter by a wrapper generated with the op's own signature plus
``**kw``. A call without NumPy names costs one plain call more (no ``*args`` repacking); for
``Tensor.sum`` / ``Tensor.mean`` the wrapper replaces the forwarding shim, so the hot path costs
what it did before. Only a call that passes an unknown keyword takes the slow path, which renames
the aliases or raises torch's ``TypeError``.

Scope: the op table (``ember.X`` and ``Tensor.X``), ``ember.linalg`` and the two native functions of
``nn.functional`` that take ``dim`` (cosine_similarity, pairwise_distance). torch also takes
``x1``/``x2`` on ops without a ``dim`` (``torch.add(x1=a, x2=b)``); ember does not wrap those (every
pointwise call would pay for a spelling nobody uses), nor the ``size``/``stride`` accessors.
"""

from __future__ import annotations

from typing import Any, Callable

# NumPy's spelling -> torch's parameter name (torch's parser knows exactly these)
ALIASES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input", "x2": "other"}

# ops torch implements in Python (torch/functional.py, torch/_tensor.py): no NumPy names there
_PYTHON_FUNCTIONS = frozenset({"norm", "split", "unique", "unique_consecutive"})
_PYTHON_METHODS = _PYTHON_FUNCTIONS | {"unflatten"}
# torch takes x.size(axis=0) too, but these accessors cost ~150 ns and a wrapper would add half
# again on every call in a training loop: they keep their plain signature
_ACCESSORS = frozenset({"size", "stride"})

# Tensor methods that only forward to the function of the same name: the function's wrapper
# replaces them, so ``x.sum()`` makes as many Python calls as before
_FORWARDING_SHIMS = ("sum", "mean", "softmax", "log_softmax")

_REQUIRED = object()  # stands for "not passed" in a parameter that has no default


def _rename(fn: Callable, name: str, defaults: dict, kw: dict, given: dict) -> Any:
    # slow path: only calls that passed an extra keyword (or left a required argument out) get here
    for key, value in kw.items():
        canon = ALIASES.get(key)
        if canon is None or canon not in given or given[canon] is not defaults[canon]:
            # torch says the same when the name is unknown or its canonical twin was passed too
            raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
        given[canon] = value
    missing = [p for p, v in given.items() if v is _REQUIRED]
    if missing:
        raise TypeError(f"{name}() missing {len(missing)} required positional arguments: "
                        + ", ".join(f'"{p}"' for p in missing))
    return fn(**given)


_PLAIN = 0x04 | 0x08  # CO_VARARGS | CO_VARKEYWORDS


def _params(fn: Any) -> tuple | None:
    # (names, number of positional, defaults by name) read off the code object: inspect.signature
    # is ten times slower and this runs at import
    code = getattr(fn, "__code__", None)
    # a decorator's (*args, **kwargs) wrapper (autocast's) forwards to the op: read the op's own signature
    while code is not None and code.co_flags & _PLAIN and getattr(fn, "__wrapped__", None) is not None:
        fn = fn.__wrapped__
        code = getattr(fn, "__code__", None)
    if code is None or isinstance(fn, type) or code.co_flags & _PLAIN or code.co_posonlyargcount:
        return None  # *args / **kwargs / positional-only: leave as they are
    npos, nkw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames[:npos + nkw]
    if "dim" not in names and "keepdim" not in names:
        return None
    defaults = dict.fromkeys(names, _REQUIRED)
    pos_defaults = fn.__defaults__ or ()
    defaults.update(zip(names[npos - len(pos_defaults):npos], pos_defaults))
    defaults.update(fn.__kwdefaults__ or {})
    return names, npos, defaults


_FACTORIES: dict[tuple, Callable] = {}


def _factory(names: tuple, npos: int, required: tuple) -> Callable:
    # one compiled factory per parameter layout (ops share a few dozen layouts), each default bound
    # by reference through the factory's arguments
    key = (names, npos, required)
    if key not in _FACTORIES:
        head = [f"{n}=_d{i}" for i, n in enumerate(names[:npos])]
        if len(names) > npos:
            head += ["*"] + [f"{n}=_d{i + npos}" for i, n in enumerate(names[npos:])]
        call = list(names[:npos]) + [f"{n}={n}" for n in names[npos:]]
        check = "".join(f" or {n} is _REQUIRED" for n in required)
        src = (f"def make(_fn, _name, _defaults, {', '.join(f'_d{i}' for i in range(len(names)))}):\n"
               f"    def wrapper({', '.join(head)}, **_kw):\n"
               f"        if _kw{check}:\n"
               f"            return _rename(_fn, _name, _defaults, _kw, dict({', '.join(f'{n}={n}' for n in names)}))\n"
               f"        return _fn({', '.join(call)})\n"
               f"    return wrapper\n")
        ns: dict[str, Any] = {"_rename": _rename, "_REQUIRED": _REQUIRED}
        exec(compile(src, "<ember numpy names>", "exec"), ns)  # noqa: S102
        _FACTORIES[key] = ns["make"]
    return _FACTORIES[key]


def _wrap(fn: Callable) -> Callable | None:
    spec = _params(fn)
    if spec is None:
        return None
    names, npos, defaults = spec
    required = tuple(n for n in names if defaults[n] is _REQUIRED)
    w = _factory(names, npos, required)(fn, fn.__name__, defaults, *defaults.values())
    w.__name__, w.__qualname__, w.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    w.__module__, w.__wrapped__ = fn.__module__, fn
    return w


def install(namespace: dict, tensor_cls: type | None = None, names: Any = None) -> None:
    """Give the functions in ``namespace`` (its ``__all__``, or ``names``) and the Tensor's methods torch's NumPy names.

    ``ember.ops`` passes the Tensor class; ``ember.linalg`` and ``ember.nn.functional`` pass their
    namespace (and the few names torch implements natively there).
    """
    by_fn: dict[int, Callable] = {}  # a method that is the very function ember.X is shares its wrapper
    for name in namespace.get("__all__", ()) if names is None else names:
        fn = namespace[name]
        if (name in _PYTHON_FUNCTIONS and tensor_cls is not None) or not getattr(fn, "__module__", "").startswith(
                "ember."):
            continue
        w = _wrap(fn)
        if w is not None:
            namespace[name] = by_fn[id(fn)] = w
    if tensor_cls is None:
        return
    for name, fn in list(vars(tensor_cls).items()):
        if name.startswith("_") or name in _PYTHON_METHODS or name in _FORWARDING_SHIMS or name in _ACCESSORS:
            continue
        w = by_fn.get(id(fn)) or _wrap(fn)
        if w is not None:
            setattr(tensor_cls, name, w)
    for name in _FORWARDING_SHIMS:
        w = namespace.get(name)
        if getattr(w, "__wrapped__", None) is not None:
            setattr(tensor_cls, name, w)

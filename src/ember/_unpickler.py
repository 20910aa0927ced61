"""The weights-only unpickler behind ember.load: what a checkpoint may name (torch's allow-list plus
the user's), how tensors and parameters are rebuilt from storages, and the limits that refuse
hostile files (declared sizes, inflated bytes, legacy files)."""

from __future__ import annotations

import _compat_pickle
import codecs
import collections
import pickle
from typing import Any

import numpy as np

from . import _dtype
from ._tensor import Size, Tensor, _new, device


class _BFloat16Np:
    """Stands for ml_dtypes' bfloat16 in the tables below; np.dtype() reads ``.dtype``, so ml_dtypes is
    imported only when a bfloat16 storage is actually read or written."""

    @property
    def dtype(self) -> np.dtype:
        return _dtype.bfloat16.np


# storage type name <-> NumPy dtype
_STORAGES: dict[str, Any] = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64, "ComplexDoubleStorage": np.complex128,
    "BFloat16Storage": _BFloat16Np(),
}



# ---------------------------------------------------------------------- loading
# What a file may declare before ember allocates it. torch writes storages uncompressed, so a stored
# record can be no larger than the file itself; a deflated one can inflate ~1000x (a zip bomb), so its
# declared size is capped before a byte is inflated.
_MAX_INFLATED_BYTES = 1 << 30
# A tensor may cover more elements than its storage holds only through stride-0 (broadcast) views
# (torch.save of an expanded tensor); one that would need more than this to materialise is refused.
_MAX_VIEW_BYTES = 1 << 32
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of a pre-1.6 (non-zip) torch.save file


def _corrupt(what: str) -> RuntimeError:
    return RuntimeError(f"ember.load: corrupt checkpoint ({what})")


class _StorageType:
    __slots__ = ("name", "dtype")

    def __init__(self, name: str) -> None:
        self.name, self.dtype = name, np.dtype(_STORAGES[name])


def _ints(v: Any, what: str) -> tuple:
    if not isinstance(v, (tuple, list)) or not all(isinstance(i, int) for i in v):
        raise _corrupt(f"a tensor's {what} is {v!r}, not a tuple of ints")
    return tuple(int(i) for i in v)


def _rebuild_tensor_v2(storage: np.ndarray, storage_offset: int, size: tuple, stride: tuple,
                       requires_grad: bool = False, backward_hooks: Any = None, metadata: Any = None) -> Tensor:
    if not isinstance(storage, np.ndarray):
        raise _corrupt(f"a tensor is built on a {type(storage).__name__}, not a storage")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    (storage_offset,) = _ints((storage_offset,), "storage offset")
    itemsize = storage.itemsize
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or len(size) != len(stride) or storage_offset < 0:
        raise _corrupt("invalid tensor size, stride or offset")
    numel = 1
    for n in size:
        numel *= n
    if numel:
        extent = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if extent > storage.size:
            raise _corrupt(f"a tensor of size {list(size)} reaches element {extent} of a storage of "
                           f"{storage.size} elements")
        if numel > storage.size and numel * itemsize > _MAX_VIEW_BYTES:
            raise _corrupt(f"a tensor of size {list(size)} and stride {list(stride)} declares {numel} elements "
                           f"over a storage of {storage.size}; materialising it would need {numel * itemsize} bytes")
        arr = np.ndarray(size, storage.dtype, buffer=storage, offset=storage_offset * itemsize,
                         strides=tuple(s * itemsize for s in stride))
    else:
        arr = np.empty(size, storage.dtype)
    t = _new(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data: Tensor, requires_grad: bool, backward_hooks: Any = None) -> Any:
    from .nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise _corrupt(f"a parameter is built on a {type(data).__name__}, not a tensor")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data: Tensor, requires_grad: bool, backward_hooks: Any, state: Any) -> Any:
    p = _rebuild_parameter(data, requires_grad)
    if state:
        if not isinstance(state, dict):
            raise _corrupt(f"a parameter's state is a {type(state).__name__}, not a dict")
        p.__dict__.update(state)
    return p


def _size(t: Any = ()) -> Size:
    return Size(_ints(t, "torch.Size"))


def _device(*args: Any) -> device:
    return device(*args)


def _bytearray(*args: Any) -> bytearray:
    # bytearray(n) would allocate n bytes on the file's say-so; pickles only ever pass it bytes
    if args and not isinstance(args[0], (bytes, bytearray, str)):
        raise UnpicklingError(f"ember.load: builtins.bytearray is called with a {type(args[0]).__name__} in "
                              "the checkpoint; only bytes are allowed")
    return bytearray(*args)


def _codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # protocol-2 pickles write bytes as _codecs.encode(str, "latin1"); no other codec is looked up
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        raise UnpicklingError(f"ember.load: _codecs.encode is called with encoding {encoding!r} in the checkpoint; "
                              "only latin1/utf-8 text is allowed")
    return codecs.encode(obj, encoding, errors)


def _allowed() -> dict:
    table = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch", "Size"): _size,
        ("torch", "device"): _device,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        # builtins torch's weights-only loader also accepts (bytes in protocol 2 are _codecs.encode calls)
        ("_codecs", "encode"): _codecs_encode,
        ("builtins", "bytearray"): _bytearray,
    }
    for name in _STORAGES:
        table[("torch", name)] = _StorageType(name)
    for name in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
                 "complex64", "complex128", "bfloat16"):
        table[("torch", name)] = getattr(_dtype, "bool_" if name == "bool" else name)
    return table


class UnpicklingError(pickle.UnpicklingError):
    """Raised by ``ember.load`` when a checkpoint cannot be unpickled, or holds an object the weights-only
    loader does not allow.
    """

    pass


# ----------------------------------------------- the user's allow-list for the weights-only loader
_SAFE_GLOBALS: list = []


def _global_name(entry: Any) -> str:
    if isinstance(entry, tuple):
        return entry[1]
    return f"{entry.__module__}.{entry.__qualname__}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow the weights-only loader to resolve these functions/classes (or ``(obj, "module.name")`` pairs)."""
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals() -> list:
    """The globals the user has marked safe for the weights-only loader."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every global added with :func:`add_safe_globals`."""
    _SAFE_GLOBALS.clear()


class safe_globals:  # noqa: N801  (torch's name)
    """Context manager: the given globals are safe for the weights-only loader inside the ``with``."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = safe_globals

    def __enter__(self) -> None:
        self._before = len(_SAFE_GLOBALS)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc: Any) -> None:
        del _SAFE_GLOBALS[self._before:]



def _ember_name(module: str) -> str:
    return "ember" + module[len("torch"):] if module == "torch" or module.startswith("torch.") else module


def _user_safe(module: str, name: str) -> Any:
    wanted = {f"{module}.{name}", f"{_ember_name(module)}.{name}"}
    for entry in reversed(_SAFE_GLOBALS):
        if _global_name(entry) in wanted:
            return entry[0] if isinstance(entry, tuple) else entry
    return None


def _refused(module: str, name: str) -> UnpicklingError:
    g = f"{module}.{name}"
    return UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, \x1b[1mdo those "
        "steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) In PyTorch 2.6, we changed the default "
        "value of the `weights_only` argument in `ember.load` from `False` to `True`. Re-running `ember.load` with "
        "`weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it "
        "only if you got the file from a trusted source.\n\t(2) Alternatively, to load with `weights_only=True` "
        "please check the recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"Unsupported global: GLOBAL {g} was not an allowed global by default. Please use "
        f"`ember.serialization.add_safe_globals([{g}])` or the `ember.serialization.safe_globals([{g}])` context "
        "manager to allowlist this global if you trust this class/function.\n\nCheck the documentation of "
        "torch.load to learn more about types accepted by default with weights_only "
        "https://pytorch.org/docs/stable/generated/torch.load.html.")


# ------------------------------------------------------------- the weights-only unpickler
class _Opcodes(dict):
    def __missing__(self, key: int) -> Any:
        raise UnpicklingError(f"ember.load: unsupported pickle opcode {bytes([key])!r} in the checkpoint (the "
                              "weights-only loader reads only the opcodes torch.save writes)")


# the opcodes a checkpoint needs (torch's weights-only loader allows protocol 2's, ember a few of 3-5's);
# INST, OBJ, NEWOBJ_EX, the EXT* extension registry and the text opcodes of protocol 0 are refused
_SAFE_OPCODES = {getattr(pickle, n)[0] for n in (
    "GLOBAL", "STACK_GLOBAL", "NEWOBJ", "REDUCE", "BUILD", "APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS",
    "MARK", "POP", "POP_MARK", "DUP", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "NONE", "NEWFALSE", "NEWTRUE",
    "EMPTY_TUPLE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET", "FROZENSET", "LIST", "DICT", "BININT", "BININT1",
    "BININT2", "LONG1", "BINFLOAT", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "SHORT_BINSTRING",
    "BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BINPERSID", "BINGET", "LONG_BINGET", "BINPUT",
    "LONG_BINPUT", "MEMOIZE", "FRAME", "PROTO", "STOP")}


# pickle's pure-Python unpickler, whose internals (stack, metastack, append, the load_* opcode
# methods) typeshed does not describe: to mypy, a base of type Any
_PureUnpickler: Any = pickle._Unpickler


class _SafeUnpickler(_PureUnpickler):
    """The weights-only loader: only allow-listed globals resolve, only they may be called, and objects are
    built and filled only where torch's loader allows it. The pure-Python unpickler, so that each opcode
    can be checked (checkpoints' pickles are small: the data lives in the storage records)."""

    dispatch = _Opcodes({k: v for k, v in _PureUnpickler.dispatch.items() if k in _SAFE_OPCODES})

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self._table = _allowed()
        self._resolved: dict = {}  # id -> every global this file resolved: the only things it may call

    def find_class(self, module: str, name: str) -> Any:
        # protocol-2 files name builtins the Python 2 way (__builtin__.set): translate as pickle does
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        obj = self._table.get((module, name))
        if obj is None:
            obj = _user_safe(module, name)
        if obj is None:
            raise _refused(module, name)
        self._resolved[id(obj)] = obj
        return obj

    def persistent_load(self, pid: Any) -> Any:
        raise UnpicklingError("ember.load: unsupported persistent id in checkpoint")

    def _callable(self, f: Any, what: str) -> None:
        if self._resolved.get(id(f)) is not f:
            raise UnpicklingError(f"ember.load: the checkpoint {what} {type(f).__name__} {f!r:.80}, which is not "
                                  "an allowed global")

    def _load_reduce(self) -> None:
        args = self.stack.pop()
        self._callable(self.stack[-1], "calls")
        if not isinstance(args, tuple):
            raise UnpicklingError("ember.load: a call in the checkpoint has arguments that are not a tuple")
        self.stack[-1] = self.stack[-1](*args)

    def _load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self._callable(cls, "creates an object of")
        if not isinstance(cls, type):
            raise UnpicklingError(f"ember.load: the checkpoint creates an object of {cls!r:.80}, not a class")
        if cls is _bytearray or cls is bytearray:
            self.append(bytearray())
        else:
            self.append(cls.__new__(cls, *args))

    def _load_build(self) -> None:
        from .nn.parameter import Parameter

        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is collections.OrderedDict and isinstance(state, dict):
            inst.__dict__.update(state)  # (a state dict's _metadata)
        elif type(inst) is Parameter and isinstance(state, dict):
            inst.__dict__.update(state)
        elif _user_safe_type(type(inst)):
            self.stack.append(state)  # pickle's own BUILD pops it again
            _PureUnpickler.load_build(self)
        else:
            raise UnpicklingError("ember.load: Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                                  f"`add_safe_globals`, but got {type(inst)}")

    def _load_append(self) -> None:
        self._expect(self.stack[-2], (list,), "append to")
        _PureUnpickler.load_append(self)

    def _load_appends(self) -> None:
        self._expect(self.metastack[-1][-1] if self.metastack and self.metastack[-1] else None, (list,), "extend")
        _PureUnpickler.load_appends(self)

    def _load_setitem(self) -> None:
        self._expect(self.stack[-3], (dict, collections.OrderedDict), "set items of")
        _PureUnpickler.load_setitem(self)

    def _load_setitems(self) -> None:
        self._expect(self.metastack[-1][-1] if self.metastack and self.metastack[-1] else None,
                     (dict, collections.OrderedDict), "set items of")
        _PureUnpickler.load_setitems(self)

    def _load_additems(self) -> None:
        self._expect(self.metastack[-1][-1] if self.metastack and self.metastack[-1] else None, (set,), "add to")
        _PureUnpickler.load_additems(self)

    @staticmethod
    def _expect(obj: Any, types_: tuple, what: str) -> None:
        if type(obj) not in types_:
            raise UnpicklingError(f"ember.load: the checkpoint tries to {what} a {type(obj).__name__}")

    dispatch[pickle.REDUCE[0]] = _load_reduce
    dispatch[pickle.BUILD[0]] = _load_build
    dispatch[pickle.NEWOBJ[0]] = _load_newobj
    dispatch[pickle.APPEND[0]] = _load_append
    dispatch[pickle.APPENDS[0]] = _load_appends
    dispatch[pickle.SETITEM[0]] = _load_setitem
    dispatch[pickle.SETITEMS[0]] = _load_setitems
    dispatch[pickle.ADDITEMS[0]] = _load_additems


def _user_safe_type(cls: type) -> bool:
    return any((e[0] if isinstance(e, tuple) else e) is cls for e in _SAFE_GLOBALS)

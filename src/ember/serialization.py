"""Checkpoints in PyTorch's own zip format: ``ember.save`` / ``ember.load``.

A checkpoint is an uncompressed zip archive holding ``<name>/data.pkl`` (a protocol-2 pickle of the
object in which every tensor is a call to ``torch._utils._rebuild_tensor_v2`` on a storage named by a
persistent id) plus one raw little-endian record ``<name>/data/<key>`` per storage. Files written here
load in ``torch.load(weights_only=True)`` and files written by ``torch.save`` load here, with no torch
needed on ember's side.

Loading follows torch 2.6+: by default (``weights_only=True``) the unpickler resolves only the
globals on its allow-list (the tensor and parameter rebuild functions, storage types, dtypes,
``OrderedDict``) plus those the user marked safe with :func:`add_safe_globals` / :class:`safe_globals`,
and refuses anything else by name, so no code from the file runs. ``weights_only=False`` (or an
explicit ``pickle_module``) is the full unpickler for trusted files: NumPy objects, whole pickled
modules; a global named ``torch.X`` resolves to ``ember.X`` (ember's modules mirror torch's layout, so
a pickled ``torch.nn.modules.linear.Linear`` becomes ember's Linear). When saving, ember's own classes
are written under their torch names, so torch loads an ember-saved model as torch's classes.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import collections
import io
import os
import pickle
import struct
import types
import zipfile
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


class _StorageNames(dict):
    # NumPy dtype -> storage name, with bfloat16 recognised without importing ml_dtypes
    def __missing__(self, key: Any) -> str:
        if _dtype.is_bfloat16(np.dtype(key)):
            return "BFloat16Storage"
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        return dict.__contains__(self, key) or _dtype.is_bfloat16(np.dtype(key))


# storage type name <-> NumPy dtype
_STORAGES: dict[str, Any] = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64, "ComplexDoubleStorage": np.complex128,
    "BFloat16Storage": _BFloat16Np(),
}
_STORAGE_OF = _StorageNames({np.dtype(v): k for k, v in _STORAGES.items() if k != "BFloat16Storage"})
_ALIGN = 64


class _GlobalRef:
    """A reference to a global by name, written into the pickle without importing it."""

    __slots__ = ("module", "name")
    module: str
    name: str
    _cache: dict = {}

    def __new__(cls, module: str, name: str) -> "_GlobalRef":
        key = (module, name)
        ref = cls._cache.get(key)
        if ref is None:
            ref = object.__new__(cls)
            ref.module, ref.name = module, name
            cls._cache[key] = ref
        return ref

    def __call__(self, *args: Any) -> Any:  # pragma: no cover - only its name is ever written
        raise TypeError(f"{self.module}.{self.name} is a reference written into a checkpoint, not a function")


class _Storage:
    __slots__ = ("array", "key")

    def __init__(self, array: np.ndarray, key: str) -> None:
        self.array, self.key = array, key


class _Pickler(pickle._Pickler):  # the pure-Python pickler lets us write globals by name
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file: Any) -> None:
        super().__init__(file, protocol=2)
        self.storages: list = []
        self._keep: list = []  # keep temporaries alive so that id()-based memo entries stay unique

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is _Storage:
            numel = obj.array.size
            return ("storage", _GlobalRef("torch", _STORAGE_OF[obj.array.dtype]), obj.key, "cpu", numel)
        return None

    def reducer_override(self, obj: Any) -> Any:
        from .nn.parameter import Parameter

        t = type(obj)
        if t is Parameter:
            plain = _new(obj._data)
            self._keep.append(plain)
            return (_GlobalRef("torch._utils", "_rebuild_parameter"),
                    (plain, bool(obj.requires_grad), collections.OrderedDict()))
        if isinstance(obj, Tensor):
            arr = obj._data if obj._data.flags.c_contiguous else obj._data.copy(order="C")
            if arr.dtype not in _STORAGE_OF:
                raise TypeError(f"ember.save: cannot save a tensor of dtype {obj.dtype}")
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            st = _Storage(arr, str(len(self.storages)))
            self.storages.append(st)
            self._keep.append(st)
            stride = tuple(s // arr.itemsize for s in arr.strides) if arr.ndim else ()
            if arr.size <= 1:
                stride = _contiguous_stride(arr.shape)
            return (_GlobalRef("torch._utils", "_rebuild_tensor_v2"),
                    (st, 0, tuple(arr.shape), stride, bool(obj.requires_grad), collections.OrderedDict()))
        if t is Size:
            return (_GlobalRef("torch", "Size"), (tuple(obj),))
        if t is device:
            return (_GlobalRef("torch", "device"), (str(obj),))
        return NotImplemented

    def save_global(self, obj: Any, name: str | None = None) -> None:
        # ember's classes and functions live where torch keeps theirs: write the torch name, so that
        # torch.load(weights_only=False) rebuilds torch's class and ember.load maps it back
        module = getattr(obj, "__module__", None) or ""
        qual = name or getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "")
        if (module == "ember" or module.startswith("ember.")) and "<" not in qual:  # local objects: pickle refuses
            self.save(_GlobalRef("torch" + _public_module(module, qual, obj)[len("ember"):], qual))  # memoized
            return
        super().save_global(obj, name)

    def save_type(self, obj: type) -> None:
        module = obj.__module__ or ""
        if module == "ember" or module.startswith("ember."):
            return self.save_global(obj)
        return pickle._Pickler.save_type(self, obj)

    dispatch[type] = save_type
    dispatch[types.FunctionType] = save_global

    def save_globalref(self, obj: _GlobalRef) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    def save_dtype(self, obj: Any) -> None:
        self.save_globalref(_GlobalRef("torch", obj.name))

    dispatch[_GlobalRef] = save_globalref
    dispatch[_dtype.dtype] = save_dtype
    dispatch[_dtype._ExtensionDtype] = save_dtype  # (bfloat16)


def _lookup(module: str, qual: str) -> Any:
    import importlib

    try:
        obj = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


def _public_module(module: str, qual: str, obj: Any) -> str:
    # the shallowest package that exports ``obj`` (``ember.nn`` for BatchNorm2d, whose file differs
    # from torch's): torch keeps the same public names, not always the same files
    parts = module.split(".")
    for i in range(2, len(parts) + 1):
        if _lookup(".".join(parts[:i]), qual) is obj:
            return ".".join(parts[:i])
    return module


def _contiguous_stride(shape: tuple) -> tuple:
    stride, acc = [], 1
    for s in reversed(shape):
        stride.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(stride))


def _plain(obj: Any) -> Any:
    """NumPy scalars become Python numbers (torch's allow-list has no NumPy globals)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, collections.OrderedDict):
        new = collections.OrderedDict((k, _plain(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):
            new._metadata = obj._metadata  # type: ignore[attr-defined]
        return new
    if type(obj) is dict:
        return {k: _plain(v) for k, v in obj.items()}
    if type(obj) is list:
        return [_plain(v) for v in obj]
    if type(obj) is tuple:
        return tuple(_plain(v) for v in obj)
    return obj


def _write_aligned(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = zf.fp.tell() + 30 + len(name.encode("utf-8"))
    pad = (-(start + 4)) % _ALIGN
    info.extra = struct.pack("<HH", 0x4650, pad) + b"Z" * pad
    zf.writestr(info, data)


def save(obj: Any, f: Any, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` (tensors, state dicts, nested dicts/lists/tuples of them) in PyTorch's zip format.

    ``f`` is a path or a writable binary file; ``torch.load`` reads the result.

    >>> import io
    >>> buf = io.BytesIO()
    >>> ember.save({"w": ember.ones(2)}, buf)
    >>> _ = buf.seek(0)
    >>> ember.load(buf)
    {'w': tensor([1., 1.])}
    """
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    pickler.dump(_plain(obj))
    name = "archive"
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        name = stem if stem and all(c.isalnum() or c in "_-" for c in stem) else "archive"
    records = [(f"{name}/data.pkl", buf.getvalue()), (f"{name}/.format_version", b"1"),
               (f"{name}/.storage_alignment", str(_ALIGN).encode()), (f"{name}/byteorder", b"little")]
    opened = isinstance(f, (str, os.PathLike))
    fh = open(f, "wb") if opened else f
    try:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            for rname, data in records:
                _write_aligned(zf, rname, data)
            for st in pickler.storages:
                _write_aligned(zf, f"{name}/data/{st.key}", st.array.tobytes())
            _write_aligned(zf, f"{name}/version", b"3\n")
            _write_aligned(zf, f"{name}/.data/serialization_id", b"%040d" % (id(obj) % 10 ** 40))
    finally:
        if opened:
            fh.close()


# ---------------------------------------------------------------------- loading
class _StorageType:
    __slots__ = ("name", "dtype")

    def __init__(self, name: str) -> None:
        self.name, self.dtype = name, np.dtype(_STORAGES[name])


def _rebuild_tensor_v2(storage: np.ndarray, storage_offset: int, size: tuple, stride: tuple,
                       requires_grad: bool = False, backward_hooks: Any = None, metadata: Any = None) -> Tensor:
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    itemsize = storage.itemsize
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or len(size) != len(stride):
        raise RuntimeError("ember.load: corrupt checkpoint (invalid tensor size or stride)")
    extent = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else storage_offset
    if storage_offset < 0 or extent > storage.size and all(size):
        raise RuntimeError(f"ember.load: corrupt checkpoint (a tensor of size {list(size)} reaches element "
                           f"{extent} of a storage of {storage.size} elements)")
    arr = np.ndarray(size, storage.dtype, buffer=storage, offset=storage_offset * itemsize,
                     strides=tuple(s * itemsize for s in stride)) if all(size) else np.empty(size, storage.dtype)
    t = _new(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data: Tensor, requires_grad: bool, backward_hooks: Any = None) -> Any:
    from .nn.parameter import Parameter

    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data: Tensor, requires_grad: bool, backward_hooks: Any, state: Any) -> Any:
    p = _rebuild_parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


def _size(t: Any = ()) -> Size:
    return Size(tuple(t))


def _device(*args: Any) -> device:
    return device(*args)


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


# builtins torch's weights-only loader also accepts (bytes in protocol 2 are _codecs.encode calls)
_ALSO_SAFE = {("_codecs", "encode"): codecs.encode, ("builtins", "bytearray"): bytearray}


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


class _Unpickler(pickle.Unpickler):
    """The weights-only loader: only allow-listed globals resolve."""

    def __init__(self, file: Any, zf: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self._zf, self._prefix = zf, prefix
        self._storages: dict = {}
        self._table = _allowed()

    def find_class(self, module: str, name: str) -> Any:
        # protocol-2 files name builtins the Python 2 way (__builtin__.set): translate as pickle does
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        obj = self._table.get((module, name)) or _ALSO_SAFE.get((module, name))
        if obj is None:
            obj = _user_safe(module, name)
        if obj is None:
            raise _refused(module, name)
        return obj

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise UnpicklingError(f"ember.load: unsupported persistent id {pid!r} in checkpoint")
        stype, key, _location, numel = pid[1], str(pid[2]), pid[3], int(pid[4])
        if not isinstance(stype, _StorageType):
            raise UnpicklingError(f"ember.load: unsupported storage type {stype!r} in checkpoint")
        if key in self._storages:
            return self._storages[key]
        try:
            raw = self._zf.read(f"{self._prefix}data/{key}")
        except KeyError:
            raise RuntimeError(f"ember.load: corrupt checkpoint (storage record 'data/{key}' is missing)") from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise RuntimeError(f"ember.load: corrupt checkpoint (storage record 'data/{key}' is unreadable: {e})") \
                from None
        need = numel * stype.dtype.itemsize
        if len(raw) < need:
            raise RuntimeError(f"ember.load: corrupt checkpoint (storage 'data/{key}' holds {len(raw)} bytes, "
                               f"expected {need})")
        arr = np.frombuffer(bytearray(raw[:need]), dtype=stype.dtype.newbyteorder("<")).astype(stype.dtype)
        self._storages[key] = arr
        return arr


class _FullUnpickler(_Unpickler):
    """``weights_only=False``: any global resolves (trusted files only); ``torch.X`` means ``ember.X``."""

    def find_class(self, module: str, name: str) -> Any:
        obj = self._table.get((module, name))
        if obj is not None:
            return obj
        if _ember_name(module) != module:
            from ._compat import MissingTorchAPI

            # the same file first, then the packages above it (torch.nn.modules.batchnorm.BatchNorm2d
            # lives in ember.nn.modules.normalization and is exported as ember.nn.BatchNorm2d)
            parts = _ember_name(module).split(".")
            for i in range(len(parts), 0, -1):
                target = _lookup(".".join(parts[:i]), name)
                if target is not None:
                    return target
            raise MissingTorchAPI(f"ember does not implement {module}.{name} (named in the checkpoint)")
        return pickle.Unpickler.find_class(self, module, name)


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: Any = None, **pickle_load_args: Any) -> Any:
    """Read a checkpoint written by ``ember.save`` or ``torch.save`` (zip format).

    ``weights_only`` (the default unless a ``pickle_module`` is given) never runs code from the file;
    ``weights_only=False`` unpickles anything, for files from a trusted source.
    """
    if weights_only is None:
        weights_only = pickle_module is None and os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") in (
            "0", "", "false", "False")
    elif weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    opened = isinstance(f, (str, os.PathLike))
    try:
        fh = open(f, "rb") if opened else f
    except FileNotFoundError:
        raise
    try:
        try:
            zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: failed finding central directory "
                               "(the file is truncated, corrupt, or not a checkpoint in PyTorch's zip format)") \
                from None
        with zf:
            names = zf.namelist()
            pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
            if not pkl:
                raise RuntimeError("ember.load: not a PyTorch checkpoint (the archive has no data.pkl record)")
            prefix = pkl[0][: -len("data.pkl")]
            try:
                data = zf.read(pkl[0])
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise RuntimeError(f"ember.load: corrupt checkpoint (data.pkl is unreadable: {e})") from None
            up = (_Unpickler if weights_only else _FullUnpickler)(io.BytesIO(data), zf, prefix)
            try:
                return up.load()
            except UnpicklingError:
                raise
            except (EOFError, pickle.UnpicklingError, ValueError, struct.error, IndexError, KeyError) as e:
                raise RuntimeError(f"ember.load: corrupt checkpoint (data.pkl could not be read: {e})") from None
    finally:
        if opened:
            fh.close()


__all__ = ["save", "load", "UnpicklingError", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__

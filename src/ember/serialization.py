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

import collections
import io
import os
import pickle
import struct
import types
import zipfile
import zlib
from typing import Any

import numpy as np

from . import _dtype
from ._meta import contiguous_strides
from ._tensor import Size, Tensor, _new, device
from ._unpickler import (  # noqa: F401
    _LEGACY_MAGIC,
    _MAX_INFLATED_BYTES,
    _STORAGES,
    UnpicklingError,
    _allowed,
    _corrupt,
    _ember_name,
    _ints,
    _SafeUnpickler,
    _StorageType,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)


class _StorageNames(dict):
    # NumPy dtype -> storage name, with bfloat16 recognised without importing ml_dtypes
    def __missing__(self, key: Any) -> str:
        if _dtype.is_bfloat16(np.dtype(key)):
            return "BFloat16Storage"
        raise KeyError(key)

    def __contains__(self, key: Any) -> bool:
        return dict.__contains__(self, key) or _dtype.is_bfloat16(np.dtype(key))


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


# pickle's pure-Python pickler (it lets us write globals by name), whose internals (save, write,
# memoize, dispatch) typeshed does not describe: to mypy, a base of type Any
_PurePickler: Any = pickle._Pickler


class _Pickler(_PurePickler):
    dispatch = dict(_PurePickler.dispatch)

    def __init__(self, file: Any) -> None:
        super().__init__(file, protocol=2)
        self.storages: list = []
        self._by_base: dict = {}  # id(base array) -> its _Storage, so views of one array share one record
        self._keep: list = []  # keep temporaries alive so that id()-based memo entries stay unique

    def _storage_of(self, arr: np.ndarray) -> tuple:
        """(storage, offset, stride) for ``arr``: a view of a contiguous NumPy array is saved as torch saves
        a view, on its base's storage (so tensors that share memory still share it after loading)."""
        top = arr
        while isinstance(top.base, np.ndarray):
            top = top.base
        size = arr.itemsize
        if arr.size and top.dtype == arr.dtype and top.flags.c_contiguous and arr.dtype.byteorder != ">" \
                and all(s >= 0 and s % size == 0 for s in arr.strides):
            delta = arr.__array_interface__["data"][0] - top.__array_interface__["data"][0]
            stride = tuple(s // size for s in arr.strides)
            if delta >= 0 and delta % size == 0 and \
                    delta // size + sum((n - 1) * s for n, s in zip(arr.shape, stride)) < top.size:
                st = self._by_base.get(id(top))
                if st is None:
                    st = self._by_base[id(top)] = _Storage(top.reshape(-1), str(len(self.storages)))
                    self.storages.append(st)
                    self._keep.append(top)
                return st, delta // size, stride
        # anything else (a byte-swapped or reinterpreted view, an empty tensor) is saved as its own copy
        arr = np.ascontiguousarray(arr)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        st = _Storage(arr.reshape(-1), str(len(self.storages)))
        self.storages.append(st)
        self._keep.append(st)
        return st, 0, _contiguous_stride(arr.shape)

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
            arr = obj._data
            if arr.dtype not in _STORAGE_OF:
                raise TypeError(f"ember.save: cannot save a tensor of dtype {obj.dtype}")
            st, offset, stride = self._storage_of(arr)
            return (_GlobalRef("torch._utils", "_rebuild_tensor_v2"),
                    (st, offset, tuple(arr.shape), stride, bool(obj.requires_grad), collections.OrderedDict()))
        if t is Size:
            return (_GlobalRef("torch", "Size"), (tuple(obj),))
        if t is device:
            return (_GlobalRef("torch", "device"), (str(obj),))
        return NotImplemented

    def save_global(self, obj: Any, name: str | None = None) -> None:
        # ember's classes and functions live where torch keeps theirs: write the torch name, so that
        # torch.load(weights_only=False) rebuilds torch's class and ember.load maps it back
        module = getattr(obj, "__module__", None) or ""
        qual = str(name or getattr(obj, "__qualname__", None) or getattr(obj, "__name__", ""))
        if (module == "ember" or module.startswith("ember.")) and "<" not in qual:  # local objects: pickle refuses
            self.save(_GlobalRef("torch" + _public_module(module, qual, obj)[len("ember"):], qual))  # memoized
            return
        super().save_global(obj, name)

    def save_type(self, obj: type) -> None:
        module = obj.__module__ or ""
        if module == "ember" or module.startswith("ember."):
            return self.save_global(obj)
        return _PurePickler.save_type(self, obj)

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


_contiguous_stride = contiguous_strides


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
    if zf.fp is None:
        raise ValueError("Attempt to write to ZIP archive that was already closed")  # (zipfile's words)
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


# ------------------------------------------------------------- storages: zip records, legacy files
def _read_record(zf: zipfile.ZipFile, info: zipfile.ZipInfo, n: int) -> bytes:
    """The first ``n`` bytes of a record, inflating no more than that (and no more than the cap)."""
    if info.compress_type != zipfile.ZIP_STORED and n > _MAX_INFLATED_BYTES:
        raise RuntimeError(f"ember.load: refusing checkpoint: the compressed record '{info.filename}' declares "
                           f"{n} bytes, more than the {_MAX_INFLATED_BYTES} ember inflates (torch writes records "
                           "uncompressed)")
    try:
        with zf.open(info) as fh:
            raw = fh.read(n)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as e:
        raise _corrupt(f"record '{info.filename}' is unreadable: {e}") from None
    if len(raw) < n:
        raise _corrupt(f"record '{info.filename}' holds {len(raw)} bytes, expected {n}")
    return raw


class _ZipStorages:
    """persistent_load for the zip format: ``("storage", type, key, location, numel)`` names the record
    ``data/<key>``, read once however many tensors view it."""

    def _setup(self, zf: zipfile.ZipFile, prefix: str) -> None:
        self._zf, self._prefix = zf, prefix
        self._storages: dict = {}

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise UnpicklingError(f"ember.load: unsupported persistent id {pid!r:.200} in checkpoint")
        stype, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(stype, _StorageType):
            raise UnpicklingError(f"ember.load: unsupported storage type {stype!r:.80} in checkpoint")
        if not isinstance(numel, int) or numel < 0:
            raise _corrupt(f"storage 'data/{key}' declares {numel!r:.80} elements")
        if key in self._storages:
            return self._storages[key]
        name = f"{self._prefix}data/{key}"
        try:
            info = self._zf.getinfo(name)
        except KeyError:
            raise _corrupt(f"storage record 'data/{key}' is missing") from None
        need = numel * stype.dtype.itemsize
        if info.file_size < need:  # checked on the declared sizes, before anything is read
            raise _corrupt(f"storage 'data/{key}' holds {info.file_size} bytes, expected {need}")
        raw = _read_record(self._zf, info, need)
        arr = np.frombuffer(bytearray(raw), dtype=stype.dtype.newbyteorder("<")).astype(stype.dtype, copy=False)
        self._storages[key] = arr
        return arr


class _Unpickler(_ZipStorages, _SafeUnpickler):
    def __init__(self, file: Any, zf: zipfile.ZipFile, prefix: str) -> None:
        _SafeUnpickler.__init__(self, file)
        self._setup(zf, prefix)


class _FullUnpickler(_ZipStorages, pickle.Unpickler):
    """``weights_only=False``: any global resolves (trusted files only); ``torch.X`` means ``ember.X``."""

    def __init__(self, file: Any, zf: zipfile.ZipFile, prefix: str) -> None:
        pickle.Unpickler.__init__(self, file)
        self._setup(zf, prefix)
        self._table = _allowed()

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


class _LegacyStorages:
    """persistent_load for the pre-1.6 format: ``("storage", type, key, location, numel, view)``; the bytes
    follow the pickles, so each storage is allocated here (no larger than the file) and filled later."""

    def _setup_legacy(self, file_size: int) -> None:  # (named apart: _LegacyFullUnpickler also has _ZipStorages')
        self._file_size = file_size
        self._storages: dict = {}

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) != 6 or pid[0] != "storage":
            raise UnpicklingError(f"ember.load: unsupported persistent id {pid!r:.200} in legacy checkpoint")
        stype, key, numel, view = pid[1], str(pid[2]), pid[4], pid[5]
        if not isinstance(stype, _StorageType):
            raise UnpicklingError(f"ember.load: unsupported storage type {stype!r:.80} in checkpoint")
        if key not in self._storages:
            if not isinstance(numel, int) or numel < 0 or numel * stype.dtype.itemsize > self._file_size:
                raise _corrupt(f"storage {key} declares {numel!r:.80} elements, more than the file holds")
            self._storages[key] = np.zeros(numel, stype.dtype)
        arr = self._storages[key]
        if view is not None:  # (view_key, offset, size): a slice of the storage
            _, offset, size = _ints(view, "storage view")
            if offset < 0 or size < 0 or offset + size > arr.size:
                raise _corrupt(f"a view of storage {key} reaches past its {arr.size} elements")
            return arr[offset:offset + size]
        return arr


class _LegacyUnpickler(_LegacyStorages, _SafeUnpickler):
    def __init__(self, file: Any, file_size: int) -> None:
        _SafeUnpickler.__init__(self, file)
        self._setup_legacy(file_size)


class _LegacyFullUnpickler(_LegacyStorages, _FullUnpickler):
    def __init__(self, file: Any, file_size: int) -> None:
        pickle.Unpickler.__init__(self, file)
        self._setup_legacy(file_size)
        self._table = _allowed()


def _load_legacy(data: bytes, weights_only: bool) -> Any:
    """A file written by ``torch.save(..., _use_new_zipfile_serialization=False)``: magic number, protocol
    version and system info pickles, the object's pickle, the list of storage keys, then each storage as
    an int64 element count and its raw bytes."""
    f = io.BytesIO(data)

    def header() -> Any:  # numbers, a dict of them and a list of keys: no global may appear
        return _SafeUnpickler(f).load()

    if header() != _LEGACY_MAGIC:
        raise RuntimeError("ember.load: not a checkpoint (neither PyTorch's zip format nor its legacy format: "
                           "invalid magic number)")
    version = header()
    if version != 1001:
        raise RuntimeError(f"ember.load: invalid protocol version {version!r:.40} in a legacy checkpoint")
    sys_info = header()
    little = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    up = (_LegacyUnpickler if weights_only else _LegacyFullUnpickler)(f, len(data))
    result = up.load()
    keys = header()
    if not isinstance(keys, list):
        raise _corrupt("the legacy storage list is missing")
    for key in keys:
        arr = up._storages.get(str(key))
        head = f.read(8)
        if arr is None or len(head) < 8:
            raise _corrupt(f"legacy storage {key!r:.40} is missing")
        (numel,) = struct.unpack("<q", head)
        raw = f.read(arr.size * arr.itemsize)
        if numel != arr.size or len(raw) < arr.size * arr.itemsize:
            raise _corrupt(f"legacy storage {key!r:.40} holds fewer bytes than its {arr.size} elements")
        arr[...] = np.frombuffer(raw, arr.dtype.newbyteorder("<" if little else ">"))
    return result


def _check_members(names: list, prefix: str) -> None:
    # torch reads every record from one top-level folder; a name that leaves it (../../x, /etc/x) is
    # refused, as torch refuses it, even though ember never writes records to disk
    for n in names:
        if not n.startswith(prefix) or n.startswith("/") or "\\" in n or ".." in n.split("/"):
            raise RuntimeError(f"ember.load: refusing checkpoint: file in archive is not in a subdirectory "
                               f"{prefix}: {n}")


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: Any = None, **pickle_load_args: Any) -> Any:
    """Read a checkpoint written by ``ember.save`` or ``torch.save`` (zip format, or the legacy pre-1.6 one).

    ``weights_only`` (the default unless a ``pickle_module`` is given) never runs code from the file;
    ``weights_only=False`` unpickles anything, for files from a trusted source.
    """
    if weights_only is None:
        weights_only = pickle_module is None and os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") in (
            "0", "", "false", "False")
    elif weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    opened = isinstance(f, (str, os.PathLike))
    fh = open(f, "rb") if opened else f
    try:
        try:
            zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile:
            zf = None
        if zf is None:
            fh.seek(0)
            data = fh.read()
            if data[:2] != b"\x80\x02":  # every legacy file starts with a protocol-2 pickle
                raise RuntimeError("PytorchStreamReader failed reading zip archive: failed finding central "
                                   "directory (the file is truncated, corrupt, or not a checkpoint in PyTorch's "
                                   "zip format)")
            return _unpickled(lambda: _load_legacy(data, weights_only), weights_only)
        with zf:
            names = zf.namelist()
            pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
            if not pkl:
                raise RuntimeError("ember.load: not a PyTorch checkpoint (the archive has no data.pkl record)")
            prefix = pkl[0][: -len("data.pkl")]
            _check_members(names, prefix)
            info = zf.getinfo(pkl[0])
            data = _read_record(zf, info, info.file_size)
            up = (_Unpickler if weights_only else _FullUnpickler)(io.BytesIO(data), zf, prefix)
            return _unpickled(up.load, weights_only)
    finally:
        if opened:
            fh.close()


def _unpickled(run: Any, weights_only: bool) -> Any:
    # whatever a malformed pickle trips over inside the unpickler is reported as a corrupt file (with
    # weights_only=False, errors of the file's own classes pass through as they are)
    caught: tuple[type[Exception], ...] = (EOFError, pickle.UnpicklingError, ValueError, struct.error, IndexError, KeyError, RecursionError,
              OverflowError) + ((AttributeError, TypeError) if weights_only else ())
    try:
        return run()
    except UnpicklingError:
        raise
    except caught as e:
        raise _corrupt(f"data.pkl could not be read: {type(e).__name__}: {e}") from None


__all__ = ["save", "load", "UnpicklingError", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

from . import _namespace as _ns  # noqa: E402

_ns.tidy(__name__)  # dir() and tab completion show only __all__


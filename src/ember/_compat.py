"""Run unmodified PyTorch code on ember: ``import torch`` (and ``torch.nn`` ...) resolves to ember.

``install()`` puts a finder on ``sys.meta_path`` that answers ``torch`` and ``torch.X`` with proxies
of ``ember`` and ``ember.X``. A proxy forwards every attribute to the ember module and records it;
a name ember lacks fails on the spot with ``ember does not implement torch.fft.rfft`` instead of
an obscure error later. Values print with the ``torch.`` prefix, as PyTorch prints them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import re
import sys
import types
from typing import Any

from . import _dtype

# the torch release whose behaviour ember follows: what ``torch.__version__`` reads under ``ember run``
TORCH_VERSION = "2.13.0"


def _version_key(v: Any) -> tuple:
    if isinstance(v, tuple):
        parts = [int(p) for p in v if isinstance(p, int)]
    else:
        m = re.match(r"\d+(?:\.\d+)*", str(v))
        parts = [int(p) for p in m.group().split(".")] if m else []
    while parts and parts[-1] == 0:  # '2.13' and '2.13.0' are the same release
        parts.pop()
    return tuple(parts)


class TorchVersion(str):
    """A version string that compares as a version (``'2.13.0' >= '2.9'``), like torch's TorchVersion."""

    def __lt__(self, other: Any) -> bool:
        return _version_key(self) < _version_key(other)

    def __le__(self, other: Any) -> bool:
        return _version_key(self) <= _version_key(other)

    def __gt__(self, other: Any) -> bool:
        return _version_key(self) > _version_key(other)

    def __ge__(self, other: Any) -> bool:
        return _version_key(self) >= _version_key(other)

    def __eq__(self, other: Any) -> bool:
        return _version_key(self) == _version_key(other)

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


TorchVersion.__module__ = "torch.torch_version"

_RETAGGED: set = set()


def _retag(cls: type) -> None:
    m = cls.__module__
    if isinstance(m, str) and (m == "ember" or m.startswith("ember.")):
        try:
            cls.__module__ = "torch" + m[len("ember"):]
        except (TypeError, AttributeError):
            pass


def _retag_classes() -> None:
    """Give every loaded ember class torch's module name, so that ``type(x)`` prints ``<class 'torch.Tensor'>``."""
    for name, mod in list(sys.modules.items()):
        if name in _RETAGGED or mod is None or not (name == "ember" or name.startswith("ember.")):
            continue
        _RETAGGED.add(name)
        for v in list(vars(mod).values()):
            if isinstance(v, type):
                _retag(v)
            elif type(v) is not tuple and isinstance(v, tuple):  # return_types.max & co. live in a namedtuple
                for item in v:
                    if isinstance(item, type):
                        _retag(item)


class MissingTorchAPI(AttributeError):
    """A torch attribute that ember does not implement.

    ``name`` and ``obj`` are set as on Python's own AttributeError, so that a typo's traceback ends
    with ``Did you mean: 'tensor'?``. Python 3.12+ computes that line for subclasses of
    AttributeError from these two; 3.11 only for AttributeError itself, so there the message
    carries the suggestion.
    """

    def __init__(self, message: str, *, name: str | None = None, obj: Any = None) -> None:
        if sys.version_info < (3, 12) and name is not None and obj is not None:
            message += _suggestion(name, obj)
        super().__init__(message, name=name, obj=obj)


def _suggestion(name: str, obj: Any) -> str:
    """``". Did you mean: 'tensor'?"`` for the closest public name of ``obj``, or ``""``."""
    import difflib

    try:
        candidates = [n for n in dir(obj) if not n.startswith("__")]
    except Exception:
        return ""
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return f". Did you mean: '{close[0]}'?" if close else ""


class MissingTorchModule(ImportError):
    """A torch module that ember does not implement."""


class TorchProxy(types.ModuleType):
    """Stands in for ``torch.<path>``, forwarding to ``ember.<path>`` and recording what is used."""

    def __init__(self, torch_name: str, target: types.ModuleType, log: dict) -> None:
        super().__init__(torch_name)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_log", log)
        self.__path__ = []  # a package, so ``import torch.nn.functional`` goes through the finder

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        full = f"{self.__name__}.{name}"
        log = object.__getattribute__(self, "_log")
        if name.startswith("__") and name.endswith("__"):
            if name == "__version__" and self.__name__ in ("torch", "torch.version"):
                return TorchVersion(TORCH_VERSION)
            return getattr(target, name)
        try:
            value = getattr(target, name)
        except AttributeError:
            sub = _try_submodule(target, name)
            if sub is None:
                log[full] = False
                raise MissingTorchAPI(f"ember does not implement {full}", name=name, obj=self) from None
            value = sub
        log.setdefault(full, True)
        if isinstance(value, types.ModuleType) and value.__name__.startswith("ember"):
            _retag_classes()
            return _proxy_for(full, value, log)
        if isinstance(value, type):
            _retag(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # the import system sets __spec__, __loader__, __path__ ... on the proxy itself
        if name.startswith("__") and name.endswith("__"):
            object.__setattr__(self, name, value)
        else:
            setattr(object.__getattribute__(self, "_target"), name, value)

    def __dir__(self) -> list:
        return dir(object.__getattribute__(self, "_target"))


def _try_submodule(module: types.ModuleType, name: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(f"{module.__name__}.{name}")
    except ImportError:
        return None


_PROXIES: dict = {}


def _proxy_for(torch_name: str, target: types.ModuleType, log: dict) -> TorchProxy:
    p = _PROXIES.get(torch_name)
    if p is None:
        p = _PROXIES[torch_name] = TorchProxy(torch_name, target, log)
        sys.modules[torch_name] = p
    return p


# the packages answered with ember: torch itself, and functorch (whose transforms became torch.func)
_ROOTS = {"torch": "ember", "functorch": "ember._functorch"}


class _Loader(importlib.abc.Loader):
    def __init__(self, log: dict) -> None:
        self.log = log

    def create_module(self, spec: Any) -> types.ModuleType:
        name = spec.name
        root = name.partition(".")[0]
        ember_name = _ROOTS[root] + name[len(root):]
        try:
            target = importlib.import_module(ember_name)
        except ImportError:
            self.log[name] = False
            raise MissingTorchModule(f"ember does not implement {name}") from None
        self.log.setdefault(name, True)
        _retag_classes()
        return _proxy_for(name, target, self.log)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class TorchFinder(importlib.abc.MetaPathFinder):
    """Answers imports of ``torch``, ``functorch`` and their submodules with ember proxies."""

    def __init__(self) -> None:
        self.log: dict = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.partition(".")[0] in _ROOTS:
            return importlib.util.spec_from_loader(fullname, _Loader(self.log))
        return None


def install() -> TorchFinder:
    """Make ``import torch`` mean ember in this process (for the ``run`` command)."""
    for name in [n for n in sys.modules if n.partition(".")[0] in _ROOTS]:
        del sys.modules[name]
    finder = TorchFinder()
    sys.meta_path.insert(0, finder)
    _dtype.PREFIX[0] = "torch"
    _retag_classes()
    return finder


def run_script(path: str, argv: list[str], report: bool = False) -> int:
    """Run a PyTorch script on ember; with ``report``, list every torch API it touched."""
    import runpy

    finder = install()
    old_argv = sys.argv
    sys.argv = [path, *argv]
    status = 0
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Exception as e:
        # report it as `python script.py` would: the traceback starts at the script, without the
        # frames of ember's command line and runpy above it, and the exit status is 1
        tb = _from_script(e.__traceback__, path)
        if tb is e.__traceback__ and isinstance(e, SyntaxError):
            tb = None          # the script did not compile: Python shows only the error and its line
        sys.excepthook(type(e), e.with_traceback(tb), tb)
        status = 1
    finally:
        sys.argv = old_argv
        if report:
            _print_report(finder.log)
    return status


def _from_script(tb: Any, path: str) -> Any:
    """The traceback from the script's first frame on (all of it if the script has no frame in it,
    e.g. a syntax error, so nothing is hidden)."""
    import os

    script = os.path.realpath(path)
    t = tb
    while t is not None:
        if os.path.realpath(t.tb_frame.f_code.co_filename) == script:
            return t
        t = t.tb_next
    return tb


def _print_report(log: dict) -> None:
    out = sys.stderr
    used = sorted(log.items())
    missing = [n for n, ok in used if not ok]
    print(f"\nember run --report: {len(used)} torch APIs touched, {len(missing)} missing", file=out)
    for name, ok in used:
        print(f"  {'ok     ' if ok else 'MISSING'} {name}", file=out)

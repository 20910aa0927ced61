"""``ember.device`` and the one place that decides which devices can hold tensors.

ember computes on the CPU with NumPy. Every creation function, ``Tensor.to`` / ``.cuda()`` and
``Module.to`` / ``.cuda()`` ask :func:`check` about the device they were given; it answers as a
CPU-only build of torch does (``AssertionError: ... not compiled with CUDA enabled``). A GPU array
backend would register its device type in ``AVAILABLE`` here and nothing else would need to change.
"""

from __future__ import annotations

from typing import Any

# the device types torch's parser knows, in the order its error message lists them
_KNOWN = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

# device types that can hold ember tensors (a CuPy backend would add "cuda")
AVAILABLE = {"cpu"}

# the build flags torch's messages name for each accelerator it was not compiled with
_NOT_COMPILED = {"cuda": "CUDA", "xpu": "XPU"}


class device:
    """Where a tensor's data lives: ``ember.device('cpu')``, ``device('cuda', 0)``, ``device('cuda:1')``."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            # a bare index means "the current accelerator", of which a CPU build has none
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({_tname(type)}), but "
                            "expected one of:\n * (ember.device device)\n * (str type, int index = -1)\n")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(f"device(): argument 'index' (position 2) must be int, not {_tname(index)}")
        name, sep, idx = type.partition(":")
        if sep:
            if index is not None:
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed explicitly: {type}")
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == "0") or name not in _KNOWN:
                if name not in _KNOWN:
                    _unknown(type)
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        elif name not in _KNOWN:
            if name.strip() in _KNOWN:
                raise RuntimeError(f"Invalid device string: '{type}'")
            _unknown(type)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        # as torch: a device equals only a device (device('cpu') == 'cpu' is False)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return (device, (self.type, self.index))

    def __enter__(self) -> "device":
        # ``with ember.device('cuda'):`` makes it the default for factories inside, as in torch
        _DEFAULT.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _DEFAULT.pop()
        return None


device.__module__ = "ember"


def _tname(v: Any) -> str:
    return type(v).__name__


def _unknown(text: str) -> None:
    raise RuntimeError(f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {text}")


CPU = device("cpu")
# the default device of factory functions: set_default_device() sets the bottom, ``with device:`` pushes
_DEFAULT: list = [None]


def get_default_device() -> device:
    """The device factory functions use when given none (the CPU unless set)."""
    d = _DEFAULT[-1]
    if d is None:
        return CPU
    check(d)
    return d


def set_default_device(dev: Any) -> None:
    """Make ``dev`` the default device of factory functions (None: the CPU); creating a tensor on a device
    ember lacks then raises as torch does."""
    _DEFAULT[0] = None if dev is None else device(dev)


def check(dev: Any) -> None:
    """Raise torch's CPU-build error unless ``dev`` (a device, a string, an index or None) can hold tensors;
    None means the default device."""
    if dev is None:
        dev = _DEFAULT[-1]
        if dev is None:
            return
    if dev is CPU:
        return
    d = dev if isinstance(dev, device) else device(dev)
    if d.type in AVAILABLE:
        return
    flag = _NOT_COMPILED.get(d.type)
    if flag is not None:
        raise AssertionError(f"ember not compiled with {flag} enabled")
    if d.type == "meta":
        raise NotImplementedError("ember does not implement torch.device('meta') in factory functions (use .to('meta') on a "
                                  "tensor or a module)")
    raise RuntimeError(f"ember is not linked with support for {d.type} devices")


class OutOfMemoryError(RuntimeError):
    """Raised when a device runs out of memory (``torch.OutOfMemoryError``, also ``torch.cuda.OutOfMemoryError``)."""


OutOfMemoryError.__module__ = "ember"

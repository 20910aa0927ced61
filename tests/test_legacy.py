"""The legacy surface older tutorials use, compared with torch: Variable, FloatTensor & co., x.type(),
.data, numpy() inside a custom Function, and how classes print."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from test_devices import same_error

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]


# --------------------------------------------------------------------------- Variable
def test_variable_returns_a_tensor_sharing_data():
    for lib in (ember, torch):
        t = lib.ones(2)
        v = lib.autograd.Variable(t)
        assert type(v) is lib.Tensor and v is not t and v.requires_grad is False
        v.add_(1)
        assert t.tolist() == [2.0, 2.0]  # the same storage
        r = lib.autograd.Variable(t, requires_grad=True)
        assert r.requires_grad and r.is_leaf and not t.requires_grad
        assert isinstance(t, lib.autograd.Variable)
        y = lib.autograd.Variable(r * 2)
        assert y.grad_fn is None and not y.requires_grad and y.is_leaf
        assert lib.autograd.Variable().tolist() == []
    assert repr(ember.autograd.Variable(ember.ones(2), requires_grad=True)) == \
        repr(torch.autograd.Variable(torch.ones(2), requires_grad=True))


def test_variable_errors_and_volatile_warning():
    same_error(lambda: ember.autograd.Variable([1.0]), lambda: torch.autograd.Variable([1.0]))
    same_error(lambda: ember.autograd.Variable(ember.ones(2).long(), requires_grad=True),
               lambda: torch.autograd.Variable(torch.ones(2).long(), requires_grad=True))
    with pytest.warns(UserWarning, match="volatile was removed and now has no effect"):
        ember.autograd.Variable(ember.ones(1), volatile=True)


# --------------------------------------------------------------------------- FloatTensor & co.
@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors(name):
    E, T = getattr(ember, name), getattr(torch, name)
    assert repr(E) == repr(T).replace("torch", "ember")
    assert repr(E.dtype) == repr(T.dtype).replace("torch", "ember") and E.is_cuda is T.is_cuda is False
    for args in ([[1, 0, 2]], [[[1, 2], [3, 4]]], [(2, 3)], [np.ones(2)], []):
        e, t = E(*args), T(*args)
        assert repr(e) == repr(t).replace("torch", "ember"), args
    for args in ((2, 3), (ember.Size([2, 3]),)):
        targs = tuple(torch.Size(a) if isinstance(a, ember.Size) else a for a in args)
        e, t = E(*args), T(*targs)
        assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == str(t.dtype).split(".")[1]
    x = E([1, 2])
    assert isinstance(x, E) and isinstance(x, ember.Tensor) and x.type() == f"ember.{name}"
    assert isinstance(T([1, 2]), T)
    others = [n for n in LEGACY if n != name]
    assert not any(isinstance(x, getattr(ember, o)) for o in others)
    assert issubclass(E, ember.Tensor) is issubclass(T, torch.Tensor) is False


def test_legacy_constructor_from_a_tensor_and_errors():
    t = ember.ones(2)
    f = ember.FloatTensor(t)
    assert f is not t and f.data_ptr() == t.data_ptr()
    assert ember.FloatTensor(2, device="cpu").shape == (2,)
    assert repr(ember.LongTensor([1.5])) == repr(torch.LongTensor([1.5]))
    same_error(lambda: ember.FloatTensor(2, 3.0), lambda: torch.FloatTensor(2, 3.0))
    same_error(lambda: ember.FloatTensor(-1), lambda: torch.FloatTensor(-1))
    same_error(lambda: ember.FloatTensor(ember.ones(2).double()), lambda: torch.FloatTensor(torch.ones(2).double()),
               full_message=False)
    same_error(lambda: ember.FloatTensor([1], dtype=ember.float64), lambda: torch.FloatTensor([1], dtype=torch.float64),
               full_message=False)
    same_error(lambda: ember.FloatTensor(2, device="cuda"), lambda: torch.FloatTensor(2, device="cuda"))
    assert not hasattr(ember, "ComplexFloatTensor") and not hasattr(torch, "ComplexFloatTensor")


# --------------------------------------------------------------------------- x.type()
@pytest.mark.parametrize("dt", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
                                "complex64", "complex128"])
def test_type_names(dt):
    assert ember.ones(2, dtype=getattr(ember, dt)).type() == torch.ones(2, dtype=getattr(torch, dt)).type().replace(
        "torch", "ember")


@pytest.mark.parametrize("target", ["DoubleTensor", "LongTensor", "FloatTensor", "'DoubleTensor'", "'BoolTensor'",
                                    "float64", "Tensor"])
def test_type_conversion(target):
    def conv(lib):
        x = lib.tensor([[1.5, -2.0]])
        if target.startswith("'"):
            arg = f"{lib.__name__}.{target[1:-1]}"
        else:
            arg = getattr(lib, target)
        return x.type(arg)

    e, t = conv(ember), conv(torch)
    assert repr(e) == repr(t).replace("torch", "ember")
    x = ember.ones(2)
    assert x.type(ember.FloatTensor) is x and torch.ones(2).type(torch.FloatTensor) is not None


def test_type_errors():
    same_error(lambda: ember.ones(2).type("foo"), lambda: torch.ones(2).type("foo"))
    same_error(lambda: ember.ones(2).type(int), lambda: torch.ones(2).type(int))
    same_error(lambda: ember.ones(2).type("ember.cuda.FloatTensor"), lambda: torch.ones(2).type("torch.cuda.FloatTensor"),
               full_message=False)
    assert ember.ones(2).type(dtype=ember.int64).dtype == ember.int64


def test_set_default_tensor_type():
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
            ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.get_default_dtype() == ember.float64
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ember.set_default_tensor_type("ember.FloatTensor")
            assert ember.get_default_dtype() == ember.float32
            with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
                ember.set_default_tensor_type(ember.LongTensor)
    finally:
        ember.set_default_dtype(ember.float32)


# --------------------------------------------------------------------------- .data
def test_data_shares_storage_but_not_the_version_counter():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        d = x.data
        assert not d.requires_grad and d.is_leaf and d.data_ptr() == x.data_ptr()
        d.add_(1)
        assert (x._version, d._version) == (0, 1) and x.tolist() == [2.0, 2.0]
        x.data = lib.zeros(3)
        assert x.shape == (3,) and x.requires_grad and x._version == 0
        assert (x * 2).data.grad_fn is None


def test_data_setter_errors():
    def set_data(lib, value):
        x = lib.ones(2, requires_grad=True)
        x.data = value(lib)

    same_error(lambda: set_data(ember, lambda L: L.zeros(3).long()), lambda: set_data(torch, lambda L: L.zeros(3).long()))
    same_error(lambda: set_data(ember, lambda L: [1.0]), lambda: set_data(torch, lambda L: [1.0]))


# --------------------------------------------------------------------------- numpy() in a custom Function
def _numpy_function(lib):
    class Twice(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            assert x.requires_grad and not lib.is_grad_enabled()
            return lib.from_numpy(x.numpy() * 2)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Twice


def test_numpy_inside_a_custom_function_forward():
    for lib in (ember, torch):
        a = lib.ones(2, requires_grad=True)
        y = _numpy_function(lib).apply(a)
        y.sum().backward()
        assert y.tolist() == [2.0, 2.0] and a.grad.tolist() == [2.0, 2.0]
        assert type(y.grad_fn).__name__ == "TwiceBackward"
        with lib.no_grad():
            assert a.numpy().tolist() == [1.0, 1.0]
    same_error(lambda: ember.ones(2, requires_grad=True).numpy(), lambda: torch.ones(2, requires_grad=True).numpy())


# --------------------------------------------------------------------------- how classes print
def _objects(L):
    p = [L.nn.Parameter(L.ones(1))]
    ds = L.utils.data.TensorDataset(L.ones(2))
    return {
        "Tensor": L.ones(1), "Size": L.Size([1]), "dtype": L.float32, "device": L.device("cpu"),
        "Parameter": p[0], "Linear": L.nn.Linear(1, 1), "Conv2d": L.nn.Conv2d(1, 1, 1),
        "BatchNorm1d": L.nn.BatchNorm1d(2), "BatchNorm2d": L.nn.BatchNorm2d(2), "LayerNorm": L.nn.LayerNorm(2),
        "InstanceNorm1d": L.nn.InstanceNorm1d(2), "Sequential": L.nn.Sequential(), "ReLU": L.nn.ReLU(),
        "MSELoss": L.nn.MSELoss(), "LSTM": L.nn.LSTM(1, 1), "Embedding": L.nn.Embedding(2, 2),
        "SGD": L.optim.SGD(p, lr=0.1), "Adam": L.optim.Adam(p), "AdamW": L.optim.AdamW(p),
        "RMSprop": L.optim.RMSprop(p), "Adagrad": L.optim.Adagrad(p),
        "StepLR": L.optim.lr_scheduler.StepLR(L.optim.SGD(p, lr=0.1), 1),
        "DataLoader": L.utils.data.DataLoader(ds), "TensorDataset": ds, "no_grad": L.no_grad(),
        "MulBackward0": (L.ones(1, requires_grad=True) * 2).grad_fn,
        "AccumulateGrad": (L.ones(1, requires_grad=True) * 2).grad_fn.next_functions[0][0],
        "max": L.ones(2).max(0), "autocast": L.autocast("cpu", dtype=L.float16),
        "GradScaler": L.amp.GradScaler("cpu"), "FloatTensor": L.FloatTensor([1.0]),
    }


def test_classes_print_where_torch_keeps_them():
    e, t = _objects(ember), _objects(torch)
    for k in t:
        assert repr(type(e[k])) == repr(type(t[k])).replace("torch", "ember"), k
    for name in ("cuda.amp.autocast", "cuda.amp.GradScaler", "cpu.amp.autocast", "cpu.amp.GradScaler",
                 "autograd.Variable", "OutOfMemoryError", "cuda.OutOfMemoryError", "amp.GradScaler"):
        eo, to = ember, torch
        for part in name.split("."):
            eo, to = getattr(eo, part), getattr(to, part)
        assert repr(eo) == repr(to).replace("torch", "ember"), name
    assert repr(ember.FloatTensor) == "<class 'ember.FloatTensor'>"
    assert repr(ember.Tensor) == "<class 'ember.Tensor'>"

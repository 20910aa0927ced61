"""Tensor creation, conversion, metadata and dtype promotion, compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def same(e, t):
    assert type(e).__name__ == type(t).__name__ or (hasattr(e, "numpy") and hasattr(t, "numpy"))
    if hasattr(t, "numpy"):
        assert str(e.dtype).replace("ember.", "torch.") == str(t.dtype)
        assert tuple(e.shape) == tuple(t.shape)
        # exact, except float rounding in linspace/arange (1 ulp)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=2e-7 if e.dtype.itemsize >= 4 else 1e-3,
                                   atol=0)
        assert repr(e).replace("ember.", "torch.") == repr(t)
    else:
        assert e == t


@pytest.mark.parametrize("make", [
    lambda L: L.tensor([1, 2, 3]),
    lambda L: L.tensor([1.0, 2, 3]),
    lambda L: L.tensor([[True, False]]),
    lambda L: L.tensor(3.5),
    lambda L: L.tensor([1, 2], dtype=L.float64),
    lambda L: L.tensor(np.arange(6, dtype=np.float64).reshape(2, 3)),
    lambda L: L.tensor(np.arange(3, dtype=np.int32)),
    lambda L: L.tensor([]),
    lambda L: L.zeros(2, 3),
    lambda L: L.zeros((2, 3), dtype=L.int64),
    lambda L: L.ones(4, dtype=L.float16),
    lambda L: L.full((2, 2), 7),
    lambda L: L.full((2, 2), 7.5),
    lambda L: L.full((2,), True),
    lambda L: L.arange(5),
    lambda L: L.arange(1, 4, 0.5),
    lambda L: L.arange(0, 1, 0.1),
    lambda L: L.arange(10, dtype=L.float32),
    lambda L: L.linspace(0, 1, 7),
    lambda L: L.linspace(-3, 5, 11, dtype=L.float64),
    lambda L: L.eye(3),
    lambda L: L.eye(2, 4, dtype=L.int32),
    lambda L: L.zeros_like(L.ones(2, 3, dtype=L.int32)),
    lambda L: L.ones_like(L.ones(2, 3), dtype=L.float64),
    lambda L: L.full_like(L.ones(2), 3.0),
    lambda L: L.empty(2, 0),
    lambda L: L.tensor([1.0, 2.0], requires_grad=True),
])
def test_creation_matches_torch(make):
    same(make(ember), make(torch))


def test_random_factories_match_torch_streams():
    for s in (0, 1, 123):
        torch.manual_seed(s)
        ember.manual_seed(s)
        same(ember.randn(3, 4), torch.randn(3, 4))
        same(ember.rand(5), torch.rand(5))
        same(ember.randint(0, 10, (6,)), torch.randint(0, 10, (6,)))
        same(ember.randn(2, dtype=ember.float64), torch.randn(2, dtype=torch.float64))


def test_from_numpy_shares_memory_and_numpy_roundtrip():
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    a[0] = 10
    assert t[0].item() == 10.0
    t.numpy()[1] = 20
    assert a[1] == 20
    assert t.dtype is ember.float64
    assert np.asarray(t) is a or np.shares_memory(np.asarray(t), a)
    with pytest.raises(RuntimeError, match="requires grad"):
        ember.ones(2, requires_grad=True).numpy()


def test_metadata_and_python_protocols():
    def run(L):
        t = L.arange(12.0).reshape(3, 4)
        return (t.shape, t.size(), t.size(1), t.dim(), t.ndim, t.numel(), len(t), t.T.shape,
                [r.tolist() for r in t], t.tolist(), t[1, 2].item(), float(t[0, 1]), int(t[2, 3]),
                bool(t[0, 1]), t.is_leaf, t.requires_grad, t.dtype.is_floating_point, t.is_floating_point())

    e, t = run(ember), run(torch)
    assert repr(e[0]) == repr(t[0]).replace("torch.", "ember.")
    assert e == tuple(x for x in t)


def test_size_prints_with_prefix():
    assert repr(ember.ones(4, 3).shape) == "ember.Size([4, 3])"
    assert str(ember.ones(4, 3).size()) == "ember.Size([4, 3])"
    assert isinstance(ember.ones(2, 3).shape, tuple)
    assert repr(ember.float64) == "ember.float64"


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_to_dtype(src, dst):
    data = [[0, 1, 2], [3, 120, 7]]
    e = ember.tensor(data, dtype=getattr(ember, src) if src != "bool" else ember.bool).to(
        getattr(ember, dst) if dst != "bool" else ember.bool)
    t = torch.tensor(data, dtype=getattr(torch, src)).to(getattr(torch, dst))
    same(e, t)


def test_conversion_shortcuts():
    t = ember.tensor([1.7, -2.2])
    assert t.double().dtype is ember.float64 and t.long().dtype is ember.int64
    assert t.int().dtype is ember.int32 and t.bool().dtype is ember.bool and t.half().dtype is ember.float16
    assert t.long().tolist() == [1, -2]
    assert t.float() is t


OPERANDS = {
    "f32": lambda L: L.tensor([1.5, 2.0]),
    "f64": lambda L: L.tensor([1.5, 2.0], dtype=L.float64),
    "f16": lambda L: L.tensor([1.5, 2.0], dtype=L.float16),
    "i64": lambda L: L.tensor([3, 4]),
    "i32": lambda L: L.tensor([3, 4], dtype=L.int32),
    "u8": lambda L: L.tensor([3, 4], dtype=L.uint8),
    "i8": lambda L: L.tensor([3, -4], dtype=L.int8),
    "b": lambda L: L.tensor([True, False]),
    "f64_0d": lambda L: L.tensor(2.5, dtype=L.float64),
    "i64_0d": lambda L: L.tensor(3),
    "f32_0d": lambda L: L.tensor(2.5),
    "int": lambda L: 2,
    "float": lambda L: 2.5,
    "bool": lambda L: True,
}


@pytest.mark.parametrize("op", ["+", "*", "-", "/", "//", "%", "**", "<", "=="])
@pytest.mark.parametrize("a", [k for k in OPERANDS if k not in ("int", "float", "bool")])
@pytest.mark.parametrize("b", list(OPERANDS))
def test_binary_promotion_matches_torch(op, a, b):
    def run(L):
        env = {"x": OPERANDS[a](L), "y": OPERANDS[b](L)}
        return eval(f"x {op} y", env)

    try:
        t = run(torch)
    except Exception as exc:  # noqa: BLE001
        with pytest.raises(type(exc)):
            run(ember)
        return
    e = run(ember)
    assert str(e.dtype).replace("ember.", "torch.") == str(t.dtype), f"{a} {op} {b}"
    np.testing.assert_allclose(e.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize("op", ["+", "*", "-", "/", "**"])
@pytest.mark.parametrize("a", ["int", "float"])
@pytest.mark.parametrize("b", ["f32", "i64", "i32", "b", "f64_0d", "i64_0d"])
def test_reflected_operators(op, a, b):
    def run(L):
        env = {"x": OPERANDS[a](L), "y": OPERANDS[b](L)}
        return eval(f"x {op} y", env)

    try:
        t = run(torch)
    except Exception as exc:  # noqa: BLE001
        with pytest.raises(type(exc)):
            run(ember)
        return
    e = run(ember)
    assert str(e.dtype).replace("ember.", "torch.") == str(t.dtype)
    np.testing.assert_allclose(e.numpy().astype(np.float64), t.numpy().astype(np.float64), rtol=1e-3)


def test_issue_examples_of_promotion():
    assert (ember.tensor([1, 2]) * 2.5).dtype is ember.float32
    assert (ember.ones(2) + ember.tensor(1.0, dtype=ember.float64)).dtype is ember.float32
    assert (ember.tensor([1, 2]) / 2).dtype is ember.float32


def test_format_of_zero_dim_tensors():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = (x * x).sum()
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ts = (tx * tx).sum()
    assert f"{s}" == f"{ts}" and f"{s:.4f}" == f"{ts:.4f}"
    assert str(s) == str(ts)
    with pytest.raises(TypeError):
        f"{x:.2f}"


def test_device_argument_and_cpu_only():
    assert ember.ones(2, device="cpu").device == ember.device("cpu")
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):  # as torch CPU builds
        ember.ones(2, device="cuda")


@pytest.mark.parametrize("data", [
    np.float64(0.5), np.float32(0.5), np.float16(1), np.int32(3), np.int8(-2), np.bool_(True),
    [np.float64(0.5)], [np.float64(1), 2.0], [np.float16(1), 2.0], [1, np.float16(2)], [np.int8(1), 2],
    [np.int8(1), np.int16(2)], [np.uint8(3), np.int8(1)], [np.int32(1), 2.5], [[np.float64(1)], [2.0]],
    [np.complex64(1), 2.0], [np.float32(1), 1j], [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
], ids=repr)
@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_tensor_of_numpy_scalars_keeps_their_types(data):
    # NumPy scalars are typed like 0-d arrays; in lists, items' types are promoted (torch's rule)
    t, e = torch.tensor(data), ember.tensor(data)
    assert str(e.dtype) == str(t.dtype).replace("torch", "ember")
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("call", [lambda L, x: x.tile(2), lambda L, x: x.tile(2, 1), lambda L, x: x.tile((2,)),
                                  lambda L, x: L.tile(x, (3, 1, 1)), lambda L, x: L.tile(x, dims=(2, 2))])
def test_tile_argument_forms(call):
    x0 = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(call(ember, ember.tensor(x0)).numpy(), call(torch, torch.tensor(x0)).numpy())


@pytest.mark.parametrize("shape, args", [((2, 7), (1, 3, 1)), ((2, 7), (1, 3, 2)), ((6, 3), (0, 2, 2)), ((5,), (-1, 5, 1)),
                                         ((2, 3, 4), (2, 2, 1))])
def test_tensor_unfold_matches_torch(shape, args):
    x0 = np.random.default_rng(0).standard_normal(shape)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        u = x.unfold(*args)
        g, = lib.autograd.grad((u * u * u).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        res.append((u.detach().numpy(), g.detach().numpy(), g2.numpy(), type(u.grad_fn).__name__))
    for a, b in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert res[0][3] == res[1][3]


def test_tensor_unfold_is_a_view_and_errors_match_torch():
    for lib in (ember, torch):
        x = lib.arange(8.0)
        u = x.unfold(0, 2, 2)  # non-overlapping: writes reach x
        u[1, 0] = 100.0
        assert x[2].item() == 100.0
        with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 8 but size is 9"):
            x.unfold(0, 9, 1)
        with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
            x.unfold(0, 2, 0)


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (2, 0), (-1, -2)])
def test_rot90_matches_torch(k, dims):
    x0 = np.random.default_rng(1).standard_normal((2, 3, 4))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.rot90(x, k, dims) if k != 1 else x.rot90(k, dims)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
    assert res[0][2] == res[1][2]

"""float32 transcendental functions agree with torch's bits (ops/_float32.py).

Each case draws 200k seeded float32 inputs over the function's useful range and asserts the share
of results bit-identical to torch's and the largest distance in ulps. Thresholds sit a little
under what was measured on 1M inputs (in parentheses), so they catch a regression to NumPy's
float32 kernels (whose rate is given after "was").
"""

import numpy as np
import pytest
import torch

import ember

F, TF = ember.nn.functional, torch.nn.functional
N = 200_000


def _inputs(kind: str, lo: float, hi: float) -> np.ndarray:
    rng = np.random.default_rng(1234)
    if kind == "log":
        return np.exp(rng.uniform(np.log(lo), np.log(hi), N)).astype(np.float32)
    return rng.uniform(lo, hi, N).astype(np.float32)


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # distance in units in the last place, on the float32 number line (sign-magnitude -> integers)
    ia, ib = (v.reshape(-1).view(np.int32).astype(np.int64) for v in (a, b))
    ia = np.where(ia < 0, -(ia & 0x7FFFFFFF), ia)
    ib = np.where(ib < 0, -(ib & 0x7FFFFFFF), ib)
    d = np.abs(ia - ib)
    d[np.isnan(a.reshape(-1)) & np.isnan(b.reshape(-1))] = 0
    return d


CASES = {
    # name: (inputs, torch fn, ember fn, min share bit-identical, max ulps)
    "exp": (("lin", -87, 88), torch.exp, ember.exp, 0.985, 1),  # (98.9%; was 60.7%)
    "log": (("log", 1e-30, 1e30), torch.log, ember.log, 0.9995, 1),  # (99.998%; was 96.1%)
    "log1p": (("lin", -0.99, 10), torch.log1p, ember.log1p, 0.99, 1),  # (99.6%; was 93.5%)
    "expm1": (("lin", -20, 20), torch.expm1, ember.expm1, 0.975, 1),  # (98.2%; was 88.2%)
    "log2": (("log", 1e-30, 1e30), torch.log2, ember.log2, 0.9995, 1),  # (99.999%; was 99.4%)
    "log10": (("log", 1e-30, 1e30), torch.log10, ember.log10, 0.9995, 1),  # (99.998%; was 44.3%)
    "tanh": (("lin", -10, 10), torch.tanh, ember.tanh, 0.99, 1),  # (99.6%; was 61.8%)
    "tan": (("lin", -1.5, 1.5), torch.tan, ember.tan, 0.99, 1),  # (99.4%; was 76.3%)
    "sigmoid": (("lin", -20, 20), torch.sigmoid, ember.sigmoid, 0.95, 4),  # (95.9%; was 83.7%)
    "sin": (("lin", -10, 10), torch.sin, ember.sin, 0.8, 1),  # (84.5%: NumPy float32, by choice)
    "cos": (("lin", -10, 10), torch.cos, ember.cos, 0.78, 1),  # (81.3%: NumPy float32, by choice)
    "sqrt": (("log", 1e-30, 1e30), torch.sqrt, ember.sqrt, 0.99, 1),  # (99.3%: torch's is not exact)
    "rsqrt": (("log", 1e-30, 1e30), torch.rsqrt, ember.rsqrt, 1.0, 0),  # (100%)
    "pow2.5": (("log", 1e-5, 1e5), lambda x: x ** 2.5, lambda x: x ** 2.5, 0.975, 1),  # (98.2%; was 79.5%)
    "pow3": (("lin", -100, 100), lambda x: x ** 3, lambda x: x ** 3, 1.0, 0),  # (100%)
    "pow_tensor": (("lin", 0.01, 10), lambda x: x ** x.flip(0), lambda x: x ** x.flip(0), 0.975, 1),  # (98.2%)
    "erf": (("lin", -4, 4), torch.erf, ember.erf, 0.94, 1),  # (95.0%)
    "silu": (("lin", -20, 20), TF.silu, F.silu, 0.95, 4),  # (95.9%; was 82.8%)
    "softplus": (("lin", -30, 30), TF.softplus, F.softplus, 0.94, 2),  # (94.8%; was 93.4%)
    "logsigmoid": (("lin", -30, 30), TF.logsigmoid, F.logsigmoid, 0.94, 2),  # (95.2%; was 79.3%)
    "gelu_tanh": (("lin", -2, 5), lambda x: TF.gelu(x, approximate="tanh"),
                  lambda x: F.gelu(x, approximate="tanh"), 0.99, 16),  # (99.5%; was 79.3%)
    "log_softmax": (("lin", -10, 10), lambda x: x.reshape(-1, 100).log_softmax(1),
                    lambda x: x.reshape(-1, 100).log_softmax(1), 0.9, 6),  # (91.8%; was 90.8%)
}


# torch picks its vectorised kernels by the CPU: with AVX-512 its sqrt, tan and log are further from
# the correctly rounded value (measured on 200k inputs: 83.1%, 81.6%, 99.3% agreement; at most 1 ulp)
AVX512_SHARE = {"sqrt": 0.82, "tan": 0.80, "log": 0.99}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bit_agreement_with_torch(name: str) -> None:
    (kind, lo, hi), tfn, efn, share, max_ulps = CASES[name]
    if torch.backends.cpu.get_cpu_capability() == "AVX512":
        share = AVX512_SHARE.get(name, share)
    x = _inputs(kind, lo, hi)
    theirs = tfn(torch.from_numpy(x)).numpy()
    ours = efn(ember.tensor(x)).numpy()
    assert ours.dtype == np.float32
    d = _ulps(ours, theirs)
    assert np.mean(d == 0) >= share and d.max() <= max_ulps, (np.mean(d == 0), d.max())


def test_gelu_and_softmax_stay_close() -> None:
    # torch's GELU and softmax kernels have their own float32 erf / exp and summation order: ember
    # matches them in 64% / 50% of elements only. GELU differs by at most 1.2e-6 absolute (torch's
    # erf is that far off; it saturates and flushes gelu(x) to -0 for x < -5.49, and gelu(tanh)
    # for x < -5.06, where ember keeps the tiny true value)
    x = _inputs("lin", -8, 6)
    for approximate in ("none", "tanh"):
        ours = F.gelu(ember.tensor(x), approximate=approximate).numpy()
        np.testing.assert_allclose(ours, TF.gelu(torch.from_numpy(x), approximate=approximate).numpy(), rtol=0, atol=2e-6)
    s = _inputs("lin", -10, 10).reshape(-1, 100)
    d = _ulps(ember.tensor(s).softmax(1).numpy(), torch.from_numpy(s).softmax(1).numpy())
    assert d.max() <= 8


@pytest.mark.parametrize("expr", ["exp(torch.tensor([12.]))", "exp(torch.tensor([10., 11.5, 20.]))",
                                  "pow(torch.tensor([7.3, 123.4]), 2.5)", "log10(torch.tensor([3., 7., 1e-20]))",
                                  "tanh(torch.tensor([0.3, 0.77]))", "expm1(torch.tensor([9.1]))"])
def test_prints_like_torch(expr: str) -> None:
    assert repr(eval("ember." + expr.replace("torch.", "ember."))) == repr(eval("torch." + expr))


def test_exp_12_prints_torch_value() -> None:
    assert repr(ember.exp(ember.tensor([12.0]))) == "tensor([162754.7969])"


def test_float16_and_float64_paths() -> None:
    x = np.linspace(-5, 5, 1001)
    for dt in (np.float16, np.float64):
        xs = x.astype(dt)
        for fn in ("exp", "tanh", "sigmoid", "log1p"):
            ours = getattr(ember, fn)(ember.tensor(xs)).numpy()
            theirs = getattr(torch, fn)(torch.from_numpy(xs)).numpy()
            assert ours.dtype == dt
            np.testing.assert_allclose(ours, theirs, rtol=2e-3 if dt == np.float16 else 1e-15, equal_nan=True)


@pytest.mark.parametrize("fn", ["sigmoid", "tanh"])
def test_backward_formulas_bit_exact(fn: str) -> None:
    # given torch's own forward result, the backward kernels agree bit for bit: sigmoid's is
    # g * (1 - y) * y, tanh's g * (1 - y^2) with 1 - y^2 fused (plain 1 - y*y: 15% agreement)
    from ember.ops import _grad_math as pointwise  # (the backward ops formulas are written with)

    x, g = _inputs("lin", -8, 8), _inputs("lin", -2, 2)[::-1].copy()
    ty = getattr(torch, fn)(torch.from_numpy(x))
    theirs = getattr(torch.ops.aten, f"{fn}_backward")(torch.from_numpy(g), ty).numpy()
    ours = getattr(pointwise, f"{fn}_backward")(ember.tensor(g), ember.tensor(ty.numpy())).numpy()
    np.testing.assert_array_equal(ours, theirs)
    # and through autograd, with ember's own forward (which differs from torch's in a few % of bits)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    getattr(torch, fn)(tx).backward(torch.from_numpy(g))
    getattr(ember, fn)(ex).backward(ember.tensor(g))
    assert np.mean(_ulps(ex.grad.numpy(), tx.grad.numpy()) == 0) > 0.96

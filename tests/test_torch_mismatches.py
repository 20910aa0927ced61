"""Small places where ember differed from torch 2.13, each pinned against torch itself."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch

import ember


def _outcome(fn: Any) -> tuple:
    """(exception type name, message) or ("ok", None)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the comparison is the point
        return type(e).__name__, str(e).replace("torch", "ember")
    return "ok", None


# ------------------------------------------------------------------ 2. np.asarray on a tensor that requires grad
@pytest.mark.parametrize("no_grad", [False, True])
@pytest.mark.parametrize("how", ["asarray", "array_dtype", "dunder"])
def test_array_protocol_refuses_requires_grad(no_grad: bool, how: str) -> None:
    def run(lib: Any) -> tuple:
        t = lib.ones(2, requires_grad=True)
        f = {"asarray": lambda: np.asarray(t), "array_dtype": lambda: np.asarray(t, dtype=np.float64),
             "dunder": lambda: t.__array__()}[how]
        if no_grad:
            with lib.no_grad():
                return _outcome(f)
        return _outcome(f)

    assert run(ember) == run(torch)


# ------------------------------------------------------------------ 5. round's two overloads
@pytest.mark.parametrize("kw", [{}, {"decimals": 0}, {"decimals": 1}, {"decimals": -1}])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_round_overloads(kw: dict, dtype: str) -> None:
    def run(lib: Any) -> Any:
        x = lib.tensor([1.25, -2.5, 3.75]).to(getattr(lib, dtype))
        if dtype == "float32":
            x.requires_grad_(True)
        try:
            r = lib.round(x, **kw)
            m = x.round(**kw)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e)
        return type(r.grad_fn).__name__, type(m.grad_fn).__name__, r.detach().tolist()

    assert run(ember) == run(torch)


# ------------------------------------------------------------------ 6. binary ops whose operands must be tensors
TENSOR_ONLY = ["atan2", "arctan2", "hypot", "fmax", "fmin", "maximum", "minimum", "nextafter", "ldexp", "logaddexp",
               "logaddexp2", "heaviside", "gcd", "lcm", "logical_and", "logical_or", "logical_xor", "isclose", "kron",
               "cross", "dist"]
NUMBER_OK = ["copysign", "pow", "remainder", "fmod", "xlogy", "float_power", "add", "mul", "eq", "clamp_min"]


@pytest.mark.parametrize("name", ["polar", "complex"])
def test_complex_constructors_take_tensors_only(name: str) -> None:
    def run(lib: Any) -> list:
        f = getattr(lib, name)
        return [_outcome(lambda: f(lib.ones(2), 2.0)), _outcome(lambda: f(2.0, lib.ones(2)))]

    assert run(ember) == run(torch)


@pytest.mark.parametrize("name", TENSOR_ONLY + NUMBER_OK)
def test_binary_ops_tensor_or_number(name: str) -> None:
    def run(lib: Any) -> tuple:
        x = lib.ones(3) if name != "gcd" and name != "lcm" else lib.ones(3, dtype=lib.int64)
        return _outcome(lambda: getattr(lib, name)(x, 2.0))[0], _outcome(lambda: getattr(x, name)(2.0))[0]

    e, t = run(ember), run(torch)
    assert e == t
    if name in TENSOR_ONLY and name != "arctan2":
        with pytest.raises(TypeError, match=rf"{name}\(\): argument '\w+' \(position 2\) must be Tensor, not float"):
            getattr(ember, name)(ember.ones(3), 2.0)


# ------------------------------------------------------------------ 8. the legacy size_average/reduce warning
@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_legacy_reduction_warning_names_reduction(size_average: Any, reduce: Any) -> None:
    if size_average is None and reduce is None:
        pytest.skip("no legacy argument, no warning")
    kw = {k: v for k, v in (("size_average", size_average), ("reduce", reduce)) if v is not None}

    def run(lib: Any) -> list:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.functional.l1_loss(lib.ones(3), lib.zeros(3), **kw)
            lib.nn.L1Loss(**kw)
        return [str(m.message) for m in w]

    assert run(ember) == run(torch)


# ------------------------------------------------------------------ 9. MultiheadAttention's is_causal hint needs a mask
def test_mha_is_causal_needs_mask() -> None:
    def run(lib: Any) -> tuple:
        lib.manual_seed(0)
        x = lib.zeros(3, 2, 8)
        return _outcome(lambda: lib.nn.MultiheadAttention(8, 2)(x, x, x, is_causal=True))

    assert run(ember) == run(torch)
    assert run(ember)[0] == "RuntimeError"


# ------------------------------------------------------------------ 4. one RemovableHandle, torch.utils.hooks'
@pytest.mark.parametrize("where", ["tensor", "leaf", "node", "node_pre", "post_acc", "forward", "forward_pre",
                                   "backward"])
def test_one_removable_handle(where: str) -> None:
    def run(lib: Any) -> tuple:
        calls = []
        m = lib.nn.Linear(2, 2)
        x = lib.ones(1, 2, requires_grad=True)
        y = x * 2

        def hook(*a: Any) -> None:
            calls.append(1)

        reg = {"tensor": lambda: y.register_hook(hook), "leaf": lambda: x.register_hook(hook),
               "node": lambda: y.grad_fn.register_hook(hook), "node_pre": lambda: y.grad_fn.register_prehook(hook),
               "post_acc": lambda: x.register_post_accumulate_grad_hook(hook),
               "forward": lambda: m.register_forward_hook(hook),
               "forward_pre": lambda: m.register_forward_pre_hook(hook, with_kwargs=True),
               "backward": lambda: m.register_full_backward_hook(hook)}[where]
        h = reg()
        h2 = reg()
        with h2:
            pass  # leaving the block removes the second hook
        m(y).sum().backward()
        n = len(calls)
        h.remove()
        h.remove()
        m(x * 2).sum().backward()
        return type(h).__module__.replace("torch", "ember"), type(h).__qualname__, h2.id > h.id, n, len(calls) - n

    assert run(ember) == run(torch)
    assert run(ember)[:2] == ("ember.utils.hooks", "RemovableHandle")


# ------------------------------------------------------------------ 3. iter(DataLoader) is torch's iterator class
@pytest.mark.parametrize("kind", ["batched", "unbatched", "iterable"])
def test_dataloader_iterator(kind: str) -> None:
    def run(lib: Any) -> tuple:
        data = lib.utils.data

        class Stream(data.IterableDataset):
            def __iter__(self) -> Any:
                return iter(range(5))

        ds = Stream() if kind == "iterable" else data.TensorDataset(lib.arange(7.0))
        it = iter(data.DataLoader(ds, batch_size=None if kind == "unbatched" else 3))
        first = next(it)
        n = _outcome(lambda: len(it)) if kind == "iterable" else len(it)
        rest = list(it)
        return (type(it).__module__.replace("torch", "ember"), type(it).__qualname__, iter(it) is it, n,
                it._num_yielded, 1 + len(rest), _outcome(lambda: next(it))[0], str(first).replace("torch", "ember"))

    assert run(ember) == run(torch)


# ------------------------------------------------------------------ 10. scheduler state keys and the step-order warning
SCHEDULERS = {
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.9 ** e),
    "StepLR": lambda L, o: L.StepLR(o, 2),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [1, 3]),
    "LinearLR": lambda L, o: L.LinearLR(o),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 5),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 1.0, total_steps=10),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.ExponentialLR(o, 0.5), L.StepLR(o, 2)], [2]),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o),
    "ReduceLROnPlateau_list": lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.01]),
    "SWALR": lambda L, o: L.SWALR(o, 0.05),
}


@pytest.mark.parametrize("optimizer_first", [False, True])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_state_keys_and_order_warning(name: str, optimizer_first: bool) -> None:
    def run(lib: Any) -> tuple:
        import importlib

        L = importlib.import_module(f"{lib.__name__}.optim.lr_scheduler")
        if name == "SWALR":
            L = importlib.import_module(f"{lib.__name__}.optim.swa_utils")
        o = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0, momentum=0.9)
        s = SCHEDULERS[name](L, o)
        keys0 = list(s.state_dict())
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for _ in range(3):
                if optimizer_first:
                    o.step()
                s.step(1.0) if name.startswith("ReduceLROnPlateau") else s.step()
        msgs = [str(m.message).replace("PyTorch", "?") for m in w if "epoch parameter" not in str(m.message)]
        return keys0, list(s.state_dict()), {k: v for k, v in s.state_dict().items() if k.startswith("_is")}, msgs

    assert run(ember) == run(torch)


# ------------------------------------------------------------------ 11. load_state_dict pre- and post-hooks
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_hooks(strict: bool) -> None:
    def run(lib: Any) -> list:
        log: list = []
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
        sd = net.state_dict()
        sd["1.0.old_name"] = sd.pop("1.0.bias")  # an old checkpoint: a pre-hook renames the key back

        def rename(module: Any, state_dict: dict, prefix: str, *rest: Any) -> None:
            log.append(("pre", type(module).__name__, prefix, rest[1]))
            if prefix + "old_name" in state_dict:
                state_dict[prefix + "bias"] = state_dict.pop(prefix + "old_name")

        def plain(state_dict: dict, prefix: str, local_metadata: dict, strict: bool, *rest: Any) -> None:
            log.append(("plain", prefix, strict, len(rest)))

        def post(module: Any, keys: Any) -> None:
            log.append(("post", type(module).__name__, list(keys.missing_keys), list(keys.unexpected_keys)))

        h = net[1][0].register_load_state_dict_pre_hook(rename)
        net._register_load_state_dict_pre_hook(plain)
        net[1]._register_load_state_dict_pre_hook(lambda m, *a: log.append(("with_module", type(m).__name__)),
                                                  with_module=True)
        net.register_load_state_dict_post_hook(post)
        net[1].register_load_state_dict_post_hook(post)
        log.append(str(net.load_state_dict(sd, strict=strict)))
        h.remove()
        sd2 = net.state_dict()
        sd2["1.0.old_name"] = sd2.pop("1.0.bias")
        log.append(_outcome(lambda: net.load_state_dict(sd2, strict=strict)))
        return log

    assert run(ember) == run(torch)


def test_parametrized_weight_norm_loads_old_state_dict() -> None:
    def run(lib: Any) -> tuple:
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            old = lib.nn.utils.weight_norm(lib.nn.Conv1d(2, 3, 2), dim=0)
        sd = old.state_dict()
        new = lib.nn.utils.parametrizations.weight_norm(lib.nn.Conv1d(2, 3, 2))
        res = str(new.load_state_dict(sd))
        x = lib.ones(1, 2, 4)
        return res, list(sd), list(new.state_dict()), new(x).detach().numpy().round(6).tolist(), \
            old(x).detach().numpy().round(6).tolist()

    e, t = run(ember), run(torch)
    assert e[:3] == t[:3]
    np.testing.assert_allclose(e[3], t[3], rtol=1e-5)
    np.testing.assert_allclose(e[3], e[4], rtol=1e-6)


# ------------------------------------------------------------------ 7. linspace bit for bit in every dtype
def _lin_cases() -> list:
    rng = np.random.default_rng(7)
    cases = [(16.347830429585773, 2.7276877584472174, 16), (0.0, 1.0, 7), (28.0, -59.0, 64), (10.0, -45.0, 16)]
    for _ in range(40):
        a, b = rng.uniform(-100, 100, 2)
        cases.append((float(a), float(b), int(rng.choice([1, 2, 3, 5, 8, 17, 33, 100, 257]))))
    return cases


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "int16", "uint8"])
def test_linspace_bitwise(dtype: str) -> None:
    for a, b, n in _lin_cases():
        if dtype == "uint8":
            a, b = abs(a), abs(b)
        t = torch.linspace(a, b, n, dtype=getattr(torch, dtype)).numpy()
        e = ember.linspace(a, b, n, dtype=getattr(ember, dtype)).numpy()
        assert e.dtype == t.dtype
        np.testing.assert_array_equal(e.view(f"u{t.itemsize}"), t.view(f"u{t.itemsize}"), err_msg=f"{a}, {b}, {n}")


@pytest.mark.parametrize("dtype", [None, "float16", "float32", "float64", "int64"])
def test_arange_float_steps_bitwise(dtype: str | None) -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        step = float(rng.choice([0.1, 0.3, 0.7, 1.5, 0.25, -0.1, -0.37, 0.01, 0.013]))
        start = float(rng.uniform(-5, 5))
        end = start + step * int(rng.integers(1, 120)) + 0.5 * step
        kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
        ekw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
        try:
            t = torch.arange(start, end, step, **kw).numpy()
        except (RuntimeError, ValueError):  # an integer step truncated to 0
            with pytest.raises((RuntimeError, ValueError)):
                ember.arange(start, end, step, **ekw)
            continue
        e = ember.arange(start, end, step, **ekw).numpy()
        assert e.dtype == t.dtype
        np.testing.assert_array_equal(e.view(f"u{t.itemsize}"), t.view(f"u{t.itemsize}"), err_msg=f"{start}, {end}, {step}")
    assert _outcome(lambda: ember.arange(0, -5, 1)) == _outcome(lambda: torch.arange(0, -5, 1))


# ------------------------------------------------------------------ 1. einsum decomposes as torch's does
EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("bij,bjk", [(2, 3, 4), (2, 4, 5)]),
    ("ii->", [(3, 3)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("i,j->ij", [(3,), (4,)]), ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]), ("ij->ji", [(3, 4)]), ("ij", [(3, 4)]), ("i,i->", [(3,), (3,)]), ("i,i", [(3,), (3,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]), ("ij,j->i", [(3, 4), (4,)]), ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]), ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("iij,jk->ik", [(3, 3, 4), (4, 2)]), ("ijk,i->jk", [(2, 3, 4), (2,)]),
    ("i,jk,i->jk", [(3,), (2, 4), (3,)]), ("ab,cd->", [(2, 3), (4, 5)]), ("bi,bj->bij", [(1, 3), (4, 2)]),
]


@pytest.mark.parametrize(("eq", "shapes"), EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_graph_and_derivatives(eq: str, shapes: list) -> None:
    from oracle import check  # tests/ is on the path, as for the other oracle tests

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    check(lambda lib, *xs: lib.einsum(eq, *xs), *arrays, second=True)
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(lambda *t: ember.einsum(eq, *t), xs)
    assert ember.autograd.gradgradcheck(lambda *t: ember.einsum(eq, *t), xs)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_logspace_bitwise(dtype: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(60):
        a, b = rng.uniform(-3, 3, 2)
        if dtype == "int64":
            a, b = abs(a) * 2, abs(b) * 2
        n, base = int(rng.choice([1, 2, 3, 7, 16, 33, 100])), float(rng.choice([10.0, 2.0, math.e, 3.0]))
        t = torch.logspace(float(a), float(b), n, base=base, dtype=getattr(torch, dtype)).numpy()
        e = ember.logspace(float(a), float(b), n, base=base, dtype=getattr(ember, dtype)).numpy()
        assert e.dtype == t.dtype
        if dtype == "float16":  # torch's Half arithmetic is matched to within one unit in the last place
            np.testing.assert_array_max_ulp(e, t, maxulp=1)
        else:
            np.testing.assert_array_equal(e, t, err_msg=f"{a}, {b}, {n}, {base}")

"""Autocast on the CPU and GradScaler, compared with torch: which ops run in the lower precision,
what stays float32, the dtypes, values, grad_fn names and gradients, and the state's nesting."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


def _pair(*shape):
    a = RNG.standard_normal(shape).astype(np.float32)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _np(t):
    return t.detach().numpy().astype(np.float64)


# each case: (name, builder of leaves' shapes, the op given a library and the leaves)
OPS = [
    ("mm", [(3, 4), (4, 5)], lambda L, a, b: L.mm(a, b)),
    ("matmul", [(3, 4), (4, 5)], lambda L, a, b: a @ b),
    ("matmul_batched", [(2, 3, 4), (4, 5)], lambda L, a, b: L.matmul(a, b)),
    ("bmm", [(2, 3, 4), (2, 4, 5)], lambda L, a, b: L.bmm(a, b)),
    ("addmm", [(5,), (3, 4), (4, 5)], lambda L, c, a, b: L.addmm(c, a, b)),
    ("baddbmm", [(2, 3, 5), (2, 3, 4), (2, 4, 5)], lambda L, c, a, b: L.baddbmm(c, a, b)),
    ("addbmm", [(3, 5), (2, 3, 4), (2, 4, 5)], lambda L, c, a, b: L.addbmm(c, a, b)),
    ("linear", [(3, 4), (5, 4), (5,)], lambda L, x, w, b: L.nn.functional.linear(x, w, b)),
    ("linear_3d", [(2, 3, 4), (5, 4)], lambda L, x, w: L.nn.functional.linear(x, w)),
    ("conv1d", [(2, 3, 8), (4, 3, 3), (4,)], lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, padding=1)),
    ("conv2d", [(2, 3, 6, 6), (4, 3, 3, 3), (4,)], lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, stride=2)),
    ("conv_transpose2d", [(1, 3, 4, 4), (3, 2, 3, 3)], lambda L, x, w: L.nn.functional.conv_transpose2d(x, w)),
    ("prelu", [(2, 3, 4), (3,)], lambda L, x, w: L.nn.functional.prelu(x, w)),
]


@pytest.mark.parametrize("name, shapes, op", OPS, ids=[o[0] for o in OPS])
def test_lower_precision_ops_match_torch(name, shapes, op):
    pairs = [_pair(*s) for s in shapes]
    es, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    with ember.autocast("cpu", dtype=ember.float16):
        e = op(ember, *es)
    with torch.autocast("cpu", dtype=torch.float16, cache_enabled=False):
        t = op(torch, *ts)
    assert e.dtype == ember.float16 and t.dtype == torch.float16
    if name != "conv1d":  # (ember's conv1d is conv2d between unsqueeze and squeeze, autocast or not)
        assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__
    np.testing.assert_allclose(_np(e), _np(t), rtol=2e-2, atol=2e-2)
    g = RNG.standard_normal(tuple(t.shape)).astype(np.float16)
    e.backward(ember.tensor(g))
    t.backward(torch.tensor(g))
    for ea, ta in zip(es, ts):
        # the leaves stay float32; their gradients come back through the cast, as float32
        assert ea.grad.dtype == ember.float32 and ta.grad.dtype == torch.float32
        np.testing.assert_allclose(_np(ea.grad), _np(ta.grad), rtol=3e-2, atol=3e-2)


def test_modules_under_autocast():
    ember.manual_seed(0)
    torch.manual_seed(0)
    em, tm = ember.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in em.state_dict().items()})
    ec, tc = ember.nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3)
    tc.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ec.state_dict().items()})
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    img = RNG.standard_normal((1, 2, 5, 5)).astype(np.float32)
    with ember.autocast("cpu", dtype=ember.float16):
        e, eimg = em(ember.tensor(x)), ec(ember.tensor(img))
    with torch.autocast("cpu", dtype=torch.float16, cache_enabled=False):
        t, timg = tm(torch.tensor(x)), tc(torch.tensor(img))
    assert e.dtype == ember.float16 and t.dtype == torch.float16 and eimg.dtype == ember.float16
    np.testing.assert_allclose(_np(e), _np(t), rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(_np(eimg), _np(timg), rtol=2e-2, atol=2e-2)
    assert em.weight.dtype == ember.float32  # parameters are not changed, only their uses


def test_cast_graph_matches_torch():
    a, b = ember.randn(2, 3), ember.randn(3, 4, requires_grad=True)
    ta, tb = torch.randn(2, 3), torch.randn(3, 4, requires_grad=True)
    with ember.autocast("cpu", dtype=ember.float16):
        y = a @ b
    with torch.autocast("cpu", dtype=torch.float16):
        ty = ta @ tb
    names = [type(n).__name__ if n is not None else None for n, _ in y.grad_fn.next_functions]
    tnames = [type(n).__name__ if n is not None else None for n, _ in ty.grad_fn.next_functions]
    assert names == tnames == [None, "ToCopyBackward0"]


FP32_OPS = [
    ("mse_loss", lambda L, x, y: L.nn.functional.mse_loss(x, y)),
    ("bce_with_logits", lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(x, y.sigmoid())),
    ("bce", lambda L, x, y: L.nn.functional.binary_cross_entropy(x.sigmoid(), y.sigmoid())),
    ("l1_loss", lambda L, x, y: L.nn.functional.l1_loss(x, y)),
    ("smooth_l1_loss", lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y)),
    ("huber_loss", lambda L, x, y: L.nn.functional.huber_loss(x, y, delta=0.5)),
    ("kl_div", lambda L, x, y: L.nn.functional.kl_div(x, y.sigmoid(), reduction="batchmean")),
    ("prod", lambda L, x, y: (x * 0.1 + 1).prod()),
]


@pytest.mark.parametrize("name, op", FP32_OPS, ids=[o[0] for o in FP32_OPS])
def test_float32_ops_widen_half_inputs(name, op):
    x = RNG.standard_normal((3, 4)).astype(np.float16)
    y = RNG.standard_normal((3, 4)).astype(np.float16)
    with ember.autocast("cpu", dtype=ember.float16):
        e = op(ember, ember.tensor(x), ember.tensor(y))
    with torch.autocast("cpu", dtype=torch.float16):
        t = op(torch, torch.tensor(x), torch.tensor(y))
    assert e.dtype == ember.float32 and t.dtype == torch.float32
    np.testing.assert_allclose(_np(e), _np(t), rtol=1e-3, atol=1e-3)


def test_cross_entropy_of_a_half_logit_is_float32():
    x = RNG.standard_normal((4, 3)).astype(np.float16)
    tgt = np.array([0, 1, 2, 1])
    with ember.autocast("cpu", dtype=ember.float16):
        e = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(tgt))
        enll = ember.nn.functional.nll_loss(ember.tensor(x), ember.tensor(tgt))
    with torch.autocast("cpu", dtype=torch.float16):
        t = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(tgt))
        tnll = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(tgt))
    assert e.dtype == ember.float32 and t.dtype == torch.float32 and enll.dtype == ember.float32
    np.testing.assert_allclose(e.item(), t.item(), rtol=2e-3)
    np.testing.assert_allclose(enll.item(), tnll.item(), rtol=1e-3)


@pytest.mark.parametrize("eq, shapes", [
    ("ii", [(3, 3)]), ("ij->j", [(3, 3)]), ("i,i->", [(3,), (3,)]), ("i,j->ij", [(3,), (3,)]),
    ("ij,ij->ij", [(3, 3), (3, 3)]), ("ij,ij->", [(3, 3), (3, 3)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
])
def test_einsum_is_lowered_when_it_contracts_as_in_torch(eq, shapes):
    pairs = [_pair(*s) for s in shapes]
    with ember.autocast("cpu", dtype=ember.float16):
        e = ember.einsum(eq, *[p[0] for p in pairs])
    with torch.autocast("cpu", dtype=torch.float16):
        t = torch.einsum(eq, *[p[1] for p in pairs])
    assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
    np.testing.assert_allclose(_np(e), _np(t), rtol=2e-2, atol=2e-2)


def test_other_ops_and_ineligible_inputs_are_left_alone():
    a32, b32 = ember.randn(2, 3), ember.randn(3, 4)
    with ember.autocast("cpu", dtype=ember.float16):
        assert (a32 + 1).dtype == ember.float32 and a32.exp().dtype == ember.float32
        assert ember.softmax(a32, 0).dtype == ember.float32
        assert ember.mm(a32.double(), b32.double()).dtype == ember.float64  # float64 is never cast
        assert ember.mm(a32.int(), b32.int()).dtype == ember.int32
        assert ember.mv(a32, ember.randn(3)).dtype == ember.float32  # mv is not on torch's list
    with torch.autocast("cpu", dtype=torch.float16):
        ta, tb = torch.randn(2, 3), torch.randn(3, 4)
        assert torch.mm(ta.double(), tb.double()).dtype == torch.float64
        assert torch.mv(ta, torch.randn(3)).dtype == torch.float32


def test_state_nests_restores_and_is_thread_local():
    assert ember.is_autocast_enabled("cpu") is False and ember.is_autocast_enabled() is False
    with ember.autocast("cpu", dtype=ember.float16):
        assert ember.is_autocast_enabled("cpu") is True and ember.is_autocast_enabled() is False
        assert ember.get_autocast_dtype("cpu") == ember.float16
        with ember.autocast("cpu", enabled=False):
            assert ember.is_autocast_enabled("cpu") is False
            assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float32
        assert ember.is_autocast_enabled("cpu") is True
        seen = []
        th = threading.Thread(target=lambda: seen.append(ember.is_autocast_enabled("cpu")))
        th.start()
        th.join()
        assert seen == [False]
    assert ember.is_autocast_enabled("cpu") is False
    assert ember.get_autocast_dtype("cpu") == (ember.bfloat16 if hasattr(ember, "bfloat16") else None)


def test_decorator_and_nullcontext_usage():
    import contextlib

    @ember.autocast("cpu", dtype=ember.float16)
    def f(a, b):
        return a @ b

    assert f(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float16
    assert ember.is_autocast_enabled("cpu") is False
    ctx = ember.autocast("cpu", dtype=ember.float16) if False else contextlib.nullcontext()
    with ctx:
        assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float32
    with ember.autocast("cpu", dtype=ember.float16) as ac:
        assert isinstance(ac, ember.autocast)


def test_getters_and_deprecated_spellings_match_torch():
    assert ember.get_autocast_dtype("cuda") == ember.float16 and torch.get_autocast_dtype("cuda") == torch.float16
    with pytest.warns(DeprecationWarning, match=r"ember.get_autocast_cpu_dtype\(\) is deprecated"):
        ember.get_autocast_cpu_dtype()
    with pytest.warns(DeprecationWarning, match=r"ember.is_autocast_cpu_enabled\(\) is deprecated"):
        assert ember.is_autocast_cpu_enabled() is False
    with pytest.warns(DeprecationWarning, match=r"ember.get_autocast_gpu_dtype\(\) is deprecated"):
        assert ember.get_autocast_gpu_dtype() == ember.float16
    assert ember.amp.is_autocast_available("cpu") == torch.amp.is_autocast_available("cpu")
    assert repr(ember.autocast) == repr(torch.autocast).replace("torch", "ember")
    assert ember.autocast is ember.amp.autocast


def test_unsupported_requests_disable_autocast_as_torch():
    with pytest.warns(UserWarning, match="CUDA is not available or torch_xla is imported. Disabling autocast."):
        ac = ember.autocast("cuda")
    with ac:
        assert ember.is_autocast_enabled("cuda") is False
    for dt in (ember.float32, ember.float64):
        with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
            ac = ember.autocast("cpu", dtype=dt)
        with ac:
            assert ember.is_autocast_enabled("cpu") is False
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        ember.autocast(0)
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ember.autocast("foo")
    with pytest.raises(TypeError):
        ember.autocast()


def test_deprecated_cpu_and_cuda_amp_spellings():
    with pytest.warns(FutureWarning, match=r"`ember.cpu.amp.autocast\(args...\)` is deprecated"):
        ac = ember.cpu.amp.autocast(dtype=ember.float16)
    with ac:
        assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.float16
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ember.cuda.amp.autocast()
        s = ember.cuda.amp.GradScaler()
    kinds = {type(x.message) for x in w}
    assert kinds == {FutureWarning, UserWarning} and s.is_enabled() is False


def test_bfloat16_is_the_default():
    with ember.autocast("cpu"):
        assert ember.mm(ember.ones(2, 2), ember.ones(2, 2)).dtype == ember.bfloat16
    with torch.autocast("cpu"):
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16


# --------------------------------------------------------------------------- GradScaler
def _train(lib, scaler, grads_override=None):
    w = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([w], lr=0.1)
    log = []
    for step in range(4):
        opt.zero_grad()
        loss = scaler.scale((w * w).sum())
        log.append(float(loss.item()))
        loss.backward()
        if step == 1:
            w.grad = lib.tensor([float("inf"), 1.0])
        log.append(scaler.step(opt))
        scaler.update()
        log.append((scaler.get_scale(), scaler.state_dict(), w.detach().numpy().tolist()))
    return log


def test_grad_scaler_on_cpu_matches_torch():
    e = _train(ember, ember.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2))
    t = _train(torch, torch.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2))
    assert e == t


def test_grad_scaler_errors_and_disabled_mode():
    for lib in (ember, torch):
        s = lib.amp.GradScaler("cpu", init_scale=2.0)
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1)
        s.scale(w.sum()).backward()
        s.unscale_(opt)
        with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer"):
            s.unscale_(opt)
        s.step(opt)
        with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update\(\)"):
            s.step(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            s.step(opt, closure=lambda: 0)
        s.update()
        with pytest.raises(AssertionError, match="No inf checks were recorded prior to update."):
            s.update()
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            s.scale(3.0)
        nested = s.scale([lib.ones(1), (lib.ones(1),)])
        assert isinstance(nested, list) and isinstance(nested[1], tuple) and nested[1][0].item() == 2.0
        d = lib.amp.GradScaler("cpu", enabled=False)
        assert (d.get_scale(), d.state_dict(), d.is_enabled()) == (1.0, {}, False)
        x = lib.tensor(3.0)
        assert d.scale(x) is x
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
        assert ember.amp.GradScaler().is_enabled() is False


def test_grad_scaler_state_dict_round_trip():
    s = ember.amp.GradScaler("cpu", init_scale=8.0, growth_factor=3.0)
    s2 = ember.amp.GradScaler("cpu")
    s2.load_state_dict(s.state_dict())
    assert s2.state_dict() == s.state_dict() == torch.amp.GradScaler("cpu", init_scale=8.0,
                                                                    growth_factor=3.0).state_dict()

"""Issue 4 gaps against torch: CTC loss, LSTM projections, MultiheadAttention's kdim/vdim/bias_kv/
zero_attn, bicubic/area interpolation, and second-order gradients through the NumPy-backed nn ops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF

from .helpers import compare_module, to_ember_state

R = np.random.default_rng(4)


def _std(*shape: int, dtype: type = np.float64) -> np.ndarray:
    return R.standard_normal(shape).astype(dtype)


def _weights(shape: tuple, dtype: type) -> np.ndarray:
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape).astype(dtype)


# ============================================================================ second-order gradients
def _double_backward(fn, arrays: tuple, grads: tuple, atol: float = 1e-9) -> None:
    """grad (create_graph=True) of a weighted output, then the grad of sum(grad^2) again: both vs torch."""
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        ins = []
        for i, a in enumerate(arrays):
            if isinstance(a, np.ndarray):
                ins.append(lib.tensor(a, requires_grad=(i in grads and a.dtype.kind == "f")))
            else:
                ins.append(a)
        out = fn(lib, F, *ins)
        wrt = [ins[i] for i in grads]
        g1 = lib.autograd.grad((out * lib.tensor(_weights(tuple(out.shape), np.float64))).sum(), wrt,
                               create_graph=True)
        assert g1[0].requires_grad
        second = sum((g * g).sum() for g in g1)
        g2 = lib.autograd.grad(second, wrt, allow_unused=True)
        res.append((out, g1, g2))
    (eo, eg1, eg2), (to, tg1, tg2) = res
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-7, atol=atol)
    for k, (e, t) in enumerate(zip(eg1 + eg2, tg1 + tg2)):
        if t is None:
            assert e is None or not np.any(e.numpy()), f"gradient {k}"
            continue
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-7, atol=atol,
                                   err_msg=f"gradient {k}")


X4 = _std(2, 4, 7, 6)

SECOND_ORDER = [
    ("conv2d", lambda L, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (X4, _std(6, 4, 3, 3), _std(6)),
     (0, 1, 2)),
    ("conv2d_groups_dilation", lambda L, F, x, w, b: F.conv2d(x, w, b, (1, 2), (2, 1), (2, 1), 2),
     (X4, _std(6, 2, 3, 2), _std(6)), (0, 1, 2)),
    ("conv2d_same_even", lambda L, F, x, w: F.conv2d(x, w, padding="same"), (X4, _std(3, 4, 2, 4)), (0, 1)),
    ("conv1d", lambda L, F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (_std(2, 3, 9), _std(4, 3, 3), _std(4)),
     (0, 1, 2)),
    ("conv1d_groups", lambda L, F, x, w: F.conv1d(x, w, groups=3, dilation=2), (_std(2, 6, 11), _std(3, 2, 3)),
     (0, 1)),
    ("conv_transpose2d", lambda L, F, x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2),
     (X4, _std(4, 3, 3, 3), _std(6)), (0, 1, 2)),
    ("conv2d_relu_chain", lambda L, F, x, w: F.conv2d(F.conv2d(x, w, padding=1).tanh(), w.sum(1, keepdim=True)
                                                      .expand(4, 4, 3, 3).contiguous(), padding=1),
     (X4, _std(4, 4, 3, 3)), (0, 1)),
    ("max_pool2d_tiled", lambda L, F, x: F.max_pool2d(x, 2) ** 2, (X4[:, :, :6],), (0,)),
    ("max_pool2d", lambda L, F, x: F.max_pool2d(x, 3, 2, 1) ** 2, (X4,), (0,)),
    ("max_pool2d_dilation_ceil", lambda L, F, x: F.max_pool2d(x, 2, 2, 0, 2, True) ** 3, (X4,), (0,)),
    ("avg_pool2d", lambda L, F, x: F.avg_pool2d(x * x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
     (X4,), (0,)),
    ("avg_pool2d_divisor", lambda L, F, x: F.avg_pool2d(x.sin(), 2, divisor_override=3), (X4,), (0,)),
    ("layer_norm", lambda L, F, x, w, b: F.layer_norm(x, (7, 6), w, b), (X4, _std(7, 6), _std(7, 6)), (0, 1, 2)),
    ("layer_norm_plain", lambda L, F, x: F.layer_norm(x, (6,), eps=1e-3), (X4,), (0,)),
    ("batch_norm_train", lambda L, F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     (X4, _std(4), _std(4)), (0, 1, 2)),
    ("batch_norm_train_running", lambda L, F, x, w, b: F.batch_norm(x, L.zeros(4, dtype=L.float64),
                                                                    L.ones(4, dtype=L.float64), w, b, True),
     (_std(5, 4), _std(4), _std(4)), (0, 1, 2)),
    ("batch_norm_eval", lambda L, F, x, w, b: F.batch_norm(
        x, L.tensor(np.linspace(-1, 1, 4)), L.tensor(np.linspace(0.5, 2, 4)), w, b, training=False),
     (X4, _std(4), _std(4)), (0, 1, 2)),
    ("embedding", lambda L, F, w, i: F.embedding(i, w) ** 2, (_std(5, 3), R.integers(0, 5, (3, 4))), (0,)),
    ("embedding_padding", lambda L, F, w, i: F.embedding(i, w, padding_idx=1) ** 2,
     (_std(5, 3), R.integers(0, 5, (3, 4))), (0,)),
    ("embedding_scale_freq", lambda L, F, w, i: F.embedding(i, w, scale_grad_by_freq=True) ** 2,
     (_std(5, 3), R.integers(0, 5, (3, 4))), (0,)),
    ("pad_constant", lambda L, F, x: F.pad(x, (1, -1, 2, 0)) ** 2, (X4,), (0,)),
]


@pytest.mark.parametrize("name,fn,arrays,grads", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_order(name: str, fn, arrays: tuple, grads: tuple) -> None:
    _double_backward(fn, arrays, grads)


W3 = _std(3, 4, 3, 3)


def test_conv_third_order() -> None:
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(X4, requires_grad=True)
        w = lib.tensor(W3, requires_grad=True)
        out = F.conv2d(x, w, stride=2).tanh().sum()
        (gx,) = lib.autograd.grad(out, (x,), create_graph=True)
        (gw2,) = lib.autograd.grad((gx ** 2).sum(), (w,), create_graph=True)
        (gx3,) = lib.autograd.grad((gw2 ** 2).sum(), (x,))
        res.append((gx, gw2, gx3))
    for e, t in zip(*res):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-7, atol=1e-9)


def test_first_order_backward_is_not_recorded() -> None:
    x = ember.tensor(X4, requires_grad=True)
    w = ember.tensor(_std(3, 4, 3, 3), requires_grad=True)
    gx, gw = ember.autograd.grad(EF.conv2d(x, w).sum(), (x, w))
    assert gx.grad_fn is None and gw.grad_fn is None and not gx.requires_grad


# ============================================================================ CTC loss
def _ctc_case(T: int, N: int, C: int, S: int, blank: int = 0, concat: bool = False, repeats: bool = False,
              il: list | None = None, tl: list | None = None) -> tuple:
    logits = _std(T, N, C, dtype=np.float32)
    tl = np.array(tl if tl is not None else R.integers(1, S + 1, N), np.int64)
    il = np.array(il if il is not None else R.integers(max(1, T - 3), T + 1, N), np.int64)
    tg = R.integers(0, C, (N, S))
    tg[tg == blank] = (blank + 1) % C
    if repeats:
        tg[:, 1] = tg[:, 0]
    if concat:
        tg = np.concatenate([tg[i, :tl[i]] for i in range(N)])
    return logits, tg.astype(np.int64), il, tl


CTC = [
    ("mean", dict(T=12, N=3, C=5, S=4), {}),
    ("sum_blank2", dict(T=12, N=3, C=5, S=4, blank=2), {"reduction": "sum", "blank": 2}),
    ("none_concat", dict(T=12, N=3, C=5, S=4, concat=True), {"reduction": "none"}),
    ("none_repeats", dict(T=10, N=2, C=4, S=4, repeats=True, tl=[4, 4]), {"reduction": "none"}),
    ("blank_last", dict(T=9, N=2, C=4, S=3, blank=3), {"blank": 3}),
    ("empty_target", dict(T=6, N=2, C=5, S=3, tl=[0, 2]), {}),
    ("impossible_zero_infinity", dict(T=3, N=2, C=4, S=4, tl=[4, 1], il=[3, 3]),
     {"reduction": "none", "zero_infinity": True}),
    ("impossible_zero_infinity_mean", dict(T=3, N=2, C=4, S=4, tl=[4, 1], il=[3, 3]), {"zero_infinity": True}),
]


@pytest.mark.parametrize("name,case,kw", CTC, ids=[c[0] for c in CTC])
def test_ctc_loss(name: str, case: dict, kw: dict) -> None:
    logits, tg, il, tl = _ctc_case(**case)
    res = []
    up = None
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(logits, requires_grad=True)
        lp = F.log_softmax(x, -1)
        lp.retain_grad()
        loss = F.ctc_loss(lp, lib.tensor(tg), lib.tensor(il), lib.tensor(tl), **kw)
        if up is None:
            up = _std(*loss.shape, dtype=np.float32) if loss.dim() else np.float32(1.7)
        (loss * lib.tensor(up)).sum().backward()
        res.append((loss, lp.grad, x.grad, type(loss.grad_fn).__name__))
    (el, elp, ex, en), (tl_, tlp, tx, tn) = res
    assert en == tn
    assert el.shape == tuple(tl_.shape)
    np.testing.assert_allclose(el.detach().numpy(), tl_.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(elp.numpy(), tlp.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ex.numpy(), tx.numpy(), rtol=1e-4, atol=1e-5)


def test_ctc_impossible_alignment_is_infinite() -> None:
    logits, tg, il, tl = _ctc_case(T=3, N=2, C=4, S=4, tl=[4, 1], il=[3, 3])
    e = EF.ctc_loss(ember.tensor(logits).log_softmax(-1), ember.tensor(tg), ember.tensor(il), ember.tensor(tl),
                    reduction="none")
    t = TF.ctc_loss(torch.tensor(logits).log_softmax(-1), torch.tensor(tg), torch.tensor(il), torch.tensor(tl),
                    reduction="none")
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5)
    assert np.isinf(e.numpy()[0])


def test_ctc_grad_fn_and_unbatched() -> None:
    logits, tg, il, tl = _ctc_case(T=12, N=1, C=5, S=4, tl=[4])
    for red in ("none", "mean", "sum"):
        res = []
        for lib, F in ((ember, EF), (torch, TF)):
            x = lib.tensor(logits[:, 0], requires_grad=True)
            loss = F.ctc_loss(F.log_softmax(x, -1), lib.tensor(tg[0]), lib.tensor(il[0]), lib.tensor(tl[0]),
                              reduction=red)
            loss.backward()
            res.append((loss, x.grad, type(loss.grad_fn).__name__))
        assert res[0][2] == res[1][2]
        assert res[0][0].shape == tuple(res[1][0].shape)
        np.testing.assert_allclose(res[0][0].detach().numpy(), res[1][0].detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(res[0][1].numpy(), res[1][1].numpy(), rtol=1e-4, atol=1e-6)
    x = ember.tensor(logits, requires_grad=True)
    loss = EF.ctc_loss(x.log_softmax(-1), ember.tensor(tg), ember.tensor(il), ember.tensor(tl), reduction="none")
    assert type(loss.grad_fn).__name__ == "CtcLossBackward0"


def test_ctc_module_and_lists() -> None:
    logits, tg, il, tl = _ctc_case(T=10, N=3, C=6, S=3, blank=1)
    outs = []
    for lib in (ember, torch):
        m = lib.nn.CTCLoss(blank=1, reduction="sum")
        x = lib.tensor(logits, requires_grad=True)
        loss = m(x.log_softmax(2), lib.tensor(tg), tuple(int(v) for v in il), tuple(int(v) for v in tl))
        loss.backward()
        outs.append((loss, x.grad))
    np.testing.assert_allclose(outs[0][0].detach().numpy(), outs[1][0].detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(outs[0][1].numpy(), outs[1][1].numpy(), rtol=1e-4, atol=1e-6)


def test_ctc_float64() -> None:
    logits, tg, il, tl = _ctc_case(T=8, N=2, C=4, S=3)
    outs = []
    for lib in (ember, torch):
        x = lib.tensor(logits.astype(np.float64), requires_grad=True)
        loss = lib.nn.functional.ctc_loss(x.log_softmax(2), lib.tensor(tg), lib.tensor(il), lib.tensor(tl))
        loss.backward()
        outs.append((loss, x.grad))
    assert outs[0][0].dtype == ember.float64
    np.testing.assert_allclose(outs[0][0].detach().numpy(), outs[1][0].detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(outs[0][1].numpy(), outs[1][1].numpy(), rtol=1e-8, atol=1e-12)


# ============================================================================ MultiheadAttention options
L_, S_, N_, E_ = 4, 5, 3, 8
Q = _std(L_, N_, E_, dtype=np.float32)
K5 = _std(S_, N_, 5, dtype=np.float32)
V3 = _std(S_, N_, 3, dtype=np.float32)
KE = _std(S_, N_, E_, dtype=np.float32)

MHA = [
    ("kdim_vdim", dict(kdim=5, vdim=3), (Q, K5, V3)),
    ("kdim_vdim_bias_kv_zero_attn", dict(kdim=5, vdim=3, add_bias_kv=True, add_zero_attn=True), (Q, K5, V3)),
    ("bias_kv", dict(add_bias_kv=True), (Q, KE, KE)),
    ("zero_attn", dict(add_zero_attn=True), (Q, KE, KE)),
    ("self_attn_bias_kv_zero_attn", dict(add_bias_kv=True, add_zero_attn=True), (Q, Q, Q)),
    ("batch_first", dict(kdim=5, vdim=3, add_bias_kv=True, batch_first=True),
     tuple(np.ascontiguousarray(a.transpose(1, 0, 2)) for a in (Q, K5, V3))),
    ("unbatched_no_bias", dict(kdim=5, vdim=3, add_bias_kv=True, add_zero_attn=True, bias=False),
     (Q[:, 0], K5[:, 0], V3[:, 0])),
]


@pytest.mark.parametrize("name,kw,ins", MHA, ids=[c[0] for c in MHA])
def test_multihead_attention_options(name: str, kw: dict, ins: tuple) -> None:
    em, tm = compare_module("MultiheadAttention", (E_, 2), kw, ins)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for n, p in tm.named_parameters():
        assert tuple(em.get_parameter(n).shape) == tuple(p.shape)


@pytest.mark.parametrize("kw", [dict(kdim=5, vdim=3, add_bias_kv=True, add_zero_attn=True),
                                dict(add_zero_attn=True), dict(add_bias_kv=True)])
def test_multihead_attention_masks_with_extra_keys(kw: dict) -> None:
    kpm = np.zeros((N_, S_), bool)
    kpm[0, -2:] = True
    am = _std(L_, S_, dtype=np.float32)
    tm = torch.nn.MultiheadAttention(E_, 2, **kw)
    em = ember.nn.MultiheadAttention(E_, 2, **kw)
    em.load_state_dict(to_ember_state(tm.state_dict()))
    k, v = (K5, V3) if "kdim" in kw else (KE, KE)
    outs = []
    for lib, m in ((ember, em), (torch, tm)):
        q = lib.tensor(Q, requires_grad=True)
        o, w = m(q, lib.tensor(k), lib.tensor(v), key_padding_mask=lib.tensor(kpm), attn_mask=lib.tensor(am),
                 average_attn_weights=False)
        (o.sum() + (w * w).sum()).backward()
        outs.append((o, w, q.grad))
    for e, t in zip(*outs):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-4, atol=1e-5)
    for (n, tp), (_, ep) in zip(tm.named_parameters(), em.named_parameters()):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=n)


def test_multihead_attention_state_dict_from_torch_file(tmp_path) -> None:
    tm = torch.nn.MultiheadAttention(E_, 4, kdim=5, vdim=3, add_bias_kv=True)
    path = tmp_path / "mha.pt"
    torch.save(tm.state_dict(), path)
    em = ember.nn.MultiheadAttention(E_, 4, kdim=5, vdim=3, add_bias_kv=True)
    em.load_state_dict(ember.load(path, weights_only=True))
    np.testing.assert_array_equal(em.bias_k.detach().numpy(), tm.bias_k.detach().numpy())
    assert em.in_proj_weight is None and tm.in_proj_weight is None


# ============================================================================ LSTM projections, RNN options
X_SEQ = _std(5, 3, 4, dtype=np.float32)

RNNS = [
    ("LSTM", dict(proj_size=2), X_SEQ),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True), X_SEQ),
    ("LSTM", dict(proj_size=2, batch_first=True, bias=False), X_SEQ),
    ("LSTM", dict(proj_size=1, num_layers=3), X_SEQ[:, 0]),
    ("GRU", dict(num_layers=2, bidirectional=True, bias=False), X_SEQ),
    ("RNN", dict(nonlinearity="relu", num_layers=2, batch_first=True), X_SEQ),
]


@pytest.mark.parametrize("name,kw,x", RNNS, ids=[f"{c[0]}-{i}" for i, c in enumerate(RNNS)])
def test_rnn_options(name: str, kw: dict, x: np.ndarray) -> None:
    em, tm = compare_module(name, (4, 6), kw, (x,))
    assert list(em.state_dict()) == list(tm.state_dict())


def test_lstm_proj_with_initial_state() -> None:
    tm = torch.nn.LSTM(4, 6, proj_size=2, bidirectional=True, num_layers=2)
    em = ember.nn.LSTM(4, 6, proj_size=2, bidirectional=True, num_layers=2)
    em.load_state_dict(to_ember_state(tm.state_dict()))
    h0, c0 = _std(4, 3, 2, dtype=np.float32), _std(4, 3, 6, dtype=np.float32)
    outs = []
    for lib, m in ((ember, em), (torch, tm)):
        hh, cc = lib.tensor(h0, requires_grad=True), lib.tensor(c0, requires_grad=True)
        o, (h, c) = m(lib.tensor(X_SEQ), (hh, cc))
        assert tuple(h.shape) == (4, 3, 2) and tuple(c.shape) == (4, 3, 6)
        (o.sum() + (h * h).sum() + c.sum()).backward()
        outs.append((o, h, c, hh.grad, cc.grad))
    for e, t in zip(*outs):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,kw", [("LSTM", dict(proj_size=-1)), ("LSTM", dict(proj_size=6)),
                                    ("GRU", dict(proj_size=2)), ("RNN", dict(proj_size=2))])
def test_proj_size_errors(cls: str, kw: dict) -> None:
    with pytest.raises(ValueError) as te:
        getattr(torch.nn, cls)(4, 6, **kw)
    with pytest.raises(ValueError) as ee:
        getattr(ember.nn, cls)(4, 6, **kw)
    assert str(ee.value) == str(te.value)


def test_lstm_proj_repr() -> None:
    assert repr(ember.nn.LSTM(3, 5, 2, proj_size=2, bidirectional=True)) == \
        repr(torch.nn.LSTM(3, 5, 2, proj_size=2, bidirectional=True))


# ============================================================================ interpolate
XI4 = _std(2, 3, 5, 7, dtype=np.float32)
XI3 = _std(2, 3, 7, dtype=np.float32)

INTERP = [
    (XI4, dict(size=(8, 11), mode="bicubic")),
    (XI4, dict(size=(8, 11), mode="bicubic", align_corners=True)),
    (XI4, dict(scale_factor=1.7, mode="bicubic")),
    (XI4, dict(scale_factor=(0.6, 1.5), mode="bicubic", recompute_scale_factor=True)),
    (XI4, dict(size=(3, 4), mode="bicubic")),
    (XI4, dict(size=(1, 4), mode="bicubic", align_corners=True)),
    (XI4, dict(size=(3, 4), mode="area")),
    (XI4, dict(size=(8, 9), mode="area")),
    (XI4, dict(scale_factor=0.5, mode="area")),
    (XI3, dict(size=4, mode="area")),
    (XI3, dict(scale_factor=2.3, mode="linear", align_corners=True)),
    (XI3, dict(scale_factor=2.3, mode="linear")),
    (XI3, dict(scale_factor=2.3, mode="linear", recompute_scale_factor=True)),
    (XI4, dict(scale_factor=(1.5, 0.7), mode="bilinear")),
    (XI4, dict(size=(9, 4), mode="bilinear", align_corners=True)),
    (XI4, dict(scale_factor=1.6, mode="nearest")),
    (XI4, dict(scale_factor=1.6, mode="nearest-exact")),
    (XI4, dict(size=(3, 10), mode="nearest-exact")),
]


@pytest.mark.parametrize("a,kw", INTERP, ids=[f"{c[1]['mode']}-{i}" for i, c in enumerate(INTERP)])
def test_interpolate_modes(a: np.ndarray, kw: dict) -> None:
    res = []
    for lib, F in ((ember, EF), (torch, TF)):
        t = lib.tensor(a, requires_grad=True)
        o = F.interpolate(t, **kw)
        (o * lib.tensor(_weights(tuple(o.shape), np.float32))).sum().backward()
        res.append((o, t.grad))
    assert res[0][0].shape == tuple(res[1][0].shape)
    np.testing.assert_allclose(res[0][0].detach().numpy(), res[1][0].detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res[0][1].numpy(), res[1][1].numpy(), rtol=1e-5, atol=1e-5)


def test_upsample_bicubic_module() -> None:
    compare_module("Upsample", (), dict(scale_factor=2, mode="bicubic", align_corners=False), (XI4,))


@pytest.mark.parametrize("name,args,kw", [("Upsample", (), dict(size=(3, 4))),
                                          ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bilinear")),
                                          ("UpsamplingNearest2d", (), dict(scale_factor=2)),
                                          ("UpsamplingBilinear2d", (), dict(size=(6, 9)))])
def test_upsample_modules(name: str, args: tuple, kw: dict) -> None:
    compare_module(name, args, kw, (XI4,))

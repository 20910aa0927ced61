"""TransformerEncoder(Layer), TransformerDecoder(Layer) and Transformer against torch: reprs,
state_dict keys, default initialisation after the same manual_seed, outputs and gradients with
every kind of mask (eval and train mode, the latter with torch's dropout stream), torch's
inference-path zeros at padded positions, warnings and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from tests.oracle import assert_close

import ember

from .helpers import ember_repr

R = np.random.default_rng(17)


def _build(seed, make):
    """The same constructor in both libraries after the same seed; torch's warnings silenced."""
    ember.manual_seed(seed)
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e, t = make(ember), make(torch)
    return e, t


def _same_state(e, t, rtol=0.0, atol=0.0):
    es, ts = e.state_dict(), t.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        np.testing.assert_allclose(es[k].numpy(), ts[k].numpy(), rtol=rtol, atol=atol, err_msg=k)


def _tensors(lib, arrays, grad=True):
    return [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
            for a in arrays]


def _compare_run(e, t, call, arrays, seed=None, rtol=1e-9, atol=1e-10):
    """Run ``call(lib, module, *tensors)`` in both, compare outputs, grad_fn names and the gradients of
    every input and parameter for a random upstream gradient."""
    res = {}
    for lib, m in ((ember, e), (torch, t)):
        ins = _tensors(lib, arrays)
        if seed is not None:
            lib.manual_seed(seed)
        out = call(lib, m, *ins)
        w = lib.tensor(np.random.default_rng(4).standard_normal(tuple(out.shape)), dtype=out.dtype)
        (out * w).sum().backward()
        grads = [x.grad for x in ins if isinstance(x, lib.Tensor) and x.requires_grad]
        grads += [p.grad for _, p in m.named_parameters()]
        res[lib.__name__] = (out, grads)
    (eo, eg), (to, tg) = res["ember"], res["torch"]
    assert_close(eo, to, "output", rtol, atol)
    assert type(eo.grad_fn).__name__ == type(to.grad_fn).__name__
    for i, (a, b) in enumerate(zip(eg, tg)):
        assert (a is None) == (b is None), i
        if a is not None:
            assert_close(a, b, f"grad {i}", rtol, atol)


# --------------------------------------------------------------------------- structure
def _family(lib):
    nn = lib.nn
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8))
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, activation="gelu"), 2)
    return [enc, dec, nn.TransformerDecoderLayer(8, 2, 16, norm_first=True, bias=False),
            nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU()),
            nn.Transformer(8, 2, 1, 2, 16), nn.Transformer(8, 2, custom_encoder=nn.Identity(),
                                                           custom_decoder=nn.Linear(8, 8))]


def test_reprs_state_dict_keys_and_init():
    e, t = _build(0, _family)
    for em, tm in zip(e, t):
        assert ember_repr(repr(em)) == repr(tm)
        _same_state(em, tm)


@pytest.mark.parametrize("kw", [{}, dict(batch_first=True, norm_first=True), dict(bias=False, activation="gelu"),
                                dict(layer_norm_eps=1e-6, dropout=0.0)])
def test_transformer_attributes_and_xavier_init(kw):
    e, t = _build(3, lambda lib: lib.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2,
                                                    num_decoder_layers=1, dim_feedforward=12, **kw))
    _same_state(e, t)
    for a in ("d_model", "nhead", "batch_first"):
        assert getattr(e, a) == getattr(t, a)
    el, tl = e.encoder.layers[0], t.encoder.layers[0]
    assert el.activation_relu_or_gelu == tl.activation_relu_or_gelu
    assert (e.encoder.use_nested_tensor, e.encoder.enable_nested_tensor, e.encoder.mask_check) == \
        (t.encoder.use_nested_tensor, t.encoder.enable_nested_tensor, t.encoder.mask_check)


def test_generate_square_subsequent_mask():
    for dt in (None, "float64", "float16"):
        e = ember.nn.Transformer.generate_square_subsequent_mask(4, dtype=getattr(ember, dt) if dt else None)
        t = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=getattr(torch, dt) if dt else None)
        assert_close(e, t)
        assert ember_repr(repr(e)) == repr(t)


@pytest.mark.parametrize("kw,why", [
    (dict(batch_first=False), "batch_first"), (dict(batch_first=True, norm_first=True), "norm_first"),
    (dict(batch_first=True, bias=False), "bias"), (dict(batch_first=True, nhead=1), "odd"),
    (dict(batch_first=True, activation=torch.tanh), "activation"), (dict(batch_first=True), None)])
def test_nested_tensor_warning(kw, why):
    msgs = {}
    for lib in (ember, torch):
        kw2 = dict(kw)
        if kw2.get("activation") is torch.tanh:
            kw2["activation"] = lib.tanh
        layer = lib.nn.TransformerEncoderLayer(**{"d_model": 8, "nhead": 2, "dim_feedforward": 16, **kw2})
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            enc = lib.nn.TransformerEncoder(layer, 1)
        msgs[lib.__name__] = ([str(x.message) for x in w if "nested" in str(x.message)], enc.use_nested_tensor)
    assert msgs["ember"] == msgs["torch"]
    assert bool(msgs["torch"][0]) == (why is not None)


def test_errors():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerEncoderLayer(8, 2, activation="tanh")
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerDecoderLayer(8, 2, activation="tanh")
    e, t = _build(0, lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16))
    for bad in [((3, 2, 8), (4, 3, 8)), ((3, 2, 8), (4, 2, 6))]:
        errs = []
        for lib, m in ((ember, e), (torch, t)):
            with pytest.raises(RuntimeError) as ex:
                m(lib.zeros(*bad[0]), lib.zeros(*bad[1]))
            errs.append(str(ex.value))
        assert errs[0] == errs[1]


# --------------------------------------------------------------------------- forward / backward
def _bool_kpm(B, S, pad):
    m = np.zeros((B, S), bool)
    for b, n in enumerate(pad):
        if n:
            m[b, S - n:] = True
    return m


def _float_mask(m):
    return np.where(m, -np.inf, 0.0)


ENC_CASES = [
    (dict(), dict()),
    (dict(norm_first=True, activation="gelu"), dict(mask="causal_float")),
    (dict(batch_first=True), dict(kpm="bool")),
    (dict(batch_first=True, bias=False), dict(kpm="float", mask="causal_bool")),
    (dict(), dict(mask="causal_float", is_causal=True)),
    (dict(activation=lambda x: x.tanh()), dict(mask="random_float")),
]


def _enc_masks(lib, spec, B, S):
    kw = {}
    if spec.get("mask") == "causal_float":
        kw["mask"] = lib.nn.Transformer.generate_square_subsequent_mask(S, dtype=lib.float64)
    elif spec.get("mask") == "causal_bool":
        kw["mask"] = lib.tensor(np.triu(np.ones((S, S), bool), 1))
    elif spec.get("mask") == "random_float":
        kw["mask"] = lib.tensor(np.random.default_rng(8).standard_normal((S, S)))
    if "kpm" in spec:
        m = _bool_kpm(B, S, [0, 2])
        kw["src_key_padding_mask"] = lib.tensor(m if spec["kpm"] == "bool" else _float_mask(m))
    if "is_causal" in spec:
        kw["is_causal"] = spec["is_causal"]
    return kw


@pytest.mark.parametrize("layer_kw,spec", ENC_CASES)
@pytest.mark.parametrize("train", [False, True])
def test_encoder_matches_torch(layer_kw, spec, train):
    def make(lib):
        nn = lib.nn
        kw = dict(layer_kw)
        if callable(kw.get("activation")):
            kw["activation"] = kw["activation"]
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.2, **kw), 2,
                                     norm=nn.LayerNorm(8)).double()

    e, t = _build(1, make)
    _same_state(e, t)
    e.train(train)
    t.train(train)
    bf = layer_kw.get("batch_first", False)
    B, S = 2, 5
    x = R.standard_normal((B, S, 8) if bf else (S, B, 8))
    _compare_run(e, t, lambda lib, m, x: m(x, **_enc_masks(lib, spec, B, S)), [x], seed=5 if train else None)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(norm_first, train, batch_first):
    e, t = _build(2, lambda lib: lib.nn.Transformer(8, 2, 2, 2, 16, dropout=0.25, batch_first=batch_first,
                                                    norm_first=norm_first).double())
    _same_state(e, t)
    e.train(train)
    t.train(train)
    B, S, T = 3, 5, 4
    src = R.standard_normal((B, S, 8) if batch_first else (S, B, 8))
    tgt = R.standard_normal((B, T, 8) if batch_first else (T, B, 8))
    skpm, tkpm = _bool_kpm(B, S, [0, 1, 2]), _bool_kpm(B, T, [0, 0, 1])
    mem_mask = np.random.default_rng(9).standard_normal((T, S))

    def call(lib, m, src, tgt):
        return m(src, tgt, tgt_mask=m.generate_square_subsequent_mask(T, dtype=lib.float64),
                 src_key_padding_mask=lib.tensor(skpm), tgt_key_padding_mask=lib.tensor(tkpm),
                 memory_key_padding_mask=lib.tensor(skpm), memory_mask=lib.tensor(mem_mask))

    _compare_run(e, t, call, [src, tgt], seed=11 if train else None)


def test_decoder_bool_masks_and_causal_hint():
    def make(lib):
        nn = lib.nn
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation=nn.GELU()), 2,
                                     norm=nn.LayerNorm(8)).double()

    e, t = _build(4, make)
    T, S, B = 4, 3, 2
    tgt, mem = R.standard_normal((T, B, 8)), R.standard_normal((S, B, 8))
    tmask = np.triu(np.ones((T, T), bool), 1)
    mmask = np.zeros((T, S), bool)
    mmask[0, 1:] = True

    def call(lib, m, tgt, mem):
        return m(tgt, mem, tgt_mask=lib.tensor(tmask), memory_mask=lib.tensor(mmask), tgt_is_causal=True)

    _compare_run(e, t, call, [tgt, mem])


@pytest.mark.parametrize("pads,norm", [([0, 2], True), ([1, 3], False), ([0, 0], True), ([0, 5], True)])
def test_encoder_eval_no_grad_zeros_at_padding(pads, norm):
    def make(lib):
        nn = lib.nn
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                     norm=nn.LayerNorm(8) if norm else None)

    e, t = _build(6, make)
    for m in (e, t):
        m.eval()
        if norm:
            m.norm.bias.data.fill_(0.5)
    x = R.standard_normal((2, 5, 8)).astype(np.float32)
    kpm = _bool_kpm(2, 5, pads)
    with ember.no_grad():
        eo = e(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to = t(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    assert_close(eo, to, rtol=1e-5, atol=1e-5)
    # not left-aligned: torch runs the ordinary path (no zeros)
    kpm2 = np.array([[False] * 5, [True, False, False, False, True]])
    with ember.no_grad():
        eo = e(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm2))
    with torch.no_grad():
        to = t(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm2))
    assert_close(eo, to, rtol=1e-5, atol=1e-5)


def test_unbatched_input():
    e, t = _build(7, lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0).double())
    src, tgt = R.standard_normal((5, 8)), R.standard_normal((3, 8))
    _compare_run(e, t, lambda lib, m, s, g: m(s, g, tgt_mask=m.generate_square_subsequent_mask(3,
                                                                                               dtype=lib.float64)),
                 [src, tgt])


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nn.TransformerEncoderLayer(8, 2, 16)(x, is_causal=True),
    lambda lib, x: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 1,
                                             enable_nested_tensor=False)(x, is_causal=True),
    lambda lib, x: lib.nn.TransformerDecoderLayer(8, 2, 16)(x, x, tgt_is_causal=True),
    lambda lib, x: lib.nn.TransformerDecoderLayer(8, 2, 16)(x, x, memory_is_causal=True),
])
def test_is_causal_hint_needs_a_mask(call):
    errs = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as ex:
            call(lib, lib.zeros(5, 2, 8))
        errs.append(str(ex.value))
    assert errs[0] == errs[1]


@pytest.mark.parametrize("kw,masks,train", [
    (dict(), dict(kpm_full=True), False),
    (dict(batch_first=True, dropout=0.3), dict(kpm_full=True), True),
    (dict(add_bias_kv=True, add_zero_attn=True), dict(kpm=True, mask3d=True), False),
    (dict(kdim=5, vdim=6), dict(mask2d=True), False),
    (dict(dropout=0.3), dict(kpm=True, mask2d=True), True),
])
def test_multihead_attention_without_weights(kw, masks, train):
    """need_weights=False runs scaled_dot_product_attention, as torch's MHA does: a query whose keys
    are all masked gets 0 (not NaN), and the dropout stream is torch's."""
    e, t = _build(12, lambda lib: lib.nn.MultiheadAttention(8, 2, **kw).double())
    e.train(train)
    t.train(train)
    bf = kw.get("batch_first", False)
    L, S, N = 3, 4, 2
    q = R.standard_normal((N, L, 8) if bf else (L, N, 8))
    k = R.standard_normal((N, S, kw.get("kdim", 8)) if bf else (S, N, kw.get("kdim", 8)))
    v = R.standard_normal((N, S, kw.get("vdim", 8)) if bf else (S, N, kw.get("vdim", 8)))
    kpm = np.zeros((N, S), bool)
    kpm[1, 2:] = True
    if masks.get("kpm_full"):
        kpm[1, :] = True
    am = np.random.default_rng(2).standard_normal((N * 2, L, S) if masks.get("mask3d") else (L, S))

    def call(lib, m, q, k, v):
        extra = {}
        if masks.get("kpm") or masks.get("kpm_full"):
            extra["key_padding_mask"] = lib.tensor(kpm)
        if masks.get("mask3d") or masks.get("mask2d"):
            extra["attn_mask"] = lib.tensor(am)
        return m(q, k, v, need_weights=False, **extra)[0]

    _compare_run(e, t, call, [q, k, v], seed=13 if train else None)

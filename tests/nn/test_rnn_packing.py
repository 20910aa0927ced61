"""nn.utils.rnn (padding, packing, PackedSequence) and RNN/LSTM/GRU on packed input, against torch:
values, grad_fn names, gradients (first and second order), reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn
from tests.oracle import assert_close, check

import ember
import ember.nn.utils.rnn as ernn

R = np.random.default_rng(5)


def _name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def _mod(lib):
    return ernn if lib is ember else trnn


# --------------------------------------------------------------------------- pad_sequence
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    a, b, c = R.standard_normal((3, 2)), R.standard_normal((1, 2)), R.standard_normal((4, 2))
    check(lambda lib, x, y, z: _mod(lib).pad_sequence([x, y, z], batch_first=batch_first, padding_value=-2.5,
                                                      padding_side=side), a, b, c, second=True)


def test_pad_sequence_tensor_input_and_error():
    x = R.standard_normal((3, 4))
    assert_close(ernn.pad_sequence(ember.tensor(x)), trnn.pad_sequence(torch.tensor(x)))
    with pytest.raises(RuntimeError) as ee:
        ernn.pad_sequence([ember.ones(2)], padding_side="middle")
    with pytest.raises(RuntimeError) as te:
        trnn.pad_sequence([torch.ones(2)], padding_side="middle")
    assert str(ee.value) == str(te.value)


# --------------------------------------------------------------------------- pack / pad
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce", [([4, 2, 1], True), ([2, 4, 1], False), ([3, 3, 1], True),
                                             ([1, 3, 3], False)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_then_pad(batch_first, lengths, enforce, as_tensor):
    x = R.standard_normal((3, 4, 2) if batch_first else (4, 3, 2))

    def f(lib, x):
        lens = lib.tensor(lengths) if as_tensor else lengths
        p = _mod(lib).pack_padded_sequence(x, lens, batch_first=batch_first, enforce_sorted=enforce)
        out, ls = _mod(lib).pad_packed_sequence(p, batch_first=batch_first, padding_value=7.0, total_length=5)
        return p.data, p.batch_sizes, out, ls

    check(f, x, second=True)
    ep = ernn.pack_padded_sequence(ember.tensor(x), lengths, batch_first=batch_first, enforce_sorted=enforce)
    tp = trnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=batch_first, enforce_sorted=enforce)
    assert repr(ep).replace("ember", "torch") == repr(tp)
    for e, t in zip(ep[1:], tp[1:]):
        assert (e is None) == (t is None)
        if e is not None:
            assert_close(e, t)


def test_pack_sequence_unpack_unpad():
    seqs = [R.standard_normal((n, 3)) for n in (2, 4, 1)]
    ep = ernn.pack_sequence([ember.tensor(s, requires_grad=True) for s in seqs], enforce_sorted=False)
    tp = trnn.pack_sequence([torch.tensor(s, requires_grad=True) for s in seqs], enforce_sorted=False)
    assert repr(ep).replace("ember", "torch") == repr(tp)
    for e, t in zip(ernn.unpack_sequence(ep), trnn.unpack_sequence(tp)):
        assert_close(e, t)
        assert _name(e) == _name(t)
    ep2 = ernn.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True)
    tp2 = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first=True)
    for e, t in zip(ernn.unpad_sequence(ep2, ember.tensor([2, 4, 1]), batch_first=True),
                    trnn.unpad_sequence(tp2, torch.tensor([2, 4, 1]), batch_first=True)):
        assert_close(e, t)


def test_packed_sequence_conversions():
    x = R.standard_normal((4, 3, 2)).astype(np.float32)
    ep = ernn.pack_padded_sequence(ember.tensor(x, requires_grad=True), [2, 4, 1], enforce_sorted=False)
    tp = trnn.pack_padded_sequence(torch.tensor(x, requires_grad=True), [2, 4, 1], enforce_sorted=False)
    assert ep.float() is ep and tp.float() is tp
    assert ep.cpu() is ep and ep.to("cpu") is ep
    for m in ("double", "half", "long", "int"):
        e, t = getattr(ep, m)(), getattr(tp, m)()
        assert str(e.data.dtype).split(".")[1] == str(t.data.dtype).split(".")[1]
        assert_close(e.sorted_indices, t.sorted_indices)
    assert _name(ep.to(ember.float64).data) == _name(tp.to(torch.float64).data)
    assert ep.is_cuda is False and ep.is_pinned() is False
    assert ep._fields == tp._fields and type(ep).__name__ == "PackedSequence"
    assert ernn.PackedSequence(ep.data, ep.batch_sizes, ep.sorted_indices).unsorted_indices.tolist() == \
        tp.unsorted_indices.tolist()


@pytest.mark.parametrize("call", [
    lambda m, lib: m.pack_padded_sequence(lib.zeros(4, 3, 2), [2, 4, 1]),
    lambda m, lib: m.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 0, 1], enforce_sorted=False),
    lambda m, lib: m.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 2]),
    lambda m, lib: m.pad_packed_sequence(m.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 2, 1]), total_length=2),
])
def test_errors_as_torch(call):
    with pytest.raises(Exception) as te:
        call(trnn, torch)
    with pytest.raises(Exception) as ee:
        call(ernn, ember)
    assert type(ee.value) is type(te.value)
    assert str(ee.value) == str(te.value)


# --------------------------------------------------------------------------- RNNs on packed input
def _pair(cls, kw):
    e = getattr(ember.nn, cls)(3, 4, **kw).double()
    t = getattr(torch.nn, cls)(3, 4, **kw).double()
    with torch.no_grad():
        for name, tp in t.named_parameters():
            tp.copy_(torch.tensor(getattr(e, name).detach().numpy()))
    return e, t


def _run_packed(lib, m, x, lengths, enforce, hx, batch_first, ws):
    xt = lib.tensor(x, requires_grad=True)
    p = _mod(lib).pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=enforce)
    hxt = None
    if hx is not None:
        hxt = tuple(lib.tensor(h, requires_grad=True) for h in hx)
    out, state = m(p, hxt if hxt is None or len(hxt) == 2 else hxt[0])
    states = list(state) if isinstance(state, tuple) else [state]
    padded, _ = _mod(lib).pad_packed_sequence(out, batch_first=batch_first)
    loss = (out.data * lib.tensor(ws[0][:out.data.numel()].reshape(tuple(out.data.shape)))).sum()
    for s, w in zip(states, ws[1:]):
        loss = loss + (s * lib.tensor(w[:s.numel()].reshape(tuple(s.shape)))).sum()
    loss.backward()
    names = [_name(out.data)] + [_name(s) for s in states]
    grads = [xt.grad] + ([h.grad for h in hxt] if hxt is not None else []) + \
        [p.grad for _, p in sorted(m.named_parameters())]
    return [out.data, padded] + states, grads, names, out


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("enforce,lengths", [(True, [5, 3, 3, 1]), (False, [2, 5, 1, 3])])
def test_rnn_packed_matches_torch(cls, bidirectional, num_layers, enforce, lengths):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = _pair(cls, dict(num_layers=num_layers, bidirectional=bidirectional))
    x = R.standard_normal((5, 4, 3))
    D = 2 if bidirectional else 1
    hx = [R.standard_normal((num_layers * D, 4, 4)) for _ in range(2 if cls == "LSTM" else 1)]
    ws = [R.standard_normal(200) for _ in range(3)]
    for h in (None, hx):
        eo, eg, en, ep = _run_packed(ember, e, x, lengths, enforce, h, False, ws)
        to, tg, tn, tp = _run_packed(torch, t, x, lengths, enforce, h, False, ws)
        assert en == tn
        assert type(ep).__name__ == "PackedSequence"
        assert_close(ep.batch_sizes, tp.batch_sizes)
        for a, b in zip(eo, to):
            assert_close(a, b, rtol=1e-10, atol=1e-10)
        for a, b in zip(eg, tg):
            assert_close(a, b, rtol=1e-9, atol=1e-10)
        for m in (e, t):
            m.zero_grad()


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_rnn_packed_batch_first_and_proj(cls):
    ember.manual_seed(0)
    torch.manual_seed(0)
    kw = dict(batch_first=True, proj_size=2) if cls == "LSTM" else dict(batch_first=True)
    e, t = _pair(cls, kw)
    x = R.standard_normal((3, 4, 3))
    ws = [R.standard_normal(200) for _ in range(3)]
    eo, eg, en, _ = _run_packed(ember, e, x, [4, 1, 2], False, None, True, ws)
    to, tg, tn, _ = _run_packed(torch, t, x, [4, 1, 2], False, None, True, ws)
    assert en == tn
    for a, b in zip(eo + eg, to + tg):
        assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_packed_gru_second_order():
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = _pair("GRU", dict(num_layers=2, dropout=0.0))
    x = R.standard_normal((3, 2, 3))

    def f(lib, x):
        m = e if lib is ember else t
        out, h = m(_mod(lib).pack_padded_sequence(x, [3, 2]))
        return out.data, h

    check(f, x, second=True, rtol=1e-8)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_packed_dropout_between_layers_uses_torchs_stream(cls):
    e, t = _pair(cls, dict(num_layers=3, dropout=0.4, bidirectional=True))
    x = R.standard_normal((5, 3, 3))
    outs = []
    for lib, m in ((ember, e), (torch, t)):
        lib.manual_seed(9)
        xt = lib.tensor(x, requires_grad=True)
        out = m(_mod(lib).pack_padded_sequence(xt, [5, 3, 2]))[0]
        out.data.sum().backward()
        outs.append((out.data, xt.grad))
    for a, b in zip(*outs):
        assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("call", [
    lambda lib, m: m.pad_sequence([]),
    lambda lib, m: m.pad_sequence([lib.ones(2, 3), lib.ones(2, 4)]),
    lambda lib, m: lib.nn.GRU(3, 4)(m.pack_sequence([lib.ones(3, 3), lib.ones(2, 3)]), lib.zeros(1, 3, 4)),
    lambda lib, m: lib.nn.GRU(3, 4)(m.pack_sequence([lib.ones(3, 5), lib.ones(2, 5)])),
    lambda lib, m: lib.nn.GRU(3, 4)(lib.ones(5, 2, 3), lib.zeros(1, 3, 4)),
    lambda lib, m: lib.nn.LSTM(3, 4)(lib.ones(5, 2, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 2, 4))),
    lambda lib, m: lib.nn.LSTM(3, 4)(lib.ones(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 3, 4))),
    lambda lib, m: lib.nn.LSTM(3, 4, proj_size=2)(lib.ones(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))),
    lambda lib, m: lib.nn.RNN(3, 4, bidirectional=True)(lib.ones(5, 2, 3), lib.zeros(1, 2, 4)),
    lambda lib, m: lib.nn.RNN(3, 4)(lib.ones(5, 3), lib.zeros(1, 2, 4)),
    lambda lib, m: lib.nn.LSTM(3, 4)(lib.ones(5, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))),
])
def test_input_and_state_errors_as_torch(call):
    with pytest.raises(Exception) as te:
        call(torch, trnn)
    with pytest.raises(Exception) as ee:
        call(ember, ernn)
    assert type(ee.value) is type(te.value)
    assert str(ee.value) == str(te.value)


def test_pad_sequence_takes_the_first_dtype():
    a, b = R.standard_normal((2, 3)).astype(np.float32), R.standard_normal((3, 3))
    check(lambda lib, a, b: _mod(lib).pad_sequence([a, b]), a, b)


def test_unpad_sequence_time_major_transposes_in_place_as_torch():
    seqs = [R.standard_normal((n, 2)) for n in (3, 1)]
    ep = ernn.pad_sequence([ember.tensor(s, requires_grad=True) for s in seqs])
    tp = trnn.pad_sequence([torch.tensor(s, requires_grad=True) for s in seqs])
    er, tr = ernn.unpad_sequence(ep, ember.tensor([3, 1])), trnn.unpad_sequence(tp, torch.tensor([3, 1]))
    assert tuple(ep.shape) == tuple(tp.shape)
    for e, t in zip(er, tr):
        assert_close(e, t)
        assert _name(e) == _name(t)

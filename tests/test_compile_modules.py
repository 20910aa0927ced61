"""ember.compile on whole modules (LSTM, batch norm, a GPT-style block, a CNN): each training step
traces without a graph break and its replay equals the eager step bit for bit (losses, parameters,
gradients, optimizer state, running statistics, the random stream); the LSTM's also matches torch's."""

import copy
import warnings

import numpy as np
import pytest
import torch

import ember

nn, F = ember.nn, ember.nn.functional


def _state(model, opt):
    arrays = [p._data for p in model.parameters()] + [p.grad._data for p in model.parameters()]
    arrays += [b._data for b in model.buffers()]
    for st in opt.state.values():
        arrays += [v._data for v in st.values() if isinstance(v, ember.Tensor)]
    return [a.copy() for a in arrays]


def _compare(make_model, make_opt, make_batch, steps=4, loss_fn=F.cross_entropy, train=True):
    """Eager and compiled copies of one model, stepped on the same batches: every array equal."""
    ember.manual_seed(0)
    eager = make_model()
    comp = copy.deepcopy(eager)
    eager.train(train)
    comp.train(train)
    opt_e, opt_c = make_opt(eager), make_opt(comp)

    def step_of(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    eager_step, comp_step = step_of(eager, opt_e), ember.compile(step_of(comp, opt_c))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a graph break warns)
        for k in range(steps):
            x, y = make_batch(k)
            ember.manual_seed(100 + k)
            le = eager_step(x, y)
            after_e = ember.rand(3)._data
            ember.manual_seed(100 + k)
            lc = comp_step(x, y)
            after_c = ember.rand(3)._data
            assert le._data.tobytes() == lc._data.tobytes(), f"step {k}: loss {le} != {lc}"
            for a, b in zip(_state(eager, opt_e), _state(comp, opt_c), strict=True):
                assert a.tobytes() == b.tobytes(), f"step {k}: a parameter, gradient, buffer or optimizer state differs"
            assert after_e.tobytes() == after_c.tobytes(), "the random stream moved differently"
    assert f"replayed {steps - 1} times" in comp_step.explain(), comp_step.explain()
    return comp, comp_step


class _LSTMClassifier(nn.Module):
    def __init__(self, layers=2, bidirectional=False, dropout=0.0):
        super().__init__()
        self.lstm = nn.LSTM(6, 12, num_layers=layers, batch_first=True, bidirectional=bidirectional, dropout=dropout)
        self.fc = nn.Linear(12 * (2 if bidirectional else 1), 3)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(out[:, -1]) + 0.1 * h.sum(0).sum(1, keepdim=True) - 0.1 * c.mean(0).mean(1, keepdim=True)


def _seq_batch(k, n=5, t=7):
    rng = np.random.default_rng(k)
    return ember.tensor(rng.standard_normal((n, t, 6)).astype(np.float32)), ember.tensor(rng.integers(0, 3, n))


@pytest.mark.parametrize("layers,bidirectional,dropout", [(1, False, 0.0), (2, False, 0.0), (2, True, 0.3)],
                         ids=["one-layer", "two-layer", "bidirectional-dropout"])
def test_lstm_training_step_replays_eager_bit_for_bit(layers, bidirectional, dropout):
    _, step = _compare(lambda: _LSTMClassifier(layers, bidirectional, dropout),
                       lambda m: ember.optim.Adam(m.parameters(), lr=1e-2), _seq_batch)
    src = step.source()
    assert "lstm_arrays(" in src and "MkldnnRnnLayerBackward0" in src


def test_compiled_lstm_step_matches_torch():
    ember.manual_seed(0)
    model = _LSTMClassifier(2)
    tmodel = torch.nn.Module()
    tmodel.lstm = torch.nn.LSTM(6, 12, num_layers=2, batch_first=True)
    tmodel.fc = torch.nn.Linear(12, 3)
    with torch.no_grad():
        for (n, p), (tn, tp) in zip(model.named_parameters(), tmodel.named_parameters(), strict=True):
            assert n == tn
            tp.copy_(torch.from_numpy(p._data.copy()))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)

    @ember.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def tforward(x):
        out, (h, c) = tmodel.lstm(x)
        return tmodel.fc(out[:, -1]) + 0.1 * h.sum(0).sum(1, keepdim=True) - 0.1 * c.mean(0).mean(1, keepdim=True)

    for k in range(4):
        x, y = _seq_batch(k)
        loss = step(x, y)
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tforward(torch.from_numpy(x._data)), torch.from_numpy(y._data))
        tloss.backward()
        topt.step()
        assert abs(loss.item() - tloss.item()) < 1e-5
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p._data, tp.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert "replayed 3 times" in step.explain()


def _cnn_bn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))


def _img_batch(k, n=6):
    rng = np.random.default_rng(k)
    return ember.tensor(rng.standard_normal((n, 1, 8, 8)).astype(np.float32)), ember.tensor(rng.integers(0, 3, n))


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batch_norm_cnn_replays_eager_with_its_running_statistics(train):
    comp, step = _compare(_cnn_bn, lambda m: ember.optim.SGD(m.parameters(), lr=0.05, momentum=0.9), _img_batch,
                          train=train)
    assert "batch_norm_arrays(" in step.source()
    assert int(comp[1].num_batches_tracked.item()) == (4 if train else 0)
    if train:
        assert "count_batch(" in step.source()


def test_batch_norm_momentum_none_breaks_the_graph_naming_why():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, momentum=None))
    step = ember.compile(lambda x: model(x).sum())
    with pytest.warns(UserWarning, match=r"momentum=None\) averages with 1 / num_batches_tracked"):
        step(ember.ones(3, 4))


class _Block(nn.Module):
    """A GPT-style block: embedding, layer norm, causal self-attention (masked with where), GELU MLP."""

    def __init__(self, vocab=11, d=8, t=5):
        super().__init__()
        self.emb, self.pos = nn.Embedding(vocab, d), nn.Parameter(ember.randn(t, d) * 0.1)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.head = nn.Linear(d, vocab)
        self.register_buffer("mask", ember.ones(t, t).tril() > 0)
        self.d = d

    def forward(self, idx):
        x = self.emb(idx) + self.pos
        q, k, v = self.qkv(self.ln1(x)).split(self.d, dim=-1)
        att = (q @ k.transpose(-2, -1)) / self.d ** 0.5
        att = ember.where(self.mask, att, float("-inf")).softmax(-1)
        x = x + self.proj(att @ v)
        x = x + self.mlp(self.ln2(x))
        return self.head(x).reshape(-1, 11)


def _token_batch(k, n=4, t=5):
    rng = np.random.default_rng(k)
    return ember.tensor(rng.integers(0, 11, (n, t))), ember.tensor(rng.integers(0, 11, n * t))


def test_gpt_style_block_replays_eager_bit_for_bit():
    _, step = _compare(_Block, lambda m: ember.optim.AdamW(m.parameters(), lr=1e-2), _token_batch)
    assert "where_np(" in step.source()


def test_cat_where_and_index_replay_eager_and_match_torch():
    def f(lib, x, w, i, m):
        h = lib.cat([x * w, x.tanh(), w], dim=1)
        h = lib.where(m, h, 0.5) + lib.where(m, 1.0, h) * lib.where(m, h * 2, h)
        r = h[i]
        loss = (r * r).sum() + lib.stack([h, h.sigmoid()], dim=2).mean()
        loss.backward()
        return loss

    rng = np.random.default_rng(0)
    compiled = ember.compile(lambda *a: f(ember, *a))
    for _ in range(3):
        xa, wa = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
        ia, ma = rng.integers(0, 4, 6), rng.random((4, 9)) > 0.5
        xe, we = ember.tensor(xa, requires_grad=True), ember.tensor(wa, requires_grad=True)
        xc, wc = ember.tensor(xa, requires_grad=True), ember.tensor(wa, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lc = compiled(xc, wc, ember.tensor(ia), ember.tensor(ma))
        le = f(ember, xe, we, ember.tensor(ia), ember.tensor(ma))
        assert le._data.tobytes() == lc._data.tobytes()
        assert xe.grad._data.tobytes() == xc.grad._data.tobytes() and we.grad._data.tobytes() == wc.grad._data.tobytes()
        xt, wt = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
        lt = f(torch, xt, wt, torch.tensor(ia), torch.tensor(ma))
        np.testing.assert_allclose(lc._data, lt.detach().numpy(), rtol=1e-5)
        np.testing.assert_allclose(xc.grad._data, xt.grad.numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(wc.grad._data, wt.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert "replayed 2 times" in compiled.explain()


def test_gradients_that_share_an_array_get_a_grad_each():
    # a + b hands one gradient array to both leaves: the replay may take it over for one of them only
    @ember.compile
    def f(a, b):
        loss = (a + b).sum()
        loss.backward()
        return loss

    for _ in range(2):
        a, b = ember.ones(3, requires_grad=True), ember.ones(3, requires_grad=True)
        f(a, b)
        assert a.grad._data is not b.grad._data
        a.grad._data[0] = 5.0
        assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_inference_lstm_and_batch_norm_replay_eager_and_match_torch():
    ember.manual_seed(0)
    lstm, bn = nn.LSTM(6, 12, batch_first=True), nn.BatchNorm1d(12).eval()
    with ember.no_grad():
        bn.running_mean.copy_(ember.randn(12) * 0.1)
        bn.running_var.copy_(ember.rand(12) + 0.5)
    tlstm, tbn = torch.nn.LSTM(6, 12, batch_first=True), torch.nn.BatchNorm1d(12).eval()
    tlstm.load_state_dict({k: torch.from_numpy(v._data.copy()) for k, v in lstm.state_dict().items()})
    tbn.load_state_dict({k: torch.from_numpy(np.array(v._data)) for k, v in bn.state_dict().items()})

    def f(x):
        out, _ = lstm(x)
        return bn(out[:, -1])

    compiled = ember.compile(f)
    with ember.no_grad():
        compiled(_seq_batch(0)[0])
        for k in (1, 2):
            x = _seq_batch(k)[0]
            replay, eager = compiled(x), f(x)
            assert replay._data.tobytes() == eager._data.tobytes()
            with torch.no_grad():
                expected = tbn(tlstm(torch.from_numpy(x._data))[0][:, -1]).numpy()
            np.testing.assert_allclose(replay._data, expected, rtol=1e-4, atol=1e-5)
    assert "lstm_arrays(" in compiled.source() and "replayed 2 times" in compiled.explain()


def test_batch_norm_switching_to_eval_retraces_and_uses_the_running_statistics():
    ember.manual_seed(0)
    eager = _cnn_bn()
    comp = copy.deepcopy(eager)
    step = ember.compile(lambda x: comp(x))
    with ember.no_grad():  # (inference: the running statistics still move in training mode)
        for k in range(2):
            x = _img_batch(k)[0]
            assert step(x)._data.tobytes() == eager(x)._data.tobytes()
        comp.eval()
        eager.eval()
        x = _img_batch(5)[0]
        for _ in range(2):
            assert step(x)._data.tobytes() == eager(x)._data.tobytes()
    assert "2 cache entries" in step.explain() and "graph break" not in step.explain()
    for a, b in zip(eager.buffers(), comp.buffers(), strict=True):
        assert a._data.tobytes() == b._data.tobytes()


def test_transformer_encoder_layer_traces_whole_and_trains_as_eager():
    # chunk (the attention's q/k/v split) replays as split; dropout draws eager's numbers
    ember.manual_seed(0)
    m = ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.1)
    ref = copy.deepcopy(m)
    om = ember.compile(m)
    opt, ropt = ember.optim.Adam(m.parameters(), 1e-3), ember.optim.Adam(ref.parameters(), 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no graph break)
        for _ in range(3):
            x = ember.randn(2, 5, 8)
            st = ember.get_rng_state()
            loss = om(x).pow(2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            ember.set_rng_state(st)
            rl = ref(x).pow(2).mean()
            rl.backward()
            ropt.step()
            ropt.zero_grad()
            assert loss.item() == rl.item()
    assert all(np.array_equal(a.detach().numpy(), b.detach().numpy()) for a, b in zip(m.parameters(), ref.parameters()))
    assert "traced" in om.explain() and "graph break" not in om.explain()


@pytest.mark.parametrize("cls", ["GRU", "RNN"])
@pytest.mark.parametrize("kw", [{"num_layers": 2, "dropout": 0.1}, {"bidirectional": True}])
def test_gru_and_rnn_without_an_initial_state_compile_whole(cls, kw):
    # d2l's Seq2SeqEncoder: nn.GRU called without h0, whose zeros were an untraced array (a graph
    # break at every call); now the zeros factory, called again at replay
    def run(compiled):
        ember.manual_seed(0)
        m = getattr(ember.nn, cls)(4, 5, **kw)
        f = ember.compile(m) if compiled else m
        x = ember.randn(3, 2, 4)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (a graph break warns)
            for _ in range(3):
                m.zero_grad()
                o, h = f(x)
                (o.sum() + h.square().sum()).backward()
                out.append([o.detach().numpy().tobytes()] + [p.grad.numpy().tobytes() for p in m.parameters()])
        return out

    assert run(True) == run(False)

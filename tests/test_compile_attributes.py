"""ember.compile and the attributes a compiled call reads and sets (``_compile/attributes.py``):
d2l's ``self.attention_weights``, a hand-written batch norm's moving averages, the word-language
model's ``self.src_mask``, an LSTM tagger's ``self.hidden``; and the attention code those programs
run (nn.TransformerEncoder with its masks, scaled_dot_product_attention). Each compiled call must
give eager's bytes and leave the attributes as eager does, without a graph break (warnings are
errors here)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _pair(lib):
    class Attention(lib.nn.Module):  # (d2l's DotProductAttention with a projection)
        def __init__(self):
            super().__init__()
            self.proj = lib.nn.Linear(4, 4)

        def forward(self, q, k, v):
            scores = self.proj(q) @ k.transpose(1, 2) / math.sqrt(4)
            self.attention_weights = lib.softmax(scores, dim=-1)
            return self.attention_weights @ v

    return Attention


def test_attention_weights_set_in_forward_are_set_by_every_replay_as_eager_and_torch():
    E, T = _pair(ember), _pair(torch)
    ember.manual_seed(0)
    m = E()
    ref, tm = copy.deepcopy(m), T()
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    c = ember.compile(m)
    rng = np.random.default_rng(0)
    for _ in range(3):
        q, k, v = (rng.standard_normal((2, 3, 4)).astype(np.float32) for _ in range(3))
        out = c(*map(ember.tensor, (q, k, v)))
        want = ref(*map(ember.tensor, (q, k, v)))
        tout = tm(*map(torch.from_numpy, (q, k, v)))
        assert out._data.tobytes() == want._data.tobytes()
        np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert m.attention_weights._data.tobytes() == ref.attention_weights._data.tobytes()
        np.testing.assert_allclose(m.attention_weights._data, tm.attention_weights.detach().numpy(), rtol=1e-5, atol=1e-6)
        # (the attribute is an output of the compiled call: gradients flow through it as in eager)
        m.attention_weights.sum().backward()
        ref.attention_weights.sum().backward()
        tm.attention_weights.sum().backward()
    assert m.proj.weight.grad._data.tobytes() == ref.proj.weight.grad._data.tobytes()
    np.testing.assert_allclose(m.proj.weight.grad._data, tm.proj.weight.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert "replayed 2 times" in c.explain()
    assert "# then the call sets Attention.attention_weights = softmax0" in c.source()


class MovingAverage(ember.nn.Module):
    """d2l's BatchNorm from scratch: reads its moving mean and sets a new one at every call."""

    def __init__(self):
        super().__init__()
        self.moving_mean = ember.zeros(3)
        self.calls = "none yet"

    def forward(self, x):
        mean = x.mean(0)
        self.moving_mean = (0.9 * self.moving_mean + 0.1 * mean).detach()
        self.calls = "some"
        return x - mean


def test_an_attribute_read_and_then_set_is_read_afresh_each_call_and_set_after_it():
    m, ref = MovingAverage(), MovingAverage()
    c = ember.compile(m)
    for _ in range(5):
        x = ember.randn(4, 3)
        assert ember.equal(c(x), ref(x))
        assert m.moving_mean._data.tobytes() == ref.moving_mean._data.tobytes() and m.calls == "some"
    # (the first call started from calls == "none yet", a guard: the second traced again, and replayed after)
    assert "2 cache entries" in c.explain() and "replayed 3 times" in c.explain()
    m.moving_mean = ember.zeros(1)  # (another shape: traced again)
    c(ember.randn(4, 3))
    assert m.moving_mean.shape == (3,) and "3 cache entries" in c.explain()


def test_an_attribute_set_on_the_first_call_only_word_language_model_src_mask():
    class M(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.src_mask = None
            self.lin = ember.nn.Linear(4, 4)

        def forward(self, x):
            if self.src_mask is None or self.src_mask.size(0) != len(x):
                self.src_mask = ember.ones(len(x), len(x)).tril()
            return self.src_mask @ self.lin(x)

    m = M()
    ref = copy.deepcopy(m)
    c = ember.compile(m)
    for n in (3, 3, 3, 5, 5):
        x = ember.randn(n, 4)
        assert c(x)._data.tobytes() == ref(x)._data.tobytes()
        assert m.src_mask.shape == (n, n)
    assert "3 cache entries" in c.explain() and "graph break" not in c.explain()


def test_a_plain_object_attribute_the_function_sets_is_set_by_each_replay():
    # (plain objects run no Python when set: the trace compares their attributes before and after;
    # a replay had left state.last at the traced call's value, silently)
    class State:
        pass

    state = State()
    state.last = None

    @ember.compile
    def f(x):
        y = x * 2
        state.last = y
        return y + 1

    for v in (1.0, 2.0, 3.0):
        f(ember.full((2,), v))
        assert state.last.tolist() == [2 * v, 2 * v]


def test_what_a_replay_cannot_set_breaks_the_graph_with_the_line():
    class Swap(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = ember.nn.Linear(2, 2), ember.nn.Linear(2, 2)

        def forward(self, x):
            self.a, self.b = self.b, self.a
            return self.a(x)

    class Forget(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.cache = ember.zeros(2)

        def forward(self, x):
            del self.cache
            return x * 2

    s, fg = Swap(), Forget()
    with pytest.warns(UserWarning, match=r"setting Swap.a runs Python that the replay would not \(a replay sets "
                                         r"tensors and Python numbers, not a Linear\)[\s\S]*self.a, self.b = "):
        ember.compile(s)(ember.ones(2))
    with pytest.warns(UserWarning, match=r"deleting Forget.cache[\s\S]*del self.cache"):
        ember.compile(fg)(ember.ones(2))
    assert not hasattr(fg, "cache")


def test_attributes_that_held_one_tensor_must_still_hold_one_tensor():
    class M(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.u = self.w = ember.ones(2)

        def forward(self, x):
            return x * self.u + self.w

    m = M()
    c = ember.compile(m)
    x = ember.ones(2)
    assert c(x).tolist() == [2.0, 2.0]
    m.w = ember.full((2,), 5.0)  # (the program read one argument for both)
    assert c(x).tolist() == [6.0, 6.0] and "2 cache entries" in c.explain()
    m.u = ember.full((2,), 3.0)
    assert c(x).tolist() == [8.0, 8.0] and "2 cache entries" in c.explain()


def test_a_tuple_attribute_of_tensors_is_read_afresh_and_set_lstm_tagger():
    # tutorials/nlp_lstm_tagger: ``lstm_out, self.hidden = self.lstm(x, self.hidden)``, with
    # ``model.hidden = model.init_hidden()`` before each sentence; the tensors inside the tuple are
    # read from it at each call (a replay had read the traced ones once the set was replayed)
    class Tagger(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = ember.nn.LSTM(3, 2)
            self.hidden = self.init_hidden()

        def init_hidden(self):
            return (ember.zeros(1, 1, 2), ember.zeros(1, 1, 2))

        def forward(self, x):
            out, self.hidden = self.lstm(x, self.hidden)
            return out.sum()

    ember.manual_seed(0)
    m = Tagger()
    ref = copy.deepcopy(m)
    c = ember.compile(m)
    for k in range(4):
        x = ember.randn(4, 1, 3)
        if k % 2 == 0:
            m.hidden, ref.hidden = m.init_hidden(), ref.init_hidden()
        else:  # (the hidden state the last call set, detached as a truncated backprop does)
            m.hidden = tuple(h.detach() for h in m.hidden)
            ref.hidden = tuple(h.detach() for h in ref.hidden)
        assert c(x)._data.tobytes() == ref(x)._data.tobytes()
        assert all(a._data.tobytes() == b._data.tobytes() for a, b in zip(m.hidden, ref.hidden))
    assert "1 cache entry " in c.explain() and "replayed 3 times" in c.explain()


def test_iterating_over_a_tensor_traces_its_rows():
    @ember.compile
    def f(xs, w):
        h = ember.zeros(2)
        for x in xs:
            h = ember.tanh(x * w + h)
        return h.sum()

    w = ember.randn(2, requires_grad=True)
    for _ in range(2):
        xs = ember.randn(4, 2)
        f(xs, w).backward()
        g, w.grad = w.grad, None
        f.__wrapped__(xs, w).backward()
        assert g._data.tobytes() == w.grad._data.tobytes()
        w.grad = None
    assert "replayed 1 times" in f.explain() and "unbind" in f.explain()


@pytest.mark.parametrize("mask", ["float", "bool", "padding", "causal"])
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_transformer_encoder_with_masks_compiles_whole_as_eager_and_torch(mask, dropout):
    # nn.MultiheadAttention made its masks in NumPy and scaled_dot_product_attention's fused node kept
    # the bias made from them: a graph break at every call of the word-language model's Transformer
    ember.manual_seed(0)
    layer = ember.nn.TransformerEncoderLayer(8, 2, 16, dropout=dropout, batch_first=True)
    enc = ember.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    ref = copy.deepcopy(enc)
    tenc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=dropout, batch_first=True),
                                       2, enable_nested_tensor=False)
    tenc.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in enc.state_dict().items()})
    c = ember.compile(enc)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.standard_normal((3, 5, 8)).astype(np.float32)
        kw: dict = {}
        tkw: dict = {}
        if mask == "float":
            kw["mask"], tkw["mask"] = ember.nn.Transformer.generate_square_subsequent_mask(5), \
                torch.nn.Transformer.generate_square_subsequent_mask(5)
        elif mask == "bool":
            m = np.triu(np.ones((5, 5), bool), 1)
            kw["mask"], tkw["mask"] = ember.tensor(m), torch.from_numpy(m)
        elif mask == "padding":
            p = rng.random((3, 5)) > 0.7
            p[:, 0] = False
            kw["src_key_padding_mask"], tkw["src_key_padding_mask"] = ember.tensor(p), torch.from_numpy(p)
        else:
            kw["mask"] = ember.nn.Transformer.generate_square_subsequent_mask(5)
            kw["is_causal"] = True
            tkw = {"mask": torch.nn.Transformer.generate_square_subsequent_mask(5), "is_causal": True}
        st = ember.get_rng_state()
        out = c(ember.tensor(x), **kw)
        out.pow(2).sum().backward()
        ember.set_rng_state(st)
        want = ref(ember.tensor(x), **kw)
        want.pow(2).sum().backward()
        assert out._data.tobytes() == want._data.tobytes()
        for p, q in zip(enc.parameters(), ref.parameters()):
            assert p.grad._data.tobytes() == q.grad._data.tobytes()
        if dropout == 0.0:
            tout = tenc(torch.from_numpy(x), **tkw)
            tout.pow(2).sum().backward()
            np.testing.assert_allclose(out._data, tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    if dropout == 0.0:
        for (n, p), tp in zip(enc.named_parameters(), tenc.parameters()):
            np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)
    assert "graph break" not in c.explain() and "replayed 2 times" in c.explain()


def test_a_causal_fused_attention_replays_on_new_values_and_grads_match_torch():
    @ember.compile
    def f(q, k, v):
        return ember.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).sum()

    rng = np.random.default_rng(2)
    for _ in range(3):
        arrs = [rng.standard_normal((1, 2, 4, 3)).astype(np.float32) for _ in range(3)]
        es = [ember.tensor(a, requires_grad=True) for a in arrs]
        ts = [torch.tensor(a, requires_grad=True) for a in arrs]
        out = f(*es)
        out.backward()
        tout = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=True).sum()
        tout.backward()
        assert abs(out.item() - tout.item()) < 1e-5
        for e, t in zip(es, ts):
            np.testing.assert_allclose(e.grad._data, t.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert "fused" in f.explain() and "replayed 2 times" in f.explain()


def test_an_item_set_on_a_dict_or_list_from_outside_breaks_the_graph():
    # (d[k] = v runs no Python the trace could see: a replay had left stats['loss'] at the traced
    # call's value, silently); a dict the function only reads still compiles whole
    stats: dict = {}
    history = [None]
    cfg = {"scale": 2.0}

    @ember.compile
    def f(x):
        y = x * cfg["scale"]
        stats["loss"] = y.sum()
        return y

    @ember.compile
    def g(x):
        history[0] = x + 1
        return x * 2

    @ember.compile
    def h(x):
        return x * cfg["scale"]

    with pytest.warns(UserWarning, match=r"changed a dict it reaches from outside \(an item set"):
        f(ember.ones(2))
    for v in (2.0, 3.0):
        f(ember.full((2,), v))
        assert stats["loss"].item() == 4 * v
    with pytest.warns(UserWarning, match="changed a list it reaches from outside"):
        g(ember.ones(1))
    g(ember.full((1,), 5.0))
    assert history[0].item() == 6.0
    h(ember.ones(1))
    assert h(ember.ones(1)).item() == 2.0 and "replayed 1 times" in h.explain()


def test_an_attribute_with_a_graph_from_the_last_call_is_an_edge_the_backward_goes_on_from():
    # tutorials/nlp_lstm_tagger's last call: self.hidden holds the previous call's output, graph and
    # all; its backward node (a CompiledFunctionBackward) broke the graph of the next call
    def make(lib):
        class Cell(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 2)
                self.h = lib.zeros(1, 2)

            def forward(self, x):
                self.h = lib.tanh(self.lin(x) + self.h)
                return self.h.sum()

        return Cell()

    ember.manual_seed(0)
    m = make(ember)
    ref = copy.deepcopy(m)
    tm = make(torch)
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    c = ember.compile(m)
    x1, x2 = np.array([[0.5, -1.0]], np.float32), np.array([[2.0, 0.25]], np.float32)
    c(ember.tensor(x1))
    c(ember.tensor(x2)).backward()
    ref(ember.tensor(x1))
    ref(ember.tensor(x2)).backward()
    tm(torch.from_numpy(x1))
    tm(torch.from_numpy(x2)).backward()
    for p, q, t in zip(m.parameters(), ref.parameters(), tm.parameters()):
        assert p.grad._data.tobytes() == q.grad._data.tobytes()
        np.testing.assert_allclose(p.grad._data, t.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert "graph break" not in c.explain() and "2 cache entries" in c.explain()

"""Module API, containers, hooks, state_dict and the seed's training patterns, against torch."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember

from .helpers import ember_repr, to_ember_state


def _net(lib):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(1, 2, 3)), ("bn", nn.BatchNorm2d(2)), ("act", nn.ReLU()), ("pool", nn.MaxPool2d(2)),
        ("flat", nn.Flatten()),
        ("heads", nn.ModuleList([nn.Linear(2, 3), nn.Linear(2, 3), nn.Linear(2, 3), nn.Dropout(0.1)])),
        ("extra", nn.ModuleDict({"a": nn.Identity(), "b": nn.Unflatten(1, (1, 2))})),
    ]))


def test_repr_names_and_state_dict_keys_match_torch() -> None:
    e, t = _net(ember), _net(torch)
    assert ember_repr(repr(e)) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert list(e.state_dict()) == list(t.state_dict())
    for (k, a), (_, b) in zip(e.state_dict().items(), t.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    pl = [ember.nn.ParameterList([ember.nn.Parameter(ember.ones(2)), ember.zeros(3, 2)]),
          ember.nn.ParameterDict({"b": ember.nn.Parameter(ember.ones(2)), "a": ember.ones(1)})]
    tl = [torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.zeros(3, 2)]),
          torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.ones(2)), "a": torch.ones(1)})]
    for a, b in zip(pl, tl):
        assert ember_repr(repr(a)) == repr(b)
        assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]


def test_shared_modules_and_empty_containers() -> None:
    for lib in (ember, torch):
        lin = lib.nn.Linear(2, 2)
        s = lib.nn.Sequential(lin, lin)
        assert len(list(s.parameters())) == 2
        assert list(s.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert repr(ember.nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(ember.nn.Sequential()) == repr(torch.nn.Sequential())


def test_load_state_dict_errors_match_torch() -> None:
    e, t = ember.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    bad_t = {"weight": torch.ones(3, 2), "foo": torch.ones(1)}
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict(to_ember_state(bad_t))
    assert ember_repr(str(ee.value)) == str(te.value)
    r_e = e.load_state_dict(to_ember_state({"weight": torch.ones(2, 2), "foo": torch.ones(1)}), strict=False)
    r_t = t.load_state_dict({"weight": torch.ones(2, 2), "foo": torch.ones(1)}, strict=False)
    assert repr(r_e) == repr(r_t)
    assert repr(e.load_state_dict(e.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict({"weight": 3, "bias": torch.ones(2)})
    with pytest.raises(RuntimeError) as ee:
        e.load_state_dict({"weight": 3, "bias": ember.ones(2)})
    assert str(ee.value) == str(te.value)


def test_train_eval_zero_grad_apply_to_requires_grad() -> None:
    m = _net(ember)
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m(ember.randn(4, 1, 6, 6))[0].sum().backward() if False else None
    out = m.conv(ember.randn(2, 1, 5, 5)).sum()
    out.backward()
    assert m.conv.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert float(m.conv.weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m.conv.weight.grad is None
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Conv2d"
    m.double()
    assert m.conv.weight.dtype == ember.float64 and m.bn.num_batches_tracked.dtype == ember.int64
    m.to(ember.float32)
    assert m.conv.weight.dtype == ember.float32
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'weight'"):
        m.conv.weight = 3
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        m.register_buffer("training", None)
    assert m.get_submodule("heads.1") is m.heads[1]
    with pytest.raises(NotImplementedError):
        ember.nn.Module()(1)


def test_forward_hooks_and_full_backward_hooks_match_torch() -> None:
    logs = {}
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        log = []
        h1 = m[0].register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m[0].register_forward_hook(lambda mod, args, out: out + 1)
        m[2].register_full_backward_hook(
            lambda mod, gi, go: log.append(("bw", [g.detach().numpy().copy() for g in gi],  # noqa: B023
                                            [g.detach().numpy().copy() for g in go])))
        m[2].register_full_backward_pre_hook(lambda mod, go: log.append(("pre", go[0].detach().numpy().copy())))  # noqa: B023
        m[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.5,))
        x = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
        out = m(x)
        out.sum().backward()
        log.append(("out", out.detach().numpy().copy()))
        log.append(("xgrad", x.grad.numpy().copy()))
        log.append(("wgrad", m[0].weight.grad.numpy().copy()))
        h1.remove()
        log.append(("after_remove", m(x).detach().numpy().copy()))
        logs[lib.__name__] = log
    el, tl = logs["ember"], logs["torch"]
    assert [a[0] for a in el] == [a[0] for a in tl]
    for a, b in zip(el, tl):
        for u, v in zip(a[1:], b[1:]):
            if isinstance(u, list):
                for uu, vv in zip(u, v):
                    np.testing.assert_allclose(uu, vv, rtol=1e-5, atol=1e-6)
            else:
                np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_backward_hook_without_input_grad() -> None:
    for lib in (ember, torch):
        m = lib.nn.Linear(3, 2)
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go[0].shape)))  # noqa: B023
        m(lib.ones(4, 3)).sum().backward()
        assert seen[0][0] == (None,) and tuple(seen[0][1]) == (4, 2)


def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 1))


def test_gradient_accumulation_over_4_minibatches_equals_full_batch() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((16, 4)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)
    full, acc = _mlp(ember), _mlp(ember)
    ember.nn.functional.mse_loss(full(ember.tensor(X)), ember.tensor(Y)).backward()
    for i in range(4):
        xb, yb = ember.tensor(X[4 * i:4 * i + 4]), ember.tensor(Y[4 * i:4 * i + 4])
        (ember.nn.functional.mse_loss(acc(xb), yb) / 4).backward()
    for p, q in zip(full.parameters(), acc.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-7)
    o1, o2 = ember.optim.SGD(full.parameters(), lr=0.1), ember.optim.SGD(acc.parameters(), lr=0.1)
    o1.step()
    o2.step()
    for p, q in zip(full.parameters(), acc.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_two_losses_backwarded_in_turn_equal_their_sum() -> None:
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
    a, b = _mlp(ember), _mlp(ember)
    out_a = a(ember.tensor(X))
    ember.nn.functional.mse_loss(out_a, ember.tensor(Y)).backward(retain_graph=True)
    ember.nn.functional.l1_loss(out_a, ember.tensor(Y)).backward()
    out_b = b(ember.tensor(X))
    (ember.nn.functional.mse_loss(out_b, ember.tensor(Y)) + ember.nn.functional.l1_loss(out_b, ember.tensor(Y))
     ).backward()
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_training_parity_cnn_and_lstm_with_torch() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
    Yc = rng.integers(0, 3, 8)
    S = rng.standard_normal((6, 8, 3)).astype(np.float32)

    def cnn(lib):
        lib.manual_seed(0)
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 4, 3, groups=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))

    class Seq:
        def __init__(self, lib):
            lib.manual_seed(0)
            self.lstm, self.head = lib.nn.LSTM(3, 5, batch_first=False), lib.nn.Linear(5, 3)

        def params(self):
            return list(self.lstm.parameters()) + list(self.head.parameters())

        def __call__(self, s):
            out, (h, c) = self.lstm(s)
            return self.head(out[-1])

    for build, inp in [(cnn, X), (Seq, S)]:
        results = []
        for lib in (ember, torch):
            m = build(lib)
            params = list(m.parameters()) if hasattr(m, "parameters") else m.params()
            opt = lib.optim.Adam(params, lr=0.01)
            xin, y = lib.tensor(inp), lib.tensor(Yc)
            for _ in range(50):
                opt.zero_grad()
                loss = lib.nn.functional.cross_entropy(m(xin), y)
                loss.backward()
                opt.step()
            results.append((float(loss), [p.detach().numpy().copy() for p in params]))
        (el, ep), (tl, tp) = results
        assert el == pytest.approx(tl, rel=1e-3, abs=1e-5)
        for a, b in zip(ep, tp):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_clip_grad_and_vector_utils_match_torch() -> None:
    for fn, args in [("clip_grad_norm_", (0.5,)), ("clip_grad_norm_", (0.5, float("inf"))),
                     ("clip_grad_norm_", (0.1, 1.0)), ("clip_grad_value_", (0.05,))]:
        res = []
        for lib in (ember, torch):
            m = _mlp(lib)
            m(lib.ones(3, 4)).sum().backward()
            r = getattr(lib.nn.utils, fn)(m.parameters(), *args)
            res.append((r, [p.grad.numpy().copy() for p in m.parameters()]))
        if res[1][0] is not None:
            assert float(res[0][0]) == pytest.approx(float(res[1][0]), rel=1e-5)
        for a, b in zip(res[0][1], res[1][1]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    m = _mlp(ember)
    v = ember.nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (4 * 8 + 8 + 8 + 1,)
    ember.nn.utils.vector_to_parameters(v * 0 + 1, m.parameters())
    assert all(float(p.detach().sum()) == p.numel() for p in m.parameters())

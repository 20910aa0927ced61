"""ember.func.vmap against torch.func.vmap: batched execution (per-sample gradients of an MLP and a
CNN, ensembles through stack_module_state, nested vmap, jacrev/vjp inside vmap), in_dims/out_dims,
randomness, chunk_size, the errors torch gives, and the per-element fallback (same results as the
batching rules, with torch's performance warning)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef
import ember.nn.functional as EF
from ember.func import _batched

RNG = np.random.default_rng(0)
X = RNG.standard_normal((5, 3))
W1, B1 = RNG.standard_normal((4, 3)), RNG.standard_normal(4)
W2, B2 = RNG.standard_normal((2, 4)), RNG.standard_normal(2)
Y = RNG.integers(0, 2, 5)


def _lib(lib):
    return (ember, EF, ef) if lib == "ember" else (torch, torch.nn.functional, tf)


def _t(lib, a):
    return (ember if lib == "ember" else torch).tensor(a)


def _close(a, b, rtol=1e-10):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rtol)
    elif isinstance(b, dict):
        for k in b:
            _close(a[k], b[k], rtol)
    else:
        assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        tight = a.dtype not in (ember.float32, torch.float32)  # (float32 sums may round once differently)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol if tight else 1e-6,
                                   atol=1e-12 if tight else 1e-6)


@pytest.fixture(autouse=True)
def _no_fallback():
    """No test here may hit the per-element fallback unless it asks for it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="There is a performance drop")
        yield


def _mlp_grads(lib):
    T, F, func = _lib(lib)
    params = {"w1": _t(lib, W1), "b1": _t(lib, B1), "w2": _t(lib, W2), "b2": _t(lib, B2)}

    def loss(p, x, y):
        h = F.relu(F.linear(x, p["w1"], p["b1"]))
        return F.cross_entropy(F.linear(h, p["w2"], p["b2"]).unsqueeze(0), y.unsqueeze(0))

    return func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, _t(lib, X), _t(lib, Y))


def test_per_sample_gradients_of_an_mlp():
    _close(_mlp_grads("ember"), _mlp_grads("torch"))


def _cnn_grads(lib):
    T, F, func = _lib(lib)
    r = np.random.default_rng(1)
    p = {"c": _t(lib, r.standard_normal((3, 1, 3, 3))), "cb": _t(lib, r.standard_normal(3)),
         "f": _t(lib, r.standard_normal((2, 27))), "fb": _t(lib, r.standard_normal(2))}
    data, target = _t(lib, r.standard_normal((4, 1, 8, 8))), _t(lib, r.integers(0, 2, 4))

    def loss(p, x, y):
        h = F.max_pool2d(F.relu(F.conv2d(x.unsqueeze(0), p["c"], p["cb"])), 2)
        out = F.log_softmax(F.linear(T.flatten(h, 1), p["f"], p["fb"]), dim=1)
        return F.nll_loss(out, y.unsqueeze(0))

    return func.vmap(func.grad(loss), in_dims=(None, 0, 0))(p, data, target)


def test_per_sample_gradients_of_a_cnn():
    _close(_cnn_grads("ember"), _cnn_grads("torch"))


def _ensemble(lib, data_dim):
    T, F, func = _lib(lib)
    T.manual_seed(0)
    models = [T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Linear(4, 2)).double() for _ in range(3)]
    r = np.random.default_rng(2)
    for m in models:  # the same weights in both libraries
        for prm in m.parameters():
            prm.data = _t(lib, r.standard_normal(tuple(prm.shape)))
    params, buffers = func.stack_module_state(models)
    x = _t(lib, r.standard_normal((3, 5, 3) if data_dim == 0 else (5, 3)))
    return func.vmap(lambda p, b, x: func.functional_call(models[0], (p, b), (x,)),
                     in_dims=(0, 0, data_dim))(params, buffers, x)


@pytest.mark.parametrize("data_dim", [0, None])
def test_ensemble_of_mlps(data_dim):
    _close(_ensemble("ember", data_dim), _ensemble("torch", data_dim))


def _nested(lib):
    T, F, func = _lib(lib)
    a, b = _t(lib, X), _t(lib, X[:4] * 2)

    def dist(u, v):
        return ((u - v) ** 2).sum().sqrt()

    pairwise = func.vmap(func.vmap(dist, in_dims=(None, 0)), in_dims=(0, None))(a, b)
    w = _t(lib, W1)
    grads = func.vmap(func.vmap(func.grad(lambda w, x: (F.linear(x, w) ** 2).sum()), in_dims=(None, 0)),
                      in_dims=(None, 0))(w, a.reshape(5, 1, 3).expand(5, 2, 3) * _t(lib, np.array([[1.0], [2.0]])))
    return pairwise, grads


def test_nested_vmap():
    _close(_nested("ember"), _nested("torch"))


def _compositions(lib):
    T, F, func = _lib(lib)
    w, x = _t(lib, W1), _t(lib, X)

    def f(w, x):
        return F.linear(x, w).tanh()

    jac = func.vmap(func.jacrev(f, argnums=1), in_dims=(None, 0))(w, x)
    _, pull = func.vjp(lambda x: f(w, x), x[0])
    rows = func.vmap(pull)(T.eye(4, dtype=x.dtype))
    outer = func.grad(lambda w: func.vmap(f, in_dims=(None, 0))(w, x).sum())(w)
    return jac, rows, outer


def test_jacrev_and_vjp_inside_vmap_and_grad_of_vmap():
    _close(_compositions("ember"), _compositions("torch"))


def _dims(lib):
    T, F, func = _lib(lib)
    x = _t(lib, np.random.default_rng(5).standard_normal((2, 3, 4)))
    y = _t(lib, np.random.default_rng(4).standard_normal((3, 4)))
    return (func.vmap(lambda a, b: a @ b, in_dims=(2, None), out_dims=1)(x, y),
            func.vmap(lambda a: (a.sum(0), a.t()), in_dims=1, out_dims=(0, 2))(x),
            func.vmap(lambda a: {"s": a.softmax(-1)}, in_dims=(-1,), out_dims={"s": -1})(x),
            func.vmap(lambda a: T.ones(2, dtype=a.dtype))(x),
            func.vmap(lambda a: (a.max(0), a[1:, None], a.unbind(1), T.cat([a, a], 1)))(x),
            func.vmap(lambda a, b: T.where(a > 0, a, b), in_dims=(0, None))(x, y))


def test_in_dims_out_dims():
    _close(_dims("ember"), _dims("torch"))


@pytest.mark.parametrize("chunk_size", [1, 2, 5, 7])
def test_chunk_size(chunk_size):
    res = []
    for lib in ("ember", "torch"):
        T, F, func = _lib(lib)
        res.append(func.vmap(lambda a, w, F=F: (F.linear(a, w), a.sum()), in_dims=(1, None), out_dims=(1, 0),
                             chunk_size=chunk_size)(_t(lib, X.T), _t(lib, W1)))
    _close(*res)


ERRORS = [
    lambda T, f, x: f.vmap(lambda a, b: a, in_dims=(0, (0, 1)))(x, x),
    lambda T, f, x: f.vmap(lambda a: a, in_dims=2)(x),
    lambda T, f, x: f.vmap(lambda a: a, in_dims="a")(x),
    lambda T, f, x: f.vmap(lambda a: a, in_dims=0)(1.0),
    lambda T, f, x: f.vmap(lambda a: (a, [a, a]), out_dims=(0, 0, 0))(x),
    lambda T, f, x: f.vmap(lambda a: 1.0)(x),
    lambda T, f, x: f.vmap(lambda a: a * 2, out_dims=None)(x),
    lambda T, f, x: f.vmap(lambda a: a, randomness="foo")(x),
    lambda T, f, x: f.vmap(lambda a: a, chunk_size=0)(x),
    lambda T, f, x: f.vmap(lambda a, b: a + b)(x, T.ones(4, 4)),
    lambda T, f, x: f.vmap(lambda a: a.item())(x),
    lambda T, f, x: f.vmap(lambda a: bool(a.sum() > 0))(x),
    lambda T, f, x: f.vmap(lambda a: T.randn(3))(x),
    lambda T, f, x: f.vmap(lambda a: T.nn.functional.dropout(a, 0.5))(x),
    lambda T, f, x: f.vmap(lambda a: T.ones(2).mul_(a[0]))(x),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match_torch(k):
    got = []
    for lib in ("ember", "torch"):
        T, F, func = _lib(lib)
        with pytest.raises(Exception) as e:
            ERRORS[k](T, func, T.ones(3, 2))
        got.append((type(e.value).__name__, str(e.value)))
    assert got[0] == got[1]


@pytest.mark.parametrize("randomness", ["same", "different"])
def test_randomness(randomness):
    for lib in ("ember", "torch"):
        T, F, func = _lib(lib)
        T.manual_seed(0)
        out = func.vmap(lambda a, T=T, F=F: (T.randn(3) + a, F.dropout(T.ones(4) + a, 0.5)),
                        randomness=randomness)(T.zeros(4, 1))
        for o in out:
            same = all(T.equal(o[0], o[i]) for i in range(1, 4))
            assert same == (randomness == "same"), (lib, o)


def test_randomness_same_holds_across_chunks():
    for lib in ("ember", "torch"):
        T, F, func = _lib(lib)
        out = func.vmap(lambda a, T=T: T.rand(3) + a, randomness="same", chunk_size=2)(T.zeros(5, 1))
        assert all(T.equal(out[0], out[i]) for i in range(5)), lib


def test_batched_tensor_prints_as_torch():
    printed = []
    for lib in ("ember", "torch"):
        T, F, func = _lib(lib)
        func.vmap(lambda a: printed.append(repr(a)) or a)(T.ones(2, 2))
    assert printed[0] == printed[1]


FALLBACK_CASES = [
    ("__add__", lambda T, F, a, b: a + b),
    ("add", lambda T, F, a, b: T.add(a, b, alpha=2)),
    ("__matmul__", lambda T, F, a, b: a @ b.t()),
    ("matmul", lambda T, F, a, b: T.matmul(a, b[0])),
    ("sum", lambda T, F, a, b: a.sum(1)),
    ("softmax", lambda T, F, a, b: a.softmax(-1)),
    ("transpose", lambda T, F, a, b: a.transpose(0, 1)),
    ("__getitem__", lambda T, F, a, b: a[1:, ::2]),
    ("cat", lambda T, F, a, b: T.cat([a, b], 1)),
    ("linear", lambda T, F, a, b: F.linear(a, b)),
    ("conv2d", lambda T, F, a, b: F.conv2d(a.reshape(1, 1, 3, 4), b.reshape(3, 1, 2, 2)[:, :, :, :2])),
    ("max_pool2d", lambda T, F, a, b: F.max_pool2d(a.reshape(1, 1, 3, 4), 2)),
    ("cross_entropy", lambda T, F, a, b: F.cross_entropy(a, T.tensor([0, 2, 1]))),
]


@pytest.mark.parametrize("name,f", FALLBACK_CASES, ids=[c[0] for c in FALLBACK_CASES])
def test_fallback_equals_batching_rule(name, f, monkeypatch):
    r = np.random.default_rng(3)
    a, b = ember.tensor(r.standard_normal((4, 3, 4))), ember.tensor(r.standard_normal((4, 3, 4)))
    batched = ef.vmap(lambda a, b: f(ember, EF, a, b))(a, b)
    monkeypatch.delitem(_batched.RULES, name)
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet implemented the "
                                         f"batching rule for {name}"):
        looped = ef.vmap(lambda a, b: f(ember, EF, a, b))(a, b)
    _close(looped, batched)
    ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    _close(batched, torch.vmap(lambda a, b: f(torch, torch.nn.functional, a, b))(ta, tb))


def test_op_without_a_rule_runs_per_element_with_torchs_warning():
    x = RNG.standard_normal((3, 6))
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet implemented the "
                                         "batching rule for histc"):
        got = ef.vmap(lambda a: ember.histc(a, bins=3))(ember.tensor(x))
    with pytest.warns(UserWarning, match="There is a performance drop"):
        want = torch.vmap(lambda a: torch.histc(a, bins=3))(torch.tensor(x))
    _close(got, want)


def _jacobians(lib):
    T, F, func = _lib(lib)
    w1, w2, x = _t(lib, W1), _t(lib, W2), _t(lib, X[0])

    def net(x):
        return F.linear(F.linear(x, w1).tanh(), w2)

    def scalar(x):
        return net(x).sin().sum()

    return (func.jacrev(net)(x), func.jacrev(net, chunk_size=1)(x), func.jacrev(func.jacrev(scalar))(x),
            func.hessian(scalar)(x), func.vmap(func.jacrev(net))(_t(lib, X)))


def test_jacrev_runs_as_vmap_of_vjp_and_hessians_both_ways():
    _close(_jacobians("ember"), _jacobians("torch"))


OPS = [
    lambda T, F, a, b: (a * 2 - b).exp().clamp(max=3.0) / (1 + b.abs()),
    lambda T, F, a, b: T.where(a > b, a, 0.5 * b).sigmoid().tanh(),
    lambda T, F, a, b: (a.sum(), a.mean(0), a.amax(-1, keepdim=True), a.var(1), a.norm(), a.logsumexp(0)),
    lambda T, F, a, b: (a.max(), a.max(1), a.min(0).indices, a.argmax(), a.argmin(1), a.sort(0).values),
    lambda T, F, a, b: (a.cumsum(1), a.prod(0), a.std(), a.all(), (a > 0).any(1), a.count_nonzero(0)),
    lambda T, F, a, b: (a.reshape(-1), a.view(4, 3), a.flatten(), a.t(), a.T, a.permute(1, 0), a.unsqueeze(1)),
    lambda T, F, a, b: (a[None].squeeze(), a.unsqueeze(-1).squeeze(-1), a.expand(2, 3, 4), a.transpose(0, 1),
                        a.movedim(0, 1), a.flip(0), a.narrow(1, 1, 2), a.select(1, 2), a.unbind(0)),
    lambda T, F, a, b: (a[1], a[:, 1:3], a[..., None, ::2], a[[0, 2]], a[:, T.tensor([3, 1])], a.split(2, 1),
                        a.chunk(2, 1), T.stack([a, b], 1), T.cat([a, b], 0), a.diagonal()),
    lambda T, F, a, b: (a @ b.t(), T.matmul(a[0], b.t()), T.mm(a, b.t()), a[0] @ b[0], T.outer(a[0], b[1]),
                        T.mv(a, b[0]), F.linear(a, b, b[:, 0]), T.addmm(b[:, 0], a, b.t(), beta=0.5)),
    lambda T, F, a, b: (F.relu(a), F.gelu(a), F.softmax(a, 1), F.log_softmax(a, 0), F.leaky_relu(a, 0.2),
                        F.mse_loss(a, b), F.l1_loss(a, b, reduction="sum"), F.layer_norm(a, (4,))),
    lambda T, F, a, b: (F.cross_entropy(a, T.tensor([0, 3, 1])), F.nll_loss(a, T.tensor([1, 1, 2]), reduction="sum"),
                        F.cross_entropy(a[0], T.tensor(2)), a.gather(1, T.tensor([[0], [1], [3]])),
                        a.index_select(1, T.tensor([2, 0]))),
    lambda T, F, a, b: (a.new_zeros(2), T.zeros_like(a), a.clone().mul_(2), a.to(T.float32), a.float().sum(),
                        a.repeat(2, 1), a.expand_as(T.ones(2, 3, 4)), a.view_as(b.t()).shape[0] + a),
    lambda T, F, a, b: (T.einsum("ij,kj->ik", a, b), T.einsum("ij->j", a), T.einsum("ij,ij->", a, b),
                        F.embedding(T.tensor([[2, 0], [1, 1]]), a), F.pad(a, (1, 2)),
                        F.batch_norm(a, T.zeros(4, dtype=a.dtype), T.ones(4, dtype=a.dtype)),
                        F.batch_norm(a[None], T.zeros(3, dtype=a.dtype), T.ones(3, dtype=a.dtype), b[:, 0], b[:, 1])),
]


@pytest.mark.parametrize("k", range(len(OPS)))
@pytest.mark.parametrize("in_dims", [(0, 0), (0, None), (2, 1)])
def test_batching_rules_match_torch(k, in_dims):
    r = np.random.default_rng(k)
    a = r.standard_normal((3, 3, 4) if in_dims[0] != 2 else (3, 4, 3))
    b = r.standard_normal((3, 3, 4) if in_dims[1] == 0 else (3, 3, 4) if in_dims[1] == 1 else (3, 4))
    if in_dims[1] == 1:
        b = b.transpose(1, 0, 2)
    res = []
    for lib in ("ember", "torch"):
        T, F, func = _lib(lib)
        res.append(func.vmap(lambda a, b, T=T, F=F: OPS[k](T, F, a, b), in_dims=in_dims)(_t(lib, a), _t(lib, b)))
    _close(*res)


def _op_functions_as_values(lib):
    T, F, func = _lib(lib)
    x = _t(lib, X)
    T.manual_seed(0)
    m = T.nn.Sequential(T.nn.Linear(3, 5), T.nn.BatchNorm1d(5), T.nn.ReLU()).double().eval()
    for prm in m.parameters():  # the same weights in both libraries
        prm.data = _t(lib, np.random.default_rng(6).standard_normal(tuple(prm.shape)))
    p, b = {k: v.detach() for k, v in m.named_parameters()}, dict(m.named_buffers())
    return (func.vmap(func.jacfwd(T.sin))(x), func.vmap(func.jacrev(T.sin))(x), func.vmap(func.grad(T.sum))(x),
            func.vmap(T.dot)(x, x), func.vmap(func.grad(lambda p, x: func.functional_call(m, (p, b), (x[None],)).sum()),
                                              in_dims=(None, 0))(p, x))


def _setitem(lib):
    T, F, func = _lib(lib)

    def f(a, b):
        out = a.clone()
        out[0] = b[1]
        out[1:, ::2] = 7.0
        out[..., -1] = b[0, 0]
        return out

    return func.vmap(f)(_t(lib, RNG_SET.standard_normal((2, 3, 4))), _t(lib, RNG_SET.standard_normal((2, 3, 4))))


RNG_SET = np.random.default_rng(7)


def test_setitem_on_a_batched_tensor():
    state = RNG_SET.bit_generator.state
    got = _setitem("ember")
    RNG_SET.bit_generator.state = state
    _close(got, _setitem("torch"))


def test_op_functions_passed_as_values_and_a_module_with_batch_norm():
    _close(_op_functions_as_values("ember"), _op_functions_as_values("torch"))


def _jvps(lib):
    T, F, func = _lib(lib)
    w, x = _t(lib, W1), _t(lib, X)

    def f(w, x):
        return F.linear(x, w).tanh()

    tangents = func.vmap(lambda x: func.jvp(lambda x: f(w, x), (x,), (T.ones_like(x),))[1])(x)
    # vjp then jvp under nested vmap, as the neural-tangent-kernel tutorial computes it
    _, pull = func.vjp(lambda w: f(w, x[0]), w)
    vjps = func.vmap(pull)(T.eye(4, dtype=x.dtype))
    ntk = func.vmap(lambda v: func.jvp(lambda w: f(w, x[1]), (w,), v)[1])(vjps)
    return tangents, ntk


def test_jvp_inside_vmap():
    _close(_jvps("ember"), _jvps("torch"))

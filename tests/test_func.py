"""ember.func against torch.func: grad / grad_and_value (argnums, has_aux), vjp, jvp, jacrev, jacfwd,
hessian, vmap (in_dims, out_dims, randomness), their compositions (per-sample gradients, ensembles,
Hessians), functional_call and stack_module_state, and the errors torch gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef

X = np.random.default_rng(0).standard_normal((4, 3))
W = np.random.default_rng(1).standard_normal((3, 2))


def _np(t):
    if isinstance(t, (tuple, list)):
        return [_np(x) for x in t]
    if isinstance(t, dict):
        return {k: _np(v) for k, v in t.items()}
    return t.detach().numpy()


def _same(a, b, rtol=1e-10):
    if isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, rtol)
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            _same(a[k], b[k], rtol)
    else:
        assert a.shape == b.shape, (a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


def f_scalar(L, x):
    return (x.sin() * x).sum()


def f_vec(L, x):
    return x.tanh() * x[..., :1]


def f_two(L, a, b):
    return (a @ b).exp().sum()


def _vjp_case(F, L):
    out, pull = F.vjp(lambda x: f_vec(L, x), L.tensor(X))
    return out, pull(L.tensor(X))


CASES = {
    "grad": lambda F, L: F.grad(lambda x: f_scalar(L, x))(L.tensor(X)),
    "grad_argnums": lambda F, L: F.grad(lambda a, b: f_two(L, a, b), argnums=(0, 1))(L.tensor(X), L.tensor(W)),
    "grad_argnum_1": lambda F, L: F.grad(lambda a, b: f_two(L, a, b), argnums=1)(L.tensor(X), L.tensor(W)),
    "grad_aux": lambda F, L: F.grad(lambda x: (f_scalar(L, x), x.mean(0)), has_aux=True)(L.tensor(X)),
    "grad_and_value": lambda F, L: F.grad_and_value(lambda x: f_scalar(L, x))(L.tensor(X)),
    "grad_dict": lambda F, L: F.grad(lambda d: (d["a"] * d["b"]).sum())({"a": L.tensor(X[0]), "b": L.tensor(X[1])}),
    "vjp": lambda F, L: _vjp_case(F, L),
    "jvp": lambda F, L: F.jvp(lambda x: f_vec(L, x), (L.tensor(X),), (L.tensor(X[::-1].copy()),)),
    "jacrev": lambda F, L: F.jacrev(lambda x: f_vec(L, x))(L.tensor(X[0])),
    "jacrev_argnums": lambda F, L: F.jacrev(lambda a, b: (a @ b).sin(), argnums=(0, 1))(L.tensor(X[:2]), L.tensor(W)),
    "jacfwd": lambda F, L: F.jacfwd(lambda x: f_vec(L, x))(L.tensor(X[:2])),
    "hessian": lambda F, L: F.hessian(lambda x: f_scalar(L, x))(L.tensor(X[0])),
    "jacrev_jacrev": lambda F, L: F.jacrev(F.jacrev(lambda x: f_vec(L, x)))(L.tensor(X[0, :2])),
    "vmap": lambda F, L: F.vmap(L.dot)(L.tensor(X), L.tensor(X[::-1].copy())),
    "vmap_in_dims": lambda F, L: F.vmap(lambda a, b: a @ b, in_dims=(1, None))(L.tensor(X.T.copy()), L.tensor(W)),
    "vmap_out_dims": lambda F, L: F.vmap(lambda a: (a * 2, a.sum()), out_dims=(1, 0))(L.tensor(X)),
    "vmap_nested": lambda F, L: F.vmap(F.vmap(lambda a: a.exp().sum()))(L.tensor(X)),
    "per_sample_grad": lambda F, L: F.vmap(F.grad(lambda w, x: ((x @ w) ** 2).sum()), in_dims=(None, 0))(
        L.tensor(W), L.tensor(X)),
    "vmap_jacrev": lambda F, L: F.vmap(F.jacrev(lambda x: f_vec(L, x)))(L.tensor(X)),
    "grad_of_grad": lambda F, L: F.grad(lambda x: F.grad(lambda y: (y ** 3).sum())(x).sum())(L.tensor(X[0])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_transform_matches_torch(name):
    want = CASES[name](tf, torch)
    got = CASES[name](ef, ember)
    _same(_np(got), _np(want))
    for t in (got if isinstance(got, (tuple, list)) else [got]):
        if isinstance(t, ember.Tensor):
            assert not t.requires_grad  # plain tensors at the outermost level, as torch's


def test_grad_through_transform_with_autograd():
    res = []
    for F, L in ((tf, torch), (ef, ember)):
        x = L.tensor(X[0], requires_grad=True)
        g = F.grad(lambda y: (y ** 3).sum())(x)
        assert g.requires_grad
        (gx,) = L.autograd.grad(g.sum(), x)
        res.append(gx.numpy())
    np.testing.assert_allclose(res[1], res[0])


def _mlp(L, seed):
    L.manual_seed(seed)
    return L.nn.Sequential(L.nn.Linear(3, 5), L.nn.Tanh(), L.nn.Linear(5, 2))


def _per_sample_grads(F, L):
    model = _mlp(L, 0)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = L.tensor(X, dtype=L.float32), L.tensor([0, 1, 1, 0])

    def loss(p, xi, yi):
        out = F.functional_call(model, p, (xi.unsqueeze(0),))
        return L.nn.functional.cross_entropy(out, yi.unsqueeze(0))

    return F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, x, y)


def test_per_sample_gradients_tutorial():
    """torch's per-sample-gradients recipe: functional_call + vmap(grad) over the batch."""
    want, got = _per_sample_grads(tf, torch), _per_sample_grads(ef, ember)
    for k in want:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-5, atol=1e-6)


def _ensemble(F, L):
    models = [_mlp(L, s) for s in range(3)]
    params, buffers = F.stack_module_state(models)
    base = _mlp(L, 9)

    def call(p, b, x):
        return F.functional_call(base, (p, b), (x,))

    out = F.vmap(call, in_dims=(0, 0, None))(params, buffers, L.tensor(X, dtype=L.float32))
    return out, {k: tuple(v.shape) for k, v in params.items()}, params["0.weight"].requires_grad


def test_model_ensembling_tutorial():
    want, got = _ensemble(tf, torch), _ensemble(ef, ember)
    np.testing.assert_allclose(got[0].detach().numpy(), want[0].detach().numpy(), rtol=1e-5)
    assert got[1:] == want[1:]


def test_functional_call_leaves_module_alone_and_strict():
    for F, L in ((tf, torch), (ef, ember)):
        m = L.nn.Linear(2, 1)
        w = m.weight.detach().clone()
        out = F.functional_call(m, {"weight": L.ones(1, 2), "bias": L.zeros(1)}, (L.ones(2),))
        assert float(out) == 2.0 and L.equal(m.weight.detach(), w)
        with pytest.raises(RuntimeError, match="Missing key"):
            F.functional_call(m, {"weight": L.ones(1, 2)}, (L.ones(2),), strict=True)


@pytest.mark.parametrize("randomness", ["same", "different"])
def test_vmap_randomness_flags(randomness):
    ember.manual_seed(0)
    out = ef.vmap(lambda x: x + ember.rand(3), randomness=randomness)(ember.zeros(2, 3))
    same = bool((out[0] == out[1]).all())
    assert same == (randomness == "same")


@pytest.mark.parametrize("call", [
    lambda F, L: F.grad(lambda x: x * 2)(L.ones(3)),
    lambda F, L: F.vmap(lambda x: x + L.rand(3))(L.ones(2, 3)),
    lambda F, L: F.vmap(L.sin, in_dims=1)(L.ones(2)),
    lambda F, L: F.vmap(lambda x: 3)(L.ones(2)),
    lambda F, L: F.vmap(L.add)(L.ones(2), L.ones(3)),
    lambda F, L: F.grad(lambda x: x.sum(), argnums=2)(L.ones(2)),
    lambda F, L: F.vmap(L.sin, randomness="sometimes")(L.ones(2)),
], ids=["grad_nonscalar", "vmap_random_error", "vmap_bad_in_dim", "vmap_non_tensor_out", "vmap_sizes",
        "grad_bad_argnum", "vmap_bad_randomness"])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(tf, torch)
    with pytest.raises(Exception) as got:
        call(ef, ember)
    assert type(got.value) is type(want.value)
    if want.typename != "ValueError" or "sizes" not in str(want.value):
        assert str(got.value) == str(want.value)

"""Forward mode under vmap against torch.func: jvp, jacfwd and hessian inside vmap carry their
tangents on the physical tensors (dual tensors riding batched ones), with batched primals,
batched tangents or both, nested vmap, and forward over reverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef

RNG = np.random.default_rng(7)
X, T = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 3))


def _f(L):
    return lambda x: (x.sin() * L.tensor(W).matmul(x)).exp()


def _loss(L):
    return lambda x: _f(L)(x).sum()


CASES = {
    "jvp_both_batched": lambda L, F: F.vmap(lambda x, t: F.jvp(_f(L), (x,), (t,)))(L.tensor(X), L.tensor(T)),
    "jvp_tangents_batched": lambda L, F: F.vmap(lambda t: F.jvp(_f(L), (L.tensor(X[0]),), (t,)))(L.tensor(T)),
    "jvp_primals_batched": lambda L, F: F.vmap(lambda x: F.jvp(_f(L), (x,), (L.tensor(T[0]),)))(L.tensor(X)),
    "jvp_has_aux": lambda L, F: F.vmap(lambda x, t: F.jvp(lambda y: (_f(L)(y), y.cos()), (x,), (t,), has_aux=True))(
        L.tensor(X), L.tensor(T)),
    "jacfwd": lambda L, F: F.vmap(F.jacfwd(_f(L)))(L.tensor(X)),
    "hessian": lambda L, F: F.vmap(F.hessian(_loss(L)))(L.tensor(X)),
    "jvp_of_grad": lambda L, F: F.vmap(lambda x, t: F.jvp(F.grad(_loss(L)), (x,), (t,)))(L.tensor(X), L.tensor(T)),
    "jacfwd_of_jacrev": lambda L, F: F.vmap(F.jacfwd(F.jacrev(_loss(L))))(L.tensor(X)),
    "nested_vmap": lambda L, F: F.vmap(F.vmap(lambda x, t: F.jvp(_f(L), (x,), (t,)), in_dims=(0, None)),
                                       in_dims=(None, 0))(L.tensor(X), L.tensor(T)),
    "jacfwd_of_vmap": lambda L, F: F.jacfwd(F.vmap(_f(L)))(L.tensor(X)),
    "batched_matmul": lambda L, F: F.vmap(lambda x, t: F.jvp(lambda y: L.tensor(W).expand(2, 3, 3).matmul(y), (x,),
                                                             (t,)))(L.tensor(X).reshape(4, 3, 1).expand(4, 3, 1)
                                                                    .unsqueeze(1).expand(4, 2, 3, 1).contiguous(),
                                                                    L.tensor(T).reshape(4, 1, 3, 1).expand(4, 2, 3, 1)
                                                                    .contiguous()),
}


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [z for x in o for z in _flat(x)]
    return [o]


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_mode_inside_vmap_matches_torch_func(case):
    got, want = _flat(CASES[case](ember, ef)), _flat(CASES[case](torch, tf))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_jvp_inside_vmap_runs_forward_mode():
    # one forward pass on dual tensors: the function sees its input carrying the tangent
    import ember.autograd._forward_levels as lv
    from ember.func import _batched

    seen = []

    def f(x):
        seen.append(any(lv.get(_batched.unwrap(x), level) is not None for level in lv.levels))
        return x * 2

    ef.vmap(lambda x, t: ef.jvp(f, (x,), (t,)))(ember.tensor(X), ember.tensor(T))
    assert seen == [True]


def test_jvp_of_a_batched_matmul_with_a_constant_operand():
    # (the product's node kept only the operands that required grad, so forward mode found None)
    a, x, t = RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 3, 1)), RNG.standard_normal((2, 3, 1))
    got = ef.jvp(lambda v: ember.tensor(a).matmul(v), (ember.tensor(x),), (ember.tensor(t),))[1]
    want = tf.jvp(lambda v: torch.tensor(a).matmul(v), (torch.tensor(x),), (torch.tensor(t),))[1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)

"""Under reverse mode, a tangent is itself differentiable: torch fills a missing tangent with zeros and
still evaluates that term of the forward formula, so ``x_t @ W + x @ 0`` records ``AddBackward0`` and
connects the tangent to every primal the formula reads. The tangent's ``requires_grad`` and
``grad_fn`` (what printing a dual output shows) and the primals' gradients through it follow torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as efw

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 2))
B = RNG.standard_normal(3)
X = RNG.standard_normal((4, 2))
T_W = RNG.standard_normal((3, 2))
T_X = RNG.standard_normal((4, 2))

CASES = {  # (uses x's tangent, uses W's tangent, function of x, W, b)
    "linear, W dual": (False, True, lambda L, x, w, b: L.nn.functional.linear(x, w, b)),
    "mm, x dual": (True, False, lambda L, x, w, b: x @ w.t()),
    "mm, both dual": (True, True, lambda L, x, w, b: x.mm(w.t())),
    "addmm": (False, True, lambda L, x, w, b: L.addmm(b, x, w.t())),
    "matmul": (True, False, lambda L, x, w, b: x.matmul(w.t())),
    "mul of tensors": (True, False, lambda L, x, w, b: x * w[:1]),
    "div": (False, True, lambda L, x, w, b: x[:1] / w),
    "add": (True, False, lambda L, x, w, b: x + w[:1]),
    "exp": (False, True, lambda L, x, w, b: w.exp()),
    "view and sum": (False, True, lambda L, x, w, b: w.t()[0].sum()),
}


def _run(L, fw, name, x_rg, w_rg):
    use_x, use_w, f = CASES[name]
    x = L.tensor(X, requires_grad=x_rg)
    w = L.tensor(W, requires_grad=w_rg)
    b = L.tensor(B)
    with fw.dual_level():
        dx = fw.make_dual(x, L.tensor(T_X)) if use_x else x
        dw = fw.make_dual(w, L.tensor(T_W)) if use_w else w
        t = fw.unpack_dual(f(L, dx, dw, b)).tangent
    fn = None if t.grad_fn is None else type(t.grad_fn).__name__
    grads = None
    if t.requires_grad:
        t.sum().backward()
        grads = [None if v.grad is None else v.grad.numpy(force=True) for v in (x, w)]  # (torch's may be a ZeroTensor)
    return t.requires_grad, fn, t.detach().numpy(), grads


@pytest.mark.parametrize("x_rg,w_rg", [(False, True), (True, False), (True, True)])
@pytest.mark.parametrize("name", CASES)
def test_tangent_graph_matches_torch(name, x_rg, w_rg):
    e_rg, e_fn, e_val, e_grads = _run(ember, efw, name, x_rg, w_rg)
    t_rg, t_fn, t_val, t_grads = _run(torch, tfw, name, x_rg, w_rg)
    assert (e_rg, e_fn) == (t_rg, t_fn)
    np.testing.assert_allclose(e_val, t_val, rtol=1e-12, atol=1e-12)
    if t_grads is not None:
        for e, t in zip(e_grads, t_grads):
            assert (e is None) == (t is None)
            if t is not None:
                np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


def test_zero_terms_stay_exact_at_inf():
    # torch's zero tangent is a ZeroTensor: x @ 0 is 0 even where x is inf, and so is ember's link
    out = {}
    for L, fw in ((ember, efw), (torch, tfw)):
        x = L.tensor([[float("inf"), 1.0]], dtype=L.float64, requires_grad=True)
        w = L.tensor([[2.0, 3.0]], dtype=L.float64, requires_grad=True)
        with fw.dual_level():
            t = fw.unpack_dual(x @ fw.make_dual(w, L.ones(1, 2, dtype=L.float64)).t()).tangent
        out[L.__name__] = (t.detach().numpy(), type(t.grad_fn).__name__)
    np.testing.assert_array_equal(out["ember"][0], out["torch"][0])
    assert out["ember"][1] == out["torch"][1]

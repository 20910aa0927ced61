"""Autograd behaviour against torch: accumulation, retain_graph, errors, hooks, grad modes,
higher-order gradients, custom Functions and deep graphs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import ember


def both(fn):
    """Run ``fn(lib)`` for ember and torch; return both results."""
    return fn(ember), fn(torch)


def same_error(fn, exc=RuntimeError):
    """ember raises the same exception type with the same message as torch."""
    with pytest.raises(exc) as te:
        fn(torch)
    with pytest.raises(exc) as ee:
        fn(ember)
    emsg = str(ee.value).replace("ember.", "torch.")
    assert emsg == str(te.value), f"\nember: {emsg}\ntorch: {te.value}"


def arr(t):
    return t.detach().numpy()


def test_seed_gradient_accumulation_and_reset():
    def run(L):
        x = L.tensor([5.0], requires_grad=True)
        y = L.tensor([3.0], requires_grad=True)
        z1 = x * y
        z2 = x ** 2 + 2 * (x * y) + 3
        z1.backward()
        g1 = (x.grad.clone(), y.grad.clone())
        z2.backward()
        g2 = (x.grad.clone(), y.grad.clone())
        x.grad.zero_()
        y.grad = None
        (x * y).backward()
        return [arr(t) for t in g1 + g2 + (x.grad, y.grad)]

    e, t = both(run)
    for a, b in zip(e, t):
        np.testing.assert_array_equal(a, b)
    assert [a.item() for a in e] == [3, 5, 19, 15, 3, 5]


def test_grad_returns_tuple_and_does_not_accumulate():
    def run(L):
        x = L.tensor([3.0])
        w = L.tensor([2.0], requires_grad=True)
        b = L.tensor([1.0], requires_grad=True)
        a = L.sigmoid(x * w + b)
        gw = L.autograd.grad(a, w, retain_graph=True)
        gb = L.autograd.grad(a, [b], retain_graph=True)
        return gw, gb, w.grad

    (egw, egb, ewg), (tgw, tgb, twg) = both(run)
    assert isinstance(egw, tuple) and len(egw) == 1
    np.testing.assert_allclose(arr(egw[0]), arr(tgw[0]), rtol=1e-6)
    np.testing.assert_allclose(arr(egb[0]), arr(tgb[0]), rtol=1e-6)
    assert ewg is None and twg is None


def test_backward_twice_without_retain_graph():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * 2).sum()
        y.backward()
        y.backward()

    same_error(run)


def test_graph_without_saved_tensors_can_run_twice_like_torch():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return arr(x.grad)

    e, t = both(run)
    np.testing.assert_array_equal(e, t)


def test_retain_graph_allows_second_backward():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return arr(x.grad)

    e, t = both(run)
    np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("case", [
    lambda L: L.ones(3, requires_grad=True).mul(2).backward(),
    lambda L: L.ones(3).sum().backward(),
    lambda L: L.ones(3).backward(),
    lambda L: L.autograd.grad(L.ones(2, requires_grad=True).sum(), L.ones(2)),
    lambda L: L.autograd.grad((L.ones(2, requires_grad=True) * 2).sum(), L.ones(2, requires_grad=True)),
    lambda L: L.tensor([1, 2], requires_grad=True),
    lambda L: L.tensor([1, 2]).requires_grad_(),
    lambda L: L.ones(3) + L.ones(4),
    lambda L: L.ones(2, 3) * L.ones(3, 2),
    lambda L: L.ones(3, 2) @ L.ones(4, 5),
    lambda L: L.ones(3) @ L.ones(4),
    lambda L: L.ones(2, 2).mm(L.ones(3, 3)),
    lambda L: L.ones(2, 3).view(-1, 4),
    lambda L: L.ones(2, 3).t().view(6),
    lambda L: L.ones(2, 3).sum(5),
    lambda L: L.tensor([1, 2]).mean(),
    lambda L: L.ones(3, requires_grad=True).sum().backward(L.ones(2)),
    lambda L: (L.ones(3, requires_grad=True) * 2).backward(L.ones(4)),
    lambda L: L.ones(2, requires_grad=True).add_(1),
    lambda L: L.ones(2, 3).expand(3, 3),
    lambda L: L.tensor([2]) ** -1,
    lambda L: L.nn.functional.nll_loss(L.zeros(3, 4), L.tensor([0, 1, 4])),
    lambda L: L.nn.functional.nll_loss(L.zeros(3, 4), L.tensor([0.0, 1, 2])),
    lambda L: L.nn.functional.binary_cross_entropy(L.tensor([2.0]), L.tensor([1.0])),
    lambda L: L.ones(2, 3).item(),
], ids=lambda f: "")
def test_errors_match_torch(case):
    exc = RuntimeError
    try:
        case(torch)
    except Exception as e:  # noqa: BLE001
        exc = type(e)
    same_error(case, exc)


def test_shape_errors_name_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(3x2 and 4x5\)"):
        ember.ones(3, 2) @ ember.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\)"):
        ember.ones(3) + ember.ones(4)
    with pytest.raises(ValueError, match="expected sequence of length 2 at dim 1"):
        ember.tensor([[1, 2], [3]])


def test_unused_input_and_allow_unused():
    def run(L):
        x = L.ones(2, requires_grad=True)
        y = L.ones(2, requires_grad=True)
        return L.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)

    (ex, ey), (tx, ty) = both(run)
    assert ey is None and ty is None
    np.testing.assert_array_equal(arr(ex), arr(tx))
    same_error(lambda L: L.autograd.grad((L.ones(2, requires_grad=True) * 2).sum(), [L.ones(2, requires_grad=True)]))
    g = ember.autograd.grad((ember.ones(2, requires_grad=True) * 2).sum(), [ember.ones(2, requires_grad=True)],
                            materialize_grads=True)
    assert g[0].tolist() == [0.0, 0.0]


def test_create_graph_second_derivatives_of_the_seed():
    def run(L):
        x = L.tensor([5.0], requires_grad=True)
        y = L.tensor([3.0], requires_grad=True)
        z2 = x ** 2 + 2 * (x * y) + 3
        gx, gy = L.autograd.grad(z2, [x, y], create_graph=True)
        gxx, gxy = L.autograd.grad(gx, [x, y], retain_graph=True)
        gyx = L.autograd.grad(gy, x)[0]
        a = L.sigmoid(x * y + 1)
        (ga,) = L.autograd.grad(a, x, create_graph=True)
        (gaa,) = L.autograd.grad(ga, x)
        return [arr(t) for t in (gx, gy, gxx, gxy, gyx, ga, gaa)]

    e, t = both(run)
    for a, b in zip(e, t):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert e[0].item() == 16 and e[2].item() == 2 and e[3].item() == 2


def test_third_order_gradient():
    def run(L):
        x = L.tensor([0.7, -1.2], dtype=L.float64, requires_grad=True)
        y = (x.tanh() * x.exp()).sum()
        g1 = L.autograd.grad(y, x, create_graph=True)[0]
        g2 = L.autograd.grad(g1.sum(), x, create_graph=True)[0]
        g3 = L.autograd.grad(g2.sum(), x)[0]
        return arr(g1), arr(g2), arr(g3)

    for a, b in zip(*both(run)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_backward_with_create_graph_makes_grad_differentiable():
    x = ember.tensor([2.0], requires_grad=True)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.item() == 12
    gx = x.grad
    x.grad = None
    gx.backward()
    assert x.grad.item() == 12  # d(3x^2)/dx = 6x


def test_hooks_and_retain_grad():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        h = x.register_hook(lambda g: g * 10)
        y = x * 3
        y.retain_grad()
        y.register_hook(lambda g: seen.append(g.clone()))
        z = (y * y).sum()
        z.backward(retain_graph=True)
        first = arr(x.grad).copy()
        h.remove()
        x.grad = None
        z.backward()
        return first, arr(x.grad), arr(y.grad), [arr(s) for s in seen]

    e, t = both(run)
    for a, b in zip(e[:3], t[:3]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(e[3], t[3]):
        np.testing.assert_array_equal(a, b)


def test_hook_on_tensor_without_grad_errors():
    same_error(lambda L: L.ones(2).register_hook(lambda g: g))


def test_nonleaf_grad_warns_and_is_none():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor"):
        assert y.grad is None


def test_backward_inputs_limits_accumulation():
    def run(L):
        x = L.ones(2, requires_grad=True)
        y = L.ones(2, requires_grad=True)
        (x * y * 2).sum().backward(inputs=[x])
        return arr(x.grad), y.grad

    (ex, ey), (tx, ty) = both(run)
    np.testing.assert_array_equal(ex, tx)
    assert ey is None and ty is None


def test_no_grad_enable_grad_set_grad_enabled():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        y = x * 2
        with ember.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()


def test_grad_mode_is_thread_local():
    x = ember.ones(2, requires_grad=True)
    seen = {}

    def worker():
        seen["other"] = (x * 2).requires_grad

    with ember.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["main"] = (x * 2).requires_grad
    assert seen == {"other": True, "main": False}


def test_inplace_on_saved_tensor_is_caught():
    def run(L):
        x = L.ones(3, requires_grad=True)
        y = x.exp()
        z = y.exp()
        y.mul_(2)
        z.sum().backward()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(torch)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(ember)


def test_inplace_on_nonleaf_rewrites_graph():
    def run(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.add_(1)
        y.mul_(2)
        y.sum().backward()
        return arr(x.grad), type(y.grad_fn).__name__

    e, t = both(run)
    np.testing.assert_array_equal(e[0], t[0])
    assert e[1] == t[1]


def test_leaf_inplace_error():
    same_error(lambda L: L.ones(2, requires_grad=True).mul_(2))


def test_custom_function():
    def run(L):
        class Cube(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                ctx.save_for_backward(x)
                ctx.k = k
                return x ** 3 * k

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2 * ctx.k, None

        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = Cube.apply(x, 2.0)
        y.sum().backward()
        return arr(y), arr(x.grad), type(y.grad_fn).__name__

    e, t = both(run)
    np.testing.assert_array_equal(e[0], t[0])
    np.testing.assert_array_equal(e[1], t[1])
    assert e[2] == t[2] == "CubeBackward"


def test_detach_and_requires_grad_flags():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert y.grad_fn.name() == "MulBackward0"
    assert not x.grad_fn and x.is_leaf and not y.is_leaf
    nf = y.grad_fn.next_functions
    assert type(nf[0][0]).__name__ == "AccumulateGrad" and nf[1] == (None, 0)
    assert nf[0][0].variable is x


def test_deep_chain_has_no_recursion_limit():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    n = 50_000
    for _ in range(n):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a long chain must not overflow the C stack either


def test_graph_memory_is_released_after_backward():
    import gc
    import weakref

    x = ember.ones(1000, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    ref = weakref.ref(node)
    y.sum().backward()
    assert node._result is None  # saved output dropped as soon as the node ran
    del y, node
    gc.collect()
    assert ref() is None


def test_accumulated_gradients_never_alias_each_other():
    # ember takes over freshly computed gradients instead of copying them (as torch does);
    # a gradient that reaches two leaves, or the user's own tensor, must still be copied
    x = ember.ones(3, requires_grad=True)
    y = ember.ones(3, requires_grad=True)
    (x + y).sum().backward()
    assert x.grad is not y.grad
    x.grad += 1
    assert y.grad.tolist() == [1.0, 1.0, 1.0]
    g = ember.full((3,), 2.0)
    z = ember.ones(3, requires_grad=True)
    z.backward(g)
    assert z.grad is not g
    z.grad.zero_()
    assert g.tolist() == [2.0, 2.0, 2.0]
    w = ember.ones(2, 2, requires_grad=True)
    h = w * 2
    h.retain_grad()
    (h * 3).sum().backward()
    h.grad.zero_()
    assert w.grad.tolist() == [[6.0, 6.0], [6.0, 6.0]]


def test_detect_anomaly_names_the_backward_that_made_nan():
    import warnings

    for L in (ember, torch):
        x = L.tensor([0.0, 1.0], requires_grad=True)
        with L.autograd.set_detect_anomaly(True):
            loss = (x.sqrt() * 0 + (x * 0).sqrt()).sum()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                with pytest.raises(RuntimeError, match="Function 'MulBackward0' returned nan values in its 0th output"):
                    loss.backward()
        assert any("Traceback of forward call" in str(m.message) and "sqrt" in str(m.message) for m in w)
    # off again: no check, NaN gradients just flow
    x = ember.tensor([0.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()
    assert np.isnan(x.grad.item())


def test_saved_tensors_hooks_pack_and_unpack():
    def run(L):
        log = []

        def pack(t):
            log.append(("pack", tuple(t.shape)))
            return t.detach().numpy().copy()  # e.g. offload to a plain array

        def unpack(a):
            log.append(("unpack", a.shape))
            return L.tensor(a)

        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with L.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (x * x).sum()
        y.backward()
        return x.grad.tolist(), sorted(log)

    e, t = run(ember), run(torch)
    assert e == t

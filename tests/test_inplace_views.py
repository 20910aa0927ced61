"""In-place ops through views rewrite the base's graph as torch does (CopySlices / AsStrided)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def run_both(fn):
    out = []
    for L in (ember, torch):
        x = L.tensor(np.arange(12, dtype=np.float64).reshape(3, 4) / 7, requires_grad=True)
        w = L.tensor(np.linspace(-1, 1, 4), requires_grad=True)
        res = fn(L, x, w)
        loss = (res * res).sum() if res.dim() else res
        loss.backward()
        out.append((res.detach().numpy().copy(), x.grad.numpy().copy(), None if w.grad is None else w.grad.numpy().copy(),
                    type(res.grad_fn).__name__))
    return out


CASES = {
    "row_mul_": lambda L, x, w: (lambda z: (z[1].mul_(3), z)[1])(x * 1),
    "column_add_tensor": lambda L, x, w: (lambda z: (z[:, 0].add_(w[:3]), z)[1])(x * 2),
    "transpose_view": lambda L, x, w: (lambda z: (z.t()[0].mul_(w[0]), z)[1])(x * 3),
    "setitem_on_view": lambda L, x, w: (lambda z: (z[0].__setitem__(slice(1, 3), w[:2] * 5), z)[1])(x + 0),
    "view_then_base_used": lambda L, x, w: (lambda z: (z[2].copy_(w), z.sum(0))[1])(x * x),
    "nested_views": lambda L, x, w: (lambda z: (z[1:][0][::2].mul_(w[:2]), z)[1])(x.sin()),
    "buffer_filled_by_rows": lambda L, x, w: (lambda out: ([out[i].copy_(x[i] * w) for i in range(3)], out)[1])(
        L.zeros(3, 4, dtype=L.float64)),
    "old_view_reads_new_base": lambda L, x, w: (lambda z: (lambda v: (z[0].mul_(w), v * 2)[1])(z[0]))(x * 1),
    # views taken while their base did not require grad: the in-place op that gives the base a history
    # must reach them (ember used to treat them as constants, dropping their part of the gradient)
    "view_taken_before_base_gains_history": lambda L, x, w: (lambda z: (lambda v: (z.add_(x), v * w)[1])(z[1:]))(
        L.zeros(3, 4, dtype=L.float64)),
    "sibling_view_after_write_through_view": lambda L, x, w: (lambda z: (lambda s: (z[1:].add_(x[1:]), s.exp() * w)[1])(
        z[:2]))(L.zeros(3, 4, dtype=L.float64)),
    "view_of_view_before_base_gains_history": lambda L, x, w: (lambda z: (lambda u: (z.mul_(x), u.sin())[1])(
        z[1:][:, ::2]))(L.ones(3, 4, dtype=L.float64)),
    "row_views_then_rows_set": lambda L, x, w: (lambda out: (lambda rows: (
        [out.__setitem__(i, x[i] * w) for i in range(3)], L.stack([r * r for r in rows]))[1])(
        [out[i] for i in range(3)]))(L.zeros(3, 4, dtype=L.float64)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_inplace_through_views_matches_torch(name):
    (er, ex, ew, en), (tr, tx, tw, tn) = run_both(CASES[name])
    np.testing.assert_allclose(er, tr, rtol=1e-12)
    np.testing.assert_allclose(ex, tx, rtol=1e-12)
    if tw is not None:
        np.testing.assert_allclose(ew, tw, rtol=1e-12)
    assert en == tn


@pytest.mark.parametrize("case", [
    lambda L: L.ones(3, 4, requires_grad=True)[0].mul_(2),
    lambda L: L.ones(3, 4, requires_grad=True).t().add_(1),
    lambda L: (L.ones(3, 4, requires_grad=True) * 1).unbind()[0].mul_(2),
])
def test_view_errors_match_torch(case):
    with pytest.raises(RuntimeError) as te:
        case(torch)
    with pytest.raises(RuntimeError) as ee:
        case(ember)
    assert str(ee.value) == str(te.value)


def test_grad_fn_names_after_inplace_on_view():
    for L in (ember, torch):
        z = L.ones(3, 4, requires_grad=True) * 1
        v = z[1]
        v.mul_(3)
        assert type(z.grad_fn).__name__ == "CopySlices"
        assert type(v.grad_fn).__name__ == "AsStridedBackward0"


@pytest.mark.parametrize("case", [
    lambda L: (lambda x: (lambda y: (lambda z: (y.add_(1), z.sum().backward()))(y * y))(x * 2))(L.ones(3, requires_grad=True)),
    lambda L: (lambda x: (lambda y: (lambda z: (y.mul_(2), z.sum().backward()))(y.exp()))(x.exp()))(L.ones(3, requires_grad=True)),
    lambda L: (lambda x, a: (lambda b: (a.add_(1), b.sum().backward()))(x * a))(L.ones(3, requires_grad=True), L.ones(3)),
])
def test_modified_saved_tensor_message_matches_torch(case):
    with pytest.raises(RuntimeError) as te:
        case(torch)
    with pytest.raises(RuntimeError) as ee:
        case(ember)
    msg = str(ee.value).replace("ember.", "torch.")
    # torch's message, then (beyond torch) where the in-place change was made
    assert msg.startswith(str(te.value))
    assert "The last in-place change was made at: File" in msg and "test_inplace_views.py" in msg


def test_stale_view_reads_match_torch():
    """grad_fn, requires_grad, printing and backward of a view read before any op touches it."""
    out = []
    for L in (ember, torch):
        a = L.tensor([1., 2., 3.], requires_grad=True)
        x = L.zeros(3)
        v = x[1:]
        x.add_(a)
        name = type(v.grad_fn).__name__  # (read first: ember's grad_fn used to be None here)
        text = repr(v)
        v.backward(L.tensor([1., 10.]))
        out.append((name, v.is_leaf, v.requires_grad, text, a.grad.tolist()))
    assert out[0] == out[1]
    assert out[0][0] == "AsStridedBackward0"


def test_views_of_another_dtype_and_unbind_outputs_after_base_gains_history():
    for L in (ember, torch):
        a = L.tensor([1., 2., 3.], requires_grad=True)
        x = L.zeros(3)
        bits = x.view(L.int32)
        first, *_ = x.unbind()
        x.add_(a)
        assert not bits.requires_grad  # (an integer view cannot require grad)
        with pytest.raises(RuntimeError):  # (torch: multi-output views refuse a rewritten history)
            first * 2


def test_mark_dirty_gives_earlier_views_the_history():
    out = []
    for L in (ember, torch):
        class AddInto(L.autograd.Function):
            @staticmethod
            def forward(ctx, x, a):
                ctx.mark_dirty(x)
                return x.add_(a)

            @staticmethod
            def backward(ctx, g):
                return g, g

        a = L.tensor([1., 2., 3.], requires_grad=True)
        x = L.zeros(3)
        v = x[1:]
        AddInto.apply(x, a)
        out.append(L.autograd.grad((v * v).sum(), a)[0].tolist())
    assert out[0] == out[1] == [0., 4., 6.]


def test_grad_fn_is_read_only():
    for L in (ember, torch):
        t = L.ones(2, requires_grad=True) * 2
        with pytest.raises(AttributeError, match="attribute 'grad_fn' of .* objects is not writable"):
            t.grad_fn = None


@pytest.mark.parametrize("write", ["base", "view"])
def test_views_of_a_base_laid_out_transposed(write):
    """A base that is not C-contiguous (an elementwise result keeps its transposed input's layout):
    its views' positions come from its strides (fuzz seed 57883: ember kept the stale history)."""
    out = []
    for L in (ember, torch):
        a = L.tensor(np.arange(6.).reshape(2, 3), requires_grad=True)
        s = L.tensor([0.85, 0.41, -1.536], requires_grad=True)
        r = a.t() * 2
        rows, col = r.T, r[:, 1]
        if write == "base":
            r.copy_(s.unsqueeze(1) * L.tensor([1., -2.]))
        else:
            col.mul_(s)
        loss = (rows * L.arange(6.).reshape(2, 3)).sum() + (col ** 2).sum() + (r * r).sum()
        out.append([g.numpy() for g in L.autograd.grad(loss, (a, s))] + [type(rows.grad_fn).__name__])
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6)
    assert out[0][2] == out[1][2] == "AsStridedBackward0"

"""Sparse COO tensors against torch: construction, printing, metadata, arithmetic, sums, products,
gradients and the errors of what sparse tensors do not support."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # (torch's note on check_invariants)

IDX = [[1, 0, 1], [2, 0, 2]]  # (1, 2) twice: uncoalesced
VAL = [3.0, 4.0, 5.0]


def _r(x) -> str:
    """repr, with torch's module name read as ember's."""
    return repr(x).replace("torch.", "ember.")


def _same(fn, *, values: bool = True) -> None:
    """fn(m) for m = torch and ember: the same printout (and the same dense values when ``values``)."""
    t, e = fn(torch), fn(ember)
    assert _r(e) == _r(t)
    if values and isinstance(t, torch.Tensor):
        td = t.detach().to_dense() if t.is_sparse else t.detach()
        ed = e.detach().to_dense() if e.is_sparse else e.detach()
        np.testing.assert_allclose(ed.numpy(), td.numpy(), rtol=1e-6)  # (float32 kernels: last bits may differ)


def _sp(m, idx=IDX, val=VAL, size=(2, 3), **kw):
    if size is None:
        return m.sparse_coo_tensor(m.tensor(idx), m.tensor(val), **kw)
    return m.sparse_coo_tensor(m.tensor(idx), m.tensor(val), size, **kw)


def _err(fn) -> tuple:
    out = []
    for m in (torch, ember):
        with pytest.raises(Exception) as info:
            fn(m)
        out.append((type(info.value), str(info.value).split("\n")[0]))
    return tuple(out)


# ----------------------------------------------------------------------------- construction and printing
@pytest.mark.parametrize("make", [
    lambda m: _sp(m),
    lambda m: _sp(m).coalesce(),
    lambda m: _sp(m, dtype=m.float64),
    lambda m: _sp(m, val=[1, 2, 3]),
    lambda m: _sp(m, dtype=m.int32),
    lambda m: _sp(m, requires_grad=True),
    lambda m: _sp(m, dtype=m.float64, requires_grad=True),
    lambda m: _sp(m, size=None),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1.0, 2.0]),
    lambda m: m.sparse_coo_tensor(m.zeros(2, 0, dtype=m.int64), m.zeros(0), (2, 2)),
    lambda m: m.sparse_coo_tensor(m.tensor([[0, 1], [1, 0]]), m.tensor([[1.0, 2.0], [3.0, 4.0]]), (2, 2, 2)),
    lambda m: m.sparse_coo_tensor(m.tensor([[0, 1]]), m.tensor([[1.0, 2.0], [3.0, 4.0]]), (2, 2)),
    lambda m: m.tensor([[0.0, 1.5], [2.0, 0.0]]).to_sparse(),
    lambda m: m.tensor([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]]).to_sparse(1),
    lambda m: m.arange(30.0).reshape(3, 10).to_sparse(),
    lambda m: m.diag(m.tensor([1.0, 0.0, 0.5])).to_sparse(),
    lambda m: _sp(m, idx=np.array([[0, 1, 1], [2, 0, 2]], np.int32), size=(4, 5)),
])
def test_prints_and_converts_as_torch(make) -> None:
    _same(make)


def test_metadata() -> None:
    for m in (torch, ember):
        s = _sp(m)
        c = s.coalesce()
        got = (s.is_sparse, _r(s.layout), s.is_coalesced(), c.is_coalesced(), s._nnz(), c._nnz(), s.sparse_dim(),
               s.dense_dim(), tuple(s.shape), tuple(s.size()), s.size(1), s.dim(), s.ndim, _r(s.dtype), str(s.device),
               s.requires_grad, s.is_leaf, s.grad_fn, s.numel(), m.ones(2).is_sparse, _r(m.ones(2).layout),
               _r(s._indices()), _r(s._values()), _r(c.indices()), _r(c.values()), s.t().is_coalesced(),
               s.is_floating_point(), len(s))
        if m is torch:
            want = got
    assert got == want
    assert _r(ember.sparse_coo) == "ember.sparse_coo"


def test_uncoalesced_indices_and_values_raise_as_torch() -> None:
    a = _err(lambda m: _sp(m).indices())
    assert a[0] == a[1]
    b = _err(lambda m: _sp(m).values())
    assert b[0] == b[1]


@pytest.mark.parametrize("bad", [
    lambda m: m.sparse_coo_tensor(m.tensor(IDX), m.tensor(VAL[:2]), (2, 3)),
    lambda m: m.sparse_coo_tensor(m.tensor(IDX), m.tensor(VAL), (2, 3, 4)),
    lambda m: m.sparse_coo_tensor(m.tensor(IDX), m.tensor([1, 2, 3]), (2, 3), requires_grad=True),
    lambda m: m.ones(2, 2).to_sparse(3),
])
def test_construction_errors_as_torch(bad) -> None:
    a, b = _err(bad)
    assert a == b


def test_indices_outside_the_size_are_refused() -> None:
    # torch accepts these unless check_invariants=True (and may then crash later); ember always checks,
    # with the message torch's check gives
    for bad, msg in ((lambda m: _sp(m, size=(1, 3), check_invariants=True), "size is inconsistent with indices"),
                     (lambda m: _sp(m, idx=[[-1], [0]], val=[1.0], check_invariants=True), "found negative index")):
        with pytest.raises(RuntimeError, match=msg):
            bad(torch)
        with pytest.raises(RuntimeError, match=msg):
            bad(ember)
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 0, size is 1 but found index 1"):
        _sp(ember, size=(1, 3))


def test_conversions() -> None:
    _same(lambda m: _sp(m).to_dense())
    _same(lambda m: _sp(m).to(m.float64))
    _same(lambda m: _sp(m).double())
    _same(lambda m: _sp(m, val=[1, 2, 3]).float())
    _same(lambda m: _sp(m).to("cpu"))
    _same(lambda m: _sp(m).t())
    _same(lambda m: _sp(m).transpose(0, 1))
    _same(lambda m: _sp(m).clone())
    _same(lambda m: _sp(m).to_sparse())
    _same(lambda m: m.ones(2).to_dense())
    _same(lambda m: _sp(m, requires_grad=True).detach())
    _same(lambda m: _sp(m).requires_grad_())
    s = _sp(ember)
    assert s.to("cpu") is s and s.to(ember.float32) is s
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        s.to("cuda")


def test_values_share_nothing_with_the_callers_tensor() -> None:
    v = ember.tensor(VAL)
    s = ember.sparse_coo_tensor(ember.tensor(IDX), v, (2, 3)).requires_grad_()
    assert s.requires_grad and not v.requires_grad


# ----------------------------------------------------------------------------- arithmetic
@pytest.mark.parametrize("op", [
    lambda m: m.ones(2, 3) + _sp(m),
    lambda m: m.add(m.ones(2, 3), _sp(m), alpha=2),
    lambda m: m.ones(2, 3) - _sp(m),
    lambda m: m.eye(2, 3) + _sp(m, val=[1, 1, 1], dtype=m.int64),
    lambda m: m.ones(2, 3, dtype=m.int64) + _sp(m),
    lambda m: _sp(m) + _sp(m),
    lambda m: _sp(m).coalesce() + _sp(m, idx=[[0, 1], [1, 2]], val=[1.0, 2.0]).coalesce(),
    lambda m: _sp(m) + _sp(m, idx=[[0, 1], [1, 2]], val=[1.0, 2.0]).coalesce(),
    lambda m: _sp(m, idx=[[0, 1], [1, 2]], val=[1.0, 2.0]).coalesce() + _sp(m),
    lambda m: _sp(m) - _sp(m).coalesce(),
    lambda m: m.add(_sp(m), _sp(m), alpha=0.5),
    lambda m: _sp(m) * 2,
    lambda m: 2 * _sp(m),
    lambda m: _sp(m) * m.tensor(2.5),
    lambda m: _sp(m, val=[1, 2, 3]) * 0.5,
    lambda m: _sp(m) / 2,
    lambda m: _sp(m, val=[1, 2, 3]) / 2,
    lambda m: -_sp(m),
    lambda m: _sp(m) * m.arange(6.0).reshape(2, 3),
    lambda m: m.arange(6.0).reshape(2, 3) * _sp(m),
    lambda m: _sp(m) * _sp(m),
    lambda m: _sp(m).coalesce() * _sp(m, idx=[[0, 1], [0, 1]], val=[2.0, 7.0]).coalesce(),
    lambda m: _sp(m, idx=[[0, 1], [0, 1]], val=[2.0, 7.0]) * _sp(m),
])
def test_arithmetic_as_torch(op) -> None:
    _same(op)


@pytest.mark.parametrize("name", ["abs", "sin", "sqrt", "tanh", "relu", "neg", "expm1", "log1p", "erf", "sinh", "asin",
                                  "atan", "tan", "deg2rad", "frac", "asinh", "atanh", "erfinv", "rad2deg"])
def test_zero_preserving_pointwise_ops_as_torch(name: str) -> None:
    _same(lambda m: getattr(m, name)(_sp(m, val=[0.3, -0.4, -0.25])))
    _same(lambda m: getattr(_sp(m, val=[0.3, -0.4, -0.25], requires_grad=True), name)())


def test_gradient_through_a_pointwise_op() -> None:
    # (torch has no backward for most of these on sparse tensors: sin's needs cos, which sparse lacks)
    idx = ember.tensor(IDX)
    v = ember.tensor([0.3, -0.4, -0.25], dtype=ember.float64, requires_grad=True)
    for name in ("sin", "tanh", "abs", "expm1", "atan"):
        def fn(v, f=getattr(ember, name)):
            return f(ember.sparse_coo_tensor(idx, v, (2, 3))).to_dense()

        assert gradcheck(fn, (v,)) and gradgradcheck(fn, (v,))


@pytest.mark.parametrize("bad", [
    lambda m: _sp(m) + m.ones(2, 3),
    lambda m: _sp(m) + 1,
    lambda m: _sp(m) - m.ones(2, 3),
    lambda m: m.ones(3, 3) + _sp(m),
    lambda m: _sp(m) + _sp(m, size=(3, 3)),
    lambda m: _sp(m) / m.ones(2, 3),
])
def test_arithmetic_errors_as_torch(bad) -> None:
    a, b = _err(bad)
    assert a == b


# ----------------------------------------------------------------------------- sums
@pytest.mark.parametrize("op", [
    lambda m: m.sum(_sp(m)),
    lambda m: _sp(m).sum(),
    lambda m: m.sum(_sp(m), 1),
    lambda m: m.sum(_sp(m), 0),
    lambda m: m.sum(_sp(m), (0, 1)),
    lambda m: m.sum(_sp(m), 1, keepdim=True),
    lambda m: m.sparse.sum(_sp(m)),
    lambda m: m.sparse.sum(_sp(m), 1),
    lambda m: m.sparse.sum(_sp(m), (0, 1)),
    lambda m: m.sum(_sp(m, val=[1, 2, 3])),
    lambda m: m.sum(_sp(m, val=[1, 2, 3]), 1),
    lambda m: m.sum(m.sparse_coo_tensor(m.tensor([[0, 1]]), m.tensor([[1.0, 2.0], [3.0, 4.0]]), (2, 2)), 1),
    lambda m: m.sparse.sum(m.sparse_coo_tensor(m.tensor([[0, 1]]), m.tensor([[1.0, 2.0], [3.0, 4.0]]), (2, 2)), 0),
    lambda m: m.sum(_sp(m, requires_grad=True), 1),
    lambda m: m.sparse.sum(_sp(m, requires_grad=True), (0, 1)),
])
def test_sums_as_torch(op) -> None:
    _same(op)


# ----------------------------------------------------------------------------- products
def _d(m, *shape, rg=False):
    return m.arange(float(np.prod(shape))).reshape(shape).requires_grad_(rg)


@pytest.mark.parametrize("op", [
    lambda m: m.mm(_sp(m), _d(m, 3, 2)),
    lambda m: _sp(m) @ _d(m, 3, 2),
    lambda m: m.matmul(_sp(m), _d(m, 3, 2)),
    lambda m: m.spmm(_sp(m), _d(m, 3, 2)),
    lambda m: m.sparse.mm(_sp(m), _d(m, 3, 2)),
    lambda m: m.sparse.addmm(m.ones(2, 2), _sp(m), _d(m, 3, 2), beta=0.5, alpha=2),
    lambda m: m.addmm(m.ones(2, 2), _sp(m), _d(m, 3, 2)),
    lambda m: _d(m, 4, 2) @ _sp(m),
    lambda m: m.mm(_d(m, 4, 2), _sp(m)),
    lambda m: m.sparse.mm(_d(m, 4, 2), _sp(m)),
    lambda m: m.mm(_sp(m), _d(m, 3, 2, rg=True)),
    lambda m: _sp(m, requires_grad=True) @ _d(m, 3, 2),
    lambda m: m.sparse.mm(_sp(m, requires_grad=True), _d(m, 3, 2)),
    lambda m: m.diag(m.tensor([1.0, 2.0])).to_sparse() @ _d(m, 2, 3),
    lambda m: _sp(m).t() @ _d(m, 2, 2),
])
def test_products_as_torch(op) -> None:
    _same(op)


@pytest.mark.parametrize("bad", [
    lambda m: m.mm(_sp(m), m.ones(3, 2, dtype=m.float64)),
    lambda m: m.mm(_sp(m), m.ones(2, 2)),
    lambda m: m.mm(m.ones(2, 4), _sp(m)),
])
def test_product_errors_as_torch(bad) -> None:
    a, b = _err(bad)
    assert a == b


def test_gcn_normalisation_as_torch() -> None:
    # pytorch/examples gcn's load_cora: D^-1/2 (I + A) D^-1/2 with an int64 sparse A
    def run(m):
        edges = np.array([[0, 1], [1, 2], [2, 0], [3, 1], [1, 0]], np.int32)
        a = m.sparse_coo_tensor(edges.T, m.ones(5), (4, 4), dtype=m.int64)
        a = m.eye(4) + a
        deg = m.sqrt(1 / m.sum(a, dim=1))
        deg[deg == float("inf")] = 0
        deg = m.diag(deg).to_sparse()
        return (deg @ a @ deg).to_sparse()

    t, e = run(torch), run(ember)
    assert _r(e.indices()) == _r(t.indices())
    np.testing.assert_allclose(e.values().numpy(), t.values().numpy(), rtol=1e-6)
    assert _r(e).split("values")[0] == _r(t).split("values")[0]


# ----------------------------------------------------------------------------- gradients
def _grads(m, which: str):
    s = _sp(m, requires_grad=True, dtype=m.float64)
    d = _d(m, 3, 2, rg=True).double()
    d.retain_grad()
    w = m.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=m.float64)
    if which == "sparse.mm":
        out = m.sparse.mm(s, d)
    elif which == "addmm":
        out = m.sparse.addmm(m.ones(2, 2, dtype=m.float64), s, d, alpha=3)
    elif which == "mm":
        out = m.mm(s, d)
    else:
        out = (s * 2 - s).to_dense()[:, :2] + s.coalesce().to_dense()[:, 1:]
    (out * w).sum().backward()
    return s, d


@pytest.mark.parametrize("which", ["sparse.mm", "addmm", "ops"])
def test_gradient_of_a_sparse_leaf_is_sparse_as_torch(which: str) -> None:
    (ts, td), (es, ed) = _grads(torch, which), _grads(ember, which)
    assert _r(es.grad) == _r(ts.grad)
    if which != "ops":
        np.testing.assert_allclose(ed.grad.numpy(), td.grad.numpy())


def test_gradient_of_torch_mm_at_the_sparse_entries() -> None:
    # torch.mm gives a sparse leaf a dense gradient; ember's is sparse with the leaf's indices, equal to
    # torch's at those places (documented difference)
    (ts, td), (es, ed) = _grads(torch, "mm"), _grads(ember, "mm")
    assert not ts.grad.is_sparse and es.grad.is_sparse
    idx = tuple(es.grad._indices().numpy())
    assert _r(es.grad._indices()) == _r(ember.tensor([[0, 1], [0, 2]]))
    np.testing.assert_allclose(es.grad._values().numpy(), ts.grad.numpy()[idx])
    np.testing.assert_allclose(ed.grad.numpy(), td.grad.numpy())


def test_gcn_layer_gradients_as_torch() -> None:
    def run(m):
        m.manual_seed(0)
        adj = m.tensor([[0.5, 0.0, 0.2], [0.0, 1.0, 0.0], [0.3, 0.0, 0.0]]).to_sparse()
        x = m.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]).to_sparse()
        w = m.randn(2, 4, requires_grad=True)
        out = m.spmm(adj, m.mm(x, w)).relu().sum()
        out.backward()
        return out, w.grad

    (to, tg), (eo, eg) = run(torch), run(ember)
    assert _r(eo) == _r(to)
    np.testing.assert_allclose(eg.numpy(), tg.numpy(), rtol=1e-6)


def test_grad_fn_names_as_torch() -> None:
    for m in (torch, ember):
        s = _sp(m, requires_grad=True)
        d = m.ones(3, 2, requires_grad=True)
        names = [type(x.grad_fn).__name__ for x in (
            s.coalesce(), s.to_dense(), -s, s * 2, s / 2, s + s, s - s, m.ones(2, 3) + s, m.sum(s), m.sum(s, 1),
            m.sparse.sum(s, 1), s.t(), s.transpose(0, 1), s.double(), m.mm(s, d), m.sparse.mm(s, d), s @ d,
            m.spmm(s, d), m.ones(2, 2, requires_grad=True).to_sparse(), m.ones(2, 2, requires_grad=True).to_sparse(1),
            s.coalesce().values(), m.sparse_coo_tensor(m.tensor(IDX), m.ones(3, requires_grad=True), (2, 3)),
            m.mm(_sp(m), d), m.mm(m.ones(4, 2, requires_grad=True), _sp(m)))]
        if m is torch:
            want = names
    assert names == want


def test_sparse_times_dense_gradcheck_and_second_order() -> None:
    idx = ember.tensor([[0, 1, 1, 2, 0], [2, 0, 2, 1, 2]])

    def f(v, d):
        return ember.mm(ember.sparse_coo_tensor(idx, v, (3, 3)), d)

    def g(d, v):
        return d @ ember.sparse_coo_tensor(idx, v, (3, 3))

    rng = np.random.default_rng(0)
    v = ember.tensor(rng.standard_normal(5), requires_grad=True)
    d = ember.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    e = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(f, (v, d)) and gradgradcheck(f, (v, d))
    assert gradcheck(g, (e, v)) and gradgradcheck(g, (e, v))


def test_second_order_through_the_dense_operand_as_torch() -> None:
    def run(m):
        s = _sp(m, dtype=m.float64)
        d = m.tensor([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]], dtype=m.float64, requires_grad=True)
        y = (m.mm(s, d) ** 2).sum()
        (g,) = m.autograd.grad(y, d, create_graph=True)
        (h,) = m.autograd.grad((g * g).sum(), d)
        return g.detach(), h

    (tg, th), (eg, eh) = run(torch), run(ember)
    np.testing.assert_allclose(eg.numpy(), tg.numpy())
    np.testing.assert_allclose(eh.numpy(), th.numpy())


# ----------------------------------------------------------------------------- what sparse tensors lack
@pytest.mark.parametrize("name,op", [
    ("exp", lambda s: ember.exp(s)),
    ("cos", lambda s: s.cos()),
    ("view", lambda s: s.view(6)),
    ("mean", lambda s: s.mean()),
    ("indexing", lambda s: s[0]),
])
def test_unsupported_ops_raise_clearly(name: str, op) -> None:
    with pytest.raises(NotImplementedError, match=f"ember does not implement {name} for sparse tensors"):
        op(_sp(ember))


def test_numpy_refuses_as_torch() -> None:
    a, b = _err(lambda m: _sp(m).numpy())
    assert a == b


def test_namespace() -> None:
    assert {"mm", "addmm", "sum"} <= set(dir(ember.sparse))
    assert "sparse_coo_tensor" in dir(ember) and "spmm" in dir(ember) and "sparse" in dir(ember)
    assert ember.sparse.mm.__doc__ and ember.sparse_coo_tensor.__doc__

"""bincount, histc, histogram, bucketize, searchsorted (and unique's options) against torch.

Each expression runs in both libraries (``lib`` is torch or ember); values, dtypes, printed form and
errors (type and message, ``torch`` for ``ember`` in names) must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
DATA = {
    "x": np.array([1, 3, 3, 0, 7]),
    "w": np.array([0.5, 1.0, 2.0, 1.0, 1.0], np.float32),
    "r": RNG.standard_normal(1000).astype(np.float32),  # many values, to catch bin-edge rounding
    "r64": RNG.standard_normal(500),
    "g": np.round(RNG.uniform(0, 4, 400) * 4).astype(np.float32) / 4,  # values exactly on bin edges
    "edges": np.array([0.0, 1.0, 2.0], np.float32),
    "sorted2": np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], np.float32),
    "fnan": np.array([2.5, np.nan, 1.0, np.nan, 2.5, -0.0, 0.0], np.float32),
    "ix": np.array([[1, 2, 1], [0, 2, 1], [1, 2, 1]]),
}

SAME = [
    "lib.bincount(x)", "lib.bincount(x, minlength=10)", "lib.bincount(x, w)", "lib.bincount(x, w.double())",
    "lib.bincount(x, lib.tensor([1, 2, 3, 4, 5]))", "lib.bincount(x.int())", "lib.bincount(x.to(lib.uint8))",
    "lib.bincount(x, w.half())", "lib.bincount(lib.tensor([], dtype=lib.long), minlength=3)", "x.bincount()",
    "lib.histc(w, bins=4)", "lib.histc(w, bins=4, min=0, max=3)", "lib.histc(w.double(), 3)", "lib.histc(lib.tensor([]), 4)",
    "lib.histc(lib.ones(3), 4)", "lib.histc(w, 3, min=1, max=1)", "lib.histc(w.half(), 3)", "w.histc(3)",
    "lib.histc(r)", "lib.histc(r, 7, min=-1, max=1.5)", "lib.histc(g, 16)", "lib.histc(g, 8, min=0, max=4)", "lib.histc(r64, 13)",
    "lib.histogram(w, bins=4)", "lib.histogram(w, bins=lib.tensor([0., 1., 2.5]))", "w.histogram(3)",
    "lib.histogram(w, bins=3, range=(0., 3.), weight=w, density=True)", "lib.histogram(w.double(), 3)",
    "lib.histogram(w, 3, density=True)", "lib.histogram(lib.tensor([]), 3)", "lib.histogram(w, 3, range=(1., 1.))",
    "lib.histogram(w.reshape(5, 1), 2)", "lib.histogram(w, lib.tensor([1., 0.]))", "lib.histogram(r, 17)",
    "lib.histogram(g, 16)", "lib.histogram(g, 8, range=(0., 4.))", "lib.histogram(r64, 9, weight=r64.abs())",
    "lib.histogram(g, lib.tensor([0., 0.5, 1.25, 3., 4.]))", "lib.histogram(r, 5, range=(-1., 1.), density=True)",
    "lib.bucketize(w, edges)", "lib.bucketize(w, edges, right=True)", "lib.bucketize(w, edges, out_int32=True)",
    "lib.bucketize(1.0, edges)", "lib.bucketize(x, edges)", "lib.bucketize(lib.tensor([[0.5, 3.]]), lib.tensor([0., 1.]))",
    "lib.searchsorted(edges, w)", "lib.searchsorted(edges, w, right=True)", "lib.searchsorted(edges, w, side='right')",
    "lib.searchsorted(lib.tensor([2., 0., 1.]), w, sorter=lib.tensor([1, 2, 0]))", "lib.searchsorted(edges, 1.5)",
    "lib.searchsorted(sorted2, lib.tensor([[0.5], [2.5]]))", "lib.searchsorted(edges, w, out_int32=True)",
    "lib.searchsorted(sorted2, lib.tensor([[0.5, 1.5], [2.5, 0.]]), right=True)", "lib.searchsorted(lib.tensor([0, 1, 2]), w)",
    "lib.searchsorted(edges, lib.tensor([0.5, 1.5]).double())", "lib.searchsorted(edges, lib.tensor([float('nan'), 5.]))",
    "lib.searchsorted(r.sort().values, g)",
    "lib.unique(lib.tensor([3, 1, 2, 3, 1]), sorted=False, return_inverse=True, return_counts=True)",
    "lib.unique_consecutive(lib.tensor([1, 1, 2, 2, 3, 1]), return_inverse=True, return_counts=True)",
    "lib.unique(fnan, return_inverse=True, return_counts=True)", "lib.unique(ix, return_inverse=True, return_counts=True, dim=1)",
    "ix.unique(dim=0, return_inverse=True)", "lib.unique(lib.zeros(0, 3), dim=0, return_inverse=True, return_counts=True)",
    "lib.unique_consecutive(ix, dim=1, return_inverse=True, return_counts=True)",
]

RAISES = [
    "lib.bincount(lib.tensor([-1]))", "lib.bincount(x.float())", "lib.bincount(x.reshape(5, 1))", "lib.bincount(x, w[:3])",
    "lib.bincount(x, minlength=-1)", "lib.bincount(lib.tensor([True, False]))", "lib.bincount(x, minlength=1.5)",
    "lib.histc(x)", "lib.histc(w, bins=4, min=3, max=0)", "lib.histc(w, bins=0)",
    "lib.histc(lib.tensor([1., float('inf')]), 4)", "lib.histc(lib.tensor([1., float('nan')]), 4)",
    "lib.histogram(x, 3)", "lib.histogram(w.half(), 3)", "lib.histogram(w, 0)", "lib.histogram(w, lib.tensor([1.]))",
    "lib.histogram(lib.tensor([1., float('nan')]), 3)", "lib.histogram(w, 3, range=(0., float('inf')))",
    "lib.histogram(w, 3, weight=lib.ones(4))", "lib.histogram(w, 3, weight=lib.ones(5).double())",
    "lib.histogram(w, lib.tensor([[0., 1.]]))", "lib.histogram(w, lib.tensor([0, 1, 2]))",
    "lib.histogram(lib.ones(3), 3, range=(1., 0.))",
    "lib.bucketize(w, lib.tensor([[0., 1., 2.]]))", "lib.bucketize(w, lib.tensor(1.))",
    "lib.searchsorted(edges, w, side='left', right=True)", "lib.searchsorted(edges, w, side='middle')",
    "lib.searchsorted(edges, w, sorter=lib.tensor([0, 1]))", "lib.searchsorted(edges, w, sorter=lib.tensor([0., 1., 2.]))",
    "lib.searchsorted(sorted2, w)", "lib.searchsorted(lib.tensor(1.), w)",
    "lib.unique(lib.zeros(2, 0), dim=0)", "lib.unique(ix, dim=2)",
]


def _env(lib: object) -> dict:
    return {"lib": lib, **{k: lib.tensor(v) for k, v in DATA.items()}}


def _printed(v: object) -> str:
    return repr(v).replace("ember", "torch")


@pytest.mark.parametrize("expr", SAME)
def test_same_as_torch(expr: str) -> None:
    e, t = eval(expr, _env(ember)), eval(expr, _env(torch))  # noqa: S307
    if "weight=" not in expr:
        assert _printed(e) == _printed(t)
    es, ts = (e, t) if isinstance(t, tuple) else ((e,), (t,))
    for a, b in zip(es, ts):
        assert str(a.dtype).replace("ember", "torch") == str(b.dtype)
        if "weight=" in expr:  # torch sums the weights in per-thread chunks: the last bit may differ
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
        else:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("expr", RAISES)
def test_errors_match_torch(expr: str) -> None:
    with pytest.raises(Exception) as te:
        eval(expr, _env(torch))  # noqa: S307
    with pytest.raises(Exception) as ee:
        eval(expr, _env(ember))  # noqa: S307
    assert type(ee.value).__name__ == type(te.value).__name__
    if not isinstance(te.value, TypeError):  # torch's TypeError lists its overloads; ember names the argument
        assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("expr", [
    "lib.bincount(x, wg)", "lib.histogram(wg, 3).hist", "lib.histogram(wg, 3).bin_edges",
    "lib.histogram(w, 3, weight=wg).hist",
])
def test_not_differentiable_as_in_torch(expr: str) -> None:
    def run(lib: object) -> tuple:
        env = _env(lib)
        env["wg"] = lib.tensor(DATA["w"], requires_grad=True)
        out = eval(expr, env)  # noqa: S307
        with pytest.raises(RuntimeError) as err:
            out.sum().backward()
        return type(out.grad_fn).__name__, str(err.value)

    assert run(ember) == run(torch)


def test_histc_and_index_results_never_require_grad() -> None:
    for lib in (torch, ember):
        wg = lib.tensor(DATA["w"], requires_grad=True)
        assert not lib.histc(wg, 3).requires_grad
        assert not lib.bucketize(wg, lib.tensor([0.0, 1.0])).requires_grad
        assert not lib.searchsorted(lib.tensor([0.0, 1.0], requires_grad=True), wg).requires_grad


def test_histogram_result_fields() -> None:
    h = ember.histogram(ember.tensor(DATA["w"]), 3)
    hist, edges = h
    assert h.hist is hist and h.bin_edges is edges and len(h) == 2


def test_return_types_are_reachable_by_name() -> None:
    x = ember.tensor(DATA["w"])
    assert isinstance(ember.histogram(x, 3), ember.return_types.histogram)
    assert isinstance(x.sort(), ember.return_types.sort) and isinstance(x.max(0), ember.return_types.max)
    assert set(ember.return_types._fields) <= set(dir(torch.return_types))

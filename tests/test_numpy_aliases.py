"""NumPy argument names (``axis``, ``keepdims``, ``x``/``a``/``x1``, ``x2``) exactly where torch takes them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from oracle import assert_close, check

X = np.random.default_rng(0).standard_normal((3, 4))
IDX = np.array([[0], [2], [1]])

# each call is evaluated in both libraries (``lib`` is torch or ember, ``x`` a 3x4 float64 tensor)
ACCEPTED = [
    "x.sum(axis=1)", "x.sum(1, keepdims=True)", "x.sum(axis=(0, 1))", "x.sum(keepdims=True, dim=1)",
    "lib.sum(x, axis=0, keepdims=True)", "lib.sum(a=x, axis=1)", "lib.sum(x1=x)", "lib.sum(x=x, dim=1)",
    "x.mean(axis=0)", "lib.mean(x, axis=1, keepdims=True)", "x.mean(axis=1, dtype=lib.float32)",
    "x.nansum(axis=1)", "x.nanmean(axis=0, keepdims=True)",
    "(x > 0).any(axis=1)", "(x > 0).all(axis=0, keepdims=True)", "lib.any(x > 0, axis=1)",
    "x.var(axis=1)", "x.var(1, keepdims=True)", "x.std(axis=0, correction=0)", "lib.std(x, axis=1, keepdims=True)",
    "lib.var_mean(x, axis=1)", "lib.std_mean(x, axis=0, keepdims=True)",
    "x.prod(axis=1)", "lib.prod(x, axis=0, keepdims=True)",
    "x.max(axis=1)", "x.max(1, keepdims=True)", "lib.min(x, axis=0)", "x.amax(axis=(0, 1))", "x.amin(axis=1, keepdims=True)",
    "x.argmax(axis=1)", "lib.argmin(x, axis=0, keepdims=True)", "x.argmax(axis=None)",
    "x.logsumexp(axis=1)", "lib.logsumexp(x, axis=0, keepdims=True)",
    "x.cumsum(axis=1)", "lib.cumprod(x, axis=0)", "lib.cumsum(a=x, axis=0)", "x.cummax(axis=1)",
    "x.softmax(axis=1)", "lib.log_softmax(x, axis=0)", "x.median(axis=1)", "x.sort(axis=1)", "x.argsort(axis=0)",
    "x.topk(2, axis=1)", "x.kthvalue(2, axis=1)", "lib.aminmax(x, axis=1)", "x.count_nonzero(axis=0)",
    "lib.cat([x, x], axis=1)", "lib.stack([x, x], axis=1)", "x.unsqueeze(axis=0)", "x.squeeze(axis=0)",
    "x.chunk(2, axis=1)", "x.unbind(axis=1)", "x.narrow(axis=1, start=1, length=2)",
    "x.gather(axis=1, index=lib.tensor(IDX))", "x.index_select(axis=0, index=lib.tensor([2, 0]))",
    "lib.cross(x1=x[:, :3], x2=x[:, 1:], axis=1)",
    "lib.linalg.vector_norm(x, axis=1, keepdims=True)", "lib.linalg.norm(x, axis=0)",
    "lib.nn.functional.cosine_similarity(x, x + 1, axis=0)", "lib.nn.functional.pairwise_distance(x, x + 1, keepdims=True)",
]

# torch writes these in Python (or names the parameter otherwise): no NumPy names
REJECTED = [
    ("x.norm(axis=1)", "axis"), ("lib.norm(x, axis=1)", "axis"), ("x.split(2, axis=1)", "axis"),
    ("lib.unique(x, axis=0)", "axis"), ("x.unflatten(axis=1, sizes=(2, 2))", "axis"),
    ("lib.nn.functional.softmax(x, axis=1)", "axis"), ("lib.nn.functional.log_softmax(x, axis=1)", "axis"),
    ("lib.flatten(x, axis=1)", "axis"), ("x.cumsum(1, keepdims=True)", "keepdims"),
    ("x.softmax(1, keepdims=True)", "keepdims"),
]

# a NumPy name next to its torch twin, or a positional twin, is an error in torch
CONFLICTS = ["x.sum(axis=1, dim=1)", "x.sum(1, axis=1)", "x.sum(1, True, keepdims=True)",
             "lib.mean(x, 0, axis=0)", "x.max(1, axis=1)"]


def _run(lib: object, expr: str) -> object:
    x = lib.tensor(X)
    return eval(expr, {"lib": lib, "x": x, "IDX": IDX})  # noqa: S307


@pytest.mark.parametrize("expr", ACCEPTED)
def test_numpy_names_match_torch(expr: str) -> None:
    e, t = _run(ember, expr), _run(torch, expr)
    es, ts = (e, t) if isinstance(t, tuple) else ((e,), (t,))
    assert len(es) == len(ts)
    for a, b in zip(es, ts):
        assert_close(a, b, expr)


@pytest.mark.parametrize(("expr", "name"), REJECTED)
def test_rejected_where_torch_rejects(expr: str, name: str) -> None:
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        _run(torch, expr)
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
        _run(ember, expr)


@pytest.mark.parametrize("expr", CONFLICTS)
def test_conflicting_names_raise_torch_text(expr: str) -> None:
    with pytest.raises(TypeError) as te:
        _run(torch, expr)
    with pytest.raises(TypeError) as ee:
        _run(ember, expr)
    # torch words it as an unexpected keyword or an invalid combination; both name the alias
    kw = "keepdims" if "keepdims" in expr else "axis"
    assert kw in str(te.value) and f"unexpected keyword argument '{kw}'" in str(ee.value)


def test_unknown_keyword_is_type_error() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        ember.tensor(X).sum(foo=1)


def test_makemore_row_normalisation_and_gradients() -> None:
    # karpathy's makemore: P /= P.sum(1, keepdims=True); the alias path records the same graph
    check(lambda lib, p: p / p.sum(1, keepdims=True), np.abs(X) + 0.1, second=True)
    check(lambda lib, p: p.logsumexp(axis=1).mean(axis=0), X, second=True)


def test_wrappers_keep_identity_and_names() -> None:
    assert ember.Tensor.sum is ember.sum and ember.Tensor.sum.__name__ == "sum"
    assert ember.Tensor.max is ember.max and ember.sum.__doc__
    x = ember.tensor(X, requires_grad=True)
    assert type(x.sum(axis=1).grad_fn).__name__ == "SumBackward1"

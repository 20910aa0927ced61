"""F.scaled_dot_product_attention against torch: values, grad_fn names (torch's fused CPU kernel
vs its math composition), first derivatives, second derivatives (torch's fused kernel has none, so
against torch's math backend), float64 gradcheck/gradgradcheck, the dropout stream and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.oracle import assert_close, check
from torch.nn.attention import SDPBackend, sdpa_kernel

import ember

R = np.random.default_rng(11)


def _sdpa(lib):
    return lib.nn.functional.scaled_dot_product_attention


def _qkv(qs, ks, vs=None):
    vs = vs or ks
    return R.standard_normal(qs), R.standard_normal(ks), R.standard_normal(vs)


BOOL_MASK = R.random((4, 6)) > 0.4
BOOL_MASK[1] = False  # a query row that may attend to nothing: torch gives 0 there

CASES = [
    ((2, 3, 4, 5), (2, 3, 6, 5), None, {}),
    ((2, 3, 4, 5), (2, 3, 6, 5), None, dict(is_causal=True)),
    ((2, 3, 6, 5), (2, 3, 4, 5), None, dict(is_causal=True)),
    ((2, 3, 4, 5), (2, 3, 6, 5), None, dict(scale=0.3)),
    ((2, 3, 4, 5), (2, 3, 6, 5), None, dict(attn_mask=BOOL_MASK)),
    ((2, 3, 4, 5), (2, 3, 6, 5), None, dict(attn_mask=R.standard_normal((2, 1, 4, 6)))),
    ((2, 3, 4, 5), (2, 3, 6, 5), None, dict(attn_mask=R.standard_normal((3, 4, 6)))),
    ((2, 4, 4, 5), (2, 2, 6, 5), None, dict(enable_gqa=True)),
    ((2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7), dict(enable_gqa=True, is_causal=True)),
    ((2, 3, 4, 5), (2, 1, 6, 5), None, {}),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), {}),
    ((3, 4, 5), (3, 6, 5), None, dict(attn_mask=BOOL_MASK)),
    ((4, 5), (6, 5), (6, 2), dict(is_causal=True)),
    ((2, 2, 2, 4, 5), (2, 2, 2, 6, 5), None, {}),
]


def _call(kw):
    def f(lib, q, k, v):
        kw2 = dict(kw)
        if isinstance(kw2.get("attn_mask"), np.ndarray):
            m = lib.tensor(kw2["attn_mask"])
            kw2["attn_mask"] = m if m.dtype == lib.bool else m.to(q.dtype)
        return _sdpa(lib)(q, k, v, **kw2)
    return f


@pytest.mark.parametrize("qs,ks,vs,kw", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_names_and_grads(qs, ks, vs, kw, dtype):
    q, k, v = (a.astype(dtype) for a in _qkv(qs, ks, vs))
    check(_call(kw), q, k, v, rtol=1e-9 if dtype == np.float64 else 1e-4, atol=1e-9 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("qs,ks,vs,kw", CASES)
def test_second_derivatives_vs_torch_math(qs, ks, vs, kw):
    """torch's fused kernel has no double backward; its math backend does, and ember's fused node
    (a derivative written in ember ops) must agree with it."""
    q, k, v = _qkv(qs, ks, vs)
    f = _call(kw)
    res = {}
    for lib in (ember, torch):
        ins = [lib.tensor(a, requires_grad=True) for a in (q, k, v)]
        if lib is torch:
            with sdpa_kernel(SDPBackend.MATH):
                out = f(lib, *ins)
        else:
            out = f(lib, *ins)
        w = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        g = lib.autograd.grad((out * w).sum(), ins, create_graph=True)
        vs2 = [lib.tensor(np.random.default_rng(2 + i).standard_normal(tuple(x.shape))) for i, x in enumerate(g)]
        s = sum((a * b).sum() for a, b in zip(g, vs2))
        res[lib.__name__] = [out] + list(g) + list(lib.autograd.grad(s, ins, allow_unused=True))
    for a, b in zip(res["ember"], res["torch"]):
        if a is None or b is None:
            z = a if a is not None else b
            assert z is None or not np.any(z.detach().numpy())
            continue
        assert_close(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("kw", [{}, dict(is_causal=True), dict(attn_mask=BOOL_MASK[:3, :4]), dict(enable_gqa=True)])
def test_gradcheck_and_gradgradcheck(kw):
    q, k, v = _qkv((1, 2, 3, 4), (1, 1 if kw.get("enable_gqa") else 2, 4, 4))
    kw2 = dict(kw)
    if "attn_mask" in kw2:
        kw2["attn_mask"] = ember.tensor(kw2["attn_mask"])
    ins = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    fn = lambda *xs: _sdpa(ember)(*xs, **kw2)  # noqa: E731
    assert ember.autograd.gradcheck(fn, ins)
    assert ember.autograd.gradgradcheck(fn, ins)


def test_float_mask_that_requires_grad():
    q, k, v = _qkv((2, 3, 4, 5), (2, 3, 6, 5))
    m = R.standard_normal((4, 6))
    check(lambda lib, q, k, v, m: _sdpa(lib)(q, k, v, attn_mask=m), q, k, v, m, second=True, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_stream_matches_torch(dtype):
    q, k, v = (a.astype(dtype) for a in _qkv((2, 3, 4, 5), (2, 3, 6, 5)))
    for seed in (0, 7):
        ember.manual_seed(seed)
        torch.manual_seed(seed)
        check(lambda lib, q, k, v: _sdpa(lib)(q, k, v, dropout_p=0.4), q, k, v,
              rtol=1e-9 if dtype == np.float64 else 1e-4, atol=1e-6)
    ember.manual_seed(3)
    torch.manual_seed(3)
    with ember.no_grad():
        e = _sdpa(ember)(*(ember.tensor(a) for a in (q, k, v)), dropout_p=0.5)
    with torch.no_grad():
        t = _sdpa(torch)(*(torch.tensor(a) for a in (q, k, v)), dropout_p=0.5)
    assert_close(e, t)
    assert e.grad_fn is None


@pytest.mark.parametrize("call", [
    lambda lib: _sdpa(lib)(lib.zeros(2, 3, 4, 5), lib.zeros(2, 3, 6, 5, dtype=lib.float64), lib.zeros(2, 3, 6, 5)),
    lambda lib: _sdpa(lib)(lib.zeros(2, 3, 4, 5), lib.zeros(2, 3, 6, 5), lib.zeros(2, 3, 6, 5),
                           attn_mask=lib.zeros(4, 6, dtype=lib.int64)),
    lambda lib: _sdpa(lib)(lib.zeros(2, 3, 4, 5), lib.zeros(2, 3, 6, 5), lib.zeros(2, 3, 6, 5),
                           attn_mask=lib.zeros(4, 6, dtype=lib.float64)),
    lambda lib: _sdpa(lib)(lib.zeros(2, 4, 4, 5), lib.zeros(2, 2, 6, 5, dtype=lib.float64),
                           lib.zeros(2, 2, 6, 5, dtype=lib.float64), enable_gqa=True),
    lambda lib: _sdpa(lib)(lib.zeros(2, 4, 4, 5), lib.zeros(2, 3, 6, 5), lib.zeros(2, 3, 6, 5), enable_gqa=True),
    lambda lib: _sdpa(lib)(lib.zeros(2, 4, 4, 5), lib.zeros(2, 4, 6, 5), lib.zeros(2, 4, 6, 7), is_causal=True,
                           attn_mask=lib.ones(4, 6, dtype=lib.bool), enable_gqa=True),
    lambda lib: _sdpa(lib)(lib.zeros(2, 3, 4, 5), lib.zeros(2, 3, 6, 4), lib.zeros(2, 3, 6, 5)),
    lambda lib: _sdpa(lib)(lib.zeros(2, 3, 4, 5), lib.zeros(2, 3, 6, 5), lib.zeros(2, 3, 6, 5),
                           attn_mask=lib.zeros(5, 6)),
    lambda lib: _sdpa(lib)(lib.zeros(2, 3, 4, 5), lib.zeros(2, 3, 6, 5), lib.zeros(2, 3, 6, 5),
                           attn_mask=lib.zeros(6)),
])
def test_errors_as_torch(call):
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(Exception) as ee:
        call(ember)
    assert type(ee.value) is type(te.value)
    assert str(ee.value) == str(te.value)


def test_causal_and_mask_both_set_raises():
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        _sdpa(ember)(ember.zeros(2, 3, 4, 5), ember.zeros(2, 3, 6, 5), ember.zeros(2, 3, 6, 5), is_causal=True,
                     attn_mask=ember.ones(4, 6, dtype=ember.bool))


def test_finite_differences_fused_and_math():
    from tests.oracle import finite_difference_check

    q, k, v = _qkv((1, 2, 3, 4), (1, 2, 4, 4))
    finite_difference_check(lambda lib, q, k, v: _sdpa(lib)(q, k, v, is_causal=True), q, k, v)
    finite_difference_check(lambda lib, q, k, v: _sdpa(lib)(q[0], k[0], v[0], scale=0.7), q, k, v)

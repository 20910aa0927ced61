"""Differential property test: random small programs run in ember and torch agree on outputs and gradients."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember

UNARY = ["exp", "tanh", "sigmoid", "sin", "abs", "neg", "square", "relu", "atan", "expm1", "erf"]
SAFE_UNARY = {"log1p": lambda t: t.abs(), "sqrt": lambda t: t.abs() + 0.5, "rsqrt": lambda t: t.abs() + 0.5}
BINARY = ["add", "sub", "mul", "maximum", "minimum", "atan2", "hypot", "fmax"]
REDUCE = ["sum", "mean", "amax", "logsumexp", "std", "prod", "norm", "cumsum"]
RUNS = {"programs": 0}


def _apply(lib, kind, arg, x, y):
    if kind == "unary":
        return getattr(lib, arg)(x)
    if kind == "safe":
        return getattr(lib, arg)(SAFE_UNARY[arg](x))
    if kind == "binary":
        return getattr(lib, arg)(x, y)
    if kind == "reduce":
        d = arg[1] % x.dim() if x.dim() else 0
        name = arg[0]
        if name == "norm":
            return x.norm(dim=d, keepdim=True)
        if name == "cumsum":
            return x.cumsum(d)
        if name == "std":
            return x.std(d, keepdim=True) if x.dim() and x.shape[d] > 1 else x
        return getattr(x, name)(d, keepdim=True) if name not in ("amax",) else x.amax(d, keepdim=True)
    if kind == "inplace":
        y2 = x * 1
        getattr(y2, arg + "_")()
        return y2
    if kind == "index":
        return x.flip(-1) if x.dim() else x
    if kind == "where":
        return lib.where(x > 0, x, y)
    raise AssertionError(kind)


step = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(UNARY)),
    st.tuples(st.just("safe"), st.sampled_from(sorted(SAFE_UNARY))),
    st.tuples(st.just("binary"), st.sampled_from(BINARY)),
    st.tuples(st.just("reduce"), st.tuples(st.sampled_from(REDUCE), st.integers(0, 3))),
    st.tuples(st.just("inplace"), st.sampled_from(["tanh", "sigmoid", "exp", "sin"])),
    st.tuples(st.just("index"), st.none()),
    st.tuples(st.just("where"), st.none()),
)
shape = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape, st.sampled_from([(), (1,), "same"]), st.lists(step, min_size=1, max_size=6), st.integers(0, 2**16))
def test_random_programs(sx, yshape, steps, seed) -> None:
    rng = np.random.default_rng(seed)
    sy = sx if yshape == "same" else (sx[-1:] if sx and yshape == (1,) else ())
    xa = rng.uniform(-1.5, 1.5, sx)
    ya = rng.uniform(-1.5, 1.5, sy)
    outs = {}
    for lib in (ember, torch):
        x = lib.tensor(xa, requires_grad=True)
        y = lib.tensor(ya, requires_grad=True)
        h = x
        for kind, arg in steps:
            h = _apply(lib, kind, arg, h, y)
        loss = (h * lib.tensor(np.linspace(0.5, 1.5, h.numel()).reshape(tuple(h.shape)))).sum()
        gx, gy = lib.autograd.grad(loss, (x, y), allow_unused=True)
        outs[lib.__name__] = (h, gx, gy)
    RUNS["programs"] += 1
    for a, b in zip(outs["ember"], outs["torch"]):
        if a is None or b is None:
            z = a if a is not None else b
            assert z is None or not np.any(z.detach().numpy())
            continue
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-8, equal_nan=True,
                                   err_msg=str(steps))


def test_report_program_count() -> None:
    # runs after test_random_programs (file order); the count shows in the output with -s or -rA
    print(f"\nrandom ember-vs-torch programs run: {RUNS['programs']}")
    assert RUNS["programs"] >= 60

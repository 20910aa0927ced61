"""Every backward node class of the op table, through gradcheck, gradgradcheck and torch.

Each sample of ``op_samples`` runs three ways: ember's gradcheck and gradgradcheck in float64;
and side by side with torch (the same callable with ``m=torch``): outputs, the first gradient with
and without ``create_graph``, whether that gradient requires grad, and the second derivative
(the gradient of grad . w) must agree to ~1e-9. Coverage is measured by running: the node classes
reached in the samples' graphs (the outputs', and the first gradients' where the second derivative
is checked, so that each reached node's derivative has run under a check) must include every class
in ``NODE_CLASSES``, except those ``EXEMPT`` lists with a reason: a new op without a sample fails.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import zlib
from typing import Any

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck

from .op_samples import EXEMPT, SAMPLES

# the op table is complete once every module that defines node classes has been imported
for _m in pkgutil.walk_packages(ember.__path__, "ember."):
    importlib.import_module(_m.name)
from ember.ops._core import NODE_CLASSES  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # (torch's deprecation notes on triangular_solve, stft)

BY_NAME = {s.name: s for s in SAMPLES}
CASES = [(s.name, k) for s in SAMPLES for k in range(len(s.shapes))]
RTOL = 1e-9  # float64: both libraries compute the same formulas up to rounding


def _case_params(check: str) -> list:
    out = []
    for name, k in CASES:
        s = BY_NAME[name]
        if check == "gradgradcheck" and s.double is not None:
            continue
        reason = s.xfail.get(f"{check}:{k}", s.xfail.get(check))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(name, k, id=f"{name}-{k}", marks=marks))
    return out


@functools.cache
def _arrays(name: str, k: int) -> tuple:
    rng = np.random.default_rng(zlib.crc32(f"{name}/{k}".encode()))
    return tuple(a.make(rng) for a in BY_NAME[name].shapes[k])


def _tensors(m: Any, name: str, k: int) -> list:
    args = BY_NAME[name].shapes[k]
    return [m.tensor(a.copy(), requires_grad=arg.grad) for a, arg in zip(_arrays(name, k), args)]


def _flat(r: Any) -> list:
    if isinstance(r, (tuple, list)):
        return [t for x in r for t in _flat(x)]
    return [r] if hasattr(r, "grad_fn") else []


def _walk(ts: Any, seen: set) -> None:
    stack = [t.grad_fn for t in ts if t is not None and t.grad_fn is not None]
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        seen.add(type(n))
        stack.extend(nxt for nxt, _ in n.next_functions)


def _np(t: Any) -> Any:
    if t is None:
        return None
    t = t.detach()
    return t.numpy(force=True).copy() if isinstance(t, torch.Tensor) else t.numpy().copy()  # (force: torch's ZeroTensor)


def _random_like(m: Any, t: Any, rng: np.random.Generator) -> Any:
    shape = tuple(t.shape)
    a = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if t.is_complex() else 0)
    return m.tensor(a, dtype=t.dtype)


def _run(m: Any, name: str, k: int) -> dict:
    """One run of a sample in library ``m``: values, gradients and the node classes reached."""
    s = BY_NAME[name]
    xs = _tensors(m, name, k)
    diff = [x for x, arg in zip(xs, s.shapes[k]) if arg.grad]
    seen: set = set()
    flat = _flat(s.fn(m, *xs))
    outs = [o for o in flat if o.requires_grad]
    _walk(outs, seen)
    r: dict = {"values": [_np(o) for o in flat], "out_rg": [o.requires_grad for o in flat], "seen": seen}
    rng = np.random.default_rng(1)
    vs = [_random_like(m, o, rng) for o in outs]
    r["plain"] = [_np(g) for g in m.autograd.grad(outs, diff, vs, retain_graph=True, allow_unused=True)]
    gs = m.autograd.grad(outs, diff, vs, create_graph=True, allow_unused=True)
    if s.double is None:  # (only the nodes whose derivative a check runs count as reached)
        _walk(gs, seen)
    r["first"] = [_np(g) for g in gs]
    r["first_rg"] = [g is not None and g.requires_grad for g in gs]
    if s.double is None and any(r["first_rg"]):
        ws = [_random_like(m, g, rng) for g in gs if g is not None]
        terms = [(g * w).real.sum() if g.is_complex() else (g * w).sum() for g, w in zip([g for g in gs if g is not None], ws)
                 if g.requires_grad]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        ggs = m.autograd.grad(total, diff, allow_unused=True)
        r["second"] = [_np(g) for g in ggs]
    return r


@functools.cache
def _ember_run(name: str, k: int) -> dict:
    try:
        return _run(ember, name, k)
    except Exception as e:  # the torch test reports it; coverage counts what was reached before
        return {"error": e, "seen": set()}


def _close(a: Any, b: Any, what: str) -> None:
    if a is None and b is None:
        return
    a = np.zeros_like(b) if a is None else a
    b = np.zeros_like(a) if b is None else b
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    scale = float(np.max(np.abs(b), initial=0.0)) if np.isfinite(b).all() else 1.0
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * max(scale, 1.0), equal_nan=True, err_msg=what)


@pytest.mark.parametrize("name,k", _case_params("gradcheck"))
def test_gradcheck(name: str, k: int) -> None:
    s = BY_NAME[name]
    xs = _tensors(ember, name, k)
    assert gradcheck(lambda *a: s.fn(ember, *a), xs, eps=s.eps, atol=s.atol, rtol=s.rtol)


@pytest.mark.parametrize("name,k", _case_params("gradgradcheck"))
def test_gradgradcheck(name: str, k: int) -> None:
    s = BY_NAME[name]
    xs = _tensors(ember, name, k)
    assert gradgradcheck(lambda *a: s.fn(ember, *a), xs, eps=s.eps, atol=s.atol, rtol=s.rtol)


@pytest.mark.parametrize("name,k", _case_params("torch"))
def test_matches_torch(name: str, k: int) -> None:
    s = BY_NAME[name]
    e = _ember_run(name, k)
    if "error" in e:
        raise e["error"]
    t = _run(torch, name, k)
    assert e["out_rg"] == t["out_rg"], "which outputs require grad"
    if not s.random:
        for i, (a, b) in enumerate(zip(e["values"], t["values"])):
            _close(a, b, f"output {i}")
    for i, (a, b) in enumerate(zip(e["plain"], t["plain"])):
        _close(a, b, f"first gradient of input {i} (no create_graph)")
    for i, (a, b) in enumerate(zip(e["first"], t["first"])):
        _close(a, b, f"first gradient of input {i} (create_graph)")
    # (a side whose first gradients build no graph has second derivatives of zero)
    for i, (a, b) in enumerate(zip(e.get("second", [None] * len(e["first"])), t.get("second", [None] * len(t["first"])))):
        _close(a, b, f"second derivative, input {i}")


@pytest.mark.parametrize("name,k", _case_params("requires_grad"))
def test_first_gradient_requires_grad_as_torch(name: str, k: int) -> None:
    """Under create_graph, torch's first gradient requires grad when its backward formula reads an
    input that does (even where the derivative through it is zero): ember must agree, or a second
    derivative exists in one library and not the other."""
    e = _ember_run(name, k)
    if "error" in e:
        raise e["error"]
    assert e["first_rg"] == _run(torch, name, k)["first_rg"], "which first gradients require grad under create_graph"


def test_samples_are_well_formed() -> None:
    assert len(BY_NAME) == len(SAMPLES), "sample names must be unique"
    names = {c.__name__ for c in NODE_CLASSES}
    assert not set(EXEMPT) - names, f"EXEMPT names no node class: {sorted(set(EXEMPT) - names)}"


def test_every_node_class_is_reached() -> None:
    """Run every sample (cached: the torch comparison shares the runs) and walk its graphs."""
    seen: set = set()
    for name, k in CASES:
        seen |= _ember_run(name, k)["seen"]
    missing = sorted({f"{c.__name__} ({c.derivative.__module__})" for c in NODE_CLASSES
                      if c not in seen and c.__name__ not in EXEMPT})
    assert not missing, f"{len(missing)} node classes no sample reaches (add a sample or an EXEMPT reason): {missing}"

"""Every op of the op table in forward mode: its output tangent, from the op's ``jvp`` or derived
from its backward formula (ops/_forward.py), checked on every sample of ``op_samples``.

Two references, in float64: torch's forward AD on the same call, where torch implements it, and
always the adjoint identity with reverse mode, ``<w, J v> = <J^T w, v>`` (real part of the complex
inner products: torch's convention), whose ``J^T w`` comes from ember's backward, itself checked
against torch by ``test_op_table_grads``.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest
import torch

import ember
import ember.autograd.forward_ad as fwAD

from .op_samples import SAMPLES
from .test_op_table_grads import BY_NAME, _arrays, _flat

UNSUPPORTED = "Trying to use forward AD with"
# ember's forward derivative comes from its backward, which does not reach these cases
XFAIL = {
    "lu-1": "ember's linalg.lu derivative is for square matrices only (torch's covers any shape)",
    "lstm-0": "the derived tangent of the fused LSTM, differentiable, needs its third derivative, which ember lacks",
    "lstm-1": "the derived tangent of the fused LSTM, differentiable, needs its third derivative, which ember lacks",
}
# where torch's forward AD is wrong (ember's tangent agrees with central finite differences to 1e-10)
TORCH_WRONG = {
    "cholesky_inverse": "torch 2.13's jvp of cholesky_inverse differs from finite differences by ~5e-2",
    "scatter_reduce_prod": "torch 2.13 gives scatter_reduce(reduce='prod') no tangent at all",
}
# (sparse tensors carry no tangents; samplers differ between libraries)
CASES = [pytest.param(s.name, k, id=f"{s.name}-{k}",
                      marks=[pytest.mark.xfail(strict=True, reason=XFAIL[f"{s.name}-{k}"])] if f"{s.name}-{k}" in XFAIL else [])
         for s in SAMPLES for k in range(len(s.shapes)) if not s.random and not s.name.startswith("sparse")]


def _torch_unsupported(name: str, k: int) -> bool:
    try:
        _forward(torch, torch.autograd.forward_ad, name, k)
    except NotImplementedError as e:
        return UNSUPPORTED in str(e)
    return False


def _tangents(name: str, k: int) -> list:
    rng = np.random.default_rng(zlib.crc32(f"tangent/{name}/{k}".encode()))
    out = []
    for a, arg in zip(_arrays(name, k), BY_NAME[name].shapes[k]):
        if not arg.grad:
            out.append(None)
            continue
        v = rng.standard_normal(a.shape)
        out.append(v + 1j * rng.standard_normal(a.shape) if np.iscomplexobj(a) else v)
    return out


def _forward(m: Any, fw: Any, name: str, k: int) -> tuple:
    """The sample's outputs and their tangents (None where an output has none) in library ``m``."""
    s = BY_NAME[name]
    with fw.dual_level():
        xs = [m.tensor(a.copy(), requires_grad=arg.grad) if v is None
              else fw.make_dual(m.tensor(a.copy(), requires_grad=arg.grad), m.tensor(v))
              for a, v, arg in zip(_arrays(name, k), _tangents(name, k), s.shapes[k])]
        outs = _flat(s.fn(m, *xs))
        tans = [fw.unpack_dual(o).tangent for o in outs]
        return ([o.detach().numpy().copy() for o in outs],
                [None if t is None else t.detach().numpy().copy() for t in tans])


def _close(a: np.ndarray, b: np.ndarray, what: str) -> None:
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1.0)
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-7 * scale, err_msg=what)


@pytest.mark.parametrize("name,k", CASES)
def test_tangent_is_the_adjoint_of_the_gradient(name: str, k: int) -> None:
    s = BY_NAME[name]
    try:
        values, tans = _forward(ember, fwAD, name, k)
    except NotImplementedError as e:  # only where torch has no forward derivative either
        assert UNSUPPORTED in str(e) and _torch_unsupported(name, k), str(e)
        return
    vs = _tangents(name, k)
    xs = [ember.tensor(a.copy(), requires_grad=v is not None) for a, v in zip(_arrays(name, k), vs)]
    outs = _flat(s.fn(ember, *xs))
    diff = [x for x in xs if x.requires_grad]
    rng = np.random.default_rng(2)
    lhs, used = 0.0, []
    for o, t in zip(outs, tans):
        if not (o.is_floating_point() or o.is_complex()) or not o.requires_grad:
            continue
        assert t is not None, "a differentiable output without a tangent"
        w = rng.standard_normal(t.shape) + (1j * rng.standard_normal(t.shape) if np.iscomplexobj(t) else 0)
        lhs += float(np.real(np.vdot(w, t)))
        used.append((o, ember.tensor(w, dtype=o.dtype)))
    if not used:
        return
    gs = ember.autograd.grad([o for o, _ in used], diff, [w for _, w in used], allow_unused=True)
    rhs = sum(float(np.real(np.vdot(g.numpy(), v))) for g, v in zip(gs, [v for v in vs if v is not None])
              if g is not None)
    assert abs(lhs - rhs) <= 1e-7 * max(1.0, abs(lhs), abs(rhs)), f"<w, Jv> = {lhs} but <J^T w, v> = {rhs}"


@pytest.mark.parametrize("name,k", CASES)
def test_tangent_matches_torch(name: str, k: int) -> None:
    if name in TORCH_WRONG:
        pytest.skip(TORCH_WRONG[name])
    try:
        t_values, t_tans = _forward(torch, torch.autograd.forward_ad, name, k)
    except (NotImplementedError, RuntimeError) as e:
        pytest.skip(f"torch: {str(e)[:80]}")
    values, tans = _forward(ember, fwAD, name, k)  # (torch has it: so must ember)
    for i, (a, b) in enumerate(zip(tans, t_tans)):
        if b is None or a is None:
            assert (a is None or not np.any(a)) and (b is None or not np.any(b)), f"tangent {i}: one side has none"
            continue
        _close(a, b, f"tangent of output {i}")


@pytest.mark.parametrize("name,k", [c for c in CASES if BY_NAME[c.values[0]].double is None])
def test_forward_over_reverse_is_reverse_over_reverse(name: str, k: int) -> None:
    """The first gradient ``g = J^T w`` taken with dual inputs carries the tangent ``d g . v``
    (the backward formulas run on the duals); reverse over reverse gives the same number:
    ``<u, dg v> = <d<u, g>/dx, v>``."""
    s = BY_NAME[name]
    vs = _tangents(name, k)
    rng = np.random.default_rng(3)
    with fwAD.dual_level():
        xs = [ember.tensor(a.copy(), requires_grad=arg.grad) for a, arg in zip(_arrays(name, k), s.shapes[k])]
        duals = [x if v is None else fwAD.make_dual(x, ember.tensor(v)) for x, v in zip(xs, vs)]
        outs = [o for o in _flat(s.fn(ember, *duals)) if o.requires_grad]
        if not outs:
            return
        ws = [ember.tensor(rng.standard_normal(tuple(o.shape)) + (1j * rng.standard_normal(tuple(o.shape)) if o.is_complex() else 0),
                           dtype=o.dtype) for o in outs]
        diff = [d for d, v in zip(duals, vs) if v is not None]
        gs = ember.autograd.grad(outs, diff, ws, create_graph=True, allow_unused=True)
        lhs, terms = 0.0, []
        for g in gs:
            if g is None:
                continue
            u = rng.standard_normal(tuple(g.shape)) + (1j * rng.standard_normal(tuple(g.shape)) if g.is_complex() else 0)
            t = fwAD.unpack_dual(g).tangent
            if t is not None:
                lhs += float(np.real(np.vdot(u, t.detach().numpy())))
            if g.requires_grad:
                uu = ember.tensor(u, dtype=g.dtype)
                terms.append((g * uu.conj()).real.sum() if g.is_complex() else (g * uu).sum())
    rhs = 0.0
    if terms:
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        hs = ember.autograd.grad(total, [x for x, v in zip(xs, vs) if v is not None], allow_unused=True)
        rhs = sum(float(np.real(np.vdot(h.detach().numpy(), v))) for h, v in zip(hs, [v for v in vs if v is not None])
                  if h is not None)
    assert abs(lhs - rhs) <= 1e-6 * max(1.0, abs(lhs), abs(rhs)), f"<u, dg v> = {lhs} but <d<u,g>/dx, v> = {rhs}"

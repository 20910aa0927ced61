"""Run the same module in ember and torch with torch's weights copied in; compare everything (outputs,
parameter, input and buffer values through ``ember.testing.assert_close``, the one comparison)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import ember
from ember.testing import assert_close


def to_ember_state(sd: dict) -> dict:
    return {k: ember.tensor(v.detach().numpy().copy()) for k, v in sd.items()}


def ember_repr(r: str) -> str:
    return r.replace("ember.", "torch.")


def _outs(r: Any) -> list:
    if isinstance(r, (tuple, list)):
        out = []
        for x in r:
            out.extend(_outs(x))
        return out
    return [r] if r is not None else []


def compare_module(name: str, args: tuple = (), kwargs: dict | None = None, inputs: tuple = (), *,
                   rtol: float = 1e-4, atol: float = 1e-5, train: bool = True, grad_inputs: bool = True,
                   call_kwargs: dict | None = None, check_repr: bool = True, seed: int = 0) -> tuple:
    kwargs = kwargs or {}
    call_kwargs = call_kwargs or {}
    tm = getattr(torch.nn, name)(*args, **kwargs)
    em = getattr(ember.nn, name)(*args, **kwargs)
    if check_repr:
        assert ember_repr(repr(em)) == repr(tm), f"{repr(em)} != {repr(tm)}"
    em.load_state_dict(to_ember_state(tm.state_dict()))
    tm.train(train)
    em.train(train)
    tins, eins = [], []
    for a in inputs:
        if isinstance(a, np.ndarray):
            rg = grad_inputs and a.dtype.kind == "f"
            tins.append(torch.tensor(a, requires_grad=rg))
            eins.append(ember.tensor(a, requires_grad=rg))
        else:
            tins.append(a)
            eins.append(a)
    tout = _outs(tm(*tins, **call_kwargs))
    eout = _outs(em(*eins, **call_kwargs))
    assert len(tout) == len(eout)
    for i, (e, t) in enumerate(zip(eout, tout)):
        assert_close(e, t, rtol=rtol, atol=atol, msg=f"output {i}: ")
    rng = np.random.default_rng(seed)
    pairs = [(e, t) for e, t in zip(eout, tout) if t.requires_grad]
    if pairs:
        ups = [rng.standard_normal(tuple(t.shape)).astype(np.float32 if t.dtype == torch.float32 else np.float64)
               for _, t in pairs]
        tl = sum((t * torch.tensor(u)).sum() for (_, t), u in zip(pairs, ups))
        el = sum((e * ember.tensor(u)).sum() for (e, _), u in zip(pairs, ups))
        tl.backward()
        el.backward()
        for (n, tp), (n2, ep) in zip(tm.named_parameters(), em.named_parameters()):
            assert n == n2
            if tp.grad is None:
                assert ep.grad is None, n
                continue
            assert_close(ep.grad, tp.grad, rtol=rtol, atol=atol, msg=f"grad {n}: ")
        for i, (t, e) in enumerate(zip(tins, eins)):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                assert_close(e.grad, t.grad, rtol=rtol, atol=atol, msg=f"input grad {i}: ")
    for (n, tb), (_, eb) in zip(tm.named_buffers(), em.named_buffers()):
        assert_close(eb, tb, rtol=rtol, atol=atol, msg=f"buffer {n}: ")
    return em, tm

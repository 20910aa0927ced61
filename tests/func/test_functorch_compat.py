"""functorch's module API (make_functional, make_functional_with_buffers, combine_state_for_ensemble)
and ``import functorch`` under ``ember run``, against torch 2.13's functorch."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.func import _make_functional as emf

functorch = pytest.importorskip("functorch")

RNG = np.random.default_rng(0)


def _pair():
    """The same Linear -> BatchNorm1d -> Linear model in both libraries."""
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    em = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.Linear(4, 2))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, em


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*args, **kwargs)


def test_make_functional_with_buffers_matches_torch():
    tm, em = _pair()
    tf_, tp, tb = _quiet(functorch.make_functional_with_buffers, tm)
    ef_, ep, eb = _quiet(emf.make_functional_with_buffers, em)
    assert ef_.param_names == tf_.param_names and ef_.buffer_names == tf_.buffer_names
    assert repr(ef_) == repr(tf_).replace("torch.", "ember.")
    assert [p.requires_grad for p in ep] == [p.requires_grad for p in tp] == [True] * 6
    assert all(a is not b for a, b in zip(ep, em.parameters()))  # copies, not the model's own
    assert ef_.stateless_model[0].weight.is_meta
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    to, eo = tf_(tp, tb, torch.tensor(x)), ef_(ep, eb, ember.tensor(x))
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)
    # training-mode batch norm updates the buffers passed in (the model's own stay as they were)
    np.testing.assert_allclose(eb[0].numpy(), tb[0].numpy(), rtol=1e-5, atol=1e-7)
    assert int(eb[2]) == int(tb[2]) == 1 and int(em[1].num_batches_tracked) == 0
    to.sum().backward()
    eo.sum().backward()
    for a, b in zip(ep, tp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_make_functional_errors_flags_and_tied_weights():
    tm, em = _pair()
    with pytest.raises(RuntimeError) as te:
        _quiet(functorch.make_functional, tm)
    with pytest.raises(RuntimeError) as ee:
        _quiet(emf.make_functional, em)
    assert str(ee.value) == str(te.value)
    _, p = _quiet(emf.make_functional, ember.nn.Linear(2, 2), disable_autograd_tracking=True)
    _, tp = _quiet(functorch.make_functional, torch.nn.Linear(2, 2), disable_autograd_tracking=True)
    assert [q.requires_grad for q in p] == [q.requires_grad for q in tp] == [False, False]
    with pytest.warns(FutureWarning, match="functional_call"):
        emf.make_functional(ember.nn.Linear(2, 2))

    def tied(lib):
        class Tied(lib.nn.Module):  # one Linear reachable as .a and .b: its weights counted once
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(2, 2)
                self.b = self.a

            def forward(self, x):
                return self.b(self.a(x))

        return Tied()

    tfm, tw = _quiet(functorch.make_functional, tied(torch))
    efm, ew = _quiet(emf.make_functional, tied(ember))
    assert len(ew) == len(tw) == 2 and efm.param_names == tfm.param_names
    w = RNG.standard_normal((2, 2)).astype(np.float32)
    b = RNG.standard_normal(2).astype(np.float32)
    x = RNG.standard_normal((1, 2)).astype(np.float32)
    to = tfm((torch.tensor(w), torch.tensor(b)), torch.tensor(x))
    eo = efm((ember.tensor(w), ember.tensor(b)), ember.tensor(x))
    assert not eo.requires_grad and not to.requires_grad
    np.testing.assert_allclose(eo.numpy(), to.numpy(), rtol=1e-5, atol=1e-6)


def test_combine_state_for_ensemble_with_vmap_matches_torch():
    tms = [torch.nn.Linear(3, 2) for _ in range(4)]
    ems = [ember.nn.Linear(3, 2) for _ in range(4)]
    for t, e in zip(tms, ems):
        e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    tfm, tP, tB = _quiet(functorch.combine_state_for_ensemble, tms)
    efm, eP, eB = _quiet(emf.combine_state_for_ensemble, ems)
    assert [p.shape for p in eP] == [p.shape for p in tP] and eB == tB == ()
    assert [p.requires_grad for p in eP] == [p.requires_grad for p in tP]
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    to = torch.vmap(tfm, in_dims=(0, 0, None))(tP, tB, torch.tensor(x))
    eo = ember.func.vmap(efm, in_dims=(0, 0, None))(eP, eB, ember.tensor(x))
    np.testing.assert_allclose(eo.numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)
    for models, tmodels in (([], []), ([ember.nn.Linear(2, 3), ember.nn.Linear(2, 3).eval()],
                                         [torch.nn.Linear(2, 3), torch.nn.Linear(2, 3).eval()]),
                            ([ember.nn.Linear(2, 3), ember.nn.Conv1d(2, 3, 1)], [torch.nn.Linear(2, 3), torch.nn.Conv1d(2, 3, 1)])):
        with pytest.raises(RuntimeError) as te:
            _quiet(functorch.combine_state_for_ensemble, tmodels)
        with pytest.raises(RuntimeError) as ee:
            _quiet(emf.combine_state_for_ensemble, models)
        assert str(ee.value) == str(te.value)


SCRIPT = """
import warnings
warnings.simplefilter("ignore", FutureWarning)
import torch, functorch as ft
torch.manual_seed(0)
x, t = torch.randn(3), torch.randn(3)
print(ft.jvp(torch.sin, (x,), (t,)))
print(ft.vmap(ft.grad(lambda v: (v ** 3).sum()))(torch.arange(6.).reshape(2, 3)))
f, p = ft.make_functional(torch.nn.Linear(3, 1))
print(f)
"""


def test_import_functorch_under_ember_run(tmp_path):
    script = tmp_path / "uses_functorch.py"
    script.write_text(SCRIPT)
    torch_out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    res = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == torch_out
    # a functorch name ember lacks fails with the usual message
    script.write_text("import functorch\nfunctorch.make_fx\n")
    res = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], capture_output=True, text=True)
    assert res.returncode != 0 and "ember does not implement functorch.make_fx" in res.stderr

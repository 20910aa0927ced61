"""weight_norm and spectral_norm, both the parametrization API and the older hook API, against
torch: same seed gives the same buffers, values, gradients, training steps, keys and reprs."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from tests.oracle import check

import ember

from .test_parametrize import both


def _train(lib: Any, m: Any, x_shape: tuple, steps: int = 3) -> list:
    opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.5)
    x = lib.randn(*x_shape)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _repr(m: Any) -> str:
    return repr(m).replace("ember.", "torch.")


# ------------------------------------------------------------------ the weight-norm kernel
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
def test_weight_norm_kernel_matches_torch_to_second_order(dim: int) -> None:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((3, 4, 2))
    gshape = [1, 1, 1]
    if dim != -1:
        gshape[dim] = v.shape[dim]
    g = rng.standard_normal(gshape) if dim != -1 else rng.standard_normal(())

    from ember.nn.utils._weight_norm import _weight_norm

    def fn(lib: Any, v: Any, g: Any) -> Any:
        return (_weight_norm if lib is ember else torch._weight_norm)(v, g, dim)

    check(fn, v, g)  # values, grad_fn names, first derivatives

    def composite(lib: Any, v: Any, g: Any) -> Any:
        # torch's fused node (dims 0 and last) has a second derivative that fails torch's own
        # gradgradcheck; the reference for second order is torch's composite formula
        if lib is ember:
            return _weight_norm(v, g, dim)
        if dim == -1:
            return v * (g / v.norm())
        other = tuple(d for d in range(v.dim()) if d != dim % v.dim())
        return v * (g / v.norm(2, dim=other, keepdim=True))

    check(composite, v, g, second=True, check_names=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_weight_norm_kernel_gradcheck(dim: int) -> None:
    from ember.nn.utils._weight_norm import _weight_norm, norm_except_dim

    rng = np.random.default_rng(1)
    v = ember.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    g = norm_except_dim(v, 2, dim).detach().mul(1.5).requires_grad_(True)
    assert ember.autograd.gradcheck(lambda a, b: _weight_norm(a, b, dim), (v, g))
    assert ember.autograd.gradgradcheck(lambda a, b: _weight_norm(a, b, dim), (v, g))


# ------------------------------------------------------------------ parametrizations.weight_norm
@pytest.mark.parametrize("mod,args,dim,x", [
    ("Linear", (3, 4), 0, (5, 3)), ("Linear", (3, 4), 1, (5, 3)), ("Linear", (3, 4), None, (5, 3)),
    ("Conv2d", (2, 3, 2), 0, (1, 2, 4, 4)), ("Conv2d", (2, 3, 2), 1, (1, 2, 4, 4))])
def test_parametrized_weight_norm(mod: str, args: tuple, dim: Any, x: tuple) -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.parametrizations.weight_norm(getattr(lib.nn, mod)(*args), dim=dim)
        pl = m.parametrizations.weight
        w = m.weight
        return [_repr(m), list(m.state_dict()), pl.original0, pl.original1, w, w.grad_fn.name(),
                _train(lib, m, x), pl.original0.grad, pl.original1.grad, m.weight]

    both(run, rtol=1e-4, atol=1e-6)


def test_parametrized_weight_norm_remove() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 4))
        w = m.weight
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        return [w, m.weight, list(m.state_dict()), type(m).__name__]

    both(run)


# ------------------------------------------------------------------ parametrizations.spectral_norm
@pytest.mark.parametrize("mod,args,kw,x", [
    ("Linear", (3, 4), {}, (5, 3)), ("Linear", (6, 2), {"n_power_iterations": 3}, (5, 6)),
    ("Conv2d", (2, 3, 2), {}, (1, 2, 4, 4)), ("Conv2d", (2, 3, 2), {"dim": 1, "eps": 1e-6}, (1, 2, 4, 4)),
    ("ConvTranspose2d", (2, 3, 2), {}, (1, 2, 3, 3))])
def test_parametrized_spectral_norm(mod: str, args: tuple, kw: dict, x: tuple) -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.parametrizations.spectral_norm(getattr(lib.nn, mod)(*args), **kw)
        sn = m.parametrizations.weight[0]
        start = [sn._u.clone(), sn._v.clone()]
        w = m.weight
        losses = _train(lib, m, x)
        trained = [sn._u.clone(), sn._v.clone(), m.parametrizations.weight.original.grad]
        m.eval()
        u = sn._u.clone()
        w_eval = m.weight
        frozen = lib.equal(sn._u, u)  # no power iteration in eval mode
        return [_repr(m), list(m.state_dict()), [n for n, _ in m.named_buffers()], start, w, w.grad_fn.name(),
                losses, trained, w_eval, frozen]

    e, _ = both(run, rtol=1e-4, atol=1e-6)
    assert e[-1] is True


def test_parametrized_spectral_norm_1d_and_errors() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.randn(5))
        lib.nn.utils.parametrizations.spectral_norm(m)
        out = [m.weight, list(m.state_dict())]
        for fn in (lambda: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2),
                   lambda: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0),
                   lambda: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), "nope")):
            with pytest.raises(Exception) as info:
                fn()
            out.append((info.type.__name__, str(info.value).split("'")[0]))
        return out

    both(run)


# ------------------------------------------------------------------ the older hook API
def test_old_weight_norm() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            m = lib.nn.utils.weight_norm(lib.nn.Linear(3, 4))
        warn = [(w.category.__name__, str(w.message)) for w in ws]
        hooks = [type(h).__name__ for h in m._forward_pre_hooks.values()]
        w = m.weight
        out = [warn, hooks, _repr(m), list(m.state_dict()), m.weight_g, m.weight_v, w, w.grad_fn.name()]
        out += [_train(lib, m, (5, 3)), m.weight_g.grad, m.weight_v.grad]
        with pytest.raises(RuntimeError) as info:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lib.nn.utils.weight_norm(m)
        out.append(str(info.value))
        lib.nn.utils.remove_weight_norm(m)
        out += [list(m.state_dict()), m.weight, len(m._forward_pre_hooks)]
        with pytest.raises(ValueError) as info:
            lib.nn.utils.remove_weight_norm(m)
        out.append(str(info.value).replace("ember.", "torch."))
        return out

    both(run, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm_dims(dim: Any) -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = lib.nn.utils.weight_norm(lib.nn.Conv1d(2, 3, 3), dim=dim)
        return [m.weight_g, m.weight, m.weight.grad_fn.name(), _train(lib, m, (2, 2, 6)), m.weight_v.grad]

    both(run, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("mod,args,kw,x", [
    ("Linear", (3, 4), {}, (5, 3)), ("Conv2d", (2, 3, 2), {"n_power_iterations": 2}, (1, 2, 4, 4)),
    ("ConvTranspose2d", (2, 3, 2), {}, (1, 2, 3, 3))])
def test_old_spectral_norm(mod: str, args: tuple, kw: dict, x: tuple) -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.spectral_norm(getattr(lib.nn, mod)(*args), **kw)
        start = [m.weight_u.clone(), m.weight_v.clone(), m.weight, m.weight.grad_fn]
        losses = _train(lib, m, x)
        out = [_repr(m), list(m.state_dict()), start, losses, m.weight_u, m.weight_v, m.weight_orig.grad,
               m.weight, m.weight.grad_fn.name()]
        m.eval()
        u = m.weight_u.clone()
        m(lib.randn(*x))
        out += [lib.equal(u, m.weight_u), m.weight]
        lib.nn.utils.remove_spectral_norm(m)
        out += [list(m.state_dict()), m.weight, isinstance(m.weight, lib.nn.Parameter)]
        for fn in (lambda: lib.nn.utils.remove_spectral_norm(m),
                   lambda: lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))),
                   lambda: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)):
            with pytest.raises(Exception) as info:
                fn()
            out.append((info.type.__name__, str(info.value).split(" in ")[0]))
        return out

    both(run, rtol=1e-4, atol=1e-6)


def test_old_spectral_norm_state_dict_roundtrip() -> None:
    torch.manual_seed(0)
    tm = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 4))
    tm(torch.randn(2, 3))
    em = ember.nn.utils.spectral_norm(ember.nn.Linear(3, 4))
    em.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in tm.state_dict().items()})
    tm.eval()
    em.eval()
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)



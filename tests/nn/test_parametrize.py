"""nn.utils.parametrize and parametrizations.orthogonal against torch: same seed, same values,
gradients, training steps, reprs, state_dict keys and errors."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember


def _np(x: Any) -> Any:
    if hasattr(x, "detach"):
        return x.detach().numpy()
    if isinstance(x, (list, tuple)):
        return [_np(v) for v in x]
    return x


def both(fn: Callable, rtol: float = 1e-5, atol: float = 1e-6) -> tuple:
    """Run ``fn(lib)`` on torch and on ember (same seed) and compare the returned values."""
    t = fn(torch)
    e = fn(ember)
    _compare(e, t, rtol, atol)
    return e, t


def _compare(e: Any, t: Any, rtol: float, atol: float) -> None:
    if isinstance(t, (list, tuple)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            _compare(a, b, rtol, atol)
    elif hasattr(t, "detach"):
        assert tuple(e.shape) == tuple(t.shape)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol)
    elif isinstance(t, float):
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol)
    else:
        assert e == t, f"{e!r} != {t!r}"


def _sym(lib: Any) -> Any:
    class Sym(lib.nn.Module):
        def forward(self, X: Any) -> Any:
            return X.triu() + X.triu(1).T

        def right_inverse(self, A: Any) -> Any:
            return A.triu()

    return Sym()


def _rank_one(lib: Any) -> Any:
    class RankOne(lib.nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z: Any) -> Any:
            return Z[:, 0], Z[0, :]

    return RankOne()


def _reprs_equal(e: Any, t: Any) -> None:
    assert repr(e).replace("ember.", "torch.") == repr(t)


def test_register_repr_keys_class_and_identity() -> None:
    out = {}
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 4)
        w = m.weight
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _sym(lib))
        out[lib] = m
        assert type(m).__name__ == "ParametrizedLinear"
        assert type(m).__bases__ == (lib.nn.Linear,)
        assert m.parametrizations.weight.original is w  # optimizers keep working
        assert lib.nn.utils.parametrize.type_before_parametrizations(m) is lib.nn.Linear
        assert lib.nn.utils.parametrize.is_parametrized(m)
        assert lib.nn.utils.parametrize.is_parametrized(m, "weight")
        assert not lib.nn.utils.parametrize.is_parametrized(m, "bias")
        assert not lib.nn.utils.parametrize.is_parametrized(lib.nn.Linear(2, 2))
    e, t = out[ember], out[torch]
    _reprs_equal(e, t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    np.testing.assert_allclose(_np(e.weight), _np(t.weight), rtol=1e-6)
    assert e.weight.grad_fn.name() == t.weight.grad_fn.name()


def test_gradients_reach_original_and_training_matches() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        lib.nn.utils.parametrize.register_parametrization(m[0], "weight", _sym(lib))
        opt = lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        x = lib.randn(8, 4)
        y = lib.randn(8, 2)
        losses = []
        for _ in range(4):
            opt.zero_grad()
            loss = (m(x) - y).pow(2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        orig = m[0].parametrizations.weight.original
        return [losses, orig, orig.grad, m[0].weight]

    e, _ = both(run)
    w = e[3].detach().numpy()
    np.testing.assert_allclose(w, w.T)  # still symmetric


def test_chained_parametrizations_and_cached() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        P = lib.nn.utils.parametrize
        m = lib.nn.Linear(3, 3)
        P.register_parametrization(m, "weight", _sym(lib))
        P.register_parametrization(m, "weight", lib.nn.Tanh())
        w = m.weight
        with P.cached():
            same = m.weight is m.weight
        different = m.weight is not m.weight
        m(lib.ones(2, 3)).sum().backward()
        return [w, w.grad_fn.name(), len(m.parametrizations.weight), same, different,
                m.parametrizations.weight.original.grad]

    e, t = both(run)
    assert e[1] == "TanhBackward0"


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations_leave_parametrized(leave: bool) -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        P = lib.nn.utils.parametrize
        m = lib.nn.Linear(3, 3)
        orig = m.weight
        P.register_parametrization(m, "weight", _sym(lib))
        P.remove_parametrizations(m, "weight", leave_parametrized=leave)
        return [type(m).__name__, hasattr(m, "parametrizations"), list(m.state_dict()), m.weight,
                m.weight is orig, isinstance(m.weight, lib.nn.Parameter)]

    both(run)


def test_right_inverse_several_tensors_and_assignment() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        P = lib.nn.utils.parametrize
        m = lib.nn.Linear(4, 4)
        P.register_parametrization(m, "weight", _rank_one(lib), unsafe=True)
        keys = list(m.state_dict())
        w0 = m.weight
        m.weight = lib.arange(16.0).reshape(4, 4) + 1
        o0, o1 = m.parametrizations.weight.original0, m.parametrizations.weight.original1
        rg = (o0.requires_grad, isinstance(o0, lib.nn.Parameter))
        m(lib.ones(1, 4)).sum().backward()
        P.remove_parametrizations(m, "weight")
        return [keys, w0, o0, o1, rg, o0.grad, o1.grad, m.weight, list(m.state_dict())]

    both(run)


def test_assignment_through_right_inverse_keeps_identity() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 3)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _sym(lib))
        orig = m.parametrizations.weight.original
        m.weight = lib.ones(3, 3) * 2
        return [orig is m.parametrizations.weight.original, orig, m.weight]

    both(run)


def test_buffer_parametrization() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.BatchNorm1d(3)
        lib.nn.utils.parametrize.register_parametrization(m, "running_var", lib.nn.Softplus())
        return [list(m.state_dict()), m.running_var, [n for n, _ in m.named_buffers()]]

    both(run)


def test_transfer_parametrizations_and_params() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        P = lib.nn.utils.parametrize
        a = lib.nn.Linear(3, 3)
        P.register_parametrization(a, "weight", _sym(lib))
        b = lib.nn.Linear(3, 3)
        P.transfer_parametrizations_and_params(a, b)
        return [list(b.state_dict()), b.weight, b.parametrizations.weight.original is a.parametrizations.weight.original]

    both(run)


def _errors(lib: Any) -> list:
    P = lib.nn.utils.parametrize
    out = []

    class Bad(lib.nn.Module):
        def forward(self, x: Any) -> Any:
            return x[0]

    class ToDouble(lib.nn.Module):
        def forward(self, x: Any) -> Any:
            return x.double()

    class NoInv(lib.nn.Module):
        def forward(self, x: Any) -> Any:
            return x * 2

    class ReturnsInt(lib.nn.Module):
        def forward(self, x: Any) -> Any:
            return x

        def right_inverse(self, x: Any) -> Any:
            return 3

    cases = [
        lambda: P.register_parametrization(lib.nn.Linear(2, 2), "foo", lib.nn.Identity()),
        lambda: P.register_parametrization(lib.nn.Linear(2, 2), "weight", Bad()),
        lambda: P.register_parametrization(lib.nn.Linear(2, 2), "weight", ToDouble()),
        lambda: P.register_parametrization(lib.nn.Linear(2, 2), "weight", ReturnsInt()),
        lambda: P.remove_parametrizations(lib.nn.Linear(2, 2), "weight"),
        lambda: P.ParametrizationList([], lib.ones(2)),
    ]
    m = lib.nn.Linear(2, 2)
    P.register_parametrization(m, "weight", NoInv())
    cases.append(lambda: setattr(m, "weight", lib.ones(2, 2)))
    m2 = lib.nn.Linear(2, 2)
    P.register_parametrization(m2, "weight", _rank_one(lib), unsafe=True)
    cases.append(lambda: P.remove_parametrizations(m2, "weight", leave_parametrized=False))
    cases.append(lambda: P.register_parametrization(m2, "weight", Bad()))
    for case in cases:
        with pytest.raises(Exception) as info:
            case()
        out.append((info.type.__name__, str(info.value).replace("ember.", "torch.")))
    return out


def test_errors_match_torch() -> None:
    e, t = _errors(ember), _errors(torch)
    for (et, em), (tt, tm) in zip(e, t):
        assert et == tt, (em, tm)
        if "Module '" in tm or "Module P" in tm:
            continue  # the message embeds the module's repr, compared elsewhere
        assert em == tm


def test_pickling_a_parametrized_module_raises() -> None:
    import pickle

    m = ember.nn.Linear(2, 2)
    ember.nn.utils.parametrize.register_parametrization(m, "weight", ember.nn.Identity())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_load_state_dict_roundtrip_from_torch() -> None:
    torch.manual_seed(0)
    tm = torch.nn.Linear(3, 3)
    torch.nn.utils.parametrize.register_parametrization(tm, "weight", _sym(torch))
    em = ember.nn.Linear(3, 3)
    ember.nn.utils.parametrize.register_parametrization(em, "weight", _sym(ember))
    em.load_state_dict({k: ember.tensor(v.numpy().copy()) for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(_np(em.weight), _np(tm.weight), rtol=1e-6)


# ------------------------------------------------------------------ orthogonal
ORTH = [((3, 3), None, True), ((3, 3), "cayley", True), ((3, 3), "householder", True), ((5, 3), None, True),
        ((3, 5), None, True), ((5, 3), "matrix_exp", True), ((3, 5), "cayley", True),
        ((4, 3), "householder", False), ((3, 4), "householder", False), ((3, 3), "householder", False)]


@pytest.mark.parametrize("shape,orth_map,triv", ORTH)
def test_orthogonal_matches_torch(shape: tuple, orth_map: str | None, triv: bool) -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.Linear(shape[1], shape[0])
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orth_map, use_trivialization=triv)
        w = m.weight
        keys = list(m.state_dict())
        opt = lib.optim.SGD(m.parameters(), lr=0.05)
        x = lib.randn(6, shape[1])
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = m(x).pow(2).sum()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return [keys, w, w.grad_fn.name(), m.parametrizations.weight.original, losses, m.weight]

    e, t = both(run, rtol=1e-4, atol=1e-5)
    _reprs_equal(ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(2, 2)),
                 torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(2, 2)))
    q = e[5].detach().numpy().astype(np.float64)
    k = min(shape)
    gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(k), atol=1e-5)


def test_orthogonal_batched_and_double() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.randn(2, 4, 3, dtype=lib.float64))
        lib.nn.utils.parametrizations.orthogonal(m, "weight")
        w = m.weight
        w.sum().backward()
        return [w, m.parametrizations.weight.original.grad]

    both(run, rtol=1e-9, atol=1e-10)


def test_orthogonal_assignment_and_errors() -> None:
    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3))
        q = lib.linalg.qr(lib.randn(3, 3))[0]
        m.weight = q
        res = [m.weight]
        for fn in (lambda: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="foo"),
                   lambda: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), "bias"),
                   lambda: setattr(lib.nn.utils.parametrizations.orthogonal(
                       lib.nn.Linear(3, 3), use_trivialization=False), "weight", lib.eye(3)),
                   lambda: setattr(m, "weight", lib.eye(2))):
            with pytest.raises(Exception) as info:
                fn()
            res.append((info.type.__name__, str(info.value).replace("ember.", "torch.")))
        return res

    both(run)


def test_deepcopy_and_averaged_model_of_parametrized_module() -> None:
    import copy

    def run(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 4))
        c = copy.deepcopy(m)
        a = lib.optim.swa_utils.AveragedModel(lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 2)))
        return [type(c).__name__, c.weight, c.parametrizations.weight.original is m.parametrizations.weight.original,
                repr(a).replace("ember.", "torch."), list(a.state_dict())]

    both(run)


def test_assigning_a_parameter_to_a_parametrized_name_raises() -> None:
    out = []
    for lib in (torch, ember):
        m = lib.nn.Linear(2, 2)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", lib.nn.Identity())
        with pytest.raises(KeyError) as info:
            m.weight = lib.nn.Parameter(lib.ones(2, 2))
        out.append(str(info.value))
    assert out[0] == out[1]

"""Forward-mode AD (ember.autograd.forward_ad) against torch's, in float64: the API and its errors,
views and in-place ops on dual tensors, grad modes, composition with reverse mode (forward over
reverse, reverse over forward), the transforms built on it (func.jvp/jacfwd/hessian,
functional.jacobian(strategy="forward-mode"), gradcheck(check_forward_ad=True)) and printing.
The op table's tangents, op by op, are checked in test_forward_ad_op_table.py.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember
import ember.autograd.forward_ad as fwAD

LIBS = (ember, torch)
X = np.array([[0.3, -1.2, 0.7], [1.5, 0.1, -0.4]])
V = np.array([[1.0, 0.5, -0.3], [0.2, -1.1, 0.8]])


def _t(m: Any, a: Any, **kw: Any) -> Any:
    return m.tensor(np.array(a, dtype=np.float64), **kw)


def _np(t: Any) -> Any:
    return None if t is None else t.detach().numpy().copy()


def _both(fn: Callable) -> tuple:
    """fn(m, fw) run in ember and in torch: results as NumPy (tensors) or as they are."""
    out = []
    for m in LIBS:
        r = fn(m, m.autograd.forward_ad)
        out.append([_np(x) if hasattr(x, "detach") or x is None else x for x in (r if isinstance(r, (list, tuple)) else [r])])
    return out[0], out[1]


def _same(fn: Callable) -> None:
    e, t = _both(fn)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        if b is None or a is None:
            assert a is None and b is None
        elif isinstance(b, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        else:
            assert a == b


def _error(fn: Callable) -> None:
    """fn(m, fw) raises the same exception type and message in both libraries."""
    got = []
    for m in LIBS:
        with pytest.raises(Exception) as info:
            fn(m, m.autograd.forward_ad)
        got.append((type(info.value), str(info.value).replace("torch.", "ember.")))
    assert got[0] == got[1]


# ----------------------------------------------------------------------------- the API
def test_api_names_and_level_numbers() -> None:
    assert fwAD.__all__ == torch.autograd.forward_ad.__all__
    assert fwAD.UnpackedDualTensor._fields == ("primal", "tangent")
    assert ember.autograd.forward_ad is fwAD
    _same(lambda m, fw: [fw.enter_dual_level(), fw.exit_dual_level()][:1])
    with fwAD.dual_level() as lvl:
        assert lvl == 0


@pytest.mark.parametrize("case", [
    lambda m, fw: fw.make_dual(_t(m, X), _t(m, V)),  # no level
    lambda m, fw: fw.exit_dual_level(),  # no level to exit
])
def test_errors_outside_a_level(case: Callable) -> None:
    _error(case)


@pytest.mark.parametrize("case", [
    lambda m, fw: fw.make_dual(_t(m, X), _t(m, V[0])),  # shape
    lambda m, fw: fw.make_dual(m.arange(3), m.arange(3)),  # integer primal
    lambda m, fw: fw.make_dual(_t(m, X[0]), m.arange(3)),  # integer tangent
    lambda m, fw: fw.make_dual(fw.make_dual(_t(m, X), _t(m, V)), _t(m, V)),  # already dual
    lambda m, fw: fw.make_dual(_t(m, X), _t(m, V), level=3),
    lambda m, fw: fw.enter_dual_level(),  # nested
    lambda m, fw: fw.exit_dual_level(level=4),
    lambda m, fw: m.exp(fw.make_dual(_t(m, X), _t(m, V)), out=m.zeros(2, 3, dtype=m.float64)),  # out=
    lambda m, fw: m.add(_t(m, X), 1, out=fw.make_dual(_t(m, X), _t(m, V))),
])
def test_errors_inside_a_level(case: Callable) -> None:
    def inside(m: Any, fw: Any) -> Any:
        with fw.dual_level():
            case(m, fw)

    _error(inside)


def test_tangent_kept_as_given_and_dropped_at_exit() -> None:
    def fn(m: Any, fw: Any) -> list:
        x, v = _t(m, X), _t(m, V).float()
        with fw.dual_level():
            d = fw.make_dual(x, v)
            u = fw.unpack_dual(d)
            y = d.sin()
            inside = [u.tangent is v, str(u.tangent.dtype).split(".")[1], u.primal is x, fw.unpack_dual(x).tangent]
        return inside + [fw.unpack_dual(y).tangent, fw.unpack_dual(d).tangent, fw.unpack_dual(y).primal]

    _same(fn)


def test_tangent_of_another_layout_is_copied_to_the_primal_layout() -> None:
    def fn(m: Any, fw: Any) -> list:
        v = _t(m, V.T.copy()).t()  # (transposed strides)
        with fw.dual_level():
            t = fw.unpack_dual(fw.make_dual(_t(m, X), v)).tangent
            return [t is v, t.is_contiguous(), t]

    _same(fn)


def test_printing_a_dual_tensor() -> None:
    def fn(m: Any, fw: Any) -> list:
        with fw.dual_level():
            return [repr(fw.make_dual(m.tensor(2.0, dtype=m.float64), m.tensor(1.0, dtype=m.float64))),
                    str(fw.make_dual(_t(m, X[0]), _t(m, V[0])) * 2), str(fw.make_dual(_t(m, X[0]), _t(m, V[0])))]

    e, t = _both(fn)
    assert e == [s.replace("torch", "ember") for s in t]


# ----------------------------------------------------------------------------- views, in-place, modes
def test_the_tangent_of_a_view_is_the_view_of_the_tangent() -> None:
    with fwAD.dual_level():
        d = fwAD.make_dual(_t(ember, X), _t(ember, V))
        base = fwAD.unpack_dual(d).tangent
        for view in (d[1], d[:, 1:], d.t(), d.view(3, 2), d.unsqueeze(0), d.transpose(0, 1)[2], d.diagonal(),
                     d.expand(4, 2, 3), d.unbind(1)[0], d.split(2, 1)[1]):
            assert np.shares_memory(fwAD.unpack_dual(view).tangent.numpy(), base.numpy())


def test_in_place_ops_on_duals() -> None:
    def fn(m: Any, fw: Any) -> list:
        out = []
        with fw.dual_level():
            d = fw.make_dual(_t(m, X), _t(m, V))
            a = m.zeros(2, 3, dtype=m.float64)
            a.mul_(2)
            a.add_(d)
            out.append(fw.unpack_dual(a).tangent)
            b = m.zeros(3, 3, dtype=m.float64)
            b[1:].add_(d)  # through a view: the base's tangent sees it
            out.append(fw.unpack_dual(b).tangent)
            e = d.clone()
            e.mul_(d)
            e.exp_()
            out.append(fw.unpack_dual(e).tangent)
            z = m.zeros(2, 3, dtype=m.float64)
            z.copy_(d)
            z[0] = d[1] * 5
            z[1, 1:] = 3.0
            out.append(fw.unpack_dual(z).tangent)
            f = d * 1.0
            f[0].zero_()
            out.append(fw.unpack_dual(f).tangent)
            g = d * 1.0
            g.t_()
            out.append(fw.unpack_dual(g).tangent)
            h = d + 1  # (its tangent is d's value: the in-place write must not reach d's)
            h.mul_(2)
            out += [fw.unpack_dual(h).tangent, fw.unpack_dual(d).tangent]
            with m.no_grad():
                c = m.zeros(2, 3, dtype=m.float64)
                c += d
                w = m.zeros(3, 3, dtype=m.float64)
                w[1:] = d * 2
                out += [fw.unpack_dual(c).tangent, fw.unpack_dual(w).tangent]
        return out

    _same(fn)


def test_detach_drops_the_tangent_and_no_grad_keeps_forward_mode() -> None:
    def fn(m: Any, fw: Any) -> list:
        with fw.dual_level():
            d = fw.make_dual(_t(m, X, requires_grad=True), _t(m, V))
            with m.no_grad():
                y = (d.exp() * d).sum(1)
            return [fw.unpack_dual(d.detach()).tangent, fw.unpack_dual(y).tangent, y.requires_grad,
                    fw.unpack_dual(d.detach().sin()).tangent]

    _same(fn)


def test_ops_without_a_forward_derivative_raise_torchs_error() -> None:
    def fn(m: Any, fw: Any) -> Any:
        with fw.dual_level():
            d = fw.make_dual(_t(m, X), _t(m, V))
            return m.nn.functional.multi_margin_loss(d, m.tensor([0, 2]))

    _error(fn)


def test_custom_function_jvp() -> None:
    def fn(m: Any, fw: Any) -> list:
        class Double(m.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 2

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                return g * 2

        class WithJvp(Double):
            @staticmethod
            def jvp(ctx: Any, t: Any) -> Any:
                return t * 2

        with fw.dual_level():
            d = fw.make_dual(_t(m, X), _t(m, V))
            try:
                Double.apply(d)
            except NotImplementedError as e:
                err = str(e)
            return [err, fw.unpack_dual(WithJvp.apply(d)).tangent]

    _same(fn)


# ----------------------------------------------------------------------------- composition with reverse mode
def _loss(x: Any) -> Any:
    return ((x.tanh() * x.exp()).sum(1) ** 2).sum() + x.softmax(1)[:, 0].log().sum()


def test_forward_over_reverse_is_the_hessian_vector_product() -> None:
    def fn(m: Any, fw: Any) -> list:
        with fw.dual_level():
            d = fw.make_dual(_t(m, X, requires_grad=True), _t(m, V))
            (g,) = m.autograd.grad(_loss(d), d)  # (no create_graph: the formulas still run on duals)
            (g2,) = m.autograd.grad(_loss(d), d, create_graph=True)
            return [g, fw.unpack_dual(g).tangent, fw.unpack_dual(g2).tangent]

    _same(fn)


def test_reverse_over_forward() -> None:
    def fn(m: Any, fw: Any) -> list:
        x = _t(m, X, requires_grad=True)
        with fw.dual_level():  # (torch refuses exp here: its tangent formula writes exp's output in place)
            jv = fw.unpack_dual((((d := fw.make_dual(x, _t(m, V))).tanh() * d.sin()).sum(1) ** 2).sum()).tangent
        return list(m.autograd.grad(jv, x))

    _same(fn)


def test_func_transforms() -> None:
    def fn(m: Any, fw: Any) -> list:
        f = m.func
        x, v = _t(m, X), _t(m, V)
        out, jv = f.jvp(lambda a: a.sin() * a, (x,), (v,))
        _, hv = f.jvp(f.grad(_loss), (x,), (v,))
        jac = f.jacfwd(lambda a, b: (a * b).cos(), argnums=(0, 1))(x[0], v[0])
        hess = f.jacfwd(f.jacfwd(lambda a: (a ** 3).sum() * a[0]))(x[0])
        aux = f.jvp(lambda a: (a.exp(), a.sum()), (x,), (v,), has_aux=True)
        return [out, jv, hv, *jac, hess, f.hessian(_loss)(x[0:1]), *aux]

    _same(fn)


def test_functional_jacobian_forward_mode() -> None:
    def fn(m: Any, fw: Any) -> list:
        x, y = _t(m, X[0]), _t(m, V[0])
        F = m.autograd.functional
        j1 = F.jacobian(lambda a, b: (a.sin() * b, (a * b).sum()), (x, y), strategy="forward-mode", vectorize=True)
        j2 = F.jacobian(lambda a: a.exp(), x, strategy="forward-mode", vectorize=True)
        h = F.hessian(lambda a: (a.sin() * a).sum() * a.exp().sum(), x, outer_jacobian_strategy="forward-mode",
                      vectorize=True)
        return [type(j1).__name__, type(j1[0]).__name__, *j1[0], *j1[1], j2, h]

    _same(fn)


@pytest.mark.parametrize("kw", [{}, {"vectorize": True, "create_graph": True}, {"vectorize": True, "strict": True},
                                {"strategy": "sideways"}])
def test_functional_jacobian_forward_mode_errors(kw: dict) -> None:
    kw = {"strategy": "forward-mode", **kw}
    _error(lambda m, fw: m.autograd.functional.jacobian(lambda a: a.exp(), _t(m, X[0]), **kw))


def test_gradcheck_checks_forward_mode() -> None:
    x = _t(ember, X, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: _loss(a).reshape(1) * a, (x,), check_forward_ad=True)
    z = ember.tensor([1 + 2j, -0.5 + 1j], requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: (a * a.conj()).real * a.exp(), (z,), check_forward_ad=True,
                                    check_backward_ad=False)

    class WrongJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            return a * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 2

        @staticmethod
        def jvp(ctx: Any, t: Any) -> Any:
            return t * 3

    assert ember.autograd.gradcheck(WrongJvp.apply, (x,))
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian computed with forward mode mismatch for output 0"):
        ember.autograd.gradcheck(WrongJvp.apply, (x,), check_forward_ad=True)
    with pytest.raises(AssertionError, match="Expected at least one of check_forward_ad or check_backward_ad"):
        ember.autograd.gradcheck(WrongJvp.apply, (x,), check_backward_ad=False)


def test_cholesky_inverse_tangent_is_the_finite_difference() -> None:
    """Where ember's tangent and torch 2.13's differ (test_forward_ad_op_table.TORCH_WRONG): ember's is right."""
    a = np.array([[2.0, 0.0, 0.0], [0.3, 1.5, 0.0], [-0.2, 0.4, 1.1]])
    v = np.tril(np.array([[0.5, 0.0, 0.0], [-0.3, 0.8, 0.0], [0.6, 0.1, -0.7]]))
    with fwAD.dual_level():
        t = fwAD.unpack_dual(ember.cholesky_inverse(fwAD.make_dual(_t(ember, a), _t(ember, v)))).tangent.numpy()
    inv = lambda L: np.linalg.inv(L @ L.T)  # noqa: E731
    h = 1e-6
    np.testing.assert_allclose(t, (inv(a + h * v) - inv(a - h * v)) / (2 * h), atol=1e-8)


def test_no_level_no_cost_flag() -> None:
    from ember.autograd._forward_levels import fw

    assert not fw.on
    with fwAD.dual_level():
        assert fw.on
    assert not fw.on


def test_explain_shows_the_tangents_of_a_backward_on_duals() -> None:
    import io

    from ember.autograd.explain import explain

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    out = io.StringIO()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ember.tensor([1.0, 0.0]))
        (g,) = explain((d * d * d).sum(), [x], file=out)
    text = out.getvalue()
    assert "backward of output = tensor(9.)  [tangent: tensor(3.)]" in text  # d/de (x + e v)^3 summed
    assert text.rstrip().endswith("= tensor([ 3., 12.])  [tangent: tensor([6., 0.])]")  # 3x^2 and H v = 6 x v
    with fwAD.dual_level():
        pass
    assert "tangent" not in str(g)

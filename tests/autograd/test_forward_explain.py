"""autograd.explain_forward: forward mode narrated step by step, its tangent checked against torch.func.jvp."""

import io

import pytest
import torch

import ember


def _f(L, x, w):
    return (L.tanh(w @ x).sin() * x.sum()).log_softmax(0)


def test_tangent_matches_torch_func_jvp():
    x, w, v = torch.randn(3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    tv, tt = torch.func.jvp(lambda a: _f(torch, a, w), (x,), (v,))
    ew = ember.tensor(w.numpy())
    ev, et = ember.autograd.explain_forward(lambda a: _f(ember, a, ew), ember.tensor(x.numpy()), ember.tensor(v.numpy()),
                                            file=io.StringIO())
    assert ev.numpy() == pytest.approx(tv.numpy(), abs=1e-12)
    assert et.numpy() == pytest.approx(tt.numpy(), abs=1e-12)


def test_each_op_is_a_step_with_its_rule_and_tangents():
    x, dx = ember.tensor([1.0, 2.0]), ember.tensor([1.0, 0.0])
    buf = io.StringIO()

    def f(a):
        return (a.sin() * a).sum()

    y, dy = ember.autograd.explain_forward(f, x, dx, file=buf)
    text = buf.getvalue()
    # d/dt sum(sin(x + t dx) * (x + t dx)) at t=0 = (cos(1) * 1 + sin(1)) * 1 (maths)
    assert dy.item() == pytest.approx(0.5403023 + 0.8414710, abs=1e-6)
    assert "x = tensor([1., 2.]), tangent dx = tensor([1., 0.])" in text
    steps = [line for line in text.splitlines() if line.startswith("step ")]
    assert steps == ["step 1: sin", "step 2: mul", "step 3: sum"]
    assert "rule: d sin(a) = cos(a) * da" in text and "rule: d(a * b) = da * b + a * db" in text
    assert "tangent of x: tensor([1., 0.])" in text
    assert text.rstrip().splitlines()[-1].startswith("  f = tensor(2.6601), tangent = tensor(1.3818)")


def test_ops_without_a_worded_rule_name_where_their_rule_comes_from():
    buf = io.StringIO()
    ember.autograd.explain_forward(lambda a: a.cumsum(0), ember.tensor([1.0, 2.0]), ember.tensor([1.0, 1.0]), file=buf)
    assert "step 1: cumsum" in buf.getvalue()
    assert "rule: derived from its backward rule" in buf.getvalue() or "rule: its own forward rule" in buf.getvalue()


def test_one_tangent_per_input():
    with pytest.raises(RuntimeError, match="one tangent per input"):
        ember.autograd.explain_forward(lambda a, b: a * b, (ember.ones(2), ember.ones(2)), (ember.ones(2),),
                                       file=io.StringIO())

"""In-place arithmetic written straight into the tensor's array (no graph to record): results,
versions, views and errors as torch has them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

OPS = ["__iadd__", "__isub__", "__imul__", "__itruediv__", "add_", "sub_", "mul_", "div_"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("other", ["tensor", 0.5, 3])
def test_update_under_no_grad(op, other):
    res = {}
    for lib in (ember, torch):
        p = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = p.detach()[0]  # a view sharing p's memory
        o = lib.tensor([[0.5, -1.0], [2.0, 0.25]]) if other == "tensor" else other
        before = p._version
        with lib.no_grad():
            q = getattr(p, op)(o)
        assert q is p and p.requires_grad and p.grad_fn is None
        res[lib.__name__] = (p.detach().numpy().copy(), v.numpy().copy(), p._version - before)
    for a, b in zip(res["ember"], res["torch"]):
        np.testing.assert_array_equal(a, b)


def test_plain_tensors_in_grad_mode_and_errors():
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0])
        x += lib.tensor([1.0, 1.0])
        x *= 2
        assert x.tolist() == [4.0, 6.0] and x._version == 2
        leaf = lib.tensor([1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            leaf += 1
        i = lib.tensor([1, 2])
        with pytest.raises(RuntimeError, match="result type Float can't be cast"):
            i += 0.5
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            x += lib.ones(2, 2)


def test_recorded_when_other_requires_grad():
    for lib in (ember, torch):
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        x = lib.tensor([1.0, 1.0])
        x *= w
        assert type(x.grad_fn).__name__ == "MulBackward0"
        x.sum().backward()
        assert w.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("op", ["exp_", "sigmoid_", "tanh_", "relu_", "sqrt_"])
def test_inplace_op_that_saves_its_output(op):
    # the saved output is the tensor itself: using it is fine, changing it again is caught
    msgs, grads = [], []
    for lib in (ember, torch):
        a = lib.tensor([0.5, 1.5], requires_grad=True)
        x = a.clone()
        getattr(x, op)()
        (x * x).sum().backward()
        grads.append(a.grad.numpy())
        x = a.clone()
        getattr(x, op)()
        x.add_(1)
        with pytest.raises(RuntimeError) as err:
            x.sum().backward()
        msgs.append(str(err.value).split(" Hint:")[0].replace("torch.", "ember."))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert msgs[0] == msgs[1]

"""Each op's derivative is written once (issue 13): no NumPy twin beside a formula, no derivative
that switches to another implementation under create_graph=True.

A plain backward and create_graph=True run the same formula: on arrays or Tensors (formulas in
ops/_grad_math's vocabulary, marked on_arrays), or through an op of its own whose derivative is in
the table (convolution_backward, the pooling scatters, tanh_backward ...). These tests walk the
whole op table (every node class node_class made) and fail on a second path.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional  # noqa: F401  (registers the nn node classes)
from ember.autograd.function import OpNode
from ember.ops._core import NODE_CLASSES, node_class

# derivatives that look at grad mode for a reason other than choosing an implementation
GRAD_MODE_READERS = {
    # differentiates its own composition with autograd.grad; the flag only says whether the
    # returned gradients keep their graph (create_graph=outer)
    "GridSampler2DBackward0", "GridSampler3DBackward0",
    # the LSTM's second derivative: it differentiates the sequence recomputed in ember ops (the NumPy
    # BPTT is the one first derivative); grad mode only says whether the result keeps a graph
    "MkldnnRnnLayerBackwardBackward0",
}
_SWITCH = re.compile(r"_state\.enabled|is_grad_enabled|grad_mode\.")


def _source(fn: object) -> str:
    try:
        return inspect.getsource(fn)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def test_no_second_derivative_mechanism() -> None:
    assert not hasattr(OpNode, "fast") and not hasattr(OpNode, "fast_any_meta")
    assert "fast" not in inspect.signature(node_class).parameters


@pytest.mark.parametrize("cls", sorted(NODE_CLASSES, key=lambda c: (c.__name__, id(c))), ids=lambda c: c.__name__)
def test_derivative_does_not_switch_on_grad_mode(cls: type) -> None:
    if cls.__name__ in GRAD_MODE_READERS:
        return
    src = _source(cls.derivative)
    assert not _SWITCH.search(src), f"{cls.__name__}'s derivative chooses a path by grad mode:\n{src}"


def test_table_is_walked() -> None:
    # the registry really holds the table: the classes the most common ops record are in it
    names = {c.__name__ for c in NODE_CLASSES}
    for name in ("MulBackward0", "TanhBackward0", "ConvolutionBackward0", "ConvolutionBackwardBackward0",
                 "NativeLayerNormBackward0", "MaxPool2DWithIndicesBackward0", "GeluBackward0"):
        assert name in names, name
    assert len(names) > 250


# the same formula both ways gives the same numbers: a plain backward against create_graph=True,
# and both against torch, for the ops whose derivative has a fast execution on arrays
F, TF = ember.nn.functional, torch.nn.functional
CASES = {
    "mul": (lambda L, a, b: a * b, [(3, 4), (4,)]),
    "div": (lambda L, a, b: a / (b * b + 1), [(3, 4), (3, 4)]),
    "sub_alpha": (lambda L, a, b: L.sub(a, b, alpha=2.5), [(3, 4), (3, 4)]),
    "pow": (lambda L, a, b: (a * a + 1) ** 2.5 + a ** 3 + b ** -2, [(5,), (5,)]),
    "unary": (lambda L, a, b: a.exp() + (b * b + 1).log() + (b * b + 1).sqrt() + a.tanh() + b.sigmoid() + a.relu()
              + b.abs(), [(6,), (6,)]),
    "mean_softmax": (lambda L, a, b: a.mean() + b.mean(1) * a.softmax(1).sum(1) + b.log_softmax(0)[:, 0], [(3, 4), (3, 4)]),
    "mm_linear": (lambda L, a, b: (a @ b.T) + L.nn.functional.linear(a, b, b[:, 0]), [(3, 4), (3, 4)]),
    "nll": (lambda L, a, b: L.nn.functional.cross_entropy(a * b, L.tensor([0, 3, 1])), [(3, 4), (3, 4)]),
    "activations": (lambda L, a, b: sum(f(a * 3) * b for f in (
        L.nn.functional.gelu, L.nn.functional.silu, L.nn.functional.mish, L.nn.functional.elu,
        L.nn.functional.logsigmoid, L.nn.functional.hardswish, L.nn.functional.hardsigmoid,
        lambda x: L.nn.functional.leaky_relu(x, 0.1), lambda x: L.nn.functional.gelu(x, approximate="tanh"),
        L.nn.functional.hardtanh, L.nn.functional.softshrink, L.nn.functional.hardshrink,
        lambda x: L.nn.functional.threshold(x, 0.5, -1.0))), [(3, 4), (3, 4)]),
    "prelu": (lambda L, a, b: L.nn.functional.prelu(a, b[0, :2] * 0.3), [(2, 2, 3), (2, 3)]),
    "norms": (lambda L, a, b: L.nn.functional.layer_norm(a, (3,), b[0, 0], b[1, 0])
              + L.nn.functional.group_norm(a, 1, b[0, 0, :2], b[1, 0, :2])
              + L.nn.functional.batch_norm(a, None, None, b[0, 0, :2], b[1, 0, :2], training=True), [(4, 2, 3), (2, 2, 3)]),
    "smooth_l1": (lambda L, a, b: L.nn.functional.smooth_l1_loss(a, b, beta=0.5)
                  + L.nn.functional.huber_loss(a, b, delta=0.7), [(3, 4), (3, 4)]),
    "upsample_norm": (lambda L, a, b: L.nn.functional.interpolate(a, scale_factor=2).sum((2, 3))
                      * L.nn.functional.normalize(b, p=3, dim=1).sum((2, 3)), [(1, 2, 3, 3), (1, 2, 3, 3)]),
}


def _grads(L, fn, arrays, create_graph):
    ts = [L.tensor(a, requires_grad=True) for a in arrays]
    out = fn(L, *ts)
    v = L.tensor(np.random.default_rng(2).standard_normal(tuple(out.shape)))
    gs = L.autograd.grad((out * v).sum(), ts, create_graph=create_graph)
    return [g.detach().numpy() for g in gs]


@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_and_create_graph_agree_with_torch(name: str) -> None:
    fn, shapes = CASES[name]
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s) for s in shapes]
    theirs = _grads(torch, fn, arrays, False)
    plain, recorded = _grads(ember, fn, arrays, False), _grads(ember, fn, arrays, True)
    for p, r, t in zip(plain, recorded, theirs):
        np.testing.assert_allclose(p, t, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(r, p, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "hardshrink", "softshrink", "hardswish", "hardsigmoid",
                                  "threshold", "leaky_relu", "elu"])
def test_piecewise_gradients_at_nan_and_the_kinks_match_torch(name: str) -> None:
    # torch's kernels test x <= lo (not x > lo): a NaN input passes the gradient; masked places are +0
    values = [float("nan"), -4.0, -3.0, -0.5, 0.0, 0.5, 3.0, 4.0, 6.0]
    out = []
    for L in (ember, torch):
        f = getattr(L.nn.functional, name)
        x = L.tensor(values, requires_grad=True)
        y = f(x, 0.5, 2.0) if name == "threshold" else f(x)
        (g,) = L.autograd.grad((y * L.tensor([1.0, -2.0, -1.0, 3.0, -1.0, 2.0, -1.0, 1.0, -1.0])).sum(), x)
        out.append(g.numpy())
    np.testing.assert_array_equal(out[0], out[1])
    assert np.array_equal(np.signbit(out[0]), np.signbit(out[1])), (out[0], out[1])

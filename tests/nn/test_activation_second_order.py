"""Second derivatives through the NumPy-backed activations, against torch. The gradient of
f(x) * x reaches f's node with an upstream gradient that itself depends on x, so a derivative
treated as a constant would silently drop the f''(x) term."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

X0 = np.array([0.3, -1.2, 2.0, -4.0, 3.5, 0.7, -0.4, 1.9])

CASES = [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("elu", {"alpha": 0.7}),
         ("selu", {}), ("celu", {"alpha": 1.3}), ("logsigmoid", {}), ("hardswish", {}), ("leaky_relu", {}),
         ("relu6", {}), ("hardtanh", {}), ("softplus", {}), ("softsign", {}), ("tanhshrink", {})]


@pytest.mark.parametrize("name, kw", CASES, ids=[f"{n}{'-' + str(k) if k else ''}" for n, k in CASES])
def test_second_derivative_matches_torch(name, kw):
    res = []
    for lib in (ember, torch):
        x = lib.tensor(X0, requires_grad=True)
        y = (getattr(lib.nn.functional, name)(x, **kw) * x).sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        res.append((g.detach().numpy(), g2.numpy()))
    # (torch's celu passes 1/alpha to its elu kernel in float32 precision: ~1e-8 relative)
    rtol = 1e-7 if name == "celu" else 1e-9
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)


R = np.random.default_rng(17)
X4 = R.standard_normal((2, 4, 6, 6))
X2 = R.standard_normal((5, 6))
W4 = R.standard_normal(4)

OPS = {  # ops whose backward used to be a NumPy constant under create_graph
    "cosine_similarity": (X2, lambda L, x: L.nn.functional.cosine_similarity(x, x.flip(0))),
    "pairwise_distance": (X2, lambda L, x: L.nn.functional.pairwise_distance(x, x.flip(0))),
    "normalize": (X2, lambda L, x: L.nn.functional.normalize(x)),
    "normalize_p3": (X2, lambda L, x: L.nn.functional.normalize(x, p=3)),
    "smooth_l1": (X2, lambda L, x: L.nn.functional.smooth_l1_loss(x, x.flip(0) * 0.5)),
    "smooth_l1_sum": (X2, lambda L, x: L.nn.functional.smooth_l1_loss(x, x.flip(0) * 0.5, reduction="sum", beta=0.5)),
    "huber": (X2, lambda L, x: L.nn.functional.huber_loss(x, x.flip(0) * 0.5, delta=0.7)),
    "pad_reflect": (X4, lambda L, x: L.nn.functional.pad(x, (1, 2, 0, 1), mode="reflect")),
    "pad_replicate": (X4, lambda L, x: L.nn.functional.pad(x, (1, 2, 0, 1), mode="replicate")),
    "pad_circular": (X4, lambda L, x: L.nn.functional.pad(x, (1, 2, 0, 1), mode="circular")),
    "adaptive_avg": (X4, lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (2, 3))),
    "adaptive_avg1": (X4, lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 1)),
    "adaptive_max": (X4, lambda L, x: L.nn.functional.adaptive_max_pool2d(x, 2)),
    "group_norm": (X4, lambda L, x: L.nn.functional.group_norm(x, 2, L.tensor(W4), L.tensor(W4[::-1].copy()))),
    "prelu": (X4, lambda L, x: L.nn.functional.prelu(x, L.tensor(np.array([0.1, 0.2, 0.3, 0.4])))),
    "prelu_shared": (X2, lambda L, x: L.nn.functional.prelu(x, L.tensor(np.array([0.25])))),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_second_derivative_matches_torch(name):
    x0, fn = OPS[name]
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = fn(lib, x)
        g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        res.append((g.detach().numpy(), g2.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)

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

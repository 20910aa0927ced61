"""ember.autograd.gradcheck / gradgradcheck: float64 finite differences over many ops."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import GradcheckError, gradcheck, gradgradcheck


def _t(*shape: int, seed: int = 0, lo: float = -1.0, hi: float = 1.0) -> ember.Tensor:
    a = np.random.default_rng(seed).uniform(lo, hi, shape)
    return ember.tensor(a, requires_grad=True)


OPS = {
    "exp": (lambda x: x.exp(), [(3, 4)]),
    "tan": (lambda x: x.tan(), [(3,)]),
    "erf": (lambda x: ember.erf(x), [(3,)]),
    "atan2": (lambda x, y: ember.atan2(x, y), [(3, 1), (4,)]),
    "hypot": (lambda x, y: ember.hypot(x, y), [(3,), (3,)]),
    "lerp": (lambda x, y, w: ember.lerp(x, y, w), [(3,), (3,), (3,)]),
    "addcdiv": (lambda x, y, z: ember.addcdiv(x, y, z.exp()), [(3,), (3,), (3,)]),
    "prod": (lambda x: x.prod(1), [(2, 3)]),
    "cumprod": (lambda x: x.cumprod(0), [(4,)]),
    "var": (lambda x: x.var(0), [(3, 2)]),
    "std_mean": (lambda x: ember.std_mean(x, 1), [(2, 3)]),
    "norm3": (lambda x: ember.linalg.vector_norm(x, 3), [(4,)]),
    "logsumexp": (lambda x: x.logsumexp(1), [(2, 3)]),
    "inv": (lambda a: ember.linalg.inv(a + 3 * ember.eye(3, dtype=ember.float64)), [(3, 3)]),
    "det": (lambda a: ember.linalg.det(a + 2 * ember.eye(3, dtype=ember.float64)), [(3, 3)]),
    "solve": (lambda a, b: ember.linalg.solve(a + 3 * ember.eye(3, dtype=ember.float64), b), [(3, 3), (3, 2)]),
    "cholesky": (lambda a: ember.linalg.cholesky(a @ a.mT + ember.eye(3, dtype=ember.float64)), [(3, 3)]),
    "eigh_vals": (lambda a: ember.linalg.eigh(a + a.mT)[0], [(3, 3)]),
    "svdvals": (lambda a: ember.linalg.svdvals(a), [(3, 2)]),
    "einsum": (lambda a, b: ember.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
    "scatter_reduce": (lambda x, s: x.scatter_reduce(0, ember.tensor([[0, 1], [0, 0]]), s, "amax"), [(2, 2), (2, 2)]),
    "index_put": (lambda x, v: x.index_put((ember.tensor([0, 0]),), v, accumulate=True), [(3, 2), (2,)]),
    "masked_scatter": (lambda x, s: x.masked_scatter(ember.tensor([True, False, True]), s), [(2, 3), (5,)]),
    "diag_embed": (lambda x: ember.diag_embed(x, 1), [(2, 3)]),
    "repeat": (lambda x: x.repeat(2, 1, 2), [(2, 3)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_and_gradgradcheck(name: str) -> None:
    fn, shapes = OPS[name]
    inputs = tuple(_t(*s, seed=i) for i, s in enumerate(shapes))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_failure_names_the_worst_entry() -> None:
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # wrong by a factor 2

    x = _t(3)
    with pytest.raises(GradcheckError, match=r"(?s)output 0 with respect to input 0.*worst entry.*analytical .* vs numerical"):
        gradcheck(Bad.apply, (x,))
    assert gradcheck(Bad.apply, (x,), raise_exception=False) is False


def test_float32_inputs_are_checked_in_float64() -> None:
    x = ember.tensor([0.3, 0.7], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        assert gradcheck(lambda t: t.sin() * t, (x,))

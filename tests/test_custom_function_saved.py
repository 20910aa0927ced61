"""A custom Function's saved tensors and gradgradcheck's random grad_outputs, as torch has them."""

from __future__ import annotations

import torch

import ember


def _exp_function(L):
    class Exp(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = L.exp(x)
            ctx.save_for_backward(result, x)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            result, _ = ctx.saved_tensors
            return result * grad_out

    return Exp


def test_a_saved_output_unpacks_as_a_new_tensor_and_a_saved_input_as_itself():
    for L in (torch, ember):
        x0 = L.tensor([0.5, 1.0], dtype=L.float64, requires_grad=True)
        x = x0.clone()
        out = _exp_function(L).apply(x)
        r, xi = out.grad_fn.saved_tensors
        assert r is not out and xi is x
        assert r.grad_fn is out.grad_fn and r.requires_grad and r.tolist() == out.tolist()
        g, = L.autograd.grad(out.sum(), x, create_graph=True)
        g.sum().backward()  # second order through the saved output's history
        assert abs(x0.grad[0].item() - 1.6487212707001282) < 1e-12  # e^0.5


def test_gradgradcheck_draws_torchs_grad_outputs_from_the_generator():
    after = {}
    for L in (torch, ember):
        L.manual_seed(3)
        x = L.rand(3, dtype=L.float64, requires_grad=True)
        assert L.autograd.gradgradcheck(lambda v: (v.sin(), v.sum() > 0, v * v), x)
        assert L.autograd.gradgradcheck(lambda v: v.exp().reshape(3, 1) * v, x, gen_non_contig_grad_outputs=True)
        after[L.__name__] = L.rand(4).tolist()
    assert after["ember"] == after["torch"]

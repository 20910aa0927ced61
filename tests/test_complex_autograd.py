"""Complex autograd against torch: values, first gradients (through a real loss built with a complex
weight), second derivatives (create_graph=True), the plain-backward path (formulas run on arrays), gradcheck
on complex inputs, and abs/sgn's second derivatives (the rfft power-spectrum hessian)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember
from ember.autograd import GradcheckError, gradcheck, gradgradcheck

_rng = np.random.default_rng(0)


def _c(*shape: int) -> np.ndarray:
    return _rng.standard_normal(shape) + 1j * _rng.standard_normal(shape)


A, B, M, N, P, W = _c(3), _c(3), _c(3, 3), _c(3, 3), _c(2, 3, 3), _c(4, 3)
R3 = _rng.standard_normal(3)

BINARY: dict[str, tuple] = {
    "mul": (lambda L, a, b: a * b, A, B),
    "mul_real_by_complex": (lambda L, a, b: a * b, R3, B),
    "mul_scalar": (lambda L, a: a * (3 - 1j), A),
    "div": (lambda L, a, b: a / b, A, B),
    "rdiv_scalar": (lambda L, a: (2 + 1j) / a, A),
    "add_alpha": (lambda L, a, b: L.add(a, b, alpha=2 - 1j), A, B),
    "sub_alpha": (lambda L, a, b: L.sub(a, b, alpha=2 - 1j), A, B),
    "rsub": (lambda L, a: (1 + 2j) - a, A),
    "matmul": (lambda L, a, b: a @ b, M, N),
    "matmul_mv": (lambda L, a, b: a @ b, M, A),
    "matmul_batched": (lambda L, a, b: a @ b, P, N),
    "mm": (lambda L, a, b: L.mm(a, b), M, N),
    "mv": (lambda L, a, b: L.mv(a, b), M, A),
    "dot": (lambda L, a, b: L.dot(a, b), A, B),
    "vdot": (lambda L, a, b: L.vdot(a, b), A, B),
    "bmm": (lambda L, a, b: L.bmm(a, b), P, P + 1),
    "outer": (lambda L, a, b: L.outer(a, b), A, B),
    "einsum": (lambda L, a, b: L.einsum("ij,jk->ik", a, b), M, N),
    "einsum_trace": (lambda L, a, b: L.einsum("ii,i->i", a, b), M, A),
    "linear": (lambda L, a, b: L.nn.functional.linear(a, b), M, N),
    "linear_bias": (lambda L, a, b, c: L.nn.functional.linear(a, b, c), M, N, A),
    "addmm": (lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2 + 1j), M, N, M + 1),
    "addmv": (lambda L, c, a, b: L.addmv(c, a, b), A, M, B),
    "baddbmm": (lambda L, c, a, b: L.baddbmm(c, a, b), P, P + 1, P - 1),
    "tensordot": (lambda L, a, b: L.tensordot(a, b, dims=1), M, N),
    "vecdot": (lambda L, a, b: L.linalg.vecdot(a, b), M, N),
    "inner": (lambda L, a, b: L.inner(a, b), M, N),
    "kron": (lambda L, a, b: L.kron(a, b), M, N),
    "cross": (lambda L, a, b: L.linalg.cross(a, b), A, B),
    "pow_tensor": (lambda L, a, b: a ** b, A, B),
    "pow_2": (lambda L, a: a ** 2, A),
    "pow_3": (lambda L, a: a ** 3, A),
    "pow_2.5": (lambda L, a: a ** 2.5, A),
    "pow_half": (lambda L, a: a ** 0.5, A),
    "pow_minus1": (lambda L, a: a ** -1, A),
    "pow_complex_exponent": (lambda L, a: a ** (1 + 1j), A),
    "rpow": (lambda L, a: 2 ** a, A),
    "rpow_negative_base": (lambda L, a: (-2) ** a, A),
    "rpow_complex_base_real_exponent": (lambda L, a: (1 + 1j) ** a, R3),
    "rpow_complex": (lambda L, a: (1 + 1j) ** a, A),
    "square": (lambda L, a: L.square(a), A),
    "sum": (lambda L, a: a.sum(), A),
    "mean": (lambda L, a: a.mean(), A),
    "prod": (lambda L, a: a.prod(), A),
    "prod_dim": (lambda L, a: a.prod(1), M),
    "prod_with_zero": (lambda L, a: (a * L.tensor([1.0, 0.0, 1.0])).prod(), A),
    "cumsum": (lambda L, a: a.cumsum(0), A),
    "cumprod": (lambda L, a: a.cumprod(0), A),
    "trace": (lambda L, a: a.trace(), M),
    "logsumexp": (lambda L, a: L.logsumexp(a, 0), A),
    "addcmul": (lambda L, a, b, c: L.addcmul(a, b, c, value=2), A, B, A + 1),
    "addcdiv": (lambda L, a, b, c: L.addcdiv(a, b, c, value=2), A, B, A + 1),
    "lerp": (lambda L, a, b: L.lerp(a, b, 0.3), A, B),
    "lerp_tensor": (lambda L, a, b, c: L.lerp(a, b, c), A, B, A + 2),
    "where": (lambda L, a, b: L.where(L.tensor([True, False, True]), a, b), A, B),
    "cat_flip_index": (lambda L, a, b: L.cat([a, b]).flip(0)[1:4], A, B),
    "mH": (lambda L, a: a.mH, M),
    "view_as_real": (lambda L, a: L.view_as_real(a), A),
    "real_imag": (lambda L, a: a.real * a.imag, A),
    "conj": (lambda L, a: a.conj() * a, A),
    "angle": (lambda L, a: a.angle(), A),
    "abs": (lambda L, a: a.abs(), A),
    "sgn": (lambda L, a: a.sgn(), A),
    "var": (lambda L, a: a.var(), A),
    "norm": (lambda L, a: L.linalg.norm(a), A),
    "vector_norm_3": (lambda L, a: L.linalg.vector_norm(a, 3), A),
    "fft": (lambda L, a: L.fft.fft(a), A),
    "ifft": (lambda L, a: L.fft.ifft(a), A),
    "det": (lambda L, a: L.linalg.det(a), M),
    "inv": (lambda L, a: L.linalg.inv(a), M),
    "solve": (lambda L, a, b: L.linalg.solve(a, b), M, N),
    "solve_vector": (lambda L, a, b: L.linalg.solve(a, b), M, A),
    "slogdet": (lambda L, a: L.linalg.slogdet(a)[1], M),
    "slogdet_sign": (lambda L, a: L.linalg.slogdet(a)[0], M),
    "matrix_exp": (lambda L, a: L.linalg.matrix_exp(a), M * 0.3),
    "cholesky": (lambda L, a: L.linalg.cholesky(a @ a.mH + 3 * L.eye(3)), M),
    "cholesky_upper": (lambda L, a: L.linalg.cholesky(a @ a.mH + 3 * L.eye(3), upper=True), M),
    "qr_q": (lambda L, a: L.linalg.qr(a)[0], W),
    "qr_r": (lambda L, a: L.linalg.qr(a)[1], M),
    "eigvalsh": (lambda L, a: L.linalg.eigvalsh(a + a.mH), M),
    # eigenvectors and singular vectors are fixed up to a phase: the losses below do not depend on it
    "eigh_vectors_abs": (lambda L, a: L.linalg.eigh(a + a.mH)[1].abs(), M),
    "svdvals": (lambda L, a: L.linalg.svdvals(a), W),
    "svd_u_vh": (lambda L, a: (lambda u, s, vh: (u @ vh).abs() + s.sum())(*L.linalg.svd(a, full_matrices=False)), W),
    "svd_u_vh_wide": (lambda L, a: (lambda u, s, vh: (u @ vh).abs())(*L.linalg.svd(a, full_matrices=False)), W.T.copy()),
    "matrix_norm_2": (lambda L, a: L.linalg.matrix_norm(a, 2), M),
    "matrix_norm_nuc": (lambda L, a: L.linalg.matrix_norm(a, "nuc"), M),
    "pinv": (lambda L, a: L.linalg.pinv(a), M),
    "conv1d": (lambda L, a, b, c: L.nn.functional.conv1d(a, b, c, stride=2, padding=1), _c(2, 2, 7), _c(3, 2, 3), _c(3)),
    "conv2d": (lambda L, a, b: L.nn.functional.conv2d(a, b, padding=1), _c(1, 2, 4, 4), _c(3, 2, 3, 3)),
    "conv2d_groups": (lambda L, a, b: L.nn.functional.conv2d(a, b, groups=2), _c(1, 4, 4, 4), _c(4, 2, 2, 2)),
    "conv_transpose1d": (lambda L, a, b: L.nn.functional.conv_transpose1d(a, b, stride=2), _c(1, 2, 5), _c(2, 3, 2)),
    "conv_transpose2d": (lambda L, a, b: L.nn.functional.conv_transpose2d(a, b, padding=1), _c(1, 2, 4, 4), _c(2, 3, 3, 3)),
    "pad_reflect": (lambda L, a: L.nn.functional.pad(a.reshape(1, 1, 3), [2, 2], mode="reflect"), A),
    "stft": (lambda L, a: L.stft(a, 4, return_complex=True, window=L.hann_window(4, dtype=L.float64)), _c(16)),
}
UNARY = ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh", "sigmoid", "reciprocal", "neg", "log2", "log10",
         "log1p", "expm1", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "exp2", "sinc"]
for _name in UNARY:
    BINARY[_name] = ((lambda nm: lambda L, a: getattr(L, nm)(a))(_name), A)


def _run(lib: Any, fn: Callable, arrays: tuple, second: bool) -> list:
    ins = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ins)
    k = np.arange(out.numel()).reshape(tuple(out.shape))
    if out.is_complex():  # a complex weight: the loss sees both parts of the output
        loss = (out * lib.tensor(np.cos(k) + 0.5j * np.sin(k + 1))).real.sum()
    else:
        loss = (out * lib.tensor(np.cos(k))).sum()
    gs = lib.autograd.grad(loss, ins, create_graph=second)
    res = [out.detach().resolve_conj().numpy()] + [g.detach().resolve_conj().numpy() for g in gs]
    if second:  # (a linear op's gradient may not require grad: its second derivative is zero)
        g2 = [None] * len(ins)
        if any(g.requires_grad for g in gs):
            l2 = sum((g * (0.7 - 0.3j)).real.sum() if g.is_complex() else g.sum() for g in gs if g.requires_grad)
            g2 = lib.autograd.grad(l2, ins, allow_unused=True)
        res += [np.zeros_like(a) if g is None else g.detach().resolve_conj().numpy() for g, a in zip(g2, arrays)]
    return res


def _compare(name: str, second: bool) -> None:
    fn, *arrays = BINARY[name]
    expected = _run(torch, fn, tuple(arrays), second)
    got = _run(ember, fn, tuple(arrays), second)
    assert len(got) == len(expected)
    for i, (e, t) in enumerate(zip(got, expected)):
        assert e.dtype == t.dtype, f"{name}: item {i} dtype {e.dtype} != torch {t.dtype}"
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-9, err_msg=f"{name}: item {i} (0 value, then grads)")


@pytest.mark.parametrize("name", sorted(BINARY))
def test_first_gradient_plain_backward(name: str) -> None:
    # no graph built: the formulas run on the saved arrays
    _compare(name, second=False)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_second_derivative_create_graph(name: str) -> None:
    _compare(name, second=True)


def test_real_gradients_unchanged_where_complex_needed_another_branch() -> None:
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        ((-2) ** x).sum().backward()
        y = lib.tensor([-2.0, 0.5, 3.0], dtype=lib.float64, requires_grad=True)
        y.acosh().sum().backward()  # (real acosh's gradient is finite below -1, as torch's formula gives)
        grads.append(np.concatenate([x.grad.numpy(), y.grad.numpy()]))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_reproducer_mul_by_complex_scalar() -> None:
    a = ember.tensor([1 + 2j], requires_grad=True)
    (a * (3 - 1j)).real.sum().backward()
    assert complex(a.grad[0].item()) == pytest.approx(3 + 1j)


@pytest.mark.filterwarnings("ignore:Using backward")
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_paths_agree_on_arrays_and_tensors(create_graph: bool) -> None:
    x, y = _c(4, 4), _c(4, 4)
    grads = []
    for lib in (ember, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        out = (a * b / (a + 2)).exp().log().sqrt().tanh().sigmoid() @ b
        out = lib.nn.functional.linear(out, a)
        out.real.sum().backward(create_graph=create_graph)
        grads.append((a.grad.detach().numpy(), b.grad.detach().numpy()))
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-9)


def test_rfft_power_spectrum_hessian() -> None:
    x = _rng.standard_normal(7)
    h = ember.autograd.functional.hessian(lambda t: ember.fft.rfft(t).abs().pow(2).sum(), ember.tensor(x))
    ht = torch.autograd.functional.hessian(lambda t: torch.fft.rfft(t).abs().pow(2).sum(), torch.tensor(x))
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-7, atol=1e-9)


def test_abs_and_sgn_derivatives_at_zero() -> None:
    for lib in (ember, torch):
        z = lib.tensor(np.array([0j, 1 + 1j]), requires_grad=True)
        (g,) = lib.autograd.grad((z.sgn() * (1 + 2j)).real.sum() + z.abs().sum(), z, create_graph=True)
        (gg,) = lib.autograd.grad(g.real.sum(), z)
        if lib is ember:
            got = (g.detach().numpy(), gg.numpy())
        else:
            np.testing.assert_allclose(got[0], g.detach().numpy(), atol=1e-12)
            # torch's second derivative is NaN at z = 0 (its abs backward divides by |z| there); ember's
            # is 0, as its first derivative is
            np.testing.assert_allclose(got[1][1:], gg.numpy()[1:], atol=1e-12)
            assert got[1][0] == 0


def _leaf(*shape: int) -> ember.Tensor:
    return ember.tensor(_c(*shape), requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda z: z * (3 - 1j), lambda z: z.exp() / (z + 3), lambda z: z.abs(), lambda z: z.sgn(),
    lambda z: ember.fft.fft(z), lambda z: (z.conj() * z).real, lambda z: z.real + 2 * z.imag,
])
def test_gradcheck_complex(fn: Callable) -> None:
    z = _leaf(3)
    assert gradcheck(fn, (z,))
    assert gradgradcheck(fn, (z,))


def test_gradcheck_complex_and_real_inputs_together() -> None:
    z, w = _leaf(2, 3), ember.tensor(_rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda a, b: a * b, (z, w))
    assert gradgradcheck(lambda a, b: (a * b.exp()).abs(), (z, w))


def test_gradcheck_real_input_complex_output() -> None:
    x = ember.tensor(_rng.standard_normal(6), requires_grad=True)
    assert gradcheck(lambda t: ember.fft.rfft(t), (x,))
    assert gradgradcheck(lambda t: ember.fft.rfft(t).abs(), (x,))


def test_gradcheck_catches_a_missing_conjugate() -> None:
    k = ember.tensor(3 - 1j)

    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx: Any, z: ember.Tensor) -> ember.Tensor:
            return z * k

        @staticmethod
        def backward(ctx: Any, g: ember.Tensor) -> ember.Tensor:
            return g * k  # torch's convention wants g * k.conj()

    z = _leaf(2)
    with pytest.raises(GradcheckError, match="analytical .* vs numerical"):
        gradcheck(Bad.apply, (z,))
    assert gradcheck(Bad.apply, (z,), raise_exception=False) is False


def test_pad_backward_with_complex_gradients() -> None:
    res = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[[1 + 2j, 3 - 1j, 0.5j, 2.0, -1 + 1j, 1j, 1.0]]])
        for mode in ("reflect", "replicate", "circular", "constant"):
            z = lib.complex(x, x * x).reshape(1, 1, 3)
            y = lib.nn.functional.pad(z, [2, 2], mode=mode)
            (y * w).real.sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)

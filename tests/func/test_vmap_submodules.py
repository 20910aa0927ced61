"""vmap over torch.linalg, torch.special and torch.fft functions against torch.func.vmap: they run
batched (no per-element fallback warning), dims given per element are shifted past the batch dim,
and the ops without a rule fall back to the loop with the same results."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.fft  # noqa: F401  (the submodules, as torch users import them)
import ember.func as ef
import ember.special  # noqa: F401

RNG = np.random.default_rng(3)
_M = RNG.standard_normal((4, 3, 3))
SPD = _M @ _M.transpose(0, 2, 1) + 3 * np.eye(3)
V = RNG.standard_normal((4, 5, 6))

BATCHED = {
    "linalg.det": (lambda L, a: L.linalg.det(a), SPD),
    "linalg.inv": (lambda L, a: L.linalg.inv(a), SPD),
    "linalg.cholesky": (lambda L, a: L.linalg.cholesky(a), SPD),
    "linalg.eigvalsh": (lambda L, a: L.linalg.eigvalsh(a), SPD),
    "linalg.eigh": (lambda L, a: L.linalg.eigh(a).eigenvalues, SPD),
    "linalg.slogdet": (lambda L, a: L.linalg.slogdet(a).logabsdet, SPD),
    "linalg.svdvals": (lambda L, a: L.linalg.svdvals(a), SPD),
    "linalg.qr": (lambda L, a: L.linalg.qr(a).R.abs(), SPD),
    "linalg.pinv": (lambda L, a: L.linalg.pinv(a), SPD),
    "linalg.matrix_power": (lambda L, a: L.linalg.matrix_power(a, 3), SPD),
    "linalg.matrix_rank": (lambda L, a: L.linalg.matrix_rank(a), SPD),
    "linalg.cond": (lambda L, a: L.linalg.cond(a), SPD),
    "linalg.lu_factor": (lambda L, a: L.linalg.lu_factor(a).LU, SPD),
    "linalg.vector_norm": (lambda L, a: L.linalg.vector_norm(a), V),
    "linalg.vector_norm_dim": (lambda L, a: L.linalg.vector_norm(a, 3, dim=1, keepdim=True), V),
    "linalg.matrix_norm": (lambda L, a: L.linalg.matrix_norm(a, "nuc"), SPD),
    "linalg.norm": (lambda L, a: L.linalg.norm(a), SPD),
    "linalg.norm_dim0": (lambda L, a: L.linalg.norm(a, dim=0), V),
    "linalg.diagonal": (lambda L, a: L.linalg.diagonal(a, offset=1, dim1=0, dim2=1), V),
    "special.expit": (lambda L, a: L.special.expit(a), V),
    "special.erf": (lambda L, a: L.special.erf(a), V),
    "special.xlog1py": (lambda L, a: L.special.xlog1py(a, a.abs()), V),
    "special.polygamma": (lambda L, a: L.special.polygamma(1, a.abs() + 1), V),
    "special.multigammaln": (lambda L, a: L.special.multigammaln(a.abs() + 2, 2), V),
    "special.logsumexp": (lambda L, a: L.special.logsumexp(a, 1), V),
    "special.softmax": (lambda L, a: L.special.softmax(a, 0), V),
    "fft.fft": (lambda L, a: L.fft.fft(a), V),
    "fft.fft_dim0": (lambda L, a: L.fft.fft(a, n=7, dim=0), V),
    "fft.irfft": (lambda L, a: L.fft.irfft(a, n=8, dim=0), V),
    "fft.rfft2": (lambda L, a: L.fft.rfft2(a), V),
    "fft.fftn": (lambda L, a: L.fft.fftn(a), V),
    "fft.ifftn_s": (lambda L, a: L.fft.ifftn(a, s=(4,)), V),
    "fft.hfftn_dim": (lambda L, a: L.fft.hfftn(a, dim=(0,)), V),
    "fft.fftshift": (lambda L, a: L.fft.fftshift(a), V),
    "fft.ifftshift_dim": (lambda L, a: L.fft.ifftshift(a, dim=1), V),
}


def _both(f, x):
    got = ef.vmap(lambda a: f(ember, a))(ember.tensor(x))
    want = tf.vmap(lambda a: f(torch, a))(torch.tensor(x))
    return got, want


@pytest.mark.parametrize("case", sorted(BATCHED))
def test_runs_batched_as_torch(case):
    f, x = BATCHED[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (the per-element fallback warns)
        got, want = _both(f, x)
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-9, atol=1e-10)


def test_an_op_without_a_rule_loops_with_the_same_results():
    def f(L, a):
        return L.linalg.solve(a, a[0])

    with pytest.warns(UserWarning, match="performance drop because we have not yet implemented the batching rule "
                                         "for linalg.solve"):
        got, _ = _both(f, SPD)
    want = np.stack([np.linalg.solve(m, m[0]) for m in SPD])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


def test_a_per_element_vector_is_not_taken_for_a_matrix():
    x = RNG.standard_normal((3, 3))  # per element (3,): linalg.inv must refuse it, not invert the batch
    with pytest.raises(RuntimeError) as want:
        tf.vmap(torch.linalg.inv)(torch.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as got:
            ef.vmap(ember.linalg.inv)(ember.tensor(x))
    assert "at least 2 dimensions" in str(want.value) and "at least 2 dimensions" in str(got.value)


def test_a_dim_out_of_range_per_element_is_an_index_error():
    with pytest.raises(IndexError):
        tf.vmap(lambda a: torch.fft.fft(a, dim=2))(torch.tensor(V))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ef.vmap(lambda a: ember.fft.fft(a, dim=2))(ember.tensor(V))

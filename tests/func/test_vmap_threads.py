"""vmap on several threads at once: each thread has its own vmap levels, so concurrent vmaps give
the results they give alone, and a thread outside vmap (drawing random numbers, which vmap's
default randomness="error" forbids inside it) is not taken for one inside."""

from __future__ import annotations

import threading

import numpy as np
import torch
import torch.func as tf

import ember
import ember.func as ef

RNG = np.random.default_rng(11)
W = RNG.standard_normal((4, 3))
XS = [RNG.standard_normal((6, 3)) for _ in range(2)]


def _per_sample_grads(lib, F, x):
    def loss(w, xi):
        return (lib.tanh(xi @ w.T) ** 2).sum()

    return F.vmap(F.grad(loss), in_dims=(None, 0))(lib.tensor(W), lib.tensor(x))


def test_concurrent_vmaps_and_a_thread_outside_vmap():
    want = [_per_sample_grads(torch, tf, x).numpy() for x in XS]
    got: dict = {}
    errors: list = []
    start = threading.Barrier(3)

    def vmapper(k):
        try:
            start.wait()
            got[k] = [_per_sample_grads(ember, ef, XS[k]).numpy() for _ in range(30)]
        except Exception as e:  # (reported below, with the thread's own error)
            errors.append(e)

    def outsider():
        try:
            start.wait()
            for _ in range(300):
                assert ember.randn(3).shape == (3,)  # (inside a vmap: "called random operation ...")
                assert not ef._batched.active()
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=vmapper, args=(k,)) for k in range(2)] + [threading.Thread(target=outsider)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k in range(2):
        for g in got[k]:
            np.testing.assert_allclose(g, want[k], rtol=1e-12)
    # every vmap has ended: the plain Tensor's methods are its own again
    assert ember.Tensor.sum is ef._batched._TENSOR_METHODS["sum"]

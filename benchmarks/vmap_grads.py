"""Per-sample gradients of a 2-layer MLP: ember's ``vmap(grad(loss))`` against a Python loop of
``autograd.grad`` (one backward per sample) and against torch.func.

    PYTHONPATH=src python benchmarks/vmap_grads.py [--batch 256] [--repeats 5]

MLP 784-128-10 (ReLU, cross-entropy), float32, batch 256 (issue 14 wants the batched version at
least 10x faster than the loop and near torch.func). Prints the median milliseconds of each and
the ratios, after checking that the three agree.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.func as tf

import ember
import ember.func as ef
import ember.nn.functional as EF


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    arrays = {"w1": rng.standard_normal((128, 784)) * 0.05, "b1": np.zeros(128),
              "w2": rng.standard_normal((10, 128)) * 0.1, "b2": np.zeros(10)}
    x0 = rng.standard_normal((a.batch, 784))
    y0 = rng.integers(0, 10, a.batch)

    def make(lib, F):
        params = {k: lib.tensor(v, dtype=lib.float32) for k, v in arrays.items()}
        x, y = lib.tensor(x0, dtype=lib.float32), lib.tensor(y0)

        def loss(p, xi, yi):
            h = F.relu(F.linear(xi, p["w1"], p["b1"]))
            return F.cross_entropy(F.linear(h, p["w2"], p["b2"]).unsqueeze(0), yi.unsqueeze(0))

        return params, x, y, loss

    ep, ex, ey, eloss = make(ember, EF)
    tp, tx, ty, tloss = make(torch, torch.nn.functional)

    def ember_vmap():
        return ef.vmap(ef.grad(eloss), in_dims=(None, 0, 0))(ep, ex, ey)

    def ember_loop():
        leaves = [v.detach().requires_grad_() for v in ep.values()]
        p = dict(zip(ep, leaves))
        per = [ember.autograd.grad(eloss(p, ex[i], ey[i]), leaves) for i in range(a.batch)]
        return {k: ember.stack([g[j] for g in per]) for j, k in enumerate(ep)}

    def torch_vmap():
        return tf.vmap(tf.grad(tloss), in_dims=(None, 0, 0))(tp, tx, ty)

    got, loop, want = ember_vmap(), ember_loop(), torch_vmap()
    for k in ep:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(loop[k].numpy(), want[k].numpy(), rtol=1e-4, atol=1e-6)
    t_vmap, t_loop, t_torch = (_median_ms(f, a.repeats) for f in (ember_vmap, ember_loop, torch_vmap))
    print(f"per-sample gradients, MLP 784-128-10, batch {a.batch} (median of {a.repeats}):")
    print(f"  ember vmap(grad):          {t_vmap:8.2f} ms")
    print(f"  ember loop of grad:        {t_loop:8.2f} ms   loop / vmap = {t_loop / t_vmap:.1f}x")
    print(f"  torch.func vmap(grad):     {t_torch:8.2f} ms   ember vmap / torch.func = {t_vmap / t_torch:.2f}x")


if __name__ == "__main__":
    main()

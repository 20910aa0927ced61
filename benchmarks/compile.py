"""ember.compile against eager ember and torch eager on W1, W2, W3 and W9 (benchmarks/workloads.py's shapes).

    python benchmarks/compile.py [--quick] [--cpu] [--no-inductor]

torch.compile: each workload through torch's own compiler too (inductor; --no-inductor leaves it
out), which works where a C++ compiler is installed.

--cpu: NumPy's BLAS and torch on one thread each (threadpoolctl), timed in process CPU time: the work
each step does, comparable on a shared machine where wall times swing with the other processes
(BLAS threads that wait on a busy core make a step up to 10x slower).

W9: workloads.py's char-LSTM step (Embedding, LSTM, Linear head; clipping and Adam inside the step).
W2 model: the same MLP as an nn.Sequential in the ordinary loop with ``torch.compile(model)`` (the
loss, ``backward()`` and ``step()`` outside the compiled call).
W3: workloads.py's CNN step (two 3x3 convolutions, max-pool, linear) on 64 images.
W1: 50 x (mul, tanh, pow, add) on 4 floats, a sum and the backward (201 ops): time per op.
W2: the 784-512-512-10 MLP step on 256 rows (cross-entropy, backward, SGD step), and its matmul
floor: the step's six GEMMs timed alone in NumPy. The compiled steps take their tensors as
arguments (workloads.py's W1 builds its input inside the step, a factory call ember.compile would
break the graph at) and W2 updates through optim.SGD (the same arithmetic as workloads.py's
``p -= lr * p.grad``, which is an in-place op the trace does not follow).
W3's GEMM floor: the step's convolution and linear GEMMs alone in NumPy, at the shapes ember's
kernels use; what any NumPy program of this step must spend, before a single copy or relu.
"""

from __future__ import annotations

import sys
import time

import numpy as np

QUICK = "--quick" in sys.argv
CPU = "--cpu" in sys.argv
CLOCK = time.process_time if CPU else time.perf_counter


def best_time(fn, repeat: int, inner: int = 1) -> float:
    fn()
    fn()
    ts = []
    for _ in range(repeat):
        t0 = CLOCK()
        for _ in range(inner):
            fn()
        ts.append((CLOCK() - t0) / inner)
    return float(np.median(ts))


def w1(L, compiled: bool) -> float:
    rng = np.random.default_rng(0)
    a0, y0 = rng.random(4).astype(np.float32), rng.random(4).astype(np.float32)
    a = L.tensor(a0, requires_grad=True)
    y_in = L.tensor(y0, requires_grad=True)

    def step(y, a):
        for _ in range(50):
            t = y * a
            t = t.tanh()
            t = t ** 2
            y = y + t
        s = y.sum()
        s.backward()
        return s

    fn = L.compile(step) if compiled else step
    return best_time(lambda: fn(y_in, a), 7 if QUICK else 21, 20) / 201


def _mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    ws = [(rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32) for i, o in ((784, 512), (512, 512), (512, 10))]
    bs = [np.zeros(o, np.float32) for o in (512, 512, 10)]
    return x, y, ws, bs


def w2(L, compiled: bool) -> float:
    x0, y0, ws0, bs0 = _mlp_data()
    F = L.nn.functional
    x, y = L.tensor(x0), L.tensor(y0)
    params = [L.tensor(w.copy(), requires_grad=True) for w in ws0] + [L.tensor(b.copy(), requires_grad=True)
                                                                      for b in bs0]
    opt = L.optim.SGD(params, lr=0.01)

    def step(x, y):
        w1_, w2_, w3_, b1, b2, b3 = params
        h = (x @ w1_ + b1).relu()
        h = (h @ w2_ + b2).relu()
        loss = F.cross_entropy(h @ w3_ + b3, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    fn = L.compile(step) if compiled else step
    return best_time(lambda: fn(x, y), 5 if QUICK else 15)


def w2_model(L, compiled: bool) -> float:
    """W2's MLP as an nn.Sequential in the ordinary loop, ``torch.compile(model)`` when compiled:
    the forward and its backward replayed, the loss, ``backward()`` and the optimizer eager."""
    x0, y0, ws0, bs0 = _mlp_data()
    F, nn = L.nn.functional, L.nn
    x, y = L.tensor(x0), L.tensor(y0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    with L.no_grad():
        for lin, w, b in zip(model[::2], ws0, bs0):
            lin.weight.copy_(L.tensor(w.T.copy()))
            lin.bias.copy_(L.tensor(b))
    opt = L.optim.SGD(model.parameters(), lr=0.01)
    run = L.compile(model) if compiled else model

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(run(x), y)
        loss.backward()
        opt.step()
        return loss

    return best_time(step, 5 if QUICK else 15)


def w3(L, compiled: bool) -> float:
    """workloads.py's W3 CNN step (two convolutions, max-pool, linear, cross-entropy, SGD), its tensors as
    arguments."""
    nn = L.nn
    rng = np.random.default_rng(0)
    x = L.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = L.tensor(rng.integers(0, 10, 64))
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 14 * 14, 10))
    wrng = np.random.default_rng(1)
    with L.no_grad():
        for p in model.parameters():
            p.copy_(L.tensor((wrng.standard_normal(tuple(p.shape)) * 0.05).astype(np.float32)))
    opt = L.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = L.compile(step) if compiled else step
    return best_time(lambda: fn(x, y), 5 if QUICK else 15)


def w9(L, compiled: bool) -> float:
    """workloads.py's W9 char-LSTM step (Embedding 32, LSTM 128, Linear over 158 characters; 32 windows of 64;
    cross-entropy, backward, gradient clipping, Adam), its batch as arguments."""
    nn, F = L.nn, L.nn.functional
    V, E, H, N, T = 158, 32, 128, 32, 64
    rng = np.random.default_rng(0)
    x, y = L.tensor(rng.integers(0, V, (N, T))), L.tensor(rng.integers(0, V, (N, T)))
    embed, lstm, head = nn.Embedding(V, E), nn.LSTM(E, H, batch_first=True), nn.Linear(H, V)
    model = nn.ModuleList([embed, lstm, head])
    wrng = np.random.default_rng(1)
    with L.no_grad():
        for p in model.parameters():
            p.copy_(L.tensor((wrng.standard_normal(tuple(p.shape)) * 0.1).astype(np.float32)))
    opt = L.optim.Adam(model.parameters(), lr=3e-3)

    def step(x, y):
        out, _ = lstm(embed(x))
        loss = F.cross_entropy(head(out).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    fn = L.compile(step) if compiled else step
    return best_time(lambda: fn(x, y), 3 if QUICK else 9)


def matmul_floor() -> float:
    """The W2 step's GEMMs alone (forward 3, backward 5: the first layer's input gradient is not needed)."""
    x0, _, ws, _ = _mlp_data()
    h1 = np.maximum(x0 @ ws[0], 0)
    h2 = np.maximum(h1 @ ws[1], 0)
    g3 = np.ones((256, 10), np.float32)

    def gemms():
        a = x0 @ ws[0]
        b = h1 @ ws[1]
        c = h2 @ ws[2]
        g2 = g3 @ ws[2].T
        h2.T @ g3
        g1 = g2 @ ws[1].T
        h1.T @ g2
        x0.T @ g1
        return a, b, c

    return best_time(gemms, 5 if QUICK else 15)


def conv_floor() -> float:
    """The W3 step's GEMMs alone, at the shapes ember's stride-1 convolutions use (every position of
    the 29x29 flat layout, 64 images): the forward, input and weight gradients of the second
    convolution, the forward and weight gradient of the first, the linear layer's three."""
    rng = np.random.default_rng(0)
    P = 64 * 29 * 29

    def f(*s):
        return rng.standard_normal(s).astype(np.float32)

    w2, c2, g2, w1, c1, g1 = f(16, 72), f(72, P), f(16, P), f(8, 9), f(9, P), f(8, P)
    a, wl, gl = f(64, 3136), f(10, 3136), f(64, 10)

    def gemms():
        return (w2 @ c2, w2.T @ g2, c2 @ g2.T, w1 @ c1, c1 @ g1.T, a @ wl.T, gl @ wl, gl.T @ a)

    return best_time(gemms, 5 if QUICK else 15)


def torch_compiled(torch, fn) -> float | None:
    """The workload through ``torch.compile`` (inductor, which needs a C++ compiler; compiling takes
    seconds per workload and is not timed), or None where it cannot run here."""
    if "--no-inductor" in sys.argv:
        return None
    try:
        return fn(torch, True)
    except Exception as e:  # (no compiler, or a backend error: the column says n/a)
        print(f"torch.compile failed on {fn.__name__}: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr)
        return None


def main() -> None:
    import torch

    if CPU:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
        torch.set_num_threads(1)

    import ember

    rows = []
    for name, fn in (("W1 per op", w1), ("W2 MLP step", w2), ("W2 model", w2_model), ("W3 CNN step", w3), ("W9 LSTM step", w9)):
        te = fn(ember, False)
        tc = fn(ember, True)
        tt = fn(torch, False)
        rows.append((name, te, tc, tt, torch_compiled(torch, fn)))
    floor, cfloor = matmul_floor(), conv_floor()
    print(f"{'workload':<14}{'ember eager':>14}{'ember compiled':>16}{'torch eager':>14}{'torch.compile':>15}"
          f"{'compiled/torch':>16}{'/torch.compile':>16}")
    for name, te, tc, tt, ti in rows:
        unit, k = ("us", 1e6)
        inductor = f"{ti * k:>13.2f}{unit}{tc / ti:>15.2f}x" if ti else f"{'n/a':>15}{'':>16}"
        print(f"{name:<14}{te * k:>12.2f}{unit}{tc * k:>14.2f}{unit}{tt * k:>12.2f}{unit}{inductor[:15]}"
              f"{tc / tt:>15.2f}x{inductor[15:]}")
    print(f"W2 matmul floor (NumPy GEMMs alone): {floor * 1e6:.0f}us; compiled / floor = {rows[1][2] / floor:.2f}x")
    print(f"W3 GEMM floor (NumPy GEMMs alone): {cfloor * 1e6:.0f}us; compiled / floor = {rows[3][2] / cfloor:.2f}x, "
          f"floor / torch eager = {cfloor / rows[3][3]:.2f}x")


if __name__ == "__main__":
    main()

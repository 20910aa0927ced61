"""One benchmark workload for one library, run in its own process; prints a JSON result.

    python benchmarks/workloads.py LIB WORKLOAD [--quick | --tiny]

LIB: ember, torch, numpy (hand-written forward/backward: the floor any NumPy library can reach),
autograd (HIPS), mygrad, micrograd, tinygrad (when installed). Every workload first computes its
loss and gradients so the runner can check that all libraries agree before timing counts.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

QUICK = "--quick" in sys.argv
# --tiny: every workload once at a small size (the test suite's check that this code still runs
# and that the libraries agree); nothing it measures means anything
TINY = "--tiny" in sys.argv


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Start peak-RSS tracking afresh (Linux: clear_refs 5), so that start-up transients (OpenBLAS
    touches and frees its thread buffers) and the RSS inherited across exec don't count."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tinygrad():
    import os

    os.environ.setdefault("DEV", "CPU")  # tinygrad's CPU backend compiles its kernels with clang
    import tinygrad

    return tinygrad


def lib_module(name: str):
    if name == "tinygrad":
        return _tinygrad()
    if name == "ember":
        import ember as L
    elif name == "torch":
        import torch as L

        L.set_num_threads(1) if "--one-thread" in sys.argv else None
    elif name == "autograd":
        import autograd as L  # noqa: F401
    elif name == "mygrad":
        import mygrad as L  # noqa: F401
    else:
        L = None
    return L


def median_time(fn, repeat: int, warmup: int = 2) -> float:
    if TINY:
        repeat, warmup = 1, 0
    for _ in range(warmup):
        fn()
    ts = []
    start = time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
        if len(ts) >= 5 and t0 - start > 10:  # a slow peer: enough samples for a median
            break
    return float(np.median(ts))


# --------------------------------------------------------------------------- W1 op overhead
def w1(lib: str) -> dict:
    rng = np.random.default_rng(0)
    a0, y0 = rng.random(4).astype(np.float32), rng.random(4).astype(np.float32)
    n_ops = 50 * 4 + 1
    if lib in ("ember", "torch"):
        L = lib_module(lib)
        a = L.tensor(a0, requires_grad=True)

        def forward():
            y = L.tensor(y0, requires_grad=True)
            for _ in range(50):
                t = y * a
                t = t.tanh()
                t = t ** 2
                y = y + t
            return y.sum(), a

        def step():
            s, a_ = forward()
            s.backward()
            return s

        def grads():
            a.grad = None
            s = step()
            return float(s.item()), a.grad.numpy().tolist()

    elif lib == "numpy":
        def step():
            y = y0.copy()
            tape = []
            for _ in range(50):
                t1 = y * a0
                t2 = np.tanh(t1)
                tape.append((y, t2))
                y = y + t2 ** 2
            s = y.sum()
            gy = np.ones_like(y)
            ga = np.zeros_like(a0)
            for yi, t2 in reversed(tape):
                gt2 = gy * 2 * t2
                gt1 = gt2 * (1 - t2 * t2)
                ga += gt1 * yi
                gy = gy + gt1 * a0
            return s, ga

        def forward():
            return step()

        def grads():
            s, ga = step()
            return float(s), ga.tolist()
    elif lib == "autograd":
        import autograd.numpy as anp
        from autograd import grad as agrad

        def f(a):
            y = y0
            for _ in range(50):
                t = y * a
                t = anp.tanh(t)
                t = t ** 2
                y = y + t
            return anp.sum(y)

        df = agrad(f)

        def step():
            return df(a0)

        def forward():
            return f(a0)

        def grads():
            return float(f(a0)), df(a0).tolist()
    elif lib == "tinygrad":
        Tensor = _tinygrad().Tensor

        def forward():
            a = Tensor(a0)
            y = Tensor(y0)
            for _ in range(50):
                t = y * a
                t = t.tanh()
                t = t ** 2
                y = y + t
            return y.sum(), a

        def step():
            s, a = forward()
            (ga,) = s.gradient(a)  # tinygrad is lazy: realize the loss and the gradient
            return s.numpy(), ga.numpy()

        def grads():
            s, ga = step()
            return float(s), ga.tolist()
    elif lib == "mygrad":
        import mygrad as mg

        def forward():
            a = mg.tensor(a0)
            y = mg.tensor(y0)
            for _ in range(50):
                t = y * a
                t = mg.tanh(t)
                t = t ** 2
                y = y + t
            return mg.sum(y), a

        def step():
            s, a = forward()
            s.backward()
            return s, a

        def grads():
            s, a = step()
            return float(s.item()), a.grad.tolist()
    else:
        raise SystemExit(f"unsupported {lib}")
    loss, g = grads()
    rep = 50 if QUICK else 300
    total = median_time(step, rep)
    fwd = median_time(forward, rep)
    return {"loss": loss, "grads": g, "us_per_op": total / n_ops * 1e6, "fwd_us_per_op": fwd / n_ops * 1e6,
            "bwd_us_per_op": (total - fwd) / n_ops * 1e6}


# --------------------------------------------------------------------------- W2 MLP step
def _mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    ws = [(rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32) for i, o in ((784, 512), (512, 512), (512, 10))]
    bs = [np.zeros(o, np.float32) for o in (512, 512, 10)]
    return x, y, ws, bs


def w2(lib: str, steps_for_rss: int = 0) -> dict:
    x0, y0, ws0, bs0 = _mlp_data()
    lr = 0.01
    if lib in ("ember", "torch"):
        L = lib_module(lib)
        F = L.nn.functional
        x, y = L.tensor(x0), L.tensor(y0)
        params = [L.tensor(w.copy(), requires_grad=True) for w in ws0] + [L.tensor(b.copy(), requires_grad=True)
                                                                          for b in bs0]

        def step():
            w1_, w2_, w3_, b1, b2, b3 = params
            h = (x @ w1_ + b1).relu()
            h = (h @ w2_ + b2).relu()
            loss = F.cross_entropy(h @ w3_ + b3, y)
            for p in params:
                p.grad = None
            loss.backward()
            with L.no_grad():
                for p in params:
                    p -= lr * p.grad
            return loss

        def grads():
            snapshot = [p.detach().clone() for p in params]
            loss = step()
            g = [float(np.abs(p.grad.numpy()).sum()) for p in params]
            with L.no_grad():
                for p, s in zip(params, snapshot):
                    p.copy_(s)
            return float(loss.item()), g

    elif lib == "tinygrad":
        Tensor = _tinygrad().Tensor
        x, onehot = Tensor(x0), Tensor(np.eye(10, dtype=np.float32)[y0])
        params = [Tensor(w.copy()) for w in ws0] + [Tensor(b.copy()) for b in bs0]
        lr = 0.01

        def step():
            w1_, w2_, w3_, b1, b2, b3 = params
            h = (x @ w1_ + b1).relu()
            h = (h @ w2_ + b2).relu()
            loss = -((h @ w3_ + b3).log_softmax(1) * onehot).sum(1).mean()
            gs = loss.gradient(*params)
            for i, (p, g) in enumerate(zip(params, gs)):
                params[i] = (p - lr * g).realize()
            return loss.numpy(), gs

        def grads():
            snapshot = list(params)
            loss, gs = step()
            g = [float(np.abs(gp.numpy()).sum()) for gp in gs]
            params[:] = snapshot
            return float(loss), g

    elif lib == "numpy":
        ws = [w.copy() for w in ws0]
        bs = [b.copy() for b in bs0]
        onehot = np.eye(10, dtype=np.float32)[y0]

        def step(keep=False):
            h1p = x0 @ ws[0] + bs[0]
            h1 = np.maximum(h1p, 0)
            h2p = h1 @ ws[1] + bs[1]
            h2 = np.maximum(h2p, 0)
            z = h2 @ ws[2] + bs[2]
            m = z.max(1, keepdims=True)
            lse = np.log(np.exp(z - m).sum(1, keepdims=True)) + m
            loss = float((lse[:, 0] - z[np.arange(256), y0]).mean())
            dz = (np.exp(z - lse) - onehot) / 256
            gw3, gb3 = h2.T @ dz, dz.sum(0)
            dh2 = (dz @ ws[2].T) * (h2p > 0)
            gw2, gb2 = h1.T @ dh2, dh2.sum(0)
            dh1 = (dh2 @ ws[1].T) * (h1p > 0)
            gw1, gb1 = x0.T @ dh1, dh1.sum(0)
            g = [gw1, gw2, gw3, gb1, gb2, gb3]
            if not keep:
                for p, gp in zip(ws + bs, g):
                    p -= lr * gp
            return loss, g

        def grads():
            loss, g = step(keep=True)
            return loss, [float(np.abs(a).sum()) for a in g]
    else:
        raise SystemExit(f"unsupported {lib}")
    loss, g = grads()
    out = {"loss": loss, "grads": g}
    if steps_for_rss:
        reset_peak()
        rss = []
        for i in range(steps_for_rss):
            step()
            if i + 1 in (10, steps_for_rss):
                rss.append(rss_mb())
        out.update(rss_step10=rss[0], rss_step50=rss[1], peak_rss_mb=peak_mb())
        return out
    out["ms_per_step"] = median_time(step, 10 if QUICK else 40) * 1e3
    return out


# --------------------------------------------------------------------------- W3 CNN step
def w3(lib: str) -> dict:
    if lib not in ("ember", "torch"):
        raise SystemExit(f"unsupported {lib}")
    L = lib_module(lib)
    nn = L.nn
    rng = np.random.default_rng(0)
    x = L.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = L.tensor(rng.integers(0, 10, 64))
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 14 * 14, 10))
    wrng = np.random.default_rng(1)
    with L.no_grad():  # identical weights in every library
        for p in model.parameters():
            p.copy_(L.tensor((wrng.standard_normal(tuple(p.shape)) * 0.05).astype(np.float32)))
    opt = L.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    loss = float(loss_fn(model(x), y).item())
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    g = [float(np.abs(p.grad.numpy()).sum()) for p in model.parameters()]
    return {"loss": loss, "grads": g, "ms_per_step": median_time(step, 5 if QUICK else 20) * 1e3}


# --------------------------------------------------------------------------- W4 deep graph
def w4(lib: str, n: int) -> dict:
    reset_peak()
    if lib in ("ember", "torch"):
        L = lib_module(lib)
        x = L.tensor([1.0], requires_grad=True)
        t0 = time.perf_counter()
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        y.backward()
        dt = time.perf_counter() - t0
        peak = peak_mb()
        del y
        return {"loss": 0.0, "grads": [float(np.log(x.grad.item()))], "seconds": dt, "peak_rss_mb": peak,
                "rss_after_mb": rss_mb()}
    if lib == "micrograd":
        from micrograd.engine import Value

        t0 = time.perf_counter()
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.0001
        try:
            y.backward()  # builds its topological order recursively
        except RecursionError:
            return {"error": "RecursionError in backward"}
        return {"loss": 0.0, "grads": [float(np.log(x.grad)) if x.grad > 0 else 0.0], "seconds": time.perf_counter() - t0,
                "peak_rss_mb": peak_mb()}
    if lib == "numpy":
        t0 = time.perf_counter()
        y = np.array([1.0], np.float32)
        tape = []
        for _ in range(n):
            tape.append(y)
            y = y * np.float32(1.0001) + np.float32(0.0001)
        g = np.ones(1, np.float32)
        for _ in reversed(tape):
            g = g * np.float32(1.0001)
        dt = time.perf_counter() - t0
        return {"loss": 0.0, "grads": [float(np.log(g[0]))], "seconds": dt, "peak_rss_mb": peak_mb()}
    raise SystemExit(f"unsupported {lib}")


# --------------------------------------------------------------------------- W5 large elementwise
def w5(lib: str) -> dict:
    n = 64 if TINY else 4096
    x0 = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    if lib in ("ember", "torch"):
        L = lib_module(lib)
        x = L.tensor(x0, requires_grad=True)

        def step():
            x.grad = None
            s = (x.sigmoid() * x).sum()
            s.backward()
            return s
    elif lib == "numpy":
        def step():
            s = 1 / (1 + np.exp(-x0))
            out = (s * x0).sum()
            g = s + x0 * s * (1 - s)
            return out, g
    else:
        raise SystemExit(f"unsupported {lib}")
    r = step()
    if lib == "numpy":
        loss, g = float(r[0]), float(np.abs(r[1]).sum())
    else:
        loss, g = float(r.item()), float(np.abs(x.grad.numpy()).sum())
    return {"loss": loss, "grads": [g], "ms": median_time(step, 3 if QUICK else 8) * 1e3}


# --------------------------------------------------------------------------- W8 random normals
def w8(lib: str) -> dict:
    """randn(1000, 1000) float32: ember reproduces torch's stream (Box-Muller over its mt19937);
    NumPy's ziggurat is the floor. The streams' equality is tested in tests/test_random.py."""
    n = 64 if TINY else 1000
    if lib in ("ember", "torch"):
        L = lib_module(lib)
        L.manual_seed(0)
        fn = lambda: L.randn(n, n)
    elif lib == "numpy":
        rng = np.random.default_rng(0)
        fn = lambda: rng.standard_normal((n, n), dtype=np.float32)
    else:
        raise SystemExit(f"unsupported {lib}")
    return {"loss": 0.0, "grads": [], "ms": median_time(fn, 5 if QUICK else 20) * 1e3}


# --------------------------------------------------------------------------- W9 char-LSTM step
def w9(lib: str) -> dict:
    """One training step of examples/char_model.py's model at its default sizes (Embedding 32,
    one LSTM layer of 128, Linear head; batch 32 windows of 64 characters): forward, cross-entropy
    over the (batch * time, vocab) logits, backward, gradient clipping, Adam step."""
    if lib not in ("ember", "torch"):
        raise SystemExit(f"unsupported {lib}")
    L = lib_module(lib)
    nn, F = L.nn, L.nn.functional
    V, E, H, N, T = (20, 8, 16, 4, 8) if TINY else (158, 32, 128, 32, 64)  # 158: the example's vocabulary
    rng = np.random.default_rng(0)
    text = rng.integers(0, V, 20_000)
    starts = rng.integers(0, len(text) - T - 1, (8, N))  # a few fixed batches, cycled
    batches = [(L.tensor(np.stack([text[s:s + T] for s in row])), L.tensor(np.stack([text[s + 1:s + T + 1] for s in row])))
               for row in starts]

    class CharLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(V, E)
            self.lstm = nn.LSTM(E, H, batch_first=True)
            self.head = nn.Linear(H, V)

        def forward(self, idx):
            out, _ = self.lstm(self.embed(idx))
            return self.head(out)

    model = CharLSTM()
    wrng = np.random.default_rng(1)
    with L.no_grad():  # identical weights in every library
        for p in model.parameters():
            p.copy_(L.tensor((wrng.standard_normal(tuple(p.shape)) * 0.1).astype(np.float32)))
    opt = L.optim.Adam(model.parameters(), lr=3e-3)
    it = [0]

    def loss_of(x, y):
        return F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))

    def step():
        x, y = batches[it[0] % len(batches)]
        it[0] += 1
        loss = loss_of(x, y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    loss = float(loss_of(*batches[0]).item())
    opt.zero_grad()
    loss_of(*batches[0]).backward()
    g = [float(np.abs(p.grad.numpy()).sum()) for p in model.parameters()]
    opt.zero_grad()
    return {"loss": loss, "grads": g, "ms_per_step": median_time(step, 5 if QUICK else 15) * 1e3}


# --------------------------------------------------------------------------- W6 import, W7 floor
def w6_import(lib: str) -> dict:
    t0 = time.perf_counter()
    lib_module(lib) if lib != "numpy" else __import__("numpy")
    return {"loss": 0.0, "grads": [], "import_s": time.perf_counter() - t0}


def w7_floor() -> dict:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((256, 784)).astype(np.float32)
    b = rng.standard_normal((784, 512)).astype(np.float32)
    out = np.empty((256, 512), np.float32)  # the arithmetic alone: no allocation (or page faults) timed
    t = median_time(lambda: np.matmul(a, b, out=out), 100)
    rate = 2 * 256 * 784 * 512 / t
    # W2's matmuls: forward 3, backward 5 (no input gradient for the first layer)
    flops = 2 * 256 * (784 * 512 + 512 * 512 + 512 * 10) * 3 - 2 * 256 * 784 * 512
    return {"loss": 0.0, "grads": [], "gflops": rate / 1e9, "floor_ms": flops / rate * 1e3}


def run(lib: str, work: str) -> dict:
    """One workload for one library, in this process (its library already imported)."""
    if work == "W6":
        return w6_import(lib)
    rss_steps, chain = (20, 1_000) if TINY else (50, None)
    return {"W1": lambda: w1(lib), "W2": lambda: w2(lib), "W2rss": lambda: w2(lib, steps_for_rss=rss_steps),
            "W3": lambda: w3(lib), "W4_100k": lambda: w4(lib, chain or 100_000),
            "W4_1M": lambda: w4(lib, chain or 1_000_000), "W5": lambda: w5(lib), "W7": w7_floor,
            "W8": lambda: w8(lib), "W9": lambda: w9(lib)}[work]()


def main() -> None:
    lib, work = sys.argv[1], sys.argv[2]
    if work == "W6":
        res = w6_import(lib)
    else:
        if lib != "numpy":
            lib_module(lib)  # imported before timing
        res = run(lib, work)
    if "error" in res:
        print(res["error"], file=sys.stderr)
        raise SystemExit(1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()

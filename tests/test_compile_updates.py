"""A training step's hand-written update inside a compiled function, as the tutorials write it:
``p -= lr * p.grad`` (or ``p.data -= ...``, ``p.sub_(...)``) under ``no_grad``, then ``p.grad = None``
or ``p.grad.zero_()``. Each is recorded as a replay step (NumPy's in-place ufunc, the version
counter bumped as eager bumps it), so the step compiles whole and equals eager bit for bit; a
``.grad`` the function reads before the program sets it is a guard, as in torch."""

import math
import warnings

import numpy as np
import pytest
import torch

import ember


def _fit_cubic(L, compiled, clear):
    """pytorch/tutorials' polynomial fit: four scalar tensors, gradient descent written out."""
    L.manual_seed(0)
    x = L.linspace(-math.pi, math.pi, 200)
    y = L.sin(x)
    coeffs = [L.tensor(v, requires_grad=True) for v in (0.1, -0.3, 0.2, 0.05)]

    def step(x, y):
        a, b, c, d = coeffs
        loss = ((a + b * x + c * x ** 2 + d * x ** 3 - y) ** 2).mean()
        loss.backward()
        with L.no_grad():
            for p in coeffs:
                p -= 1e-3 * p.grad
                if clear == "none":
                    p.grad = None
                else:
                    p.grad.zero_()
        return loss

    run = L.compile(step) if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a graph break warns)
        losses = [run(x, y).item() for _ in range(30)]
    return losses, [p.item() for p in coeffs], [p._version for p in coeffs], run


@pytest.mark.parametrize("clear", ["none", "zero_"])
def test_a_hand_written_update_compiles_whole_and_equals_eager_and_torch(clear):
    eager = _fit_cubic(ember, False, clear)
    compiled = _fit_cubic(ember, True, clear)
    assert compiled[:3] == eager[:3]  # losses, coefficients, versions: bit for bit
    theirs = _fit_cubic(torch, False, clear)
    np.testing.assert_allclose(compiled[0], theirs[0], rtol=1e-5)
    assert compiled[2] == theirs[2]  # (one version per `p -=`, as torch counts them)
    src = compiled[3].source()
    assert "np.subtract(" in src and "# update" in src
    assert ("grad = None" in src) if clear == "none" else ("[...] = 0" in src)


def test_data_and_in_place_methods_and_inputs():
    def run(compiled):
        ember.manual_seed(0)
        w1, w2 = ember.randn(3, 5, requires_grad=True), ember.randn(5, 2, requires_grad=True)
        x, y = ember.randn(16, 3), ember.randn(16, 2)
        seen = ember.zeros(1)

        def step(x, y, seen):
            loss = ((x.mm(w1).clamp(min=0).mm(w2) - y) ** 2).sum()
            loss.backward()
            with ember.no_grad():
                w1.data -= 1e-3 * w1.grad  # (.data: a tensor of its own, no version bump on w1)
                w2.sub_(1e-3 * w2.grad)
                seen += 1  # (an input the caller holds)
            w1.grad = None
            w2.grad = None
            return loss

        run = ember.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [run(x, y, seen).item() for _ in range(8)]
        return losses, w1.detach().numpy().tobytes(), w2.detach().numpy().tobytes(), seen.item(), \
            (w1._version, w2._version, seen._version)

    assert run(True) == run(False)


def test_a_grad_read_before_the_program_sets_it_is_a_guard():
    # `if w.grad is not None` at the top of the step: None when traced, a tensor at the next call,
    # whose replay would otherwise skip the zeroing; the guard retraces instead
    def run(compiled):
        w = ember.tensor([[0.5], [-1.0], [2.0]], requires_grad=True)
        x = ember.tensor(np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3))

        def step(x):
            if w.grad is not None:
                w.grad.zero_()
            loss = (x @ w).pow(2).sum()
            loss.backward()
            with ember.no_grad():
                w.sub_(0.01 * w.grad)
            return loss

        run = ember.compile(step) if compiled else step
        return [run(x).item() for _ in range(4)], w.detach().numpy().tobytes(), run

    eager, compiled = run(False), run(True)
    assert compiled[:2] == eager[:2]
    assert "2 cache entries" in compiled[2].explain()


def _resnet(L):
    nn = L.nn

    class Block(nn.Module):  # torchvision's BasicBlock: in-place ReLU and `out += identity`
        def __init__(self, c):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.relu = nn.ReLU(inplace=True)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += identity
            return self.relu(out)

    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), Block(4), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    rng = np.random.default_rng(0)
    with L.no_grad():
        for p in model.parameters():
            p.copy_(L.tensor((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
    return model


def _resnet_losses(L, compiled):
    model = _resnet(L)
    opt = L.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        loss = L.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = L.compile(step) if compiled else step
    rng = np.random.default_rng(1)
    xs = [L.tensor(rng.standard_normal((8, 1, 6, 6)).astype(np.float32)) for _ in range(4)]
    y = L.tensor(rng.integers(0, 3, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a graph break warns)
        return [run(x, y).item() for x in xs], [p.detach().numpy().copy() for p in model.parameters()]


def test_a_resnet_block_with_in_place_ops_compiles_whole_and_equals_eager_and_torch():
    eager, ep = _resnet_losses(ember, False)
    compiled, cp = _resnet_losses(ember, True)
    assert compiled == eager and all(a.tobytes() == b.tobytes() for a, b in zip(cp, ep))
    theirs, tp = _resnet_losses(torch, False)
    np.testing.assert_allclose(compiled, theirs, rtol=1e-5)
    for a, b in zip(cp, tp):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_in_place_activations_of_nn_compile_whole_and_equal_eager():
    # pytorch/examples' DCGAN discriminator: nn.LeakyReLU(0.2, inplace=True) after each layer (and
    # ELU, SELU, Hardtanh in place): the activation writes back into the layer's output, as in eager
    def run(compiled):
        ember.manual_seed(0)
        nn = ember.nn
        model = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(4, 4, 3, 2, 1),
                              nn.BatchNorm2d(4), nn.LeakyReLU(0.2, inplace=True), nn.Flatten(), nn.Linear(16, 8),
                              nn.ELU(inplace=True), nn.Linear(8, 8), nn.SELU(inplace=True), nn.Linear(8, 1),
                              nn.Sigmoid())
        opt = ember.optim.Adam(model.parameters(), lr=1e-2)

        def step(x):
            loss = ember.nn.functional.binary_cross_entropy(model(x).view(-1), ember.ones(x.shape[0]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        run = ember.compile(step) if compiled else step
        x = ember.randn(6, 1, 8, 8)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (a graph break warns)
            return [run(x).item() for _ in range(3)], [p.detach().numpy().tobytes() for p in model.parameters()]

    assert run(True) == run(False)


def _three_calls(f, args, w):
    """Three calls of ``f`` (a graph break fails them): each returned tensor's bytes and w.grad's."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a graph break warns)
        for _ in range(3):
            w.grad = None
            out.append([t.detach().numpy().tobytes() for t in f(*args)] + [w.grad.numpy().tobytes()])
    return out


def test_fill_and_zero_of_computed_values_replay():
    # fill_(number) and zero_() of values the step computed: with a history, eager's own steps (the
    # filled array written back, FillBackward2 / ZeroBackward0); without, one write
    def run(compiled):
        ember.manual_seed(0)
        w = ember.randn(3, requires_grad=True)

        def step(x):
            a = x * w
            a.fill_(2.0)
            b = (x * w) * 2
            b.zero_()
            c = x + 1
            with ember.no_grad():
                d = x * 3
            d.fill_(1.5)
            c.zero_()
            loss = (a * w).sum() + b.sum() + (c + d).sum()
            loss.backward()
            return loss, a, b, d

        f = ember.compile(step) if compiled else step
        return _three_calls(f, (ember.randn(3),), w), f

    got, f = run(True)
    assert got == run(False)[0]
    assert "FillBackward2" in f.source() or "filled" in f.source()
    assert ".copy()" not in f.source()  # (the old value's copy, which fill_'s node does not keep)


def test_setitem_into_computed_values_replays():
    # x[key] = value into a value the step computed (no view): d2l's sequence_mask (a boolean key
    # the step computed, a number), a basic key with a tensor value, an int key; eager's setitem is
    # called again at replay, and the write's node (IndexPutBackward0, CopySlices) replayed
    def run(compiled):
        ember.manual_seed(0)
        w = ember.randn(4, 3, requires_grad=True)

        def step(x, lens):
            s = x @ w
            mask = ember.arange(3)[None, :] < lens[:, None]
            s[~mask] = -1e6
            t = s.softmax(-1) * 1
            t[:, 0] = t[:, 1] * 2
            u = x * 1
            u[1] = 0.5
            loss = (t * t).sum() + u.sum()
            loss.backward()
            return loss, t, u

        f = ember.compile(step) if compiled else step
        return _three_calls(f, (ember.randn(5, 4), ember.tensor([1, 2, 3, 1, 2])), w), f

    got, f = run(True)
    assert got == run(False)[0]
    assert f.source().count("setitem(_new(") == 3


def _sequence_mask(X, valid_len, value=0.0):  # d2l's, as written there
    mask = ember.arange(X.size(1), dtype=ember.float32)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def test_writes_through_views_of_computed_values_replay():
    # d2l's masked_softmax writes through X.reshape(-1, n) (a view of the attention scores);
    # pytorch/examples' mass_spring adds into forces[i]; a slice multiplied in place; a view of a
    # view: eager's inplace_on_view steps, the replay's NumPy views sharing the base's memory as
    # eager's do, the base's CopySlices and the view's AsStridedBackward0 replayed with the
    # positions as constants
    def run(compiled):
        ember.manual_seed(0)
        w = ember.randn(4, 4, requires_grad=True)

        def step(q, lens):
            scores = ember.bmm(q @ w, q.transpose(1, 2))
            shape = scores.shape
            X = _sequence_mask(scores.reshape(-1, shape[-1]), ember.repeat_interleave(lens, shape[1]), -1e6)
            att = ember.nn.functional.softmax(X.reshape(shape), dim=-1)
            a = q[0] @ w
            a[1:].mul_(2)
            forces = ember.zeros(3, 4)
            for i in range(3):
                forces[i] += w[i] * 2
            b = (q[1] @ w).reshape(-1)
            b.view(3, 4)[:, 0].relu_()
            loss = (att * att).sum() + att[:, 0].sum() + (a * a).sum() + forces.sum() + (b * b).sum()
            loss.backward()
            return loss, att, a, forces, b

        f = ember.compile(step) if compiled else step
        return _three_calls(f, (ember.randn(2, 3, 4), ember.tensor([2, 3])), w)

    assert run(True) == run(False)


def test_an_lr_scheduler_stepped_inside_the_compiled_step_is_called_again_by_each_replay():
    # scheduler.step() after optimizer.step() in the step function: the scheduler's wrapper of
    # optimizer.step and its own step broke the graph ("'wrapper' changes state"); both are calls the
    # replay makes again, so the learning rates follow the schedule, as in eager and in torch
    def run(lib, compiled):
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 2)
        opt = lib.optim.Adam(m.parameters(), lr=0.1)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=12)
        x, y = lib.ones(4, 3), lib.zeros(4, 2)

        def step(x, y):
            opt.zero_grad()
            loss = lib.nn.functional.mse_loss(m(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss

        f = lib.compile(step, backend="eager") if compiled and lib is torch else lib.compile(step) if compiled else step
        losses, lrs = [], []
        for _ in range(10):
            losses.append(f(x, y).item())
            lrs.append(sched.get_last_lr()[0])
        return losses, lrs, [p.detach().numpy().copy() for p in m.parameters()], f

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lc, rc, pc, f = run(ember, True)
    le, re_, pe, _ = run(ember, False)
    lt, rt, pt, _ = run(torch, False)
    assert lc == le and rc == re_ and all(a.tobytes() == b.tobytes() for a, b in zip(pc, pe))
    np.testing.assert_allclose(rc, rt, rtol=1e-12)
    np.testing.assert_allclose(lc, lt, rtol=1e-4)
    assert "replayed 9 times" in f.explain()

    m = ember.nn.Linear(3, 2)
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    plateau = ember.optim.lr_scheduler.ReduceLROnPlateau(opt)
    tplateau = torch.optim.lr_scheduler.ReduceLROnPlateau(torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=0.1))
    assert isinstance(plateau, ember.optim.lr_scheduler.LRScheduler)  # (as torch's: an LRScheduler)
    assert isinstance(tplateau, torch.optim.lr_scheduler.LRScheduler)

    @ember.compile
    def step2(x):
        opt.zero_grad()
        loss = m(x).sum()
        loss.backward()
        opt.step()
        plateau.step(1.0)
        return loss

    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau.step\(\) with an epoch or a metric"):
        step2(ember.ones(1, 3))

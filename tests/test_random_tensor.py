"""The tensor-level random API against torch 2.13 on the CPU: same seeds, same bits, same places.

Covers the in-place samplers (``uniform_``, ``normal_``, ``bernoulli_``, ``random_``,
``exponential_``, ``cauchy_``, ``log_normal_``, ``geometric_``) on contiguous and non-contiguous
targets, ``bernoulli``/``multinomial``/``poisson``, the ``*_like`` samplers, explicit generators,
interleaved call sequences, and RNG states moved between torch and ember.  Every comparison is
bit-exact; the number of exact matches is printed at the end (``pytest -s``).
"""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SEEDS = [0, 7, 1234, 2**32 + 5]
SHAPES = [(), (0,), (1,), (2,), (15,), (16,), (17,), (31,), (33,), (3, 5), (4, 16), (2, 0, 3), (37, 29)]
FLOATS = ["float32", "float64", "float16"]
INTS = ["int64", "int32", "uint8", "bool"]

COUNT = {"calls": 0, "elements": 0}


def _np(t) -> np.ndarray:
    return np.ascontiguousarray(t.detach().numpy())


def same(t, e, what: str = "") -> None:
    """Bit-exact equality of a torch and an ember tensor (dtype, shape and every bit)."""
    assert isinstance(e, ember.Tensor), what
    tn, en = _np(t), _np(e)
    assert tn.dtype == en.dtype and tn.shape == en.shape, (what, tn.dtype, en.dtype, tn.shape, en.shape)
    if tn.tobytes() != en.tobytes():
        bad = np.flatnonzero(tn.ravel().view(np.uint8 if tn.dtype == bool else tn.dtype) != en.ravel())
        raise AssertionError(f"{what}: {bad.size}/{tn.size} differ; first {bad[:4]}: torch {tn.ravel()[bad[:3]]} "
                             f"ember {en.ravel()[bad[:3]]}")
    COUNT["calls"] += 1
    COUNT["elements"] += tn.size


def same_state(what: str = "") -> None:
    assert np.array_equal(torch.get_rng_state().numpy(), ember.get_rng_state().numpy()), f"RNG state differs {what}"


def seed_both(s: int) -> None:
    torch.manual_seed(s)
    ember.manual_seed(s)


def both(tf, ef, what: str = ""):
    """Run a torch and an ember call; both must raise the same exception type or match exactly."""
    try:
        t = tf()
    except Exception as exc:   # noqa: BLE001
        with pytest.raises(type(exc)):
            ef()
        return None, None
    e = ef()
    same(t, e, what)
    return t, e


def targets(shape: tuple, dtype: str, layout: str = "contiguous"):
    """A torch and an ember tensor to fill, laid out alike."""
    td, ed = getattr(torch, dtype), getattr(ember, dtype)
    if layout == "contiguous":
        return torch.zeros(shape, dtype=td), ember.zeros(shape, dtype=ed)
    if layout == "transposed":       # shape (a, b) viewed as (b, a)
        return torch.zeros(shape[::-1], dtype=td).t(), ember.zeros(shape[::-1], dtype=ed).t()
    if layout == "strided":          # every other column of a wider tensor
        wide = shape[:-1] + (2 * shape[-1],)
        return torch.zeros(wide, dtype=td)[..., ::2], ember.zeros(wide, dtype=ed)[..., ::2]
    if layout == "permuted":         # a 3-D tensor with its dims rotated
        a, b, c = shape
        return torch.zeros(c, a, b, dtype=td).permute(1, 2, 0), ember.zeros(c, a, b, dtype=ed).permute(1, 2, 0)
    raise ValueError(layout)


# --------------------------------------------------------------------------- in-place samplers
INPLACE = [
    ("uniform_", (), {}, FLOATS),
    ("uniform_", (-2, 3), {}, FLOATS),
    ("uniform_", (), {"from": 1, "to": 1.5}, FLOATS),
    ("normal_", (), {}, FLOATS),
    ("normal_", (1.5, 0.25), {}, FLOATS),
    ("normal_", (), {"mean": -3.0, "std": 2.0}, FLOATS),
    ("bernoulli_", (), {}, FLOATS + INTS),
    ("bernoulli_", (0.3,), {}, FLOATS + INTS),
    ("bernoulli_", (), {"p": 0.9}, ["float32"]),
    ("random_", (), {}, FLOATS + INTS),
    ("random_", (10,), {}, FLOATS + INTS),
    ("random_", (-5, 7), {}, FLOATS + ["int64", "int32"]),
    ("random_", (3, None), {}, FLOATS + INTS),
    ("random_", (0, 2**40), {}, ["float64", "int64"]),
    ("random_", (), {"to": 1000}, ["int64"]),
    ("exponential_", (), {}, FLOATS),
    ("exponential_", (2.5,), {}, FLOATS),
    ("cauchy_", (), {}, FLOATS),
    ("cauchy_", (1.0, 0.5), {}, FLOATS),
    ("log_normal_", (), {}, FLOATS),
    ("log_normal_", (0.0, 0.5), {}, FLOATS),
    ("geometric_", (0.3,), {}, FLOATS + ["int64"]),
    ("geometric_", (0.9,), {}, ["float64"]),
]


@pytest.mark.parametrize("name,args,kwargs,dtypes", INPLACE,
                         ids=[f"{n}{a}{k or ''}" for n, a, k, _ in INPLACE])
def test_inplace_contiguous(name, args, kwargs, dtypes):
    for dtype in dtypes:
        for s in SEEDS:
            seed_both(s)
            for shape in SHAPES:
                t, e = targets(shape, dtype)
                tr, er = both(lambda t=t: getattr(t, name)(*args, **kwargs), lambda e=e: getattr(e, name)(*args, **kwargs),
                              f"{name}{args}{kwargs} {dtype} {shape} seed {s}")
                assert er is None or er is e
            same_state(f"after {name} {dtype} seed {s}")


LAYOUTS = [("transposed", (4, 5)), ("transposed", (16, 3)), ("transposed", (8, 8)), ("transposed", (40, 25)),
           ("strided", (3, 6)),
           ("strided", (5, 17)), ("permuted", (2, 3, 4)), ("permuted", (4, 1, 5))]


@pytest.mark.parametrize("name,args,kwargs,dtypes", INPLACE[::2] + [INPLACE[4]],
                         ids=[f"{n}{a}{k or ''}" for n, a, k, _ in INPLACE[::2] + [INPLACE[4]]])
def test_inplace_non_contiguous(name, args, kwargs, dtypes):
    for dtype in dtypes[:3]:
        for s in SEEDS[:2]:
            seed_both(s)
            for layout, shape in LAYOUTS:
                t, e = targets(shape, dtype, layout)
                assert t.is_contiguous() == e.is_contiguous()
                both(lambda t=t: getattr(t, name)(*args, **kwargs), lambda e=e: getattr(e, name)(*args, **kwargs),
                     f"{name} {dtype} {layout} {shape}")
            same_state(f"{name} {dtype}")


def test_inplace_writes_through_views_and_bumps_version():
    seed_both(3)
    tb, eb = torch.zeros(6, 8), ember.zeros(6, 8)
    v0 = eb._version
    tb[1:5, 2:7].t().normal_()
    eb[1:5, 2:7].t().normal_()
    same(tb, eb, "base of a normal_-filled view")
    assert eb._version == v0 + 1
    tb[::2].uniform_(-1, 1)
    eb[::2].uniform_(-1, 1)
    same(tb, eb, "base of a uniform_-filled view")
    for name in ["uniform_", "normal_", "bernoulli_", "random_", "exponential_", "cauchy_", "log_normal_"]:
        e = ember.zeros(3)
        getattr(e, name)()
        assert e._version == 1, name
    e = ember.zeros(3)
    e.geometric_(0.5)
    assert e._version == 1


def test_inplace_on_expanded_tensor_is_refused():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        ember.zeros(1, 3).expand(4, 3).uniform_()


@pytest.mark.parametrize("call", ["uniform_()", "normal_()", "bernoulli_(0.5)", "bernoulli_(p)", "random_()",
                                  "random_(5)", "random_(1, 5)", "exponential_()", "cauchy_()", "log_normal_()",
                                  "geometric_(0.5)"])
def test_inplace_autograd(call):
    ta, ea = torch.ones(3, requires_grad=True), ember.ones(3, requires_grad=True)
    tp, ep = torch.full((3,), 0.5), ember.full((3,), 0.5)
    # a leaf that requires grad is refused under grad mode, with torch's message
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."):
        eval("ea." + call, {"ea": ea, "p": ep})
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        eval("ta." + call, {"ta": ta, "p": tp})
    # a non-leaf gets torch's node and a zero gradient
    seed_both(1)
    tx, ex = ta * 2, ea * 2
    eval("tx." + call, {"tx": tx, "p": tp})
    eval("ex." + call, {"ex": ex, "p": ep})
    assert type(ex.grad_fn).__name__ == type(tx.grad_fn).__name__
    same(tx, ex, call)
    (ex * 3).sum().backward()
    assert ea.grad.tolist() == [0.0, 0.0, 0.0]
    # under no_grad even a leaf may be filled
    with torch.no_grad():
        eval("ta." + call, {"ta": ta, "p": tp})
    with ember.no_grad():
        eval("ea." + call, {"ea": ea, "p": ep})
    same(ta, ea, call + " under no_grad")


ERRORS = [("uniform_", (2, 1)), ("normal_", (0, -1)), ("bernoulli_", (1.5,)), ("random_", (5, 5)),
          ("random_", (0, 300)), ("exponential_", (-1,)), ("cauchy_", (0, 0)), ("log_normal_", (1, 0)),
          ("geometric_", (0,)), ("geometric_", (1.5,))]


@pytest.mark.parametrize("name,args", ERRORS)
def test_inplace_errors_match_torch(name, args):
    dt = "uint8" if name == "random_" else "float32"
    t, e = targets((3,), dt)
    with pytest.raises(Exception) as te:
        getattr(t, name)(*args)
    with pytest.raises(type(te.value)) as ee:
        getattr(e, name)(*args)
    assert str(ee.value) == str(te.value)


def test_uniform_on_integer_tensor_is_not_implemented():
    with pytest.raises(NotImplementedError, match="check_uniform_bounds"):
        torch.zeros(3, dtype=torch.int64).uniform_()
    with pytest.raises(NotImplementedError, match="check_uniform_bounds"):
        ember.zeros(3, dtype=ember.int64).uniform_()


# --------------------------------------------------------------------------- bernoulli / multinomial / poisson
def test_bernoulli_forms():
    for s in SEEDS:
        seed_both(s)
        for shape in [(), (1,), (5,), (17,), (4, 5)]:
            for dt in ["float32", "float64", "float16"]:
                tp = torch.rand(shape, dtype=getattr(torch, dt))
                ep = ember.rand(shape, dtype=getattr(ember, dt))
                same(tp, ep, "probabilities")
                same(torch.bernoulli(tp), ember.bernoulli(ep), "bernoulli(p)")
                same(tp.bernoulli(), ep.bernoulli(), "Tensor.bernoulli()")
                same(torch.bernoulli(tp, 0.25), ember.bernoulli(ep, 0.25), "bernoulli(input, p)")
                same(tp.bernoulli(0.75), ep.bernoulli(0.75), "Tensor.bernoulli(p)")
                t, e = targets(shape, "float32")
                same(t.bernoulli_(tp), e.bernoulli_(ep), "bernoulli_(p tensor)")
        # broadcast probability tensors, transposed targets and probabilities
        tp, ep = torch.rand(5, dtype=torch.float64), ember.rand(5, dtype=ember.float64)
        t, e = targets((4, 5), "float32")
        same(t.bernoulli_(tp), e.bernoulli_(ep), "broadcast p")
        t, e = targets((5, 4), "float32", "transposed")
        tq, eq = torch.rand(5, 4), ember.rand(5, 4)
        same(t.bernoulli_(tq), e.bernoulli_(eq), "transposed target")
        same(torch.bernoulli(tq.t()), ember.bernoulli(eq.t()), "transposed p")
        same(torch.bernoulli(tq.t(), 0.5), ember.bernoulli(eq.t(), 0.5), "transposed input, float p")
        same_state(f"bernoulli seed {s}")
    with pytest.raises(NotImplementedError, match="bernoulli_tensor_cpu_p_"):
        ember.bernoulli(ember.ones(3, dtype=ember.int64))


def test_bernoulli_grad_node():
    a = ember.full((4,), 0.5, requires_grad=True)
    r = ember.bernoulli(a)
    assert type(r.grad_fn).__name__ == "BernoulliBackward0"
    (r * 2).sum().backward()
    assert a.grad.tolist() == [0.0] * 4


def test_multinomial():
    for s in SEEDS:
        seed_both(s)
        for shape in [(5,), (3, 7), (2, 40)]:
            for dt in ["float32", "float64"]:
                tp = torch.rand(shape, dtype=getattr(torch, dt)) + 0.01
                ep = ember.rand(shape, dtype=getattr(ember, dt)) + 0.01
                for k, repl in [(1, False), (3, False), (1, True), (4, True), (shape[-1], False)]:
                    same(torch.multinomial(tp, k, repl), ember.multinomial(ep, k, repl), f"multinomial {shape} {k} {repl}")
                    same(tp.multinomial(k, replacement=repl), ep.multinomial(k, replacement=repl), "Tensor.multinomial")
        # a transposed probability matrix: torch draws its exponential keys in memory order
        tp, ep = torch.rand(6, 3) + 0.1, ember.rand(6, 3) + 0.1
        for k, repl in [(1, False), (2, False), (3, True)]:
            same(torch.multinomial(tp.t(), k, repl), ember.multinomial(ep.t(), k, repl), f"transposed {k} {repl}")
        same_state(f"multinomial seed {s}")


def test_poisson():
    rates = [0.0, 0.1, 1.0, 3.5, 9.99, 10.0, 12.0, 50.0, 1000.0, 1e6]
    for s in SEEDS:
        seed_both(s)
        for dt in ["float32", "float64"]:
            tr = torch.tensor(rates * 3, dtype=getattr(torch, dt))
            er = ember.tensor(rates * 3, dtype=getattr(ember, dt))
            same(torch.poisson(tr), ember.poisson(er), f"poisson {dt}")
            same(torch.poisson(tr.reshape(3, 10).t()), ember.poisson(er.reshape(3, 10).t()), "poisson transposed")
        tg, eg = torch.Generator().manual_seed(s), ember.Generator().manual_seed(s)
        same(torch.poisson(torch.full((40,), 20.0), tg), ember.poisson(ember.full((40,), 20.0), eg), "poisson gen")
        same_state(f"poisson seed {s}")


# --------------------------------------------------------------------------- creation functions, *_like
def test_like_functions_keep_layout():
    for s in SEEDS:
        seed_both(s)
        for layout, shape in LAYOUTS + [("contiguous", (4, 5)), ("contiguous", (17,))]:
            for dt in ["float32", "float64"]:
                t, e = targets(shape, dt, layout)
                for tf, ef in [(lambda x: torch.rand_like(x), lambda x: ember.rand_like(x)),
                               (lambda x: torch.randn_like(x), lambda x: ember.randn_like(x)),
                               (lambda x: torch.randint_like(x, 10), lambda x: ember.randint_like(x, 10)),
                               (lambda x: torch.randint_like(x, -3, 3), lambda x: ember.randint_like(x, -3, 3)),
                               (lambda x: torch.randn_like(x, dtype=torch.float64),
                                lambda x: ember.randn_like(x, dtype=ember.float64))]:
                    tr, er = tf(t), ef(e)
                    same(tr, er, f"*_like {layout} {shape} {dt}")
                    assert tr.stride() == er.stride(), (layout, shape, tr.stride(), er.stride())
        same_state(f"like seed {s}")


def test_creation_functions_with_dtypes():
    for s in SEEDS:
        seed_both(s)
        for shape in SHAPES:
            for dt in FLOATS:
                td, ed = getattr(torch, dt), getattr(ember, dt)
                same(torch.rand(shape, dtype=td), ember.rand(shape, dtype=ed), f"rand {shape} {dt}")
                same(torch.randn(shape, dtype=td), ember.randn(shape, dtype=ed), f"randn {shape} {dt}")
            same(torch.randint(-4, 9, shape), ember.randint(-4, 9, shape), "randint")
            same(torch.normal(2.0, 3.0, shape), ember.normal(2.0, 3.0, shape), "normal")
        for n in [0, 1, 2, 17, 100]:
            same(torch.randperm(n), ember.randperm(n), "randperm")
        same_state(f"creation seed {s}")


# --------------------------------------------------------------------------- generators
def test_generator_class():
    g = ember.Generator()
    assert isinstance(g, ember.Generator) and g.manual_seed(5) is g
    assert g.initial_seed() == 5 and str(g.device) == "cpu" and repr(g.device) == repr(torch.Generator().device)
    assert g.device == ember.device("cpu") and g.device != "cpu"  # as torch: a device never equals a str
    st = g.get_state()
    assert isinstance(st, ember.Tensor) and st.dtype == ember.uint8 and st.shape == (5056,)
    assert np.array_equal(st.numpy(), torch.Generator().manual_seed(5).get_state().numpy())
    s = g.seed()
    assert g.initial_seed() == s
    assert ember.Generator("cpu").initial_seed() == torch.Generator("cpu").initial_seed() == 67280421310721
    assert np.array_equal(g.clone_state().get_state().numpy(), g.get_state().numpy())
    assert isinstance(ember.random.default_generator, ember.Generator)


def test_explicit_generators_do_not_touch_the_default():
    for s in SEEDS:
        seed_both(99)
        tg, eg = torch.Generator().manual_seed(s), ember.Generator().manual_seed(s)
        for shape in [(3,), (16,), (4, 5)]:
            same(torch.rand(shape, generator=tg), ember.rand(shape, generator=eg))
            same(torch.randn(shape, generator=tg), ember.randn(shape, generator=eg))
            same(torch.randint(0, 7, shape, generator=tg), ember.randint(0, 7, shape, generator=eg))
            same(torch.normal(1.0, 2.0, shape, generator=tg), ember.normal(1.0, 2.0, shape, generator=eg))
            for name, args in [("uniform_", (-1, 1)), ("normal_", (0, 2)), ("bernoulli_", (0.4,)), ("random_", (0, 9)),
                               ("exponential_", ()), ("cauchy_", ()), ("log_normal_", ()), ("geometric_", (0.2,))]:
                t, e = targets(shape, "float32")
                getattr(t, name)(*args, generator=tg)
                getattr(e, name)(*args, generator=eg)
                same(t, e, f"{name} with generator")
            tp, ep = torch.rand(shape, generator=tg), ember.rand(shape, generator=eg)
            same(torch.bernoulli(tp, generator=tg), ember.bernoulli(ep, generator=eg))
            same(torch.multinomial(tp.reshape(-1), 2, generator=tg), ember.multinomial(ep.reshape(-1), 2, generator=eg))
            same(torch.rand_like(tp, generator=tg), ember.rand_like(ep, generator=eg))
            same(torch.randn_like(tp, generator=tg), ember.randn_like(ep, generator=eg))
            same(torch.randint_like(tp, 5, generator=tg), ember.randint_like(ep, 5, generator=eg))
        same(torch.randperm(30, generator=tg), ember.randperm(30, generator=eg))
        assert np.array_equal(tg.get_state().numpy(), eg.get_state().numpy())
        same_state("default generator untouched")
        assert torch.initial_seed() == ember.initial_seed() == 99


# --------------------------------------------------------------------------- interleaved sequences
def _ops(rng: np.random.Generator):
    """Random (torch call, ember call) pairs over every sampler."""
    def pick():
        shape = [(), (1,), (3,), (15,), (16,), (17,), (33,), (2, 9), (4, 4)][rng.integers(9)]
        dt = ["float32", "float64"][rng.integers(2)]
        td, ed = getattr(torch, dt), getattr(ember, dt)
        k = rng.integers(22)
        if k == 0:
            return lambda: torch.rand(shape, dtype=td), lambda: ember.rand(shape, dtype=ed)
        if k == 1:
            return lambda: torch.randn(shape, dtype=td), lambda: ember.randn(shape, dtype=ed)
        if k == 2:
            return lambda: torch.randint(0, 1000, shape), lambda: ember.randint(0, 1000, shape)
        if k == 3:
            n = int(rng.integers(0, 50))
            return lambda: torch.randperm(n), lambda: ember.randperm(n)
        if k == 4:
            return lambda: torch.normal(0.5, 2.0, shape), lambda: ember.normal(0.5, 2.0, shape)
        if k == 5:
            return (lambda: torch.bernoulli(torch.full(shape, 0.3, dtype=td)),
                    lambda: ember.bernoulli(ember.full(shape, 0.3, dtype=ed)))
        if k == 6:
            repl = bool(rng.integers(2))
            return (lambda: torch.multinomial(torch.arange(1.0, 8.0, dtype=td), 3, repl),
                    lambda: ember.multinomial(ember.arange(1.0, 8.0, dtype=ed), 3, repl))
        if k == 7:
            return lambda: torch.rand_like(torch.zeros(shape, dtype=td)), lambda: ember.rand_like(ember.zeros(shape, dtype=ed))
        if k == 8:
            return (lambda: torch.randn_like(torch.zeros(shape, dtype=td)),
                    lambda: ember.randn_like(ember.zeros(shape, dtype=ed)))
        if k == 9:
            return (lambda: torch.randint_like(torch.zeros(shape, dtype=td), 3, 9),
                    lambda: ember.randint_like(ember.zeros(shape, dtype=ed), 3, 9))
        layout = "transposed" if len(shape) == 2 and rng.integers(2) else "contiguous"
        name, args = [("uniform_", (-3, 2)), ("uniform_", ()), ("normal_", ()), ("normal_", (2.0, 0.5)), ("bernoulli_", (0.6,)),
                      ("random_", ()), ("random_", (100,)), ("random_", (-7, 7)), ("exponential_", (3.0,)), ("cauchy_", ()),
                      ("log_normal_", (0.5, 1.0)), ("geometric_", (0.25,))][k - 10]

        def run(lib):
            x = targets(shape, dt, layout)[0 if lib is torch else 1]
            return getattr(x, name)(*args)
        return lambda: run(torch), lambda: run(ember)
    return pick


def test_interleaved_sequences():
    rng = np.random.default_rng(2024)
    pick = _ops(rng)
    for trial in range(8):
        s = int(rng.integers(0, 2**40))
        seed_both(s)
        for step in range(50):
            tf, ef = pick()
            same(tf(), ef(), f"trial {trial} step {step}")
        same_state(f"trial {trial}")


# --------------------------------------------------------------------------- states between torch and ember
def test_state_round_trips_between_torch_and_ember():
    for s in SEEDS:
        seed_both(s)
        torch.randn(3)
        ember.randn(3)                  # leaves a cached Box-Muller value in both
        st = ember.get_rng_state()
        assert isinstance(st, ember.Tensor) and st.dtype == ember.uint8 and tuple(st.shape) == (5056,)
        same(torch.get_rng_state(), st, "get_rng_state")
        # ember -> torch
        torch.set_rng_state(torch.from_numpy(st.numpy().copy()))
        same(torch.randn(5), ember.randn(5), "after ember state -> torch")
        # torch -> ember, as a tensor and as a NumPy array
        torch.rand(100)
        ember.set_rng_state(ember.from_numpy(torch.get_rng_state().numpy().copy()))
        same(torch.normal(0.0, 1.0, (7,)), ember.normal(0.0, 1.0, (7,)), "after torch state -> ember")
        ember.random.set_rng_state(torch.get_rng_state().numpy())
        same(torch.rand(20), ember.rand(20), "after a NumPy state")
        # saving and restoring replays the same numbers
        saved_t, saved_e = torch.get_rng_state(), ember.get_rng_state()
        a = ember.empty(9).exponential_()
        torch.empty(9).exponential_()
        ember.set_rng_state(saved_e)
        torch.set_rng_state(saved_t)
        b = ember.empty(9).exponential_()
        assert np.array_equal(a.numpy(), b.numpy())
        same(torch.empty(9).exponential_(), b, "replay")
        same_state("after round trips")
        # generators
        tg, eg = torch.Generator().manual_seed(s + 1), ember.Generator().manual_seed(s + 1)
        torch.randn(5, generator=tg)
        ember.randn(5, generator=eg)
        eg2 = ember.Generator().set_state(tg.get_state().numpy())
        assert eg2 is not None
        tg2 = torch.Generator()
        tg2.set_state(torch.from_numpy(eg.get_state().numpy().copy()))
        same(torch.randn(3, generator=tg2), ember.randn(3, generator=eg2), "generator states")
        same(torch.randn(3, generator=tg), ember.randn(3, generator=eg), "generator states")
    with pytest.raises(TypeError, match="ByteTensor"):
        ember.set_rng_state(ember.zeros(5056))
    with ember.random.fork_rng():
        ember.rand(5)
    same_state("fork_rng restores")


def test_zz_report_exact_matches():
    print(f"\ntensor-level random API: {COUNT['calls']} calls, {COUNT['elements']} samples compared with torch, "
          f"{COUNT['elements']} exact ({COUNT['calls']}/{COUNT['calls']} calls bit-identical)")
    assert COUNT["calls"] > 1000


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("shape", [(1,), (3,), (8,), (17,), (3, 5), (37, 29)])
def test_complex_samplers_draw_the_real_view(dtype, shape):
    # torch samples a complex tensor as its real view: randn with std 1/sqrt(2) per part, rand per part
    td, ed = getattr(torch, dtype), getattr(ember, dtype)
    for name, args in (("randn", ()), ("rand", ())):
        torch.manual_seed(5)
        t = getattr(torch, name)(*shape, *args, dtype=td)
        ember.manual_seed(5)
        e = getattr(ember, name)(*shape, *args, dtype=ed)
        assert e.dtype == ed and np.array_equal(_np(e), _np(t)), name
    torch.manual_seed(6)
    t = torch.zeros(shape[::-1], dtype=td).t().normal_(1.5, 3.0)
    ember.manual_seed(6)
    e = ember.zeros(shape[::-1], dtype=ed).t().normal_(1.5, 3.0)
    assert np.array_equal(_np(e), _np(t)), "transposed normal_"
    torch.manual_seed(7)
    t = torch.empty(shape, dtype=td).uniform_(-2, 3)
    ember.manual_seed(7)
    e = ember.empty(shape, dtype=ed).uniform_(-2, 3)
    assert np.array_equal(_np(e), _np(t)), "uniform_"

"""ember.random against torch's CPU generator: same seeds must give the same bits."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import struct
import warnings

import numpy as np
import pytest

from ember import random as erandom
from ember._random import avx2_box_muller, glibc_math, mt19937
from ember._random import fma as rfma

torch = pytest.importorskip("torch")

F32, F64 = np.float32, np.float64
TDT = {np.dtype(F32): torch.float32, np.dtype(F64): torch.float64, np.dtype(np.float16): torch.float16,
       np.dtype(np.int64): torch.int64, np.dtype(np.int32): torch.int32, np.dtype(np.int16): torch.int16,
       np.dtype(np.int8): torch.int8, np.dtype(np.uint8): torch.uint8, np.dtype(bool): torch.bool}
SHAPES = [(), (0,), (3, 0), (1,), (2,), (7,), (15,), (16,), (17,), (23,), (31,), (32,), (33,), (40,),
          (4, 4), (3, 7), (2, 3, 5), (100, 37)]
SEEDS = [0, 1, 7, 42, 1234, 2**32 + 5, 2**63 + 11, -3]

EXACT_COUNTS: dict[str, list[float]] = {}   # key -> [exact matches, samples, max relative error]


def _np(state) -> np.ndarray:
    """A state from get_state/get_rng_state (an ember uint8 Tensor) as a NumPy array."""
    return state if isinstance(state, np.ndarray) else state.numpy()


def seed_both(s: int) -> erandom.Generator:
    torch.manual_seed(s)
    return erandom.manual_seed(s)


def same(t: torch.Tensor, e: np.ndarray, what: str = "") -> None:
    tn = t.numpy()
    assert isinstance(e, np.ndarray), what
    assert e.shape == tn.shape, (what, e.shape, tn.shape)
    assert e.dtype == tn.dtype, (what, e.dtype, tn.dtype)
    if not np.array_equal(tn, e, equal_nan=True):
        bad = np.flatnonzero(tn.ravel() != e.ravel())
        raise AssertionError(f"{what}: {bad.size}/{tn.size} differ, first at {bad[:5]}: "
                             f"torch {tn.ravel()[bad[:3]]} ember {e.ravel()[bad[:3]]}")


def count_exact(key: str, t: torch.Tensor, e: np.ndarray) -> None:
    tn = t.numpy().astype(F64)
    ev = e.astype(F64)
    err = np.abs(tn - ev) / np.maximum(1.0, np.abs(tn)) if tn.size else np.zeros(0)
    assert tn.size == 0 or err.max() <= 1e-6, (key, err.max())
    c = EXACT_COUNTS.setdefault(key, [0, 0, 0.0])
    c[0] += int((tn == ev).sum())
    c[1] += tn.size
    c[2] = max(c[2], float(err.max()) if tn.size else 0.0)


def mt_init_genrand(seed: int) -> np.ndarray:
    """Reference MT19937 init_genrand on the low 32 bits of the seed."""
    key = [seed & 0xFFFFFFFF]
    for i in range(1, 624):
        x = key[-1]
        key.append((1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF)
    return np.array(key, dtype=np.uint32)


# --------------------------------------------------------------------------- seeding and state
@pytest.mark.parametrize("s", [0, 1, 5, 2**32 - 1, 2**32 + 5, 2**64 - 1, -1])
def test_seeding_matches_init_genrand(s):
    g = erandom.Generator().manual_seed(s)
    assert np.array_equal(g._bitgen.state["state"]["key"], mt_init_genrand(s))
    assert np.array_equal(mt19937._mt_key(s), mt_init_genrand(s))
    torch.manual_seed(s)
    assert g.initial_seed() == torch.initial_seed()


def test_default_seed_and_generator_api():
    g = erandom.Generator()
    tg = torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert str(g.device) == "cpu" and g.device != "cpu"  # as torch: a device never equals a str
    same(torch.rand(20, generator=tg), g.uniform((20,), F32))
    assert g.manual_seed(3) is g
    assert erandom.manual_seed(4) is erandom.default_generator
    assert erandom.initial_seed() == 4
    s = erandom.seed()
    assert erandom.initial_seed() == s and 0 <= s < 2**64
    assert g.seed() == g.initial_seed()
    # torch accepts anything int() accepts, and rejects values outside [-2**63, 2**64)
    assert erandom.manual_seed(np.int64(7)).initial_seed() == 7
    assert erandom.manual_seed(7.9).initial_seed() == 7
    assert erandom.manual_seed(-2**63).initial_seed() == 2**63
    for bad in (2**64, -2**63 - 1):
        with pytest.raises(ValueError):
            erandom.manual_seed(bad)
        with pytest.raises(ValueError):
            torch.manual_seed(bad)


def _states_after(ops):
    """get_rng_state from torch and ember after the same sequence of draws."""
    torch.manual_seed(123)
    erandom.manual_seed(123)
    for op in ops:
        op()
    return torch.get_rng_state().numpy(), _np(erandom.get_rng_state())


@pytest.mark.parametrize("ops", [
    [],
    [lambda: (torch.rand(3), erandom.default_generator.uniform((3,), F32))],
    [lambda: (torch.randn(1, dtype=torch.float64), erandom.default_generator.normal((1,), F64))],
    [lambda: (torch.randn(3), erandom.default_generator.normal((3,), F32))],
    [lambda: (torch.randn(2), erandom.default_generator.normal((2,), F32))],
    [lambda: (torch.rand(624), erandom.default_generator.uniform((624,), F32))],
    [lambda: (torch.rand(623), erandom.default_generator.uniform((623,), F32))],
    [lambda: (torch.rand(700, dtype=torch.float64), erandom.default_generator.uniform((700,), F64))],
    [lambda: (torch.randn(1), erandom.default_generator.normal((1,), F32)),
     lambda: (torch.randn(100), erandom.default_generator.normal((100,), F32))],
])
def test_state_bytes_identical(ops):
    ts, es = _states_after(ops)
    assert es.dtype == np.uint8 and es.shape == (5056,)
    assert np.array_equal(ts, es)


def test_fresh_generator_state_bytes():
    assert np.array_equal(torch.Generator().get_state().numpy(), _np(erandom.Generator().get_state()))


def test_state_round_trips():
    g = erandom.Generator().manual_seed(9)
    g.normal((3,), F64)          # leaves a cached Box-Muller value
    st = g.get_state()
    a = [g.normal((5,), F32), g.uniform((7,), F64), g.randint(0, 100, (9,), np.int64)]
    g.set_state(st)
    b = [g.normal((5,), F32), g.uniform((7,), F64), g.randint(0, 100, (9,), np.int64)]
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    # ember state -> torch, and torch state -> ember
    for n_draw in (0, 5, 624, 1000):
        erandom.manual_seed(77)
        erandom.default_generator.uniform((n_draw,), F32)
        erandom.default_generator.normal((1,), F64)
        torch.set_rng_state(torch.from_numpy(_np(erandom.get_rng_state()).copy()))
        same(torch.randn(5, dtype=torch.float64), erandom.default_generator.normal((5,), F64))
        same(torch.rand(1000), erandom.default_generator.uniform((1000,), F32))
        torch.manual_seed(78)
        torch.rand(n_draw)
        torch.randn(3)
        erandom.set_rng_state(torch.get_rng_state().numpy())
        same(torch.randn(3), erandom.default_generator.normal((3,), F32))
        assert erandom.initial_seed() == 78
        assert np.array_equal(_np(erandom.get_rng_state()), torch.get_rng_state().numpy())


def test_set_state_validation():
    g = erandom.Generator()
    with pytest.raises(TypeError, match="ByteTensor"):
        g.set_state(np.zeros(5056, dtype=np.int32))
    with pytest.raises(RuntimeError, match="size 5056 but found the input RNG state size to be 100"):
        g.set_state(np.zeros(100, dtype=np.uint8))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        g.set_state(np.zeros(5056, dtype=np.uint8))
    st = _np(g.get_state()).copy()
    st[8:12] = np.frombuffer(struct.pack("<i", 625), np.uint8)
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        g.set_state(st)


def test_fork_rng():
    erandom.manual_seed(5)
    with erandom.fork_rng():
        a = erandom.default_generator.uniform((4,), F32)
    b = erandom.default_generator.uniform((4,), F32)
    assert np.array_equal(a, b)


# --------------------------------------------------------------------------- uniform
@pytest.mark.parametrize("dt", [F32, F64])
def test_rand(dt):
    for s in SEEDS:
        g = seed_both(s)
        for shape in SHAPES:
            same(torch.rand(shape, dtype=TDT[np.dtype(dt)]), g.uniform(shape, dt), f"rand {shape} seed {s}")


@pytest.mark.parametrize("dt", [F32, F64])
@pytest.mark.parametrize("bounds", [(-0.3, 0.7), (-3.7, 5.1), (0.1, 0.7), (-1 / 3, 1 / 3), (2.5, 1e4),
                                    (-1e-3, 1e-3), (1.0, 2.0), (5.0, 5.0), (-2.0, -1.0)])
def test_uniform_bounds(dt, bounds):
    a, b = bounds
    for s in SEEDS[:5]:
        g = seed_both(s)
        for shape in [(7,), (40,), (300, 11)]:
            t = torch.empty(shape, dtype=TDT[np.dtype(dt)]).uniform_(a, b)
            e = g.uniform(shape, dt, a, b)
            same(t, e, f"uniform_({a}, {b})")
            if dt is F32:
                count_exact("float32 uniform_(a, b)", t, e)


def test_kaiming_style_uniform():
    # nn.Linear's default init: uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in)) on float32
    for fan_in in (3, 10, 784):
        bound = 1 / math.sqrt(fan_in)
        g = seed_both(fan_in)
        same(torch.empty(128, fan_in).uniform_(-bound, bound), g.uniform((128, fan_in), F32, -bound, bound))


def _untemper(y: int) -> int:
    y ^= y >> 18
    y ^= (y << 15) & 0xEFC60000
    t = y
    for _ in range(5):
        t = y ^ ((t << 7) & 0x9D2C5680)
    y = t & 0xFFFFFFFF
    t = y
    for _ in range(3):
        t = y ^ (t >> 11)
    return t & 0xFFFFFFFF


def _crafted_state(words: list[int]) -> np.ndarray:
    """A torch RNG state whose next raw 32-bit draws are ``words``."""
    torch.manual_seed(0)
    torch.rand(1)
    s = torch.get_rng_state().numpy().copy()
    for i, w in enumerate(words):
        off = 24 + 8 * (1 + i)
        s[off:off + 8] = np.frombuffer(struct.pack("<Q", _untemper(w)), np.uint8)
    return s


@pytest.mark.parametrize("dt", [F32, F64, np.float16])
@pytest.mark.parametrize("bounds", [(1, 2), (0, 1), (-2, 3), (2, 3), (-1, 1), (0.5, 1.5)])
def test_uniform_top_edge(dt, bounds):
    # the largest uniform can round up to `to`; torch then returns `from`
    st = _crafted_state([0xFFFFFFFF] * 4 + [0xFFFFFF00, 0x12345678] * 2)
    torch.set_rng_state(torch.from_numpy(st))
    erandom.set_rng_state(st)
    same(torch.empty(4, dtype=TDT[np.dtype(dt)]).uniform_(*bounds),
         erandom.default_generator.uniform((4,), dt, *bounds))


def test_uniform_half():
    for s in SEEDS[:4]:
        g = seed_both(s)
        same(torch.empty(500, dtype=torch.float16).uniform_(-2, 3), g.uniform((500,), np.float16, -2, 3))
        same(torch.rand(33, dtype=torch.float16), g.uniform((33,), np.float16))


def test_uniform_errors():
    g = erandom.Generator()
    for args, msg in [((2, 1), "uniform_ expects to return a [from, to) range, but found from=2 > to=1"),
                      ((0, math.inf), "to is out of bounds for float"),
                      ((math.nan, 1), "from is out of bounds for float"),
                      ((-3e38, 3e38), "uniform_ expects to-from <= std::numeric_limits<Float>::max(), but "
                                      "found to=3e+38 and from=-3e+38")]:
        with pytest.raises(RuntimeError) as ei:
            g.uniform((3,), F32, *args)
        assert msg in str(ei.value)
        with pytest.raises(RuntimeError) as ti:
            torch.empty(3).uniform_(*args)
        assert msg in str(ti.value)
    with pytest.raises(NotImplementedError, match="check_uniform_bounds"):
        g.uniform((3,), np.int64)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        g.uniform((2, -1), F32)


# --------------------------------------------------------------------------- normal
@pytest.mark.parametrize("dt", [F32, F64])
def test_randn_shapes(dt):
    for s in SEEDS:
        g = seed_both(s)
        for shape in SHAPES:
            t = torch.randn(shape, dtype=TDT[np.dtype(dt)])
            e = g.normal(shape, dt)
            same(t, e, f"randn {shape} seed {s}")
            if dt is F32 and t.numel() >= 16:
                count_exact("float32 normal, >= 16 elements (AVX2 kernel)", t, e)


@pytest.mark.parametrize("dt", [F32, F64])
def test_randn_every_size_around_16(dt):
    g = seed_both(11)
    for n in range(0, 70):
        same(torch.randn(n, dtype=TDT[np.dtype(dt)]), g.normal((n,), dt), f"randn({n})")


@pytest.mark.parametrize("dt", [F32, F64])
@pytest.mark.parametrize("ms", [(0.0, 1.0), (1.5, 0.3), (-2.0, 7.0), (0.0, 0.1), (3.0, 1.0), (1e-3, 0.0),
                                (0.1 + 1 / 3, 1 / 3 + 1e-9)])
def test_normal_mean_std(dt, ms):
    m, sd = ms
    for s in SEEDS[:4]:
        g = seed_both(s)
        for shape in [(3,), (15,), (16,), (45,), (64, 33)]:
            t = torch.empty(shape, dtype=TDT[np.dtype(dt)]).normal_(m, sd)
            e = g.normal(shape, dt, m, sd)
            same(t, e, f"normal_({m}, {sd}) {shape}")
            if dt is F32 and t.numel() >= 16:
                count_exact("float32 normal, >= 16 elements (AVX2 kernel)", t, e)
            same(torch.normal(m, sd, shape, dtype=TDT[np.dtype(dt)]), g.normal(shape, dt, m, sd))


def test_randn_large():
    g = seed_both(2024)
    t = torch.randn(1000, 1000)
    e = g.normal((1000, 1000), F32)
    count_exact("float32 normal, >= 16 elements (AVX2 kernel)", t, e)
    same(t, e, "randn(1000, 1000)")
    same(torch.randn(301, 333, dtype=torch.float64), g.normal((301, 333), F64), "randn f64 large")


def _untemper_array(y: np.ndarray) -> np.ndarray:
    y = y.astype(np.uint64)
    y ^= y >> np.uint64(18)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    t = y.copy()
    for _ in range(5):
        t = y ^ ((t << np.uint64(7)) & np.uint64(0x9D2C5680))
    y = t & np.uint64(0xFFFFFFFF)
    t = y.copy()
    for _ in range(3):
        t = y ^ (t >> np.uint64(11))
    return t & np.uint64(0xFFFFFFFF)


def _torch_randn_on_words(words: np.ndarray) -> np.ndarray:
    """torch.randn over chosen raw words (blocks of 16), via crafted generator states."""
    torch.manual_seed(0)
    torch.rand(1)
    base = torch.get_rng_state().numpy().copy()
    state_words = _untemper_array(words)
    out = []
    per = 38 * 16                                   # 623 words are usable before the next twist
    for i in range(0, words.size, per):
        chunk = state_words[i:i + per]
        st = base.copy()
        st[32:32 + 8 * chunk.size] = chunk.astype("<u8").view(np.uint8)
        torch.set_rng_state(torch.from_numpy(st))
        out.append(torch.randn(chunk.size).numpy())
    return np.concatenate(out)


def test_avx_normal_kernel_over_the_uniform_grid():
    """float32 randn (>= 16 elements) is lane-wise: log on lanes 0-7, sincos on lanes 8-15.  Feed torch
    a slice of every possible 24-bit uniform in each role (an exhaustive run over all 2**24 values
    also matches; this keeps a 1-in-64 slice)."""
    vals = np.arange(0, 2**24, 64, dtype=np.uint64) + np.uint64(13)
    vals[0] = 0
    vals[-1] = 2**24 - 1
    n = vals.size
    for lo, hi in [(vals, np.zeros(n, np.uint64)), (np.full(n, 0xF00000, np.uint64), vals)]:
        words = np.empty((n // 8, 16), np.uint64)
        words[:, :8] = lo.reshape(-1, 8)
        words[:, 8:] = hi.reshape(-1, 8)
        words = words.ravel() | np.uint64(0xAB000000)   # the high byte is ignored
        t = _torch_randn_on_words(words)
        u = (words & np.uint64(0xFFFFFF)).astype(F32) * F32(2.0 ** -24)
        e = avx2_box_muller._normal_fill_f32(u, 0.0, 1.0)
        count_exact("float32 normal, >= 16 elements (AVX2 kernel)", torch.from_numpy(t), e)
        assert np.array_equal(t, e)


def test_many_samples_float64_normal_and_float32_uniform():
    rng = np.random.default_rng(5)
    g = seed_both(31337)
    t = torch.randn(2_000_000, dtype=torch.float64)
    same(t, g.normal((2_000_000,), F64), "randn f64 2M")
    same(torch.empty(300_000, dtype=torch.float64).normal_(0.3, 1.7), g.normal((300_000,), F64, 0.3, 1.7))
    for _ in range(20):
        a, b = sorted(rng.standard_normal(2) * 10 ** rng.uniform(-3, 3, 2))
        t = torch.empty(20_000).uniform_(a, b)
        e = g.uniform((20_000,), F32, a, b)
        count_exact("float32 uniform_(a, b)", t, e)
        same(t, e, f"uniform_({a}, {b})")
        same(torch.empty(5000, dtype=torch.float64).uniform_(a, b), g.uniform((5000,), F64, a, b))


def test_normal_half():
    for n in [3, 16, 17, 31, 40, 50, 100]:
        g = seed_both(n)
        same(torch.randn(n, dtype=torch.float16), g.normal((n,), np.float16), f"half randn({n})")


def test_box_muller_cache():
    g = seed_both(3)
    # torch.randn(1) twice == torch.randn(2): the sine half is cached in the generator
    a = torch.randn(1, dtype=torch.float64)
    b = torch.randn(1, dtype=torch.float64)
    same(a, g.normal((1,), F64))
    same(b, g.normal((1,), F64))
    g = seed_both(3)
    same(torch.randn(2, dtype=torch.float64), g.normal((2,), F64))
    # the cache is shared by float32/float64, survives the vectorised path, and reseeding clears it
    g = seed_both(4)
    for shape, dt in [((1,), F32), ((20,), F32), ((1,), F64), ((3,), F32), ((1,), F64), ((16,), F64), ((5,), F64)]:
        same(torch.randn(shape, dtype=TDT[np.dtype(dt)]), g.normal(shape, dt))
    torch.randn(1)
    g.normal((1,), F32)
    g = seed_both(4)
    same(torch.randn(1), g.normal((1,), F32))


def test_normal_non_contiguous_path():
    # a non-contiguous float tensor takes the scalar path whatever its size
    g = seed_both(8)
    t = torch.empty(40, 2)[:, 0].normal_()
    same(t.contiguous(), g.normal((40,), F32, contiguous=False))


def test_normal_tensor_forms():
    rng = np.random.default_rng(0)
    for dt in (F32, F64):
        td = TDT[np.dtype(dt)]
        for shape in [(5,), (40,), (3, 7), ()]:
            m = np.asarray(rng.standard_normal(shape), dtype=dt)
            sd = np.asarray(rng.random(shape) + 0.5, dtype=dt)
            g = seed_both(1)
            same(torch.normal(torch.from_numpy(m), torch.from_numpy(sd)), g.normal_tensor(m, sd, dt))
            same(torch.normal(torch.from_numpy(m), 0.37), g.normal_tensor(m, 0.37, dt))
            same(torch.normal(1.3, torch.from_numpy(sd)), g.normal_tensor(1.3, sd, dt))
            assert td is not None
        # broadcasting
        m = rng.standard_normal((3, 1)).astype(dt)
        sd = rng.random((1, 4)).astype(dt)
        g = seed_both(2)
        same(torch.normal(torch.from_numpy(m), torch.from_numpy(sd)), g.normal_tensor(m, sd, dt))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        erandom.default_generator.normal_tensor(np.zeros(12, F32), np.ones((3, 4), F32), F32)
    with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
        erandom.default_generator.normal_tensor(np.zeros(3, F32), -np.ones(3, F32), F32)


def test_normal_errors():
    g = erandom.Generator()
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0, but found std -0.5"):
        g.normal((3,), F32, 0, -0.5)
    with pytest.raises(RuntimeError, match="found std nan"):
        g.normal((3,), F32, 0, math.nan)
    with pytest.raises(NotImplementedError, match="normal_kernel_cpu"):
        g.normal((3,), np.int64)


# --------------------------------------------------------------------------- integers
INT_DTYPES = [np.int64, np.int32, np.int16, np.int8, np.uint8, F32, F64, np.float16]


@pytest.mark.parametrize("dt", INT_DTYPES)
def test_randint(dt):
    info_max = 100 if np.dtype(dt).kind == "f" else int(np.iinfo(dt).max)
    for lo, hi in [(0, 10), (-5, 17), (0, 2), (3, min(300, info_max)), (0, min(2**28 - 1, info_max)),
                   (0, min(2**28, info_max)), (-7, min(2**31 - 7, info_max)), (0, min(2**40, info_max))]:
        if lo < int(np.iinfo(dt).min if np.dtype(dt).kind != "f" else -2**24) or hi <= lo:
            continue
        for s in SEEDS[:3]:
            g = seed_both(s)
            for shape in [(), (1,), (6,), (33, 7)]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t = torch.randint(lo, hi, shape, dtype=TDT[np.dtype(dt)])
                    e = g.randint(lo, hi, shape, dt)
                same(t, e, f"randint({lo}, {hi}) {dt}")


def test_randint_64bit_ranges():
    for lo, hi in [(-2**63, 2**63 - 1), (3, 2**32 + 3), (-2**40, 2**62), (0, 2**28), (0, 2**28 - 1)]:
        g = seed_both(lo & 0xFFFF)
        same(torch.randint(lo, hi, (50,)), g.randint(lo, hi, (50,), np.int64))


@pytest.mark.parametrize("dt", INT_DTYPES + [np.dtype(bool)])
def test_random_forms(dt):
    td = TDT[np.dtype(dt)]
    for s in SEEDS[:3]:
        g = seed_both(s)
        for shape in [(), (5,), (40, 3)]:
            same(torch.empty(shape, dtype=td).random_(), g.random_(shape, dt), "random_()")
            if dt is not bool and np.dtype(dt) != np.dtype(bool):
                same(torch.empty(shape, dtype=td).random_(100), g.random_(shape, dt, high=100), "random_(100)")
                same(torch.empty(shape, dtype=td).random_(5, None), g.random_(shape, dt, 5), "random_(5, None)")
                same(torch.empty(shape, dtype=td).random_(0, None), g.random_(shape, dt, 0), "random_(0, None)")
            else:
                same(torch.empty(shape, dtype=td).random_(0, 2), g.random_(shape, dt, 0, 2))
                same(torch.empty(shape, dtype=td).random_(1, None), g.random_(shape, dt, 1))
            if dt in (np.int64, F32, F64):
                same(torch.empty(shape, dtype=td).random_(-2**63, None), g.random_(shape, dt, -2**63),
                     "full 64-bit range")


def test_random_errors():
    g = erandom.Generator()
    cases = [
        (lambda: g.randint(5, 5, (3,), np.int64), lambda: torch.randint(5, 5, (3,)), RuntimeError,
         "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
        (lambda: g.random_((2,), np.uint8, -3, 10), lambda: torch.empty(2, dtype=torch.uint8).random_(-3, 10),
         RuntimeError, "from is out of bounds for unsigned char"),
        (lambda: g.random_((2,), np.int32, 0, 2**40), lambda: torch.empty(2, dtype=torch.int32).random_(0, 2**40),
         RuntimeError, "to - 1 is out of bounds for int"),
        (lambda: g.random_((2,), np.int16, 0, 2**20), lambda: torch.empty(2, dtype=torch.int16).random_(0, 2**20),
         RuntimeError, "to - 1 is out of bounds for short int"),
        (lambda: g.random_((2,), bool, 0, 10), lambda: torch.empty(2, dtype=torch.bool).random_(0, 10),
         RuntimeError, "to - 1 is out of bounds for bool"),
        (lambda: g.random_((2,), np.int32, -2**63), lambda: torch.empty(2, dtype=torch.int32).random_(-2**63, None),
         RuntimeError, "random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16"),
        (lambda: g.random_((2,), F32, 2**25), lambda: torch.empty(2).random_(2**25, None), RuntimeError,
         "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted to dtype, but got "
         "from=33554432 > to_inc=16777216"),
        (lambda: g.randint(0, 2**63, (2,), np.int64), lambda: torch.randint(0, 2**63, (2,)), ValueError,
         "Overflow"),
        (lambda: g.randint(0, 5, (-1,), np.int64), lambda: torch.randint(0, 5, (-1,)), RuntimeError,
         "Trying to create tensor with negative dimension -1: [-1]"),
    ]
    for ember_call, torch_call, exc, msg in cases:
        with pytest.raises(exc) as ei:
            ember_call()
        assert msg in str(ei.value)
        with pytest.raises(exc) as ti:
            torch_call()
        assert msg in str(ti.value)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        g.randint(0, 2**25, (2,), F32)
    assert any("to - 1 is out of bounds [-(2^24), 2^24]" in str(x.message) for x in w)


# --------------------------------------------------------------------------- randperm
def test_randperm():
    for s in SEEDS[:4]:
        g = seed_both(s)
        for n in [0, 1, 2, 3, 5, 16, 17, 100, 1000, 60000]:
            same(torch.randperm(n), g.randperm(n, np.int64), f"randperm({n})")
    g = seed_both(3)
    for dt in [np.int32, np.int16, np.uint8, F32, F64, np.float16]:
        same(torch.randperm(200, dtype=TDT[np.dtype(dt)]), g.randperm(200, dt))
    same(torch.randperm(256, dtype=torch.uint8), g.randperm(256, np.uint8))


def test_randperm_errors():
    g = erandom.Generator()
    for n, dt, exc, msg in [(-1, np.int64, RuntimeError, "Trying to create tensor with negative dimension -1: [-1]"),
                            (257, np.uint8, RuntimeError, "value cannot be converted to type uint8_t without overflow"),
                            (129, np.int8, RuntimeError, "value cannot be converted to type int8_t without overflow"),
                            (2050, np.float16, RuntimeError, "n cannot be greater than 2049 for Half type."),
                            (2, bool, NotImplementedError, "\"randperm\" not implemented for 'Bool'")]:
        with pytest.raises(exc) as ei:
            g.randperm(n, dt)
        assert msg in str(ei.value)
        with pytest.raises(exc) as ti:
            torch.randperm(n, dtype=TDT[np.dtype(dt)])
        assert msg in str(ti.value)


# --------------------------------------------------------------------------- bernoulli / multinomial
def test_bernoulli_scalar_p():
    for s in SEEDS[:4]:
        g = seed_both(s)
        for p in [0.0, 0.3, 1 / 3, 0.5, 0.9, 1.0]:
            for dt in [F32, F64, np.int64, bool]:
                for shape in [(), (7,), (40, 5)]:
                    same(torch.empty(shape, dtype=TDT[np.dtype(dt)]).bernoulli_(p), g.bernoulli(p, shape, dt))


def test_bernoulli_tensor_p():
    rng = np.random.default_rng(0)
    for pdt in [F32, F64]:
        for shape in [(), (5,), (40,), (3, 7)]:
            p = rng.random(shape).astype(pdt)
            g = seed_both(int(p.size))
            same(torch.bernoulli(torch.from_numpy(p)), g.bernoulli(p, shape, pdt))
    # bernoulli_(p_tensor) broadcasts p to self
    p = rng.random((3, 1)).astype(F32)
    g = seed_both(0)
    same(torch.empty(3, 4, dtype=torch.float64).bernoulli_(torch.from_numpy(p)), g.bernoulli(p, (3, 4), F64))
    p = rng.random((1, 4))
    same(torch.empty(3, 4).bernoulli_(torch.from_numpy(p)), g.bernoulli(p, (3, 4), F32))


def test_bernoulli_errors():
    g = erandom.Generator()
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=1.5"):
        g.bernoulli(1.5, (3,), F32)
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1 to be true"):
        g.bernoulli(np.array([0.2, -0.1], F32), (2,), F32)
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1 to be true"):
        g.bernoulli(np.array([0.2, math.nan], F32), (2,), F32)
    with pytest.raises(NotImplementedError, match="bernoulli_tensor_cpu_p_"):
        g.bernoulli(np.array([1, 0]), (2,), np.int64)


def test_multinomial():
    rng = np.random.default_rng(0)
    for dt in [F32, F64]:
        for shape, k, repl in [((5,), 1, True), ((5,), 1, False), ((5,), 3, False), ((5,), 7, True),
                               ((3, 6), 4, False), ((3, 6), 4, True), ((4, 1000), 100, False),
                               ((4, 1000), 1, True), ((2, 5000), 300, True), ((0, 3), 2, True), ((1,), 3, True)]:
            p = (rng.random(shape) ** 3).astype(dt)
            if p.size and shape[-1] > 2:
                p[..., 1] = 0
            g = seed_both(k)
            same(torch.multinomial(torch.from_numpy(p), k, repl), g.multinomial(p, k, repl),
                 f"multinomial {shape} {k} {repl}")


def test_multinomial_errors():
    g = erandom.Generator()
    cases = [(np.ones((2, 2, 2), F32), 1, False, "prob_dist must be 1 or 2 dim"),
             (np.ones(3, F32), 0, False, "cannot sample n_sample <= 0 samples"),
             (np.ones(3, F32), 4, False, "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
             (np.array([1, -1, 2], F32), 1, False, "probability tensor contains either `inf`, `nan` or element < 0"),
             (np.array([1, -1, 2], F32), 2, True, "invalid multinomial distribution (encountering probability entry < 0)"),
             (np.array([1, math.inf, 2], F32), 2, True,
              "invalid multinomial distribution (encountering probability entry = infinity or NaN)"),
             (np.array([0, 0], F32), 1, False, "invalid multinomial distribution (sum of probabilities <= 0)"),
             (np.array([0, 0], F32), 2, True, "invalid multinomial distribution (sum of probabilities <= 0)"),
             (np.array([1, 2]), 1, False, "multinomial only supports floating-point dtypes for input, got: Long")]
    for p, k, repl, msg in cases:
        with pytest.raises(RuntimeError) as ei:
            g.multinomial(p, k, repl)
        assert msg in str(ei.value)
        with pytest.raises(RuntimeError) as ti:
            torch.multinomial(torch.from_numpy(p), k, repl)
        assert msg in str(ti.value)


# --------------------------------------------------------------------------- other distributions
@pytest.mark.parametrize("dt", [F32, F64])
def test_exponential_cauchy_lognormal_geometric(dt):
    td = TDT[np.dtype(dt)]
    for s in SEEDS[:4]:
        g = seed_both(s)
        for shape in [(), (3,), (16,), (50, 7)]:
            for lam in (1.0, 1.5, 0.3, 7.0):
                same(torch.empty(shape, dtype=td).exponential_(lam), g.exponential(shape, dt, lam), "exponential")
            for med, sig in ((0.0, 1.0), (0.5, 2.0), (0.3 + s, 1 / 3 + s / 7)):
                same(torch.empty(shape, dtype=td).cauchy_(med, sig), g.cauchy(shape, dt, med, sig), "cauchy")
            for m, sd in ((1.0, 2.0), (0.5, 0.7), (-1.0, 0.25)):
                same(torch.empty(shape, dtype=td).log_normal_(m, sd), g.log_normal(shape, dt, m, sd), "log_normal")
            for p in (0.2, 0.7, 1 / 3):
                same(torch.empty(shape, dtype=td).geometric_(p), g.geometric(shape, dt, p), "geometric")
            # the log_normal cache is the normal cache
            same(torch.randn(1, dtype=torch.float64), g.normal((1,), F64))
    g = seed_both(1)
    same(torch.empty(7, dtype=torch.int64).geometric_(0.3), g.geometric((7,), np.int64, 0.3))


def test_distribution_errors():
    g = erandom.Generator()
    cases = [(lambda: g.exponential((3,), F32, 0), lambda: torch.empty(3).exponential_(0),
              "exponential_ expects lambda > 0.0, but found lambda=0"),
             (lambda: g.cauchy((3,), F32, 0, -1), lambda: torch.empty(3).cauchy_(0, -1),
              "cauchy_ expects sigma > 0.0, but found sigma=-1"),
             (lambda: g.log_normal((3,), F32, 0, 0), lambda: torch.empty(3).log_normal_(0, 0),
              "log_normal_ expects std > 0.0, but found std=0"),
             (lambda: g.geometric((3,), F32, 1.5), lambda: torch.empty(3).geometric_(1.5),
              "geometric_ expects p to be in (0, 1), but got p=1.5"),
             (lambda: g.exponential((3,), np.int64, 0.5), lambda: torch.empty(3, dtype=torch.int64).exponential_(0.5),
              "Exponential distribution is a continuous probability distribution. dtype must be a floating point "
              "but you specified Long")]
    for ember_call, torch_call, msg in cases:
        with pytest.raises(RuntimeError) as ei:
            ember_call()
        assert msg in str(ei.value)
        with pytest.raises(RuntimeError) as ti:
            torch_call()
        assert msg in str(ti.value)


# --------------------------------------------------------------------------- mixed sequences, generators
def _ops(rng: np.random.Generator):
    """Random pairs (torch call, ember call) drawing from the given generators."""
    def make(tg, eg):
        kind = rng.integers(0, 9)
        shape = tuple(int(d) for d in rng.integers(0, 6, size=rng.integers(0, 3)))
        n = int(rng.integers(0, 40))
        dt = [F32, F64][rng.integers(0, 2)]
        td = TDT[np.dtype(dt)]
        if kind == 0:
            return lambda: torch.rand(shape, dtype=td, generator=tg), lambda: eg.uniform(shape, dt)
        if kind == 1:
            return lambda: torch.randn(shape, dtype=td, generator=tg), lambda: eg.normal(shape, dt)
        if kind == 2:
            return lambda: torch.randn(n, dtype=td, generator=tg), lambda: eg.normal((n,), dt)
        if kind == 3:
            return (lambda: torch.randint(-3, 1000, shape, generator=tg),
                    lambda: eg.randint(-3, 1000, shape, np.int64))
        if kind == 4:
            return lambda: torch.randperm(n, generator=tg), lambda: eg.randperm(n, np.int64)
        if kind == 5:
            return (lambda: torch.empty(n, dtype=td).bernoulli_(0.4, generator=tg),
                    lambda: eg.bernoulli(0.4, (n,), dt))
        if kind == 6:
            return (lambda: torch.empty(shape, dtype=td).uniform_(-1.5, 2.5, generator=tg),
                    lambda: eg.uniform(shape, dt, -1.5, 2.5))
        if kind == 7:
            return (lambda: torch.empty(n, dtype=td).normal_(0.5, 2.0, generator=tg),
                    lambda: eg.normal((n,), dt, 0.5, 2.0))
        return (lambda: torch.empty(shape, dtype=td).exponential_(2.0, generator=tg),
                lambda: eg.exponential(shape, dt, 2.0))
    return make


def test_interleaved_sequences():
    rng = np.random.default_rng(99)
    make = _ops(rng)
    for trial in range(6):
        s = int(rng.integers(0, 2**31))
        tg = torch.Generator().manual_seed(s)
        eg = erandom.Generator().manual_seed(s)
        for step in range(60):
            tf, ef = make(tg, eg)
            same(tf(), ef(), f"trial {trial} step {step}")
        assert np.array_equal(tg.get_state().numpy(), _np(eg.get_state()))


def test_explicit_generators_are_independent():
    seed_both(1)
    tg = torch.Generator().manual_seed(2)
    eg = erandom.Generator().manual_seed(2)
    same(torch.rand(5, generator=tg), eg.uniform((5,), F32))
    same(torch.rand(5), erandom.default_generator.uniform((5,), F32))
    same(torch.randn(20, generator=tg), eg.normal((20,), F32))


def test_dataloader_style_shuffle():
    # RandomSampler seeds a private generator from the default one, then calls randperm
    g = seed_both(0)
    t_seed = int(torch.empty((), dtype=torch.int64).random_().item())
    e_seed = int(g.random_((), np.int64))
    assert t_seed == e_seed
    same(torch.randperm(1000, generator=torch.Generator().manual_seed(t_seed)),
         erandom.Generator().manual_seed(e_seed).randperm(1000, np.int64))


# --------------------------------------------------------------------------- arithmetic helpers
def _libm():
    name = ctypes.util.find_library("m")
    if not name:
        pytest.skip("no libm")
    lib = ctypes.CDLL(name)
    lib.fma.restype = ctypes.c_double
    lib.fma.argtypes = [ctypes.c_double] * 3
    lib.fmaf.restype = ctypes.c_float
    lib.fmaf.argtypes = [ctypes.c_float] * 3
    return lib


def test_fma_emulation():
    lib = _libm()
    rng = np.random.default_rng(1)
    n = 20000
    a = rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))
    b = rng.standard_normal(n)
    c = rng.standard_normal(n) * np.exp(rng.uniform(-40, 40, n))
    ref = np.array([lib.fma(x, y, z) for x, y, z in zip(a.tolist(), b.tolist(), c.tolist())])
    assert np.array_equal(rfma._fma64(a, b, c), ref)
    a32, b32, c32 = (v.astype(F32) for v in (a * 1e-5, b, c * 1e-10))
    # include cases whose float64 sum lands exactly on a float32 rounding midpoint
    a32[:100] = 1 + np.arange(100, dtype=F32) * F32(2**-23)
    b32[:100] = F32(1 + 2**-23)
    c32[:100] = F32(2**-24) * 3
    ref32 = np.array([lib.fmaf(x, y, z) for x, y, z in zip(a32.tolist(), b32.tolist(), c32.tolist())], F32)
    assert np.array_equal(rfma._fma32_exact(a32, b32, c32), ref32)
    assert np.array_equal(rfma._fma32(a32, b32, c32), ref32)


def test_avx_kernel_fast_path_equals_exact_fma():
    rng = np.random.default_rng(2)
    u = (rng.integers(0, 2**24, 400000) * 2.0**-24).astype(F32)
    x = F32(1) - u
    assert np.array_equal(avx2_box_muller._checked(avx2_box_muller._avx_log, x), avx2_box_muller._avx_log(x, rfma._fma32_exact))
    th = u * avx2_box_muller._TWO_PI_F
    fast = avx2_box_muller._checked(avx2_box_muller._avx_sincos, th)
    exact = avx2_box_muller._avx_sincos(th, rfma._fma32_exact)
    assert np.array_equal(fast[0], exact[0]) and np.array_equal(fast[1], exact[1])
    # and the approximations are what they claim to be
    assert np.max(np.abs(avx2_box_muller._avx_log(x, rfma._fma32_exact) - np.log(x.astype(F64)))) < 1e-6
    assert np.max(np.abs(exact[0] - np.sin(th.astype(F64)))) < 1e-6


def test_glibc_exact_functions():
    rng = np.random.default_rng(3)
    u = rng.random(100000)
    for fn, ref, x in [(glibc_math._log, math.log, 1 - u), (glibc_math._log, math.log, u * 1e-6),
                       (glibc_math._exp, math.exp, rng.standard_normal(100000) * 5),
                       (glibc_math._tan, math.tan, math.pi * (u - 0.5))]:
        assert np.array_equal(fn(x), np.array([ref(v) for v in x.tolist()]))
    th = 2 * math.pi * u
    # the float64 normal path relies on NumPy's float64 cos/sin being libm's
    assert np.array_equal(np.cos(th), np.array([math.cos(v) for v in th.tolist()]))
    assert np.array_equal(np.sin(th), np.array([math.sin(v) for v in th.tolist()]))


# --------------------------------------------------------------------------- speed and summary
def test_zz_report_exact_counts(record_property):
    """Print how many float32 samples from the CPU-kernel-dependent paths matched exactly."""
    for key, (exact, total, max_err) in sorted(EXACT_COUNTS.items()):
        record_property(key, f"{exact}/{total} exact, max rel err {max_err:.3g}")
        print(f"\n{key}: {exact}/{total} exactly equal to torch, max |ember - torch| / max(1, |torch|) = {max_err:.3g}")
        assert exact == total

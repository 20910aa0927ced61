"""Random number generation that reproduces PyTorch's CPU generator bit for bit.

torch's CPU generator is a 32-bit Mersenne Twister (MT19937).  NumPy's ``MT19937`` bit
generator produces the identical word stream once it holds the same 624-word state, so every
sampler here draws raw words in bulk (``random_raw``) and turns them into samples with
vectorised NumPy, following the exact arithmetic of torch's CPU kernels:

* 32-bit words ``w``: ``float32`` uniforms are ``(w & (2**24 - 1)) * 2**-24``.
* 64-bit words ``(w0 << 32) | w1`` (the first 32-bit draw is the high half): ``float64``
  uniforms are ``(w64 & (2**53 - 1)) * 2**-53``.
* ``uniform_(a, b)`` is ``fma(u, b - a, a)`` in the tensor's precision, with a result equal to
  ``b`` replaced by ``a``.
* normals come from Box-Muller.  Contiguous float tensors of 16 or more elements use torch's
  vectorised "fill 16 at a time" path (float32 through its AVX2 Cephes-style log/sincos with
  FMA, emulated here exactly); everything else uses the scalar double-precision path, which
  caches the second Box-Muller value in the generator (that cache is part of the state).
* float64 results that torch computes with glibc's ``log``/``exp``/``tan``/``log1p`` are made
  identical to glibc: they are evaluated in extended precision and the rare results that lie
  too close to a rounding boundary are recomputed with Python's ``math`` (which is glibc).

See ``docs/random.md`` for the full description and what is verified exact.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import struct
import warnings
from typing import Any, Iterator

import numpy as np

from . import _dtype

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "fork_rng",
]

_DEFAULT_SEED = 67280421310721
_MT_N = 624
_STATE_BYTES = 5056
_OFF_STATE = 24                       # uint64[624] after seed, left, seeded, next
_OFF_NORMAL_Y = _OFF_STATE + 8 * _MT_N + 8   # double: cached Box-Muller value
_OFF_NORMAL_VALID = _OFF_NORMAL_Y + 16      # int32: cache valid flag
_U64 = np.uint64
_F32 = np.float32
_F64 = np.float64
_TWO_PI = 2.0 * math.pi
_LONG_RANGE = 1 << 28                 # torch switches from 32-bit to 64-bit draws at this range
_RANDPERM_64BIT = 4294967295 // 20    # randperm uses 64-bit draws from this n on


# --------------------------------------------------------------------------- dtype helpers
_TORCH_NAME = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "float16": "Half", "float32": "Float", "float64": "Double", "uint16": "UInt16", "uint32": "UInt32",
    "uint64": "UInt64", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}
_C_NAME = {
    "bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
    "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double", "bfloat16": "c10::BFloat16",
}
_FLOAT_DIGITS = {"float16": 11, "float32": 24, "float64": 53}


def _dt(np_dtype: Any) -> np.dtype:
    return np.dtype(np_dtype)


def _tname(dt: np.dtype) -> str:
    return _TORCH_NAME.get(dt.name, dt.name)


def _not_implemented(kernel: str, dt: np.dtype) -> NotImplementedError:
    return NotImplementedError(f'"{kernel}" not implemented for \'{_tname(dt)}\'')


def _bf16_finfo() -> Any:
    import ml_dtypes  # (loaded already: a bfloat16 dtype exists)

    return ml_dtypes.finfo(ml_dtypes.bfloat16)


def _require_float(kernel: str, dt: np.dtype) -> None:
    if dt.kind != "f":
        raise _not_implemented(kernel, dt)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(int(d) for d in shape)
    for d in shape:
        if d < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {d}: {list(shape)}")
    return shape


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _g(x: float) -> str:
    """Format a number the way torch's C++ messages do (``%g``)."""
    return "%g" % x


# --------------------------------------------------------------------------- MT19937 seeding
def _mt_key(seed32: int) -> np.ndarray:
    """The MT19937 state for ``init_genrand(seed32)`` (what ``manual_seed`` installs)."""
    key = [0] * _MT_N
    x = seed32 & 0xFFFFFFFF
    key[0] = x
    for i in range(1, _MT_N):
        x = (1812433253 * (x ^ (x >> 30)) + i) & 0xFFFFFFFF
        key[i] = x
    return np.array(key, dtype=np.uint32)


def _normalize_seed(seed: Any) -> int:
    seed = int(seed)
    if seed < -(1 << 63) or seed >= (1 << 64):
        raise ValueError("Overflow when unpacking long long")
    return seed & 0xFFFFFFFFFFFFFFFF


# --------------------------------------------------------------------------- exact FMA emulation
def _fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    """Correctly rounded float64 ``a * b + c`` (exact product, sum rounded once; round-to-odd)."""
    a = np.asarray(a, _F64)
    b = np.asarray(b, _F64)
    c = np.asarray(c, _F64)
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        split = 134217729.0
        t = split * a
        ah = t - (t - a)
        al = a - ah
        t = split * b
        bh = t - (t - b)
        bl = b - bh
        pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
        s = c + p
        bb = s - c
        se = (c - (s - bb)) + (p - bb)
        v = se + pe
        bb = v - se
        ve = (se - (v - bb)) + (pe - bb)
        bits = np.array(v, _F64).view(np.int64).copy()
        nz = (ve != 0) & np.isfinite(v)
        bits -= (nz & ((ve < 0) != (v < 0))).astype(np.int64)
        bits |= nz.astype(np.int64)
        out = s + bits.view(_F64)
        special = ~np.isfinite(p) | ~np.isfinite(c) | ~np.isfinite(out)
        if np.any(special):
            out = np.where(special, p + c, out)
    return out


_MID_MASK = np.int64(0x1FFFFFFF)
_MID = np.int64(0x10000000)


def _fma32_exact(a: Any, b: Any, c: Any) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c`` (product exact in float64, sum rounded to odd)."""
    a = np.asarray(a, _F64)
    b = np.asarray(b, _F64)
    c = np.asarray(c, _F64)
    p = a * b
    s = p + c
    bb = s - p
    e = (p - (s - bb)) + (c - bb)
    bits = np.array(s, _F64).view(np.int64).copy()
    nz = e != 0
    bits -= (nz & ((e < 0) != (s < 0))).astype(np.int64)
    bits |= nz.astype(np.int64)
    return bits.view(_F64).astype(_F32)


class _Fma32:
    """float32 FMA: one float64 multiply-add, then a check that the float64 sum did not land
    exactly on a float32 rounding midpoint (the only case where the double rounding can differ
    from a fused operation).  Flagged lanes are recomputed exactly by the caller."""

    __slots__ = ("flags",)

    def __init__(self, n: int) -> None:
        self.flags = np.zeros(n, dtype=bool)

    def __call__(self, a: Any, b: Any, c: Any) -> np.ndarray:
        if isinstance(a, np.ndarray):
            s = a.astype(_F64)
            s *= b
        else:
            s = np.multiply(a, b, dtype=_F64)
        s += c
        m = s.view(np.int64) & _MID_MASK
        self.flags |= m == _MID
        return s.astype(_F32)


def _fma32(a: Any, b: Any, c: Any) -> np.ndarray:
    """float32 FMA for whole arrays: fast path plus exact recomputation of flagged lanes."""
    ops = [np.asarray(v, _F32) for v in (a, b, c)]
    shape = np.broadcast_shapes(*(v.shape for v in ops))
    # 0-dim operands stay scalars; the others become flat arrays of the full shape
    flat = [v[()] if v.ndim == 0 else np.broadcast_to(v, shape).ravel() for v in ops]
    if all(np.ndim(v) == 0 for v in flat):
        flat[0] = np.broadcast_to(ops[0], shape).ravel()
    f = _Fma32(_numel(shape))
    out = f(*flat)
    if f.flags.any():
        i = np.flatnonzero(f.flags)
        out[i] = _fma32_exact(*(v if np.ndim(v) == 0 else v[i] for v in flat))
    return out.reshape(shape)


# --------------------------------------------------------------------------- torch's AVX2 float32 Box-Muller
# torch's CPU kernel for float32 normals (>= 16 contiguous elements) evaluates log and sincos with
# Cephes-style single-precision approximations on 8-lane vectors, with the multiply-adds fused.
# The functions below redo that arithmetic step for step on NumPy arrays (fused steps through
# `fma`), which reproduces the kernel's results bit for bit.
def _f32c(bits: int) -> np.float32:
    return np.array([bits], dtype=np.uint32).view(_F32)[0]


# Cephes-style single-precision log: reduction to [sqrt(1/2), sqrt(2)) and a degree-8 polynomial.
_LOG_P = [_f32c(h) for h in (0x3D9021BB, 0xBDEBD1B8, 0x3DEF251A, 0xBDFE5D4F, 0x3E11E9BF, 0xBE2AAE50,
                             0x3E4CCEAC, 0xBE7FFFFC, 0x3EAAAAAA)]
_LOG_Q1 = _f32c(0xB95E8083)   # -2.12194440e-4
_LOG_Q2 = _f32c(0x3F318000)   # 0.693359375
_SQRTHF = _f32c(0x3F3504F3)
# Cephes-style single-precision sincos: octant reduction by 4/pi in three pieces.
_FOPI = _f32c(0x3FA2F983)
_DP1 = _f32c(0xBF490000)
_DP2 = _f32c(0xB97DA000)
_DP3 = _f32c(0xB3222169)
_COS_P = [_f32c(h) for h in (0x37CCF5CE, 0xBAB6061A, 0x3D2AAAA5)]
_SIN_P = [_f32c(h) for h in (0xB94CA1F9, 0x3C08839E, 0xBE2AAAA3)]
_TWO_PI_F = _f32c(0x40C90FDB)
_ONE_F = _F32(1.0)
_HALF_F = _F32(0.5)


def _avx_log(x: np.ndarray, fma: Any) -> np.ndarray:
    """torch's AVX2 float32 log for x in (0, 1] (normal, positive inputs only)."""
    bits = x.view(np.int32)
    e = ((bits >> 23) - 126).astype(_F32)
    xm = ((bits & np.int32(-2139095041)) | np.int32(0x3F000000)).view(_F32)   # mantissa in [0.5, 1)
    small = xm < _SQRTHF
    e -= small
    x = xm - _ONE_F
    x += xm * small             # (np.where is slow on random masks)
    z = x * x
    y = fma(_LOG_P[0], x, _LOG_P[1])
    for p in _LOG_P[2:]:
        y = fma(y, x, p)
    t = e * _LOG_Q1
    y *= x
    y = fma(y, z, t)
    z *= _HALF_F
    y -= z
    x += y
    e *= _LOG_Q2
    x += e
    return x


def _avx_sincos(th: np.ndarray, fma: Any) -> tuple[np.ndarray, np.ndarray]:
    """torch's AVX2 float32 sincos for theta in [0, 2*pi)."""
    y = th * _FOPI
    j = y.astype(np.int32)
    j += 1
    j &= ~1
    yf = j.astype(_F32)
    swap_sin = (j & 4) << 29
    poly = ((j & 2) >> 1) - 1   # all ones where the sine polynomial serves sin
    sign_cos = (~(j - 2) & 4) << 29
    x = th + yf * _DP1          # exact products: these two FMAs round once, like an add
    x += yf * _DP2
    x = fma(yf, _DP3, x)
    z = x * x
    c = fma(_COS_P[0], z, _COS_P[1])
    c = fma(c, z, _COS_P[2])
    c *= z
    c = fma(z, c, -(z * _HALF_F))
    c += _ONE_F
    s = fma(_SIN_P[0], z, _SIN_P[1])
    s = fma(s, z, _SIN_P[2])
    s *= z
    s = fma(x, s, x)
    sb, cb = s.view(np.int32), c.view(np.int32)
    pick = (sb ^ cb) & poly
    sin = (cb ^ pick ^ swap_sin).view(_F32)
    cos = (sb ^ pick ^ sign_cos).view(_F32)
    return sin, cos


def _checked(fn: Any, x: np.ndarray) -> Any:
    """Run ``fn`` with the fast FMA; recompute the lanes it flags with exact FMAs."""
    f = _Fma32(x.size)
    out = fn(x, f)
    if f.flags.any():
        i = np.flatnonzero(f.flags)
        exact = fn(x[i], _fma32_exact)
        if isinstance(out, tuple):
            for o, e in zip(out, exact):
                o[i] = e
        else:
            out[i] = exact
    return out


_CHUNK = 8192   # blocks of 16 per pass: keeps temporaries small and cache-resident


def _normal_fill_f32(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Box-Muller over blocks of 16 float32 uniforms, exactly as torch's AVX2 kernel."""
    blocks = u.reshape(-1, 16)
    out = np.empty_like(blocks)
    for i in range(0, blocks.shape[0], _CHUNK):
        _fill_blocks_f32(blocks[i:i + _CHUNK], out[i:i + _CHUNK], mean, std)
    return out.ravel()


def _fill_blocks_f32(blocks: np.ndarray, out: np.ndarray, mean: float, std: float) -> None:
    u1 = _ONE_F - blocks[:, :8].ravel()
    radius = _checked(_avx_log, u1)
    radius *= _F32(-2.0)
    np.sqrt(radius, out=radius)
    sin, cos = _checked(_avx_sincos, blocks[:, 8:].ravel() * _TWO_PI_F)
    cos *= radius
    sin *= radius
    out[:, :8] = _scale_f32(cos, mean, std).reshape(-1, 8)
    out[:, 8:] = _scale_f32(sin, mean, std).reshape(-1, 8)


def _scale_f32(z: np.ndarray, mean: float, std: float) -> np.ndarray:
    """float32 ``fma(z, std, mean)``."""
    m, s = _F32(mean), _F32(std)
    if s == 1:
        return z + m
    if m == 0:
        return z * s + _F32(0.0)
    return _fma32(z, s, m)


def _scale_f64(z: np.ndarray, mean: float, std: float) -> np.ndarray:
    """float64 ``fma(z, std, mean)``."""
    if std == 1:
        return z + mean
    if mean == 0:
        return z * std + 0.0
    return _fma64(z, std, mean)


# --------------------------------------------------------------------------- glibc-exact float64 functions
# x87 80-bit long double (64-bit mantissa) stored in 16 bytes, little-endian: the low 11 mantissa
# bits beyond float64's 53 tell how close a value is to a float64 rounding midpoint.
_HAVE_X87 = (np.finfo(np.longdouble).nmant == 63 and np.dtype(np.longdouble).itemsize == 16
             and np.little_endian)


def _math_safe(fn: Any, v: float, fallback: Any) -> float:
    try:
        return fn(v)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(fallback(np.float64(v)))


def _per_element(fn: Any, fallback: Any, x: np.ndarray) -> np.ndarray:
    return np.array([_math_safe(fn, v, fallback) for v in x.ravel().tolist()], dtype=_F64).reshape(x.shape)


def _libm(x: np.ndarray, math_fn: Any, np_fn: Any, margin: int) -> np.ndarray:
    """``math_fn`` (glibc's float64 function) applied elementwise, vectorised.

    The value is computed in x87 extended precision and rounded to float64.  Where the extended
    value lies within ``margin``/2048 ulp of a float64 rounding midpoint (there glibc's own
    slightly-over-half-ulp error may round the other way) the element is recomputed with
    ``math_fn`` itself, which is glibc."""
    x = np.asarray(x, _F64)
    if not _HAVE_X87 or x.size < 32:
        return _per_element(math_fn, np_fn, x)
    with np.errstate(all="ignore"):
        yl = np_fn(x.astype(np.longdouble)).reshape(-1)
        y = yl.astype(_F64)
        low = (yl.view(np.uint64)[0::2] & _U64(0x7FF)).view(np.int64)
        low -= 1024
        np.abs(low, out=low)
        bad = low <= margin
        bad |= ~(np.abs(y) >= 2.0 ** -1000)     # zero, subnormal, inf, nan: let glibc decide
        bad &= y != 0
        bad |= ~np.isfinite(y)
    idx = np.flatnonzero(bad)
    if idx.size:
        y[idx] = _per_element(math_fn, np_fn, x.reshape(-1)[idx])
    return y.reshape(x.shape)


def _log(x: np.ndarray) -> np.ndarray:    # glibc log: < 0.52 ulp
    return _libm(x, math.log, np.log, 64)


def _exp(x: np.ndarray) -> np.ndarray:    # glibc exp: < 0.52 ulp
    return _libm(x, math.exp, np.exp, 64)


def _tan(x: np.ndarray) -> np.ndarray:    # glibc tan: measured < 0.57 ulp
    return _libm(x, math.tan, np.tan, 200)


def _log1p(x: np.ndarray) -> np.ndarray:
    # glibc's log1p is not within a small margin of correct rounding: evaluate it directly.
    return _per_element(math.log1p, np.log1p, np.asarray(x, _F64))


# --------------------------------------------------------------------------- randperm's shuffle
def _forward_shuffle(j: np.ndarray, n: int) -> np.ndarray:
    """``arange(n)`` after the swaps ``perm[i] <-> perm[j[i]]`` for i = 0 .. n-2 in order
    (``j[i] >= i``), without a Python loop over the swaps.

    Step i fixes position i for good (later swaps touch only positions > i), so
    ``out[i]`` is what position ``j[i]`` holds just before step i: the value the last earlier step
    k with ``j[k] == j[i]`` put there, which is what position k held before step k (call it
    ``V[k]``), or ``j[i]`` itself when no earlier step wrote there. ``V`` follows the same rule
    (``V[i] = V[k]`` for the last k < i with ``j[k] == i``, else ``i``): chains towards smaller
    indices, resolved by pointer jumping. Grouping the steps by target is one sort of
    ``j * n + k`` (unique keys, so the fast unstable sort gives the stable order)."""
    m = n - 1
    key = j * n
    key += np.arange(m, dtype=np.int64)
    key.sort()
    order, sj = key % n, key // n        # the steps grouped by target, in step order within a group
    same = sj[1:] == sj[:-1]
    kstar = np.full(m, -1, np.int64)     # the previous step with the same target
    kstar[order[1:][same]] = order[:-1][same]
    ends = np.flatnonzero(np.append(~same, True))
    prev = np.full(n, -1, np.int64)      # the last step k < i that wrote position i
    prev[sj[ends]] = order[ends]
    idx = np.arange(n, dtype=np.int64)
    prev[prev == idx] = -1               # a step that swapped position i with itself: look further back
    selfs = np.flatnonzero(j == idx[:m])
    prev[selfs] = kstar[selfs]
    root = np.where(prev >= 0, prev, idx)
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    out = np.empty(n, np.int64)
    out[:m] = np.where(kstar >= 0, root[np.maximum(kstar, 0)], j)
    out[m] = root[m]
    return out


# --------------------------------------------------------------------------- the generator
class Generator:
    """A CPU random generator whose streams match ``torch.Generator`` bit for bit.

    Samplers return new NumPy arrays; tensor-level functions wrap them.  Each sampler consumes
    the Mersenne Twister stream exactly as the corresponding torch CPU kernel does, so any
    interleaving of calls stays in step with torch.
    """

    def __init__(self, device: Any = "cpu") -> None:
        dev = str(getattr(device, "type", device))
        if dev.split(":")[0] != "cpu":
            raise RuntimeError(f"ember.random.Generator only supports the cpu device, got {device!r}")
        self._bitgen = np.random.MT19937(0)
        self._initial_seed = 0
        self._normal_cache: float | None = None
        self._fresh = True
        self._set_seed(_DEFAULT_SEED)

    # ------------------------------------------------------------------ seeding and state
    def _set_seed(self, seed: int) -> None:
        legacy = getattr(self._bitgen, "_legacy_seeding", None)   # NumPy's C init_genrand
        if legacy is not None:
            legacy(seed & 0xFFFFFFFF)
        else:
            self._bitgen.state = {"bit_generator": "MT19937", "state": {"key": _mt_key(seed), "pos": _MT_N}}
        self._initial_seed = seed
        self._normal_cache = None
        self._fresh = True

    def manual_seed(self, seed: Any) -> Generator:
        self._set_seed(_normalize_seed(seed))
        return self

    def seed(self) -> int:
        s = secrets.randbits(64)
        self._set_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._initial_seed

    @property
    def device(self) -> Any:
        """``device(type='cpu')``, as ``torch.Generator().device``."""
        from ._tensor import _CPU

        return _CPU

    def get_state(self) -> Any:
        """The state as a uint8 Tensor of 5056 bytes, the same bytes as ``torch.Generator.get_state()``
        (so ``torch.from_numpy(g.get_state().numpy())`` is a valid torch state, and back)."""
        try:
            from ._tensor import _new
        except ImportError:     # this module loaded on its own, outside the ember package
            return self._state_array()
        return _new(self._state_array())

    def _state_array(self) -> np.ndarray:
        """The state bytes as a uint8 NumPy array (what ``get_state`` wraps)."""
        st = self._bitgen.state["state"]
        pos = int(st["pos"])
        buf = bytearray(_STATE_BYTES)
        nxt = 0 if self._fresh and pos == _MT_N else pos
        struct.pack_into("<QiiQ", buf, 0, self._initial_seed, _MT_N + 1 - pos, 1, nxt)
        buf[_OFF_STATE:_OFF_STATE + 8 * _MT_N] = np.asarray(st["key"], dtype="<u8").tobytes()
        if self._normal_cache is not None:
            struct.pack_into("<d", buf, _OFF_NORMAL_Y, self._normal_cache)
            struct.pack_into("<i", buf, _OFF_NORMAL_VALID, 1)
        return np.frombuffer(bytes(buf), dtype=np.uint8).copy()

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from ``get_state`` (a uint8 Tensor; a uint8 NumPy array is accepted too)."""
        if hasattr(new_state, "numpy") and not isinstance(new_state, np.ndarray):
            new_state = new_state.detach().numpy() if hasattr(new_state, "detach") else new_state.numpy()
        if not isinstance(new_state, np.ndarray) or new_state.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if new_state.size != _STATE_BYTES:
            raise RuntimeError("Expected a CPUGeneratorImplState of size 5056 but found the input RNG "
                               f"state size to be {new_state.size}")
        raw = new_state.reshape(-1).tobytes()
        seed, left, seeded, nxt = struct.unpack_from("<QiiQ", raw, 0)
        if not seeded or left < 1 or left > _MT_N or nxt > _MT_N:
            raise RuntimeError("Invalid mt19937 state")
        key = (np.frombuffer(raw, dtype="<u8", count=_MT_N, offset=_OFF_STATE) & _U64(0xFFFFFFFF))
        # torch counts down `left` to the next twist; NumPy counts up `pos` (valid states satisfy
        # left + next == 625, or left == 1 and next == 0 right after seeding).
        pos = _MT_N + 1 - left
        self._bitgen.state = {"bit_generator": "MT19937",
                              "state": {"key": key.astype(np.uint32), "pos": pos}}
        self._initial_seed = seed
        self._fresh = left == 1 and nxt == 0
        valid = struct.unpack_from("<i", raw, _OFF_NORMAL_VALID)[0]
        self._normal_cache = struct.unpack_from("<d", raw, _OFF_NORMAL_Y)[0] if valid else None
        return self

    def clone_state(self) -> Generator:
        """A new generator holding a copy of this one's state."""
        g = Generator()
        g.set_state(self._state_array())
        return g

    def __getstate__(self) -> dict:
        return {"state": self._state_array()}

    def __setstate__(self, d: dict) -> None:
        self.__init__()
        self.set_state(d["state"])

    def __repr__(self) -> str:
        return f"<ember._C.Generator object at {id(self):#x}>"    # torch's own repr, name for name

    # ------------------------------------------------------------------ raw draws
    def _raw32(self, n: int) -> np.ndarray:
        """n raw 32-bit words (as uint64)."""
        if n <= 0:
            return np.empty(0, dtype=_U64)
        self._fresh = False
        return self._bitgen.random_raw(n)

    def _raw64(self, n: int) -> np.ndarray:
        """n 64-bit words, each built from two draws with the first as the high half."""
        r = self._raw32(2 * n)
        w = r[0::2] << _U64(32)
        w |= r[1::2]
        return w

    def _u24(self, n: int) -> np.ndarray:
        """n float32 uniforms on [0, 1) (24 random bits each)."""
        r = self._raw32(n)
        r &= _U64(0xFFFFFF)
        u = r.astype(_F32)
        u *= _F32(2.0 ** -24)
        return u

    def _u53(self, n: int) -> np.ndarray:
        """n float64 uniforms on [0, 1) (53 random bits of a 64-bit draw each)."""
        r = self._raw64(n)
        r &= _U64((1 << 53) - 1)
        u = r.astype(_F64)
        u *= 2.0 ** -53
        return u

    # ------------------------------------------------------------------ uniform
    def uniform(self, shape: Any, np_dtype: Any, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """``torch.rand`` / ``Tensor.uniform_(low, high)``."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        if not _dtype.is_bfloat16(dt):  # (bfloat16 draws as half does: float arithmetic, rounded)
            _require_float("check_uniform_bounds", dt)
        low, high = float(low), float(high)
        info = _bf16_finfo() if _dtype.is_bfloat16(dt) else np.finfo(dt)
        if not (float(info.min) <= low <= float(info.max)):
            raise RuntimeError(f"from is out of bounds for {_C_NAME[dt.name]}")
        if not (float(info.min) <= high <= float(info.max)):
            raise RuntimeError(f"to is out of bounds for {_C_NAME[dt.name]}")
        if low > high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_g(low)} > "
                               f"to={_g(high)}")
        if high - low > float(info.max):
            raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_tname(dt)}>::max(), but "
                               f"found to={_g(high)} and from={_g(low)} which result in to-from to exceed "
                               "the limit")
        n = _numel(shape)
        if dt == _F64:
            v = self._u53(n)
            if not (low == 0.0 and high == 1.0):
                v = _fma64(v, high - low, low)
            top, bottom = high, low
        else:
            v = self._u24(n)
            if dt == _F32:
                a, b = _F32(low), _F32(high)
            else:   # half: bounds are stored as half, the arithmetic is float
                a, b = _F32(dt.type(low)), _F32(dt.type(high))
            if not (a == 0 and b == 1):
                v = _fma32(v, b - a, a)
            v = v.astype(dt, copy=False)
            top, bottom = dt.type(b), dt.type(a)
        v[v == top] = bottom
        return v.reshape(shape)

    # ------------------------------------------------------------------ normal
    def _standard_normals(self, n: int) -> np.ndarray:
        """n standard normals from torch's scalar (double, cached) Box-Muller path."""
        out = np.empty(n, dtype=_F64)
        if n == 0:
            return out
        k = 0
        if self._normal_cache is not None:
            out[0] = self._normal_cache
            self._normal_cache = None
            k = 1
        m = n - k
        if m:
            pairs = (m + 1) // 2
            u = self._u53(2 * pairs)
            theta = _TWO_PI * u[0::2]
            radius = np.sqrt(-2.0 * _log1p(-u[1::2]))
            z = np.empty(2 * pairs, dtype=_F64)
            z[0::2] = radius * np.cos(theta)
            z[1::2] = radius * np.sin(theta)
            out[k:] = z[:m]
            if m % 2:
                self._normal_cache = float(z[m])
        return out

    def normal(self, shape: Any, np_dtype: Any, mean: float = 0.0, std: float = 1.0,
               contiguous: bool = True) -> np.ndarray:
        """``torch.randn`` / ``Tensor.normal_(mean, std)`` / ``torch.normal(mean, std, size)``.

        ``contiguous=False`` selects the path torch takes for a non-contiguous tensor (the scalar
        one); the values are then produced in the order the caller will write them."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        if not _dtype.is_bfloat16(dt):  # (bfloat16 takes half's path: a float buffer, rounded)
            _require_float("normal_kernel_cpu", dt)
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")
        n = _numel(shape)
        if n >= 16 and contiguous:
            out = self._normal_fill(n, dt, mean, std)
        else:
            z = self._standard_normals(n)
            out = _from_f64(_scale_f64(z, mean, std), dt)
        return out.reshape(shape)

    def _normal_fill(self, n: int, dt: np.dtype, mean: float, std: float) -> np.ndarray:
        """torch's vectorised path: uniforms in place, Box-Muller on blocks of 16; a ragged
        tail is handled by redrawing 16 fresh uniforms for the last 16 positions."""
        nb = n // 16
        tail = n % 16 != 0
        if dt == _F64:
            u = self._u53(n)[:nb * 16]
            out = np.empty(n, dtype=_F64)
            out[:nb * 16] = self._fill16_f64(u, mean, std)
            if tail:
                out[n - 16:] = self._fill16_f64(self._u53(16), mean, std)
            return out
        # float32 and half (half fills a float buffer; it draws only whole blocks of 16)
        u = self._u24(n if dt == _F32 else nb * 16)[:nb * 16]
        out = np.empty(n, dtype=_F32)
        out[:nb * 16] = _normal_fill_f32(u, mean, std)
        if tail:
            out[n - 16:] = _normal_fill_f32(self._u24(16), mean, std)
        return out.astype(dt, copy=False)

    @staticmethod
    def _fill16_f64(u: np.ndarray, mean: float, std: float) -> np.ndarray:
        blocks = u.reshape(-1, 16)
        radius = np.sqrt(-2.0 * _log(1.0 - blocks[:, :8]))
        theta = _TWO_PI * blocks[:, 8:]
        out = np.empty_like(blocks)
        out[:, :8] = _scale_f64(radius * np.cos(theta), mean, std)
        out[:, 8:] = _scale_f64(radius * np.sin(theta), mean, std)
        return out.ravel()

    def normal_tensor(self, mean: Any, std: Any, np_dtype: Any) -> np.ndarray:
        """``torch.normal(mean, std)`` where at least one of them is a tensor.

        Pass a tensor operand as an ndarray (0-dim allowed) and a Python-number operand as a
        Python number: torch computes the three forms differently."""
        dt = _dt(np_dtype)
        _require_float("normal_kernel_cpu", dt)
        mean_t = isinstance(mean, np.ndarray)
        std_t = isinstance(std, np.ndarray)
        if std_t:
            with np.errstate(invalid="ignore"):
                if std.size and not np.all(std >= 0):
                    raise RuntimeError("normal expects all elements of std >= 0.0")
        elif not float(std) >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(float(std))}")
        if mean_t and std_t:
            shape = _broadcast_shape(mean.shape, std.shape)
            out = self.normal(shape, dt) * std.astype(dt) + mean.astype(dt)
        elif mean_t:
            out = self.normal(mean.shape, dt, 0.0, float(std)) + mean.astype(dt)
        elif std_t:
            out = self.normal(std.shape, dt) * std.astype(dt) + dt.type(float(mean))
        else:
            raise TypeError("normal_tensor needs mean or std to be an ndarray; use normal() for numbers")
        return np.asarray(out, dtype=dt)

    def log_normal(self, shape: Any, np_dtype: Any, mean: float = 1.0, std: float = 2.0) -> np.ndarray:
        """``Tensor.log_normal_(mean, std)``: exp of the scalar-path normal."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        _require_float("log_normal_cpu", dt)
        mean, std = float(mean), float(std)
        if not std > 0.0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_g(std)}")
        z = self._standard_normals(_numel(shape))
        return _from_f64(_exp(_fma64(z, std, mean)), dt).reshape(shape)

    # ------------------------------------------------------------------ integers
    def randint(self, low: int, high: int, shape: Any, np_dtype: Any = np.int64) -> np.ndarray:
        """``torch.randint(low, high, size)``."""
        return self.random_(shape, np_dtype, int(low), int(high))

    def random_(self, shape: Any, np_dtype: Any, low: int | None = None, high: int | None = None) -> np.ndarray:
        """``Tensor.random_`` in its three forms.

        * ``random_(shape, dt)``: ``random_()``, every value representable in ``dt`` (floats:
          the integers in [0, 2**mantissa_digits]).
        * ``random_(shape, dt, high=to)`` or ``random_(shape, dt, 0, to)``: ``random_(to)``.
        * ``random_(shape, dt, frm, to)``: ``random_(from, to)``; with ``to=None``:
          ``random_(from, None)``, i.e. [from, max of dt].
        """
        shape = _shape(shape)
        dt = _dt(np_dtype)
        n = _numel(shape)
        if low is None and high is None:
            return self._random_full(n, dt).reshape(shape)
        frm = 0 if low is None else _int64(low)
        if high is None:
            if frm == -(1 << 63):
                if dt.name in ("int64", "float32", "float64"):
                    return self._raw64(n).view(np.int64).astype(dt).reshape(shape)
                if dt.name in ("bool", "float16"):
                    raise _not_implemented("random_full_64_bits_range_kernel_cpu", dt)
                raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, float "
                                   "and bfloat16")
            to_inc = _to_inc(dt)
            if frm > to_inc:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                                   f"casted to dtype, but got from={frm} > to_inc={to_inc}")
            _check_bound("from", frm, dt)
            span = to_inc - frm + 1
        else:
            to = _int64(high)
            if frm >= to:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={to}")
            _check_bound("from", frm, dt)
            _check_bound("to - 1", to - 1, dt)
            span = to - frm
        return self._random_span(n, dt, frm, span).reshape(shape)

    def _random_span(self, n: int, dt: np.dtype, frm: int, span: int) -> np.ndarray:
        if dt.kind not in "biuf":
            raise _not_implemented("random_from_to_kernel_cpu", dt)
        if span >= _LONG_RANGE:
            r = self._raw64(n)
        else:
            r = self._raw32(n)
            if -(1 << 63) <= frm and frm + span <= (1 << 63):  # the same values with 32-bit division,
                r32 = r.astype(np.uint32)                      # several times faster than 64-bit
                r32 %= np.uint32(span)
                out = r32.astype(np.int64)
                if frm:
                    out += np.int64(frm)
                return out.astype(dt, copy=False)
        if span < (1 << 64):
            r %= _U64(span)
        r += _U64(frm & 0xFFFFFFFFFFFFFFFF)
        return r.view(np.int64).astype(dt)

    def _random_full(self, n: int, dt: np.dtype) -> np.ndarray:
        name = dt.name
        if name == "int64":
            return (self._raw64(n) % _U64(1 << 63)).astype(np.int64)
        if name == "float64":
            return (self._raw64(n) % _U64((1 << 53) + 1)).astype(_F64)
        if name in _FLOAT_DIGITS:
            return (self._raw32(n) % _U64((1 << _FLOAT_DIGITS[name]) + 1)).astype(dt)
        if name == "bool":
            return (self._raw32(n) & _U64(1)).astype(bool)
        if name in ("int8", "int16", "int32", "uint8"):
            info = np.iinfo(dt)
            return (self._raw32(n) % _U64(int(info.max) + 1)).astype(dt)
        raise _not_implemented("random_kernel_cpu", dt)

    def randperm(self, n: int, np_dtype: Any = np.int64) -> np.ndarray:
        """``torch.randperm(n)``: a forward Fisher-Yates shuffle of ``arange(n)``."""
        n = int(n)
        dt = _dt(np_dtype)
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
        if dt.name == "bool" or dt.name not in _C_NAME:
            raise _not_implemented("randperm", dt)
        if dt.kind == "f":
            limit = {"float16": ("2049", 2049), "float32": ("2^24+1", (1 << 24) + 1),
                     "float64": ("2^53+1", (1 << 53) + 1)}[dt.name]
            if n > limit[1]:
                raise RuntimeError(f"n cannot be greater than {limit[0]} for {_tname(dt)} type.")
        elif n > 0 and n - 1 > int(np.iinfo(dt).max):
            cname = {"int32": "int"}.get(dt.name, f"{dt.name}_t")
            raise RuntimeError(f"value cannot be converted to type {cname} without overflow")
        if n <= 1:
            return np.arange(n, dtype=dt)
        r = self._raw32(n - 1) if n < _RANDPERM_64BIT else self._raw64(n - 1)
        r %= np.arange(n, 1, -1, dtype=_U64)
        r += np.arange(n - 1, dtype=_U64)
        return _forward_shuffle(r.astype(np.int64), n).astype(dt)

    # ------------------------------------------------------------------ bernoulli / multinomial
    def bernoulli(self, p: Any, shape: Any, np_dtype: Any) -> np.ndarray:
        """``torch.bernoulli(p_tensor)``, ``Tensor.bernoulli_(p)`` for a float or tensor ``p``.

        An ndarray ``p`` (0-dim included) is a probability tensor broadcast to ``shape``; a
        float64 one draws 53-bit uniforms, any other float dtype 24-bit ones.  A Python number
        ``p`` draws 53-bit uniforms."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        n = _numel(shape)
        if isinstance(p, np.ndarray):
            if p.dtype.kind != "f":
                raise _not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
            with np.errstate(invalid="ignore"):
                if p.size and not np.all((p >= 0) & (p <= 1)):
                    raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                                       "this error message be improved?  If so, please report an enhancement "
                                       "request to PyTorch.)")
            pb = _expand(p, shape)
            if p.dtype == _F64:
                hit = self._u53(n) < pb.reshape(-1)
            else:
                hit = self._u24(n) < pb.reshape(-1).astype(_F32)
        else:
            pf = float(p)
            if not (0.0 <= pf <= 1.0):
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_g(pf)}")
            hit = self._u53(n) < pf
        return hit.astype(dt).reshape(shape)

    def multinomial(self, probs: Any, num_samples: int, replacement: bool = False) -> np.ndarray:
        """``torch.multinomial(probs, num_samples, replacement)`` (int64 indices)."""
        probs = np.asarray(probs)
        if probs.dtype.kind != "f":
            raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                               f"{_tname(probs.dtype)}")
        if probs.ndim not in (1, 2):
            raise RuntimeError("prob_dist must be 1 or 2 dim")
        k = int(num_samples)
        ncat = probs.shape[-1]
        if k <= 0:
            raise RuntimeError("cannot sample n_sample <= 0 samples")
        if not replacement and k > ncat:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        if ncat > (1 << 24):
            raise RuntimeError("number of categories cannot exceed 2^24")
        rows = probs.reshape(-1, ncat)
        if rows.shape[0] == 0:
            return np.empty(probs.shape[:-1] + (k,), dtype=np.int64)
        if not replacement or k == 1:
            # torch: argmax / topk of p / q with q ~ Exp(1) drawn for every entry
            with np.errstate(invalid="ignore"):
                if not np.all(np.isfinite(rows) & (rows >= 0)):
                    raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
            if np.any(np.all(rows == 0, axis=1)):
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
            q = self.exponential(rows.shape, rows.dtype, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                key = rows / q
            if k == 1:
                idx = np.argmax(key, axis=1)[:, None]
            else:
                idx = np.argsort(-key, axis=1, kind="stable")[:, :k]
            return idx.astype(np.int64).reshape(probs.shape[:-1] + (k,))
        # with replacement: inverse CDF by binary search in the normalised cumulative sums
        out = np.empty((rows.shape[0], k), dtype=np.int64)
        cums = []
        for row in rows:
            with np.errstate(invalid="ignore"):
                bad_neg = ~(row >= 0)
            if bad_neg.any():
                raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
            if not np.all(np.isfinite(row)):
                raise RuntimeError("invalid multinomial distribution (encountering probability entry = "
                                   "infinity or NaN)")
            cum = np.cumsum(row, dtype=row.dtype)
            total = cum[-1]
            if not total > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
            cums.append((cum / total).astype(_F64))
        u = self._u53(rows.shape[0] * k).reshape(rows.shape[0], k)
        for i, cum in enumerate(cums):
            out[i] = np.minimum(np.searchsorted(cum, u[i], side="left"), ncat - 1)
        return out.reshape(probs.shape[:-1] + (k,))

    # ------------------------------------------------------------------ other distributions
    def exponential(self, shape: Any, np_dtype: Any, lambd: float = 1.0) -> np.ndarray:
        """``Tensor.exponential_(lambd)``: ``-1/lambd * log1p(-u)`` in double."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        if dt.kind != "f":
            raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must "
                               f"be a floating point but you specified {_tname(dt)}")
        lambd = float(lambd)
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_g(lambd)}")
        u = self._u53(_numel(shape))
        return _from_f64((-1.0 / lambd) * _log1p(-u), dt).reshape(shape)

    def cauchy(self, shape: Any, np_dtype: Any, median: float = 0.0, sigma: float = 1.0) -> np.ndarray:
        """``Tensor.cauchy_(median, sigma)``: ``fma(sigma, tan(pi * (u - 0.5)), median)``."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        if dt.kind != "f":
            raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                               f"floating point but you specified {_C_NAME.get(dt.name, dt.name)}")
        median, sigma = float(median), float(sigma)
        if not sigma > 0.0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_g(sigma)}")
        u = self._u53(_numel(shape))
        t = _tan(math.pi * (u - 0.5))
        return _from_f64(_fma64(sigma, t, median), dt).reshape(shape)

    def geometric(self, shape: Any, np_dtype: Any, p: float) -> np.ndarray:
        """``Tensor.geometric_(p)``: ``ceil(log(u) / log1p(-p))``."""
        shape = _shape(shape)
        dt = _dt(np_dtype)
        p = float(p)
        if not (0.0 < p < 1.0):
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_g(p)}")
        u = self._u53(_numel(shape))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            v = np.ceil(_log(u) / math.log1p(-p))
            return v.astype(dt).reshape(shape)


# --------------------------------------------------------------------------- small helpers
def _from_f64(v: np.ndarray, dt: np.dtype) -> np.ndarray:
    """Cast double results to ``dt`` as torch's kernels do: a ``double`` becomes ``c10::Half``
    through ``float`` (two roundings, which differ from one now and then)."""
    if dt == np.float16:
        return v.astype(_F32).astype(dt)
    return v.astype(dt)


def _int64(v: Any) -> int:
    v = int(v)
    if v < -(1 << 63) or v >= (1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return v


def _to_inc(dt: np.dtype) -> int:
    if dt.name in _FLOAT_DIGITS:
        return 1 << _FLOAT_DIGITS[dt.name]
    if dt.name == "bool":
        return 1
    if dt.kind in "ui":
        return int(np.iinfo(dt).max)
    raise _not_implemented("random_from_to_kernel_cpu", dt)


def _check_bound(what: str, v: int, dt: np.dtype) -> None:
    if dt.kind == "f":
        info = np.finfo(dt)
        if not (float(info.min) <= v <= float(info.max)):
            raise RuntimeError(f"{what} is out of bounds for {_C_NAME.get(dt.name, dt.name)}")
        d = _FLOAT_DIGITS.get(dt.name)
        if d is not None and not (-(1 << d) <= v <= (1 << d)):
            warnings.warn(f"{what} is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations "
                          f"{_C_NAME[dt.name]} can support discrete uniform distribution only within this "
                          "range. This warning will become an error in version 1.7 release, please fix the "
                          "code in advance", UserWarning, stacklevel=4)
        return
    if dt.name == "bool":
        lo, hi = 0, 1
    else:
        info = np.iinfo(dt)
        lo, hi = int(info.min), int(info.max)
    if not (lo <= v <= hi):
        raise RuntimeError(f"{what} is out of bounds for {_C_NAME.get(dt.name, dt.name)}")


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    nd = max(len(a), len(b))
    a2 = (1,) * (nd - len(a)) + tuple(a)
    b2 = (1,) * (nd - len(b)) + tuple(b)
    out = []
    for i, (x, y) in enumerate(zip(a2, b2)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


def _expand(p: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    try:
        return np.broadcast_to(p, shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: target sizes "
                           f"{list(shape)}, tensor sizes {list(p.shape)}") from None


# --------------------------------------------------------------------------- module-level API
# A new Generator() starts from torch's fixed default seed, but the process-wide one is seeded from
# the OS's entropy, as torch seeds its default CPU generator: unseeded runs draw different numbers.
default_generator = Generator()
default_generator.seed()


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator (like ``torch.manual_seed``) and return it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with: the argument of the last ``manual_seed``,
    else the 64-bit value drawn from the OS when ember was imported (or by ``seed()``)."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state: a uint8 Tensor of 5056 bytes, as ``torch.get_rng_state()``."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, **_: Any) -> Iterator[None]:
    """Save the default generator's state on entry and restore it on exit."""
    if not enabled:
        yield
        return
    state = default_generator._state_array()
    try:
        yield
    finally:
        default_generator.set_state(state)

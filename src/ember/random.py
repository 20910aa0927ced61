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
import os
import struct
from typing import Any, Iterator

import numpy as np

from . import _dtype
from ._random.arguments import (
    _C_NAME,
    _FLOAT_DIGITS,
    _bf16_finfo,
    _broadcast_shape,
    _check_bound,
    _dt,
    _expand,
    _from_f64,
    _g,
    _int64,
    _not_implemented,
    _numel,
    _require_float,
    _shape,
    _tname,
    _to_inc,
)
from ._random.avx2_box_muller import _normal_fill_f32, _scale_f64
from ._random.fma import _fma32, _fma64
from ._random.glibc_math import _exp, _log, _log1p, _tan
from ._random.mt19937 import _DEFAULT_SEED, _MT_N, _OFF_NORMAL_VALID, _OFF_NORMAL_Y, _OFF_STATE, _STATE_BYTES, _mt_key, _normalize_seed
from ._random.shuffle import _forward_shuffle

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "fork_rng",
]

_U64 = np.uint64
_F32 = np.float32
_F64 = np.float64


def _real_of(dt: np.dtype) -> Any:
    return _F32 if dt == np.complex64 else _F64
_TWO_PI = 2.0 * math.pi
_LONG_RANGE = 1 << 28                 # torch switches from 32-bit to 64-bit draws at this range
_RANDPERM_64BIT = 4294967295 // 20    # randperm uses 64-bit draws from this n on


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
        s = int.from_bytes(os.urandom(8), "little")  # (the system's entropy; `secrets` costs the import 3 ms)
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
        type(self).__init__(self)
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
        if dt.kind == "c":  # torch draws a complex tensor's real and imaginary parts as one real tensor
            return self.uniform(shape + (2,), _real_of(dt), low, high).view(dt).reshape(shape)
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
        if dt.kind == "c":  # the real view, each part with variance std^2 / 2 (so |z| has std's)
            real = self.normal(shape + (2,), _real_of(dt), mean, float(std) / math.sqrt(2), contiguous)
            return real.view(dt).reshape(shape)
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

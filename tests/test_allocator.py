"""ember keeps freed array memory for reuse (glibc only): a training step must not page its
temporaries in again every time."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")

# allocate and free arrays of {n} float32 repeatedly; count the minor page faults of the last 20 rounds
_PROBE = """
import resource, numpy as np
{setup}
def rnd():
    a = np.ones({n}, np.float32); b = a * 2.0 if {two} else a; return float(b[-1])
for _ in range(5): rnd()
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20): rnd()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


def _faults(setup: str, env_extra: dict | None = None, n: int = 2 << 20, two: bool = True) -> int:
    import os

    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", _PROBE.format(setup=setup, n=n, two=two)], capture_output=True, text=True,
                         env=env, check=True)
    return int(out.stdout.strip())


def _glibc() -> bool:
    import ctypes

    return hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not _glibc(), reason="not glibc")
def test_repeated_large_temporaries_reuse_their_pages():
    # 20 rounds x 2 arrays x 2,048 pages: ~20k faults without reuse here (numpy madvises huge pages)
    assert _faults("import ember") < 500
    assert _faults("import ember", {"EMBER_MALLOC_TUNING": "0"}) > 5_000


@pytest.mark.skipif(not _glibc(), reason="not glibc")
def test_arrays_above_glibcs_mmap_threshold_reuse_their_pages_too():
    # a 100 MB array (a batch of per-sample weight gradients): glibc maps it fresh whatever the
    # threshold, ~1,000 faults over 20 rounds with huge pages (~500k without), unless mmap is off
    n = 25 << 20
    assert _faults("import ember", n=n, two=False) < 100
    assert _faults("import ember", {"EMBER_MALLOC_TUNING": "0"}, n=n, two=False) > 500


def test_opt_out_leaves_malloc_alone():
    code = "import ember, ember._allocator as a; print(a.tuned)"
    import os

    env = dict(os.environ, EMBER_MALLOC_TUNING="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"

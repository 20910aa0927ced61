"""ember keeps freed array memory for reuse (glibc only): a training step must not page its
temporaries in again every time."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")

# allocate and free 8 MB arrays repeatedly; count the minor page faults of the last 20 rounds
_PROBE = """
import resource, numpy as np
{setup}
def rnd():
    a = np.ones(2 << 20, np.float32); b = a * 2.0; return float(b[-1])
for _ in range(5): rnd()
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20): rnd()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


def _faults(setup: str, env_extra: dict | None = None) -> int:
    import os

    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([sys.executable, "-c", _PROBE.format(setup=setup)], capture_output=True, text=True,
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


def test_opt_out_leaves_malloc_alone():
    code = "import ember, ember._allocator as a; print(a.tuned)"
    import os

    env = dict(os.environ, EMBER_MALLOC_TUNING="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"

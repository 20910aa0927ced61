"""Keep freed array memory in the process instead of handing it back to the OS at once.

Training repeats the same large temporaries every step (im2col columns, activations, their
gradients). glibc's malloc serves arrays of a few MB with fresh ``mmap`` calls, or trims them off
the heap top as soon as they are freed, so every step pays again to page the memory in: on the
CNN benchmark that is about 5,000 page faults and ~15 ms of kernel time per step, more than the
arithmetic. Raising the mmap threshold and keeping a pad at the heap top makes a step reuse the
previous step's pages. The price is that up to ``_KEEP`` bytes of freed memory stay with the
process (peak usage is unchanged).

glibc's largest mmap threshold is 32 MB, so arrays above it (a batch of per-sample weight
gradients: 256 x 128 x 784 float32 is 100 MB) were still mapped fresh and paged in on every call,
the kernel zeroing each page first: about a third of ``vmap(grad)``'s time on the per-sample
gradient benchmark. Turning mmap off (``M_MMAP_MAX`` 0) serves them from the heap too, where a
freed array's pages are reused, as jemalloc and tcmalloc (which PyTorch's CPU tuning guide
recommends) reuse them. glibc still maps memory when the heap cannot grow; freed memory at the
heap top beyond ``_KEEP`` goes back to the OS, and freed memory inside the heap stays for reuse.

Only glibc is touched; set ``EMBER_MALLOC_TUNING=0`` to leave malloc as it is.
"""

from __future__ import annotations

import os
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -2, -3, -4
_MMAP_THRESHOLD = 32 << 20  # glibc's largest accepted value on 64-bit: arrays above it still mmap
_KEEP = 256 << 20  # free memory kept at the heap top before trimming
_TOP_PAD = 64 << 20

tuned = False


def tune() -> bool:
    """Apply the settings once; returns whether malloc was tuned."""
    global tuned
    if tuned or os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return tuned
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: leave them alone
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # each call returns 1 on success; setting any of them also fixes glibc's adaptive threshold
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _KEEP)
                 and mallopt(_M_TOP_PAD, _TOP_PAD) and mallopt(_M_MMAP_MAX, 0))
    return tuned

"""Keep freed memory inside the process (glibc): the CPU path's page faults.

With glibc, every block above the mmap threshold (adaptive, 128 KiB to 32 MiB) is mapped fresh when it is
allocated and unmapped when it is freed. A CPU forward pass allocates and frees activations of tens to hundreds
of MB per layer, so each batch page-faults its whole working set again and the kernel zeroes every page:
measured on a 2-core CPU, the shipped small-256 weights' per-batch step (16 frames, 2 threads) spent 2.1 s of
system time beside 3.2 s of user time, 2.8 s of wall time per batch. :func:`keep_freed_memory` sets glibc's
``M_MMAP_MAX`` to 0 and ``M_TRIM_THRESHOLD`` to its maximum, so freed blocks stay in the heap for the next
batch: 1.5 s per batch, no system time, the same outputs (docs/benchmarks.md). The price: the process keeps
its peak memory until it exits instead of giving it back between batches.

The setting is process-wide, so the library never makes it on its own; the command line's ``main()`` does,
once, at start-up. ``TOONTALKER_SYSTEM_MALLOC=1`` keeps glibc's defaults.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_MAX = -4
OPT_OUT = "TOONTALKER_SYSTEM_MALLOC"


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed memory for reuse; True if applied (False: opted out, not Linux or not
    glibc, e.g. musl)."""
    if sys.platform != "linux" or os.environ.get(OPT_OUT, "") not in ("", "0"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))

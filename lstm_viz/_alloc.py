"""The program keeps the memory it frees for its next allocations (glibc only).

Every edit of a weight runs a new trace, and a trace of a few hundred steps is
a few megabytes of fresh arrays. glibc's malloc hands blocks of more than
128 KiB to the kernel and back (``mmap``/``munmap``), and returns the top of its
heap whenever more than 128 KiB is free there. So every trace made the
kernel map and zero its pages again: at T=500, H=32 that was about a quarter
of the trace's time (median 14.5 against 10.8 ms, same machine, back to back).

`keep_freed_memory` raises both thresholds so freed blocks stay in the
process and are reused. It is called by the program's entry point
(`lstm_viz.cli.main`), never on import: a notebook or script using the
engine keeps its own allocator settings. It does nothing where the C library
is not glibc.
"""

from __future__ import annotations

import sys

#: mallopt parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks up to this size come from the heap (glibc's largest allowed value on 64-bit).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free memory kept at the top of the heap before any of it is returned.
TRIM_THRESHOLD = 64 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True if the C library took both."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):      # not glibc (musl: no such call)
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))

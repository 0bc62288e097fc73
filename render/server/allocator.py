"""Giving freed memory back to the system, where the C library is glibc (elsewhere: no-ops).

A server that allocates and frees frame-sized buffers all day keeps freed memory
in glibc's heaps: after the first free of a large block glibc raises its mmap
threshold (up to 32 MiB), so later frames come from per-thread heaps that
fragment and seldom shrink (issue 16 saw malloc_trim(0) take a loaded server
from 3.6 GB back to 0.8 GB, before the memory budget existed).
"""

import ctypes
import ctypes.util
import platform

_M_MMAP_THRESHOLD = -3          # glibc's mallopt parameter numbers (malloc.h)


def _glibc():
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _glibc()


def use_mmap_for_large_blocks(threshold_bytes: int = 1 << 20) -> None:
    """Allocate blocks of ``threshold_bytes`` or more (frames, encoded replies) with mmap from now on,
    so that freeing them returns their memory at once (fixes the threshold for this process)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_MMAP_THRESHOLD, int(threshold_bytes))


def return_freed_memory() -> None:
    """Give the free parts of every heap back to the system (glibc's malloc_trim(0))."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)

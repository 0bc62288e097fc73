"""Giving freed memory back to the system between the phases of a long job.

glibc's malloc serves the large, short-lived NumPy arrays of the analysis and the
soundtrack (blocks, running-median windows, spectra joined) from its heap once it has
seen them freed (its mmap threshold rises to their size), and a heap shrinks only from
its top: the pages freed under a small block that is still alive stay resident. On a
10-minute programme that was 40-60 MiB after the analysis, carried into the render.
``malloc_trim(0)`` hands every free page back, wherever it is; called between phases
(never per frame: pages handed back are faulted in again when reused), it costs well
under a millisecond here. Elsewhere than glibc it does nothing.
"""

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):        # not glibc (musl, macOS, Windows)
        return None


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``; a no-op elsewhere)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)

"""Freed memory goes back to the system between phases (glibc's heap keeps it otherwise)."""

import platform

import numpy as np
import pytest

from render.heap import _malloc_trim, give_back_freed_memory


def resident_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(platform.system() != "Linux" or _malloc_trim() is None, reason="glibc's malloc_trim only")
def test_freed_arrays_under_live_ones_are_given_back():
    # The analysis's pattern: large transient arrays with small lasting ones between them,
    # so the heap cannot shrink from its top. The first large free raises glibc's mmap
    # threshold, so the rest come from the heap.
    np.empty(8 << 20, np.uint8)
    transient, lasting = [], []
    for _ in range(16):
        transient.append(np.ones(4 << 20, np.uint8))
        lasting.append(np.ones(4096, np.uint8))     # past pymalloc: from the C heap
    before = resident_mib()
    del transient
    kept = resident_mib()
    give_back_freed_memory()
    after = resident_mib()
    assert before - after > 48, (before, kept, after)

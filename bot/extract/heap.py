"""This process's malloc (glibc): what it keeps of the memory it freed.

The extraction workers draw pages and hand them to tesseract: large blocks,
freed after each page. Here they are given back to the system, so that two
workers' leftovers do not add up in the process tree. Elsewhere than glibc
both functions do nothing.
"""
from __future__ import annotations

import functools

# glibc's malloc in a worker (``mallopt`` parameters): a block of 256 KB or more (a page drawn
# for OCR, tesseract's copies of it, a decoded attachment) is mapped on its own and given back
# to the system when freed, and the heap's free top is given back beyond 1 MB. By default glibc
# raises both thresholds as large blocks are freed (up to 32 MB and twice that), so a worker
# that had read some scans kept 20-35 MB it no longer used, and the two workers' leftovers
# added up in the process tree (docs/performance.md, "Memory of the OCR-on poll").
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_SETTINGS = ((_M_MMAP_THRESHOLD, 256 * 1024), (_M_TRIM_THRESHOLD, 1024 * 1024))


def tune_malloc(settings=MALLOC_SETTINGS) -> bool:
    """Apply ``settings`` ((parameter, value), as glibc's ``mallopt``) to this process's
    malloc; False where there is no glibc (another C library: its own defaults stay)."""
    import ctypes  # not at the top: only the pool's processes, which tune or trim their malloc, need it

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(parameter, value) == 1 for parameter, value in settings)


def trim_heap() -> None:
    """Give what this process's malloc holds freed back to the system (glibc's ``malloc_trim``:
    also the free holes inside its heaps, which the thresholds above do not reach); elsewhere nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    import ctypes  # not at the top: only the pool's processes, which tune or trim their malloc, need it

    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None

"""What the benchmark scripts measure with: best-of-N wall time and process memory.

Not a benchmark script itself (``make bench`` runs ``bench_*.py``); the scripts import it from
next to them (``import _timing``), as ``bench_triggers.py`` imports ``_triggers_service``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

__all__ = ["best_of", "peak_rss", "rss"]


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs of ``fn()`` in seconds, and the last run's result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def rss() -> int:
    """The process's resident set size in bytes (peak RSS where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss()


def peak_rss() -> int:
    """The process's peak resident set size in bytes (Linux: ``ru_maxrss`` is in KiB)."""
    import resource  # not on Windows

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

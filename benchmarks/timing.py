"""Shared by the benchmark scripts: the median wall time of a few runs of a call."""

from __future__ import annotations

import statistics
import time


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median seconds over ``repeat`` calls of ``fn()`` and the last call's result."""
    runs, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), out

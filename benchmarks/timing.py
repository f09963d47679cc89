"""Shared by the benchmark scripts: the median wall time of a few runs of a call, and how the
browser benchmarks start headless Chromium and know the twin is drawn."""

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


# Debian's Chromium, headless, drawing with SwiftShader (software WebGL), as the browser tests do.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
READY = "window.madinaTwin && madinaTwin.state.ready && madinaTwin.state.firstRenderMs !== null"

"""Shared by the benchmark scripts: the median wall time of a few runs of a call, and how the
browser benchmarks start headless Chromium and know the twin is drawn."""

from __future__ import annotations

import statistics
import time

# Debian's Chromium, headless, drawing with SwiftShader (software WebGL), as the browser tests
# and the video export do.
from video.render import CHROMIUM_ARGS  # noqa: F401 (the browser benchmarks import it here)


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median seconds over ``repeat`` calls of ``fn()`` and the last call's result."""
    runs, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), out


# As functions: Playwright evaluates a plain string with eval, which the twin's CSP refuses.
READY = (
    "() => window.madinaTwin && madinaTwin.state.ready && madinaTwin.state.firstRenderMs !== null"
)
BENCH_PASSWORD = "benchmark password only"


def log_in_as_planner(app, page, base_url: str) -> None:
    """Add a planner to ``app``'s accounts and log ``page`` in (the planner's page, raw cells)."""
    from access.users import UserStore

    store = UserStore(app.server.config["MADINA_USER_DB"])
    if store.get("bench") is None:
        store.add("bench", BENCH_PASSWORD, "planner")
    page.goto(f"{base_url}/login")
    page.fill("#username", "bench")
    page.fill("#password", BENCH_PASSWORD)
    page.click("#login-submit")

"""First render time of the twin in real headless Chromium (Debian's /usr/bin/chromium).

Run: python benchmarks/first_render.py [--runs 3]
Starts the app on a free local port, loads the page, and prints navigation-to-drawn times.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time

from timing import CHROMIUM_ARGS, READY  # benchmarks/timing.py (scripts run from this folder)
from werkzeug.serving import make_server

from app import create_app, warm_up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    app = create_app()
    config = app.server.config
    warm = warm_up(config["MADINA_CITY"], config["MADINA_TELEMETRY_DAY"])
    print(f"server warm-up (packs every layer, solves the water network's day): {warm:.1f} s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    totals, layers_ms, transferred = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for run in range(args.runs + 1):
            context = browser.new_context(viewport={"width": 1400, "height": 850})
            page = context.new_page()
            sizes = []
            page.on(
                "response",
                lambda r, sizes=sizes: sizes.append(int(r.headers.get("content-length") or 0)),
            )
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_function(READY, timeout=120_000)
            total = time.perf_counter() - started
            if run > 0:  # run 0 warms the browser's and the server's remaining caches
                totals.append(total)
                layers_ms.append(page.evaluate("madinaTwin.state.firstRenderMs"))
                transferred.append(sum(sizes))
            else:
                print(f"first page load after warm-up: {total:.2f} s")
            context.close()
        browser.close()
    server.shutdown()
    print(
        f"navigation -> city drawn: median {statistics.median(totals):.2f} s"
        f" over {len(totals)} runs"
    )
    print(f"layer fetch+decode -> first frame: median {statistics.median(layers_ms):.0f} ms")
    print(f"bytes transferred per page load: {statistics.median(transferred) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

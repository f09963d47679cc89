"""Time-lapse frame switch time in real headless Chromium, lamps and an H3 layer on the map.

Run: python benchmarks/frame_switch.py [--switches 12]
Shows the 140,000 light points and the telemetry's hexagons (mean power per light point), then
moves the twin's time control frame by frame and times each switch until deck.gl has drawn it.
Baseline in the same run: the same switch set directly in twin.js (no Dash, no time control),
and both again with the hexagons alone (no lamps). Headless Chromium draws with SwiftShader
(software rendering on the CPU), so absolute times are a worst case for a real browser.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
from pathlib import Path

from timing import CHROMIUM_ARGS, READY, log_in_as_planner  # benchmarks/timing.py
from werkzeug.serving import make_server

from app import create_app, warm_up

# ms from a change until deck.gl has drawn once more with the hexagons at the frame asked for.
TIMED = """async ([how, frame]) => {
  const t = madinaTwin.state, drawn = t.renders, started = performance.now();
  if (how === "control") madinaTime.seek(frame);
  else { t.hex.frame = frame; madinaTwin.redraw(); }
  const done = () => t.renders > drawn && t.hex.frame === frame;
  while (!done()) await new Promise((resolve) => requestAnimationFrame(resolve));
  return performance.now() - started;
}"""


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"median {statistics.median(values):7.0f} ms, p90 {p90:7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=12)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    db = Path(tempfile.mkdtemp()) / "scenarios.sqlite"
    app = create_app({"scenario_db": db, "user_db": db.with_name("users.sqlite")})
    config = app.server.config
    warm_up(config["MADINA_CITY"], config["MADINA_TELEMETRY_DAY"])
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for layers in ("districts,roads,lamps", "districts,roads"):
            page = browser.new_page(viewport={"width": 1400, "height": 850})
            base = f"http://127.0.0.1:{server.server_port}"
            log_in_as_planner(app, page, base)  # every cell, as before the public's k
            page.goto(f"{base}/?layers={layers}")
            page.wait_for_function(READY, timeout=120_000)
            page.locator("#hex-variable").click()
            page.get_by_role("option", name="Mean power per light point", exact=False).click()
            page.wait_for_function(
                "() => madinaTwin.state.hex && madinaTwin.state.hex.blob"
                " && madinaTwin.state.hex.base",
                timeout=120_000,
            )
            if "lamps" in layers:
                page.wait_for_function(
                    "() => madinaTwin.state.layers.lamps && madinaTwin.state.layers.lamps.layer",
                    timeout=120_000,
                )
                lamps = page.evaluate("madinaTwin.state.layers.lamps.manifest.length")
                cells = page.evaluate(
                    "madinaTwin.state.hex.manifest.resolutions[String(madinaTwin.state.hex.res)]"
                    ".cells.length"
                )
            page.evaluate(TIMED, ["direct", 1])  # warm both paths once
            page.evaluate(TIMED, ["control", 2])
            for k in range(args.switches):
                for how in ("direct", "control"):
                    frame = 3 + (2 * k + (how == "control")) % 20
                    results.setdefault((layers, how), []).append(page.evaluate(TIMED, [how, frame]))
            page.close()
        browser.close()
    server.shutdown()
    print(f"map: {lamps:,} light points + {cells:,} H3 cells (res auto), 1400x850, SwiftShader")
    base = statistics.median(results[("districts,roads", "direct")])
    for (layers, how), values in results.items():
        what = "with lamps   " if "lamps" in layers else "hexagons only"
        path = "time control (Dash sliders)" if how == "control" else "direct (twin.js)          "
        ratio = statistics.median(values) / base
        print(f"{what} {path}: {_summary(values)}  {ratio:6.1f}x")
    print(f"(x: against a direct switch with the hexagons only; {args.switches} switches each)")


if __name__ == "__main__":
    main()

"""Time-lapse frame switch time in real headless Chromium, lamps and an H3 layer on the map.

Run: python benchmarks/frame_switch.py [--switches 12]
Shows the 140,000 light points and the telemetry's hexagons (mean power per light point), then
moves the twin's time control frame by frame and times each switch until deck.gl has drawn it.
Baseline in the same run: a redraw of the same frame (nothing changes but the draw itself).
Headless Chromium draws with SwiftShader (software), so absolute times are a worst case.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from app import create_app, warm_up

ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
READY = "window.madinaTwin && madinaTwin.state.ready && madinaTwin.state.firstRenderMs !== null"
# ms from a change until deck.gl has drawn once more with the hexagons at the frame asked for.
TIMED = """async ([how, frame]) => {
  const t = madinaTwin.state, drawn = t.renders, started = performance.now();
  if (how === "switch") madinaTime.seek(frame);
  else t.deck.redraw(true);
  const done = () => t.renders > drawn && (how !== "switch" || t.hex.frame === frame);
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
    app = create_app({"scenario_db": db})
    config = app.server.config
    warm_up(config["MADINA_CITY"], config["MADINA_TELEMETRY_DAY"])
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 850})
        page.goto(f"http://127.0.0.1:{server.server_port}/?layers=districts,roads,lamps")
        page.wait_for_function(READY, timeout=120_000)
        page.locator("#hex-variable").click()
        page.get_by_role("option", name="Mean power per light point", exact=False).click()
        page.wait_for_function(
            "madinaTwin.state.hex && madinaTwin.state.hex.blob && "
            "madinaTwin.state.layers.lamps && madinaTwin.state.layers.lamps.layer",
            timeout=120_000,
        )
        cells = page.evaluate(
            "madinaTwin.state.hex.manifest.resolutions[String(madinaTwin.state.hex.res)]"
            ".cells.length"
        )
        lamps = page.evaluate("madinaTwin.state.layers.lamps.manifest.length")
        page.evaluate(TIMED, ["redraw", 0])  # warm both paths once
        page.evaluate(TIMED, ["switch", 1])
        redraws, switches = [], []
        for k in range(args.switches):
            redraws.append(page.evaluate(TIMED, ["redraw", 0]))
            switches.append(page.evaluate(TIMED, ["switch", 2 + k % 22]))
        browser.close()
    server.shutdown()
    print(f"map: {lamps:,} light points + {cells:,} H3 cells (res auto), 1400x850, SwiftShader")
    print(f"redraw of the same frame (baseline): {_summary(redraws)}")
    print(f"frame switch via the time control:   {_summary(switches)}")
    ratio = statistics.median(switches) / statistics.median(redraws)
    print(f"frame switch / redraw: {ratio:.2f}x  ({args.switches} of each)")


if __name__ == "__main__":
    main()

"""What a video export costs per frame: filming (seek, draw, screenshot) and encoding.

Run: python benchmarks/video_export.py   (~4 min; needs /usr/bin/chromium)
Baseline in the same run: the districts alone, the cheapest frame the twin draws; then the
roads, and the staff's default layers, at the default 1280x720, and the default layers at 640x360.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from access.passes import HEADER, SCHEME, issue_pass
from access.users import UserStore
from app import create_app, warm_up
from data.store.scenarios import ScenarioStore
from simulation.runs import execute, submit
from video.cli import fit_view, touched_cells, view_query
from video.render import VideoSpec, export_video

FRAMES = 6  # 17:30 to 18:45: the feeder trips at 18:00
CASES = [  # (label, layers or None for the page's defaults, size)
    ("districts (baseline)", "districts", (1280, 720)),
    ("districts + roads", "districts,roads", (1280, 720)),
    ("the staff's default layers", None, (1280, 720)),
    ("the staff's default layers", None, (640, 360)),
]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = Path(tempfile.mkdtemp())
    app = create_app(
        {"scenario_db": folder / "s.sqlite", "user_db": folder / "u.sqlite", "secret_key": "b" * 32}
    )
    user = UserStore(folder / "u.sqlite").add("bench", "benchmark password only", "planner")
    store = ScenarioStore(folder / "s.sqlite")
    city = app.server.config["MADINA_CITY"]
    record = submit(store, kind="outage", params={"element_id": "CAS-F005"}, city=city,
                    name="bench", author="bench")  # fmt: skip
    run = execute(store, record.id)
    cells = touched_cells(store.results(run.id), "customers_off")
    warm = warm_up(city, app.server.config["MADINA_TELEMETRY_DAY"])
    print(f"(twin warmed up in {warm:.0f} s)")
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    headers = {HEADER: SCHEME + issue_pass(app.server.config["SECRET_KEY"], user)}

    baseline = None
    for label, layers, (width, height) in CASES:
        query = view_query(run.id, layers=layers, view=fit_view(cells, width, height))
        spec = VideoSpec(view=query, first=70, last=69 + FRAMES, fps=4, width=width,
                         height=height)  # fmt: skip
        video = export_video(base, headers, spec, folder / "out", stem=f"bench-{width}")
        film, encode = video.film_s / video.frames, video.encode_s / video.frames
        baseline = baseline or film
        size = (folder / "out" / f"bench-{width}.mp4").stat().st_size
        print(
            f"{label}, {width}x{height}: filming {film:.2f} s/frame ({film / baseline:.1f}x the "
            f"baseline), encoding {1000 * encode:.0f} ms/frame, page {video.page_s:.1f} s, "
            f"MP4 {size / 1e3:.0f} kB for {video.frames} frames"
        )
    server.shutdown()


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s in all)")

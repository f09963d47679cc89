"""Video export end to end: from the library's controls, and from the command line, through the
server's own headless Chromium to MP4 and GIF files that are read back here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from data.store.scenarios import ScenarioStore
from tests.conftest import finished_outage
from video.cli import fit_view, touched_cells
from video.render import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def outage(app, city_name):
    """Feeder 5 trips at 18:00 (frame 72 of the day's quarter hours)."""
    return finished_outage(app, city_name, "CAS-F005", "Feeder 5 trips at six")


def decoded(path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def centre_change(before: np.ndarray, after: np.ndarray) -> float:
    """Share of the frame's central pixels (where the run's cells are) that changed."""
    h, w = before.shape[:2]
    box = (slice(h // 4, 3 * h // 4), slice(w // 2 - w // 5, w // 2 + w // 5))
    return float((np.abs(before[box].astype(int) - after[box].astype(int)).max(axis=2) > 40).mean())


@pytest.mark.slow  # films in software rendering: about a minute
def test_a_planner_exports_the_mapped_run_as_mp4_and_gif(open_twin, app, outage, tmp_path):
    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    view = fit_view(touched_cells(store.results(outage.id), "customers_off"), 1400, 850)
    page = open_twin("planner", f"/?scenario={outage.id}&layers=districts,roads&view={view}")
    page.wait_for_function("madinaTwin.state.hex && madinaTwin.state.hex.blob", timeout=60_000)
    page.locator("#video-export > summary").evaluate("el => el.click()")
    page.locator("#vx-frames-text").filter(has_text="96 frames").wait_for()
    page.evaluate("dash_clientside.set_props('vx-frames', {value: [70, 73]})")
    page.locator("#vx-frames-text").filter(has_text="4 frames · 1.0 s of video").wait_for()
    text = page.locator("#vx-frames-text").inner_text()
    assert text.startswith("Mon 23 Nov 2026 17:30 – Mon 23 Nov 2026 18:15"), text
    page.locator("#vx-size").click()
    page.get_by_role("option", name="640 × 360 (quick)").click()

    page.locator("#vx-start").click()
    page.locator("#vx-status").filter(has_text="Filming 4 frames").wait_for(timeout=30_000)
    page.locator("#vx-progress-text").filter(has_text="frame").wait_for(timeout=120_000)
    page.locator("#vx-link-mp4").wait_for(timeout=240_000)
    status = page.locator("#vx-status").inner_text()
    assert "4 frames, 1.0 s of video at 4 fps, 640×360" in status and "per frame" in status
    assert page.locator("#vx-progress").get_attribute("value") == "100"
    assert page.locator("#vx-start").is_enabled() and page.locator("#vx-cancel").is_disabled()

    files = {}
    for fmt in ("mp4", "gif"):
        with page.expect_download() as download:
            page.locator(f"#vx-link-{fmt}").click()
        files[fmt] = tmp_path / download.value.suggested_filename
        download.value.save_as(files[fmt])
    assert files["mp4"].name.startswith("madina-Feeder-5-trips-at-six")

    meta, frames = decoded(files["mp4"])
    assert meta["codec"] == "h264" and meta["size"] == (640, 360)
    assert imageio_ffmpeg.count_frames_and_secs(str(files["mp4"])) == (4, 1.0)
    # 17:30, 17:45: nobody cut off yet; 18:00 the feeder trips and its cells appear on the map
    assert centre_change(frames[0], frames[1]) < 0.02
    assert centre_change(frames[1], frames[2]) > 0.15
    assert np.abs(frames[1].astype(int) - frames[2].astype(int)).mean() > 1
    with Image.open(files["gif"]) as gif:
        assert gif.size == (640, 360) and gif.n_frames == 4 and gif.info["duration"] == 250


@pytest.mark.slow  # serves a second twin (its ~40 s warm-up), then films
def test_the_cli_exports_a_stored_run_between_two_times(app, outage, tmp_path):
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    db = app.server.config["MADINA_SCENARIO_DB"]
    command = [sys.executable, "-m", "simulation", "export-video", outage.id, "--db", db,
               "--from", "17:45", "--to", "18:00", "--fps", "2", "--size", "640x360",
               "--layers", "districts", "--out", str(tmp_path)]  # fmt: skip
    env = {**os.environ, "MADINA_TELEMETRY_DAY": app.server.config["MADINA_TELEMETRY_DAY"]}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 frames, 1.0 s of video" in done.stdout and "per frame" in done.stdout, done.stdout
    (mp4,) = tmp_path.glob("madina-Feeder-5-trips-at-six-*.mp4")
    (gif,) = tmp_path.glob("madina-Feeder-5-trips-at-six-*.gif")
    meta, frames = decoded(mp4)
    assert meta["size"] == (640, 360) and meta["duration"] == 1.0 and len(frames) == 2
    assert centre_change(frames[0], frames[1]) > 0.15  # the feeder trips between the two
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mp4.name, gif.name])

"""``python -m simulation export-video``: a stored run's time-lapse to MP4 and GIF, from a shell.

Serves the twin privately (``python -m app`` on a free local port, with a throwaway planner
account), films it through `video.render` and stops it. Never touches the real accounts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import h3
import numpy as np
import pandas as pd

from access.passes import HEADER, SCHEME, issue_pass
from access.users import UserStore
from data.city.clock import to_local
from data.store.scenarios import ScenarioStore
from simulation.kinds import KINDS
from video.jobs import file_stem
from video.render import Video, VideoError, VideoSpec, export_video, size_of

START_TIMEOUT_S = 600  # the twin warms up (~40 s) before it serves
RENDERER = "video-export"


def frame_index(times: pd.DatetimeIndex, text: str | None, *, last: bool) -> int:
    """The frame ``text`` names among the run's local ``times``.

    ``text``: a frame number, ``HH:MM`` (on the first frame's day) or a local date-time.
    ``--from`` takes the first frame at or after it, ``--to`` (``last``) the last at or before
    it. None: the first (or last) frame.
    """
    what = "--to" if last else "--from"
    if text is None:
        return len(times) - 1 if last else 0
    text = text.strip()
    if text.isdigit():
        k = int(text)
        if k >= len(times):
            raise VideoError(f"{what} {k}: the run has frames 0 to {len(times) - 1}")
        return k
    try:
        if len(text) <= 5 and ":" in text:
            moment = pd.Timestamp(f"{times[0].date()} {text}")
        else:
            moment = pd.Timestamp(text)
    except ValueError:
        raise VideoError(f"{what} {text[:30]!r} is not a frame number, HH:MM or a local "
                         "date-time (2026-11-23T18:00)") from None  # fmt: skip
    if moment.tzinfo is not None:
        raise VideoError(f"{what} {text[:30]!r}: give the city's local time, without a zone")
    chosen = [k for k, t in enumerate(times) if (t <= moment if last else t >= moment)]
    if not chosen:
        span = f"{times[0]:%Y-%m-%d %H:%M} to {times[-1]:%Y-%m-%d %H:%M}"
        raise VideoError(f"{what} {text[:30]!r} is outside the run ({span}, local time)")
    return chosen[-1] if last else chosen[0]


def view_query(
    scenario: str,
    *,
    variable: str | None = None,
    against: str | None = None,
    split: str | None = None,
    layers: str | None = None,
    view: str | None = None,
) -> str:
    """The shared-link query (`pages.share`) of a run's view; None parts are the page's defaults."""
    parts = {
        "scenario": f"{scenario}:{against}" if against else scenario,
        "variable": variable,
        "split": split,
        "layers": layers,
        "view": view,
    }
    return urllib.parse.urlencode({k: v for k, v in parts.items() if v is not None})


def fit_view(cells: np.ndarray, width: int, height: int) -> str:
    """A camera (``lon,lat,zoom,pitch,bearing``) framing the H3 ``cells`` (uint64 ids).

    Web Mercator fit of the cells' centres with a margin in a ``width`` x ``height`` frame,
    tilted 30 degrees, zoom kept within 10 to 16.
    """
    latlng = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells])
    lon = latlng[:, 1]
    y = np.degrees(np.log(np.tan(np.pi / 4 + np.radians(latlng[:, 0]) / 2)))  # Mercator
    span_x = max(float(np.ptp(lon)), 0.005) * 2.0  # a margin round the cells
    span_y = max(float(np.ptp(y)), 0.005) * 2.0
    zoom = min(math.log2(width * 360 / (256 * span_x)), math.log2(height * 360 / (256 * span_y)))
    centre_y = (float(y.min()) + float(y.max())) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(math.radians(centre_y))) - math.pi / 2)
    centre_lon = (float(lon.min()) + float(lon.max())) / 2
    return f"{centre_lon:.5f},{centre_lat:.5f},{min(16.0, max(10.0, zoom)):.2f},30,0"


def touched_cells(results, variable: str) -> np.ndarray:
    """The cells a run's ``variable`` is ever non-zero in (every cell if it never is)."""
    values = results[variable].fillna(0)
    touched = (np.abs(values) > 0).any("time").to_numpy()
    cells = results["cell"].to_numpy()
    return cells[touched] if touched.any() else cells


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving_twin(scenario_db: Path, city: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A private twin on the scenario database: (base URL, render-pass headers) while open."""
    with tempfile.TemporaryDirectory(prefix="madina-video-") as tmp:
        secret = secrets.token_hex(32)
        users = UserStore(Path(tmp) / "users.sqlite")
        user = users.add(RENDERER, secrets.token_urlsafe(24), "planner")
        port = _free_port()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "MADINA_CITY": city,
            "MADINA_SCENARIO_DB": str(scenario_db),
            "MADINA_USER_DB": str(users.path),
            "MADINA_SECRET_KEY": secret,
        }
        log_path = Path(tmp) / "twin.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "app"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_until_serving(base, server, log_path)
                yield base, {HEADER: SCHEME + issue_pass(secret, user)}
            finally:
                server.terminate()
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()


def _wait_until_serving(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(errors="replace")[-1500:]
            raise VideoError(f"the twin stopped before serving (exit {server.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    raise VideoError(f"the twin did not serve within {START_TIMEOUT_S} s")


def export_from_cli(args, store: ScenarioStore) -> Video:
    """Check the arguments against the stored run, then serve, film and encode it."""
    record = store.get(args.scenario)
    if record.status != "done":
        raise VideoError(f"scenario {record.id} ({record.name}) is {record.status}, not done")
    for other in filter(None, (args.against, args.split)):
        if store.get(other).kind != record.kind:
            raise VideoError(f"scenario {other} is not a {record.kind} run like {record.id}")
    results = store.results(record.id)
    times = to_local(record.city, results["time"].to_numpy())
    first = frame_index(times, args.start, last=False)
    last = frame_index(times, args.end, last=True)
    width, height = size_of(args.size)
    variable = args.variable or KINDS[record.kind].map_variable
    mappable = [n for n, v in results.data_vars.items() if v.dims == ("time", "cell")]
    if variable not in mappable:
        raise VideoError(f"--variable {variable!r}: the run maps {', '.join(mappable)}")
    view = args.view or fit_view(touched_cells(results, variable), width, height)
    query = view_query(record.id, variable=variable, against=args.against,
                       split=args.split, layers=args.layers, view=view)  # fmt: skip
    spec = VideoSpec(view=query, first=first, last=last, fps=args.fps, width=width, height=height)
    out = Path(args.out)
    stem = file_stem(f"{record.name}-{dt.datetime.now():%Y%m%d-%H%M%S}")
    print(f"Filming {spec.frames} frames of “{record.name}” ({times[first]:%a %d %b %H:%M} to "
          f"{times[last]:%a %d %b %H:%M}) at {spec.fps:g} fps, {width}x{height}.")  # fmt: skip
    print("Starting a private twin on this database (~40 s)...", flush=True)
    from tqdm import tqdm

    with (
        serving_twin(store.path, record.city) as (base, headers),
        tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {elapsed}{postfix}") as bar,
    ):

        def progress(fraction: float, message: str) -> None:
            bar.update(round(100 * fraction) - bar.n)
            bar.set_postfix_str(message)

        return export_video(base, headers, spec, out, stem=stem, progress=progress)

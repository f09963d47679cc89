"""Video exports without a browser: the encoders, the request's checks, frame choice, jobs."""

from __future__ import annotations

import datetime as dt
import math
from urllib.parse import parse_qs

import h3
import imageio_ffmpeg
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from data.store.scenarios import ScenarioStore
from simulation.__main__ import main
from simulation.runs import execute, submit
from video.cli import fit_view, frame_index, view_query
from video.jobs import VideoJobs, file_stem
from video.render import GIF_MAX_WIDTH, VideoError, VideoSpec, encode, size_of

RUN = "0123456789ab"


def moving_square(count: int, width: int = 320, height: int = 240):
    """Frames of a white square crossing a dark background: each differs from the last."""
    for k in range(count):
        frame = np.full((height, width, 3), 30, dtype=np.uint8)
        x = 10 + k * (width - 60) // max(count - 1, 1)
        frame[height // 3 : height // 3 + 40, x : x + 40] = 255
        yield frame


def decoded(path) -> tuple[dict, list[np.ndarray]]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return meta, [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]


def test_frames_become_an_h264_mp4_and_a_looping_gif(tmp_path):
    mp4, gif, count, seconds = encode(moving_square(6), tmp_path, "clip", fps=4)
    assert (mp4.name, gif.name, count) == ("clip.mp4", "clip.gif", 6)
    assert seconds > 0

    meta, frames = decoded(mp4)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["size"] == (320, 240) and meta["fps"] == 4
    assert imageio_ffmpeg.count_frames_and_secs(str(mp4)) == (6, 1.5)
    assert len(frames) == 6
    # the square moves: every frame differs from the one before, there and not elsewhere
    for before, after in zip(frames, frames[1:], strict=False):
        changed = np.abs(before.astype(int) - after.astype(int)).max(axis=2) > 60
        assert 0.005 < changed.mean() < 0.1

    with Image.open(gif) as image:
        assert image.size == (320, 240) and image.n_frames == 6
        assert image.info["loop"] == 0 and image.info["duration"] == 250
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif", "clip.mp4"]


def test_a_wide_video_gets_a_gif_of_at_most_640_pixels(tmp_path):
    _, gif, _, _ = encode(moving_square(2, 1280, 720), tmp_path, "wide", fps=2)
    with Image.open(gif) as image:
        assert image.size == (GIF_MAX_WIDTH, 360) and image.n_frames == 2


def test_a_failure_while_filming_leaves_no_file(tmp_path):
    (tmp_path / "earlier.mp4").write_bytes(b"an earlier export")

    def broken():
        yield from moving_square(2)
        raise VideoError("frame 2 was not drawn")

    with pytest.raises(VideoError, match="frame 2"):
        encode(broken(), tmp_path, "clip", fps=2)
    assert [p.name for p in tmp_path.iterdir()] == ["earlier.mp4"]
    assert (tmp_path / "earlier.mp4").read_bytes() == b"an earlier export"


def test_frames_of_another_size_are_refused_and_nothing_is_written(tmp_path):
    def mixed():
        yield from moving_square(1, 320, 240)
        yield from moving_square(1, 640, 480)

    with pytest.raises(VideoError, match="640x480"):
        encode(mixed(), tmp_path, "clip", fps=2)
    with pytest.raises(VideoError, match="no frame"):
        encode(iter(()), tmp_path, "clip", fps=2)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"view": "layers=roads"}, "scenario"),
        ({"view": f"scenario={RUN}&t=2026-11-23T08:00Z"}, "first and last"),
        ({"first": 5, "last": 4}, "first"),
        ({"first": -1}, "first"),
        ({"first": True}, "first"),
        ({"last": 400}, "at most 300"),
        ({"fps": 0}, "fps"),
        ({"fps": math.nan}, "fps"),
        ({"fps": "4"}, "fps"),
        ({"width": 1281}, "width"),
        ({"width": 4000}, "width"),
        ({"height": 100}, "height"),
    ],
)
def test_a_bad_request_is_refused_naming_the_parameter(change, named):
    request = {"view": f"scenario={RUN}", "first": 0, "last": 3, "fps": 2, **change}
    with pytest.raises(VideoError, match=named):
        VideoSpec(**request)


def test_sizes_are_read_from_width_x_height():
    assert size_of("1280x720") == (1280, 720)
    assert size_of(" 640 × 360 ") == (640, 360)
    with pytest.raises(VideoError, match="WIDTHxHEIGHT"):
        size_of("hd")


def test_frames_are_chosen_by_number_local_time_or_date_time():
    times = pd.date_range("2026-11-23 00:00", periods=96, freq="15min")
    assert frame_index(times, None, last=False) == 0
    assert frame_index(times, None, last=True) == 95
    assert frame_index(times, "12", last=False) == 12
    assert frame_index(times, "18:00", last=False) == 72
    assert frame_index(times, "18:10", last=False) == 73  # the first frame at or after it
    assert frame_index(times, "18:10", last=True) == 72  # the last frame at or before it
    assert frame_index(times, "2026-11-23T20:00", last=True) == 80
    for text, named in [
        ("96", "frames 0 to 95"),
        ("2026-11-24T01:00", "outside the run"),
        ("teatime", "not a frame number"),
        ("2026-11-23T18:00+01:00", "local time"),
    ]:
        with pytest.raises(VideoError, match=named):
            frame_index(times, text, last=False)


def test_the_cli_view_frames_the_runs_cells():
    cells = np.array(
        [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(33.54, -7.66, 9), 3)],
        dtype=np.uint64,
    )
    lon, lat, zoom, pitch, bearing = (float(v) for v in fit_view(cells, 1280, 720).split(","))
    assert abs(lon + 7.66) < 0.01 and abs(lat - 33.54) < 0.01
    assert 12 < zoom <= 16 and (pitch, bearing) == (30, 0)
    corners = [h3.latlng_to_cell(33.5, -7.7, 9), h3.latlng_to_cell(33.6, -7.5, 9)]
    wide = fit_view(np.array([h3.str_to_int(c) for c in corners]), 1280, 720)
    assert 10 <= float(wide.split(",")[2]) < zoom
    query = view_query(RUN, variable="customers_off", against="ba9876543210", layers="roads")
    assert query == f"scenario={RUN}%3Aba9876543210&variable=customers_off&layers=roads"


def test_jobs_keep_their_request_and_serve_only_finished_files(tmp_path):
    jobs = VideoJobs(tmp_path)
    spec = VideoSpec(view=f"scenario={RUN}", first=2, last=5, fps=4, width=640, height=360)
    job = jobs.create(spec, owner="salma", base_url="http://127.0.0.1:8050/", name="LED ../../x")
    again = jobs.get(job.id)
    assert again == job and again.spec == spec
    assert job.stem == "madina-LED-..-..-x" and "/" not in job.stem
    assert jobs.file(job.id, "mp4") is None  # not rendered yet
    (jobs.folder(job.id) / f"{job.stem}.mp4").write_bytes(b"\x00")
    assert jobs.file(job.id, "mp4").name == f"{job.stem}.mp4"
    for bad, named in [("../../etc", "not a video job id"), ("0" * 16, "no video job")]:
        with pytest.raises(VideoError, match=named):
            jobs.get(bad)
    with pytest.raises(VideoError, match="unknown video format"):
        jobs.file(job.id, "avi")
    assert file_stem("") == "madina-timelapse"

    # a week after it was asked for, a job and its files are gone; a newer one stays
    record = jobs.folder(job.id) / "job.json"
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7, minutes=1)).isoformat()
    record.write_text(record.read_text().replace(job.created_at, old))
    later = jobs.create(spec, owner="salma", base_url="http://127.0.0.1:8050/", name="later")
    assert not jobs.folder(job.id).exists() and jobs.get(later.id) == later
    assert jobs.prune() == []


def test_the_cli_refuses_a_bad_request_before_serving_anything(app, city_name, tmp_path, capsys):
    db = app.server.config["MADINA_SCENARIO_DB"]
    store = ScenarioStore(db)
    record = submit(store, kind="outage", params={"element_id": "CAS-F007"}, city=city_name,
                    name="Feeder 7 trips", author="salma")  # fmt: skip
    queued = submit(store, kind="outage", params={"element_id": "CAS-F008"}, city=city_name,
                    name="Feeder 8 trips", author="salma")  # fmt: skip
    run = execute(store, record.id).id
    for scenario, extra, named in [
        (run, ["--fps", "0"], "fps must be from 0.5 to 30"),
        (run, ["--from", "25:00"], "--from '25:00' is not a frame number"),
        (run, ["--to", "999"], "--to 999: the run has frames 0 to 95"),
        (run, ["--from", "20:00", "--to", "19:00"], "first (80) must be 0 or more, and at most"),
        (run, ["--size", "1281x720"], "width must be an even number"),
        (run, ["--variable", "nope"], "--variable 'nope': the run maps customers_off"),
        (run, ["--against", "ffffffffffff"], "no scenario 'ffffffffffff'"),
        (queued.id, [], "is queued, not done"),
    ]:
        argv = ["export-video", scenario, "--db", str(db), "--out", str(tmp_path), *extra]
        assert main(argv) == 2, extra
        assert named in capsys.readouterr().err, extra
    assert list(tmp_path.iterdir()) == []


def test_a_smaller_frame_zooms_out_to_keep_what_the_map_showed():
    from video.render import rescaled_view

    query = f"scenario={RUN}&view=-7.6,33.58,14,45,0&layers=roads"
    half = parse_qs(rescaled_view(query, (1280, 720), (640, 360)))
    assert half["view"] == ["-7.6,33.58,13.00,45,0"] and half["layers"] == ["roads"]
    # a wider frame than the map: the map's height is what must fit
    wide = parse_qs(rescaled_view(query, (800, 800), (1600, 900)))["view"][0]
    assert wide.split(",")[2] == f"{14 + math.log2(900 / 800):.2f}"
    assert rescaled_view(f"scenario={RUN}", (800, 600), (640, 360)) == f"scenario={RUN}"

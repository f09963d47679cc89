"""Time-lapse videos of a stored run, filmed from the twin's own page and encoded by ffmpeg.

Frames are drawn by the deck.gl the browser uses: headless Chromium opens the twin's
presentation view of a shared link (`pages.share`), steps the time bar frame by frame and takes
a screenshot of each. imageio-ffmpeg's bundled ffmpeg encodes them to MP4 (H.264) and Pillow to
GIF. Never draws a map itself, and never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import imageio_ffmpeg
import numpy as np
from PIL import Image

from data.errors import VideoError
from data.settings import setting

CHROMIUM = Path(setting("MADINA_CHROMIUM"))
CHROMIUM_ARGS = [  # offline and software-rendered: no GPU, no network beyond the twin
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]
READY = (
    "() => window.madinaTwin && madinaTwin.state.ready && madinaTwin.state.firstRenderMs !== null"
)
FPS_RANGE = (0.5, 30.0)
WIDTH_RANGE = (320, 1920)
HEIGHT_RANGE = (240, 1080)
MAX_FRAMES = 300
GIF_MAX_WIDTH = 640  # a GIF for slides and chats; the MP4 keeps the full size
PAGE_TIMEOUT_MS = 180_000  # the page and its layers
RUN_TIMEOUT_MS = 90_000  # then the run's hexagons
FRAME_TIMEOUT_MS = 60_000
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class VideoSpec:
    """What to film: a view of the twin and frames ``first``..``last`` of its mapped run.

    ``view``: a shared link's query (`pages.share`) with the run in ``scenario`` (and
    ``variable``, ``split``, ``layers``, ``view`` for the camera). ``fps``: video frames per
    second, one per time-lapse frame. ``width`` x ``height``: pixels (even numbers, for H.264).
    """

    view: str
    first: int
    last: int
    fps: float = 2.0
    width: int = 1280
    height: int = 720

    def __post_init__(self) -> None:
        query = parse_qs(self.view, keep_blank_values=True)
        if not query.get("scenario"):
            raise VideoError("view: a video needs a run on the map (scenario=<id> in the view)")
        if "t" in query or "present" in query:
            raise VideoError("view: the frames are set by first and last, not by t or present")
        for name in ("first", "last", "width", "height"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), int):
                raise VideoError(f"{name} must be a whole number, not {getattr(self, name)!r}")
        if not 0 <= self.first <= self.last:
            raise VideoError(f"frames: first ({self.first}) must be 0 or more, and at most last "
                             f"({self.last})")  # fmt: skip
        if self.last - self.first + 1 > MAX_FRAMES:
            raise VideoError(f"frames: {self.last - self.first + 1} frames; at most {MAX_FRAMES}")
        if not isinstance(self.fps, int | float) or not (
            math.isfinite(self.fps) and FPS_RANGE[0] <= self.fps <= FPS_RANGE[1]
        ):
            raise VideoError(f"fps must be from {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g}, "
                             f"not {self.fps!r}")  # fmt: skip
        for name, (low, high) in (("width", WIDTH_RANGE), ("height", HEIGHT_RANGE)):
            value = getattr(self, name)
            if not low <= value <= high or value % 2:
                raise VideoError(f"{name} must be an even number of pixels from {low} to "
                                 f"{high}, not {value}")  # fmt: skip

    @property
    def frames(self) -> int:
        """How many frames the video has."""
        return self.last - self.first + 1


@dataclass(frozen=True)
class Video:
    """A finished export: its files and what it took."""

    mp4: Path
    gif: Path
    frames: int
    seconds: float  # the video's duration
    page_s: float  # wall time opening the page until the run was drawn
    film_s: float  # wall time seeking, drawing and screenshotting the frames
    encode_s: float  # wall time in the encoders


def size_of(text: str) -> tuple[int, int]:
    """(width, height) of a ``WIDTHxHEIGHT`` text such as ``1280x720``."""
    match = re.fullmatch(r"\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*", str(text))
    if not match:
        raise VideoError(f"size {str(text)[:20]!r} must be WIDTHxHEIGHT, e.g. 1280x720")
    return int(match[1]), int(match[2])


def rescaled_view(query: str, shown: tuple[int, int], size: tuple[int, int]) -> str:
    """``query`` with its camera zoomed so a ``size`` frame covers what ``shown`` pixels did.

    Sizes are (width, height). A query without a camera (``view``) is returned as it is.
    """
    params = parse_qs(query, keep_blank_values=True)
    parts = (params.get("view") or [""])[0].split(",")
    if len(parts) != 5 or min(shown) <= 0:
        return query
    try:
        zoom = float(parts[2]) + math.log2(min(size[0] / shown[0], size[1] / shown[1]))
    except ValueError:
        return query  # the page names a bad view itself
    parts[2] = f"{min(22.0, max(0.0, zoom)):.2f}"
    params["view"] = [",".join(parts)]
    return urlencode(params, doseq=True)


def film(
    base_url: str,
    headers: dict[str, str],
    spec: VideoSpec,
    progress: Progress | None = None,
    timings: dict | None = None,
) -> Iterator[np.ndarray]:
    """The video's frames, (height, width, 3) uint8 each, as the twin's page draws them.

    ``base_url``: the twin's server (``http://127.0.0.1:8050``); ``headers``: sent with every
    request (a render pass, `access.passes`). Yields one screenshot per time-lapse frame.
    ``timings``, if given, gets ``page_s``: seconds from launch until the run was drawn.
    """
    started = time.perf_counter()
    if not CHROMIUM.is_file():
        raise VideoError(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set "
                         "MADINA_CHROMIUM)")  # fmt: skip
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    report = progress or (lambda fraction, message: None)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as err:
            raise VideoError(f"Chromium at {CHROMIUM} did not start: {_first_line(err)}") from None
        try:
            context = browser.new_context(
                viewport={"width": spec.width, "height": spec.height},
                device_scale_factor=1,
                extra_http_headers=headers,
            )
            page = context.new_page()
            report(0.0, "opening the twin")
            try:
                page.goto(f"{base_url.rstrip('/')}/?{spec.view}&present=1")
                page.wait_for_function(READY, timeout=PAGE_TIMEOUT_MS)
                labels = _mapped_run(page)
                if timings is not None:
                    timings["page_s"] = time.perf_counter() - started
            except PlaywrightError as err:
                raise VideoError(
                    "the twin's page did not show the run (is it finished, and may this account "
                    f"see it?): {_first_line(err)}"
                ) from None
            if spec.last >= len(labels):
                raise VideoError(f"frames: last ({spec.last}) is past the run's last frame "
                                 f"({len(labels) - 1}, {labels[-1]})")  # fmt: skip
            for k in range(spec.first, spec.last + 1):
                try:
                    page.evaluate("(k) => madinaTime.seek(k)", k)
                    page.wait_for_function(
                        "(k) => madinaPresent.shows(k)", arg=k, timeout=FRAME_TIMEOUT_MS
                    )
                    page.evaluate("() => madinaTwin.drawn()")
                    png = page.screenshot(type="png")
                except PlaywrightError as err:
                    raise VideoError(f"frame {k} ({labels[k]}) was not drawn: "
                                     f"{_first_line(err)}") from None  # fmt: skip
                done = k - spec.first + 1
                report(done / spec.frames, f"frame {done} of {spec.frames} ({labels[k]})")
                yield np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        finally:
            browser.close()


def _mapped_run(page) -> list[str]:
    """The frame labels of the run the page put on the map (waits for its hexagons)."""
    page.wait_for_function(
        "() => (madinaTwin.state.hex && madinaTwin.state.hex.manifest.kind === 'library'"
        " && madinaTwin.state.hex.blob) || document.querySelector('#sc-map-status .error')",
        timeout=RUN_TIMEOUT_MS,
    )
    error = page.locator("#sc-map-status .error")
    if error.count():
        raise VideoError(error.inner_text())
    return page.evaluate("() => madinaTwin.state.hex.manifest.times")


def _first_line(err: Exception) -> str:
    return str(err).strip().split("\n")[0][:300]


def encode(
    frames: Iterator[np.ndarray], out_dir: Path, stem: str, fps: float
) -> tuple[Path, Path, int, float]:
    """Encode ``frames`` to ``<stem>.mp4`` (H.264, yuv420p) and ``<stem>.gif`` in ``out_dir``.

    Both files appear together once every frame is in; on any error neither does, and no
    temporary file is left. Returns (mp4, gif, frame count, seconds spent encoding).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    mp4, gif = out_dir / f"{stem}.mp4", out_dir / f"{stem}.gif"
    mp4_tmp, gif_tmp = out_dir / f".{stem}.part.mp4", out_dir / f".{stem}.part.gif"
    writer = None
    size: tuple[int, int] | None = None
    stills: list[Image.Image] = []
    encode_s = 0.0
    try:
        for frame in frames:
            started = time.perf_counter()
            height, width = frame.shape[:2]
            if writer is None:
                writer = imageio_ffmpeg.write_frames(
                    str(mp4_tmp), (width, height), fps=fps, codec="libx264", quality=None,
                    macro_block_size=2, ffmpeg_log_level="error",
                    output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart"],
                )  # fmt: skip
                writer.send(None)  # start ffmpeg
                size = (width, height)
            elif (width, height) != size:
                raise VideoError(f"frame {len(stills)} is {width}x{height}, not {size}")
            writer.send(np.ascontiguousarray(frame, dtype=np.uint8))
            still = Image.fromarray(frame)
            if width > GIF_MAX_WIDTH:
                still = still.resize((GIF_MAX_WIDTH, round(height * GIF_MAX_WIDTH / width)))
            stills.append(still.quantize(colors=256, method=Image.Quantize.MEDIANCUT))
            encode_s += time.perf_counter() - started
        if writer is None:
            raise VideoError("no frame to encode")
        started = time.perf_counter()
        writer.close()
        writer = None
        stills[0].save(
            gif_tmp, save_all=True, append_images=stills[1:], duration=round(1000 / fps), loop=0
        )
        os.replace(mp4_tmp, mp4)
        os.replace(gif_tmp, gif)
        return mp4, gif, len(stills), encode_s + time.perf_counter() - started
    finally:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        for leftover in (mp4_tmp, gif_tmp):
            leftover.unlink(missing_ok=True)


def export_video(
    base_url: str,
    headers: dict[str, str],
    spec: VideoSpec,
    out_dir: Path,
    *,
    stem: str = "madina-timelapse",
    progress: Progress | None = None,
) -> Video:
    """Film ``spec`` from the twin at ``base_url`` and encode it to MP4 and GIF in ``out_dir``.

    ``progress(fraction, message)`` hears of each frame. Raises `VideoError` naming what went
    wrong; nothing is left in ``out_dir`` then.
    """
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    timings: dict = {}
    frames = film(
        base_url, headers, spec, lambda f, message: report(0.05 + 0.9 * f, message), timings
    )
    mp4, gif, count, encode_s = encode(frames, out_dir, stem, spec.fps)
    report(1.0, f"{count} frames encoded")
    page_s = timings.get("page_s", 0.0)
    return Video(
        mp4=mp4,
        gif=gif,
        frames=count,
        seconds=count / spec.fps,
        page_s=page_s,
        film_s=time.perf_counter() - started - page_s - encode_s,
        encode_s=encode_s,
    )

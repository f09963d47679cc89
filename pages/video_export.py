"""The library's "Export video" controls: the mapped run's time-lapse filmed to MP4 and GIF.

Layout and thin callbacks only. The view to film is the one on screen (camera, layers, the
mapped run, its difference or split view), sent as a shared link's query; the server's own
headless Chromium films it (`video.render`) in a Dash background callback, with progress
and cancel, logged in by a render pass for the user who asked (`access.passes`).
"""

from __future__ import annotations

import urllib.parse

import dash
import flask
from dash import ClientsideFunction, Input, Output, State, callback, dcc, html

from access.auth import current_username
from access.guard import readable_run
from access.passes import HEADER, SCHEME, issue_pass
from access.roles import LIBRARY
from access.users import open_users
from data.errors import MadinaError
from data.settings import setting
from data.store.scenarios import open_store
from video.jobs import VideoJobs, videos_dir
from video.render import VideoError, VideoSpec, export_video, rescaled_view, size_of

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {"vx-": LIBRARY}  # the video export (rendered on the server: staff only)


FPS_CHOICES = (1, 2, 4, 8, 12, 24)
SIZES = {
    "1280x720": "1280 × 720 (HD)",
    "1920x1080": "1920 × 1080 (Full HD)",
    "960x540": "960 × 540",
    "640x360": "640 × 360 (quick)",
}
RENDER_URL_ENV = "MADINA_RENDER_URL"  # where the server's renderer reaches the twin


def video_jobs() -> VideoJobs:
    """The app's video jobs, beside its scenario database."""
    return VideoJobs(videos_dir(dash.get_app().server.config["MADINA_SCENARIO_DB"]))


def video_controls(t=str) -> html.Details:
    """The collapsible "Export video" section under the library's playback controls."""
    return html.Details(
        [
            html.Summary(t("Export video (MP4, GIF)")),
            html.P(
                t(
                    "Films the map as it is now (camera, layers, the run, its difference or "
                    "split view), with its legend, time and figures, one video frame per "
                    "time-lapse frame. It renders on the server: a few seconds per frame."
                ),
                className="hint",
            ),
            html.Label(t("Frames"), htmlFor="vx-frames"),
            dcc.RangeSlider(0, 1, 1, value=[0, 1], id="vx-frames", marks=None, allowCross=False),
            html.Div(id="vx-frames-text", className="hint"),
            html.Div(
                [
                    html.Label(t("Frames per second"), htmlFor="vx-fps"),
                    dcc.Dropdown(
                        id="vx-fps",
                        options=[{"label": str(f), "value": f} for f in FPS_CHOICES],
                        value=4,
                        clearable=False,
                    ),
                    html.Label(t("Size"), htmlFor="vx-size"),
                    dcc.Dropdown(
                        id="vx-size",
                        options=[{"label": v, "value": k} for k, v in SIZES.items()],
                        value="1280x720",
                        clearable=False,
                    ),
                ],
                className="studio-numbers",
            ),
            html.Button(t("Export video"), id="vx-start", n_clicks=0),
            html.Button(t("Cancel"), id="vx-cancel", n_clicks=0, disabled=True),
            html.Div(
                [
                    html.Progress(id="vx-progress", value="0", max="100"),
                    html.Span(id="vx-progress-text", className="hint"),
                ],
                className="studio-progress",
            ),
            html.Div(id="vx-status", role="status"),
            html.Div(id="vx-links", className="video-links"),
            dcc.Store(id="vx-view"),
            dcc.Store(id="vx-job"),
        ],
        id="video-export",
        className="video-export",
    )


def render_url() -> str:
    """Where the server's renderer reaches this twin: ``MADINA_RENDER_URL`` or this server.

    This server's address comes from its own socket (``SERVER_NAME``, ``SERVER_PORT``), never
    from the request's Host header: the renderer carries a render pass, which a forged Host
    would send to another host.
    """
    configured = setting(RENDER_URL_ENV)
    if configured:
        return configured
    environ = flask.request.environ
    host = environ.get("SERVER_NAME") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # listening everywhere: loopback reaches it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{environ['SERVER_PORT']}/"


@callback(
    Output("vx-frames", "max"),
    Output("vx-frames", "value"),
    Input("sc-series", "data"),
)
def offer_frames(series: dict | None) -> tuple:
    """Every frame of the mapped run, all chosen."""
    last = max(0, len((series or {}).get("labels") or [None]) - 1)
    return last, [0, last]


@callback(
    Output("vx-frames-text", "children"),
    Input("vx-frames", "value"),
    Input("vx-fps", "value"),
    State("sc-series", "data"),
)
def describe_frames(frames: list | None, fps: float | None, series: dict | None) -> str:
    """The chosen frames' times, their count and the video's length."""
    labels = (series or {}).get("labels") or []
    if not labels or not frames or not fps:
        return "Put a run on the map to film it."
    first, last = (max(0, min(len(labels) - 1, int(k))) for k in frames)
    count = last - first + 1
    return f"{labels[first]} – {labels[last]} · {count} frames · {count / fps:.1f} s of video"


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="videoView"),
    Output("vx-view", "data"),
    Input("vx-start", "n_clicks"),
    State("layer-toggles", "value"),
    State("sc-map", "value"),
    State("sc-variable", "value"),
    prevent_initial_call=True,
)


@callback(
    Output("vx-job", "data"),
    Output("vx-status", "children"),
    Input("vx-view", "data"),
    State("vx-frames", "value"),
    State("vx-fps", "value"),
    State("vx-size", "value"),
    prevent_initial_call=True,
)
def start_export(view: dict | None, frames: list | None, fps, size: str | None) -> tuple:
    """Check the request and record the job; the background callback then films it."""
    if not isinstance(view, dict) or not isinstance(view.get("query"), str):
        return dash.no_update, dash.no_update
    try:
        query = urllib.parse.parse_qs(view["query"])
        mapped = (query.get("scenario") or [""])[0]
        if not mapped:
            raise VideoError("put a run on the map first (On the map)")
        store = open_store(dash.get_app().server.config["MADINA_SCENARIO_DB"])
        for run_id in [*mapped.split(":"), *query.get("split", [])]:
            readable_run(store, run_id)
        if size not in SIZES:
            raise VideoError(f"unknown size {str(size)[:20]!r}; choose one of {', '.join(SIZES)}")
        width, height = size_of(size)
        first, last = (int(k) for k in (frames or [0, 0]))
        shown = view.get("shown")
        query = view["query"]
        if isinstance(shown, list) and len(shown) == 2 and all(isinstance(v, int) for v in shown):
            query = rescaled_view(query, (shown[0], shown[1]), (width, height))  # as on screen
        spec = VideoSpec(view=query, first=first, last=last, fps=fps, width=width,
                         height=height)  # fmt: skip
        name = store.get(mapped.split(":")[0]).name
        job = video_jobs().create(
            spec, owner=current_username() or "", base_url=render_url(), name=name
        )
    except (MadinaError, ValueError, TypeError) as err:
        return dash.no_update, html.Span(f"Not exported: {err}", className="error")
    return job.id, f"Filming {spec.frames} frames of “{name}”…"


@callback(
    Output("vx-links", "children"),
    Output("vx-status", "children", allow_duplicate=True),
    Input("vx-job", "data"),
    background=True,
    running=[
        (Output("vx-start", "disabled"), True, False),
        (Output("vx-cancel", "disabled"), False, True),
    ],
    progress=[Output("vx-progress", "value"), Output("vx-progress-text", "children")],
    cancel=[Input("vx-cancel", "n_clicks")],
    prevent_initial_call=True,
)
def run_export(set_progress, job_id: str | None) -> tuple:
    """Film and encode a recorded job in a background worker, then offer its files."""
    if not job_id:
        return dash.no_update, dash.no_update
    jobs = video_jobs()
    config = dash.get_app().server.config
    try:
        job = jobs.get(job_id)
        user = open_users(config["MADINA_USER_DB"]).get(job.owner)
        if user is None:
            raise VideoError(f"the account {job.owner!r} that asked for it is gone")
        headers = {HEADER: SCHEME + issue_pass(config["SECRET_KEY"], user)}
        video = export_video(
            job.base_url,
            headers,
            job.spec,
            jobs.folder(job.id),
            stem=job.stem,
            progress=lambda f, message: set_progress((str(round(100 * f)), message)),
        )
    except MadinaError as err:
        return [], html.Span(f"Video failed: {err}", className="error")
    except Exception as err:  # an export's crash is its outcome, shown; the server carries on
        return [], html.Span(f"Video failed: {type(err).__name__}: {err}", className="error")
    links = [
        html.A(
            f"⬇ {path.name} ({path.stat().st_size / 1e6:.1f} MB)",
            href=f"/api/videos/{job.id}/{fmt}",
            download=path.name,
            id=f"vx-link-{fmt}",
        )
        for fmt, path in (("mp4", video.mp4), ("gif", video.gif))
    ]
    per_frame = (video.film_s + video.encode_s) / video.frames
    total = video.page_s + video.film_s + video.encode_s
    return links, (
        f"{video.frames} frames, {video.seconds:.1f} s of video at {job.spec.fps:g} fps, "
        f"{job.spec.width}×{job.spec.height}: made in {total:.0f} s ({per_frame:.1f} s per frame)."
    )

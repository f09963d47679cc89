"""Madina Twin's Dash app: ``create_app(config)`` builds it, ``python app.py`` serves it.

Serves deck.gl from pydeck's own wheel and layer columns from this server: nothing is fetched
from another host, ever.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import time
from functools import lru_cache
from pathlib import Path

import dash
import diskcache
import flask

from access.auth import current_role, current_username, init_auth
from access.guard import init_guard, readable_run, refuse, require
from access.roles import EXPORT, LIBRARY, RAW, RUN, STAFF_LAYERS, allows
from access.users import default_db_path as default_user_db
from data.city import DEFAULT_CITY
from data.day_cube import day_cubes, day_period, default_day
from data.errors import MadinaError
from data.privacy import MIN_CONTRIBUTORS, check_k
from data.scenario_store import ScenarioStore, ScenarioStoreError, default_db_path, open_store
from layers.catalog import LAYER_BUILDERS, packed_layer
from layers.hexagons import DISPLAY, packed_hexagons
from layers.lamp_colors import packed_lamp_colors
from layers.lighting_playback import PLAYBACK_DISPLAY, packed_playback
from layers.network_playback import NETWORK_DISPLAY, packed_network_playback
from layers.network_playback import playback_request as network_request
from layers.run_playback import packed_stored_run
from layers.traffic import packed_traffic_playback
from layers.water import packed_pipe_colors
from pages.permissions import PUBLIC_LAMP_MODES, layer_permission, permission_of
from simulation.compare import CompareError
from simulation.exports import brief_html, cells_geojson, results_csv
from simulation.lighting_plans import playback_request
from simulation.traffic_scenarios import TrafficScenario
from simulation.video import VideoError
from simulation.video_jobs import VideoJobs, videos_dir

HERE = Path(__file__).resolve().parent
DECK_SCRIPT_URL = "/vendor/deck.gl.js"
LAYER_BLOB_URL = "/api/layers/{city}/{layer}.bin"


@lru_cache(maxsize=1)
def deck_bundle_path() -> Path:
    """Path of the deck.gl UMD bundle shipped in pydeck's wheel (jupyter nbextension)."""
    for entry in importlib.metadata.files("pydeck") or ():
        if str(entry).endswith("nbextensions/pydeck/index.js"):
            path = Path(entry.locate()).resolve()
            if path.is_file():
                return path
    raise FileNotFoundError(
        "pydeck's deck.gl bundle (share/jupyter/nbextensions/pydeck/index.js) is not installed; "
        "reinstall pydeck with `pip install --force-reinstall pydeck`"
    )


def create_app(config: dict | None = None) -> dash.Dash:
    """Build the Dash app.

    Parameters
    ----------
    config : dict, optional
        ``city``: embedded city to show (default ``MADINA_CITY`` or ``casablanca``).
        ``telemetry_day``: local day (YYYY-MM-DD) of the telemetry on the map (default
        ``MADINA_TELEMETRY_DAY`` or yesterday).
        ``scenario_db``: the scenario database file (default ``MADINA_SCENARIO_DB`` or
        ``instance/scenarios.sqlite``); its background-run queue is a diskcache beside it.
        ``user_db``: the accounts (default ``MADINA_USER_DB`` or ``instance/users.sqlite``).
        ``secret_key``: signs sessions (default ``MADINA_SECRET_KEY``; random if unset).
        ``session_hours``: how long a login lasts (default ``MADINA_SESSION_HOURS`` or 8).
        ``login_limit``: failed log-ins allowed per address and per user name (default
        ``MADINA_LOGIN_LIMIT`` or "10 per 15 minutes").
        ``min_contributors``: k, the fewest meters behind a public H3 cell (default 10).
    """
    config = dict(config or {})
    city = config.get("city") or os.environ.get("MADINA_CITY", DEFAULT_CITY)
    day = config.get("telemetry_day") or os.environ.get("MADINA_TELEMETRY_DAY") or default_day(city)
    day_period(city, day)  # a bad day fails here, naming it, not on the first map request
    store = ScenarioStore(config.get("scenario_db") or default_db_path())
    jobs = diskcache.Cache(str(store.path.with_name(f"{store.path.stem}-jobs")))
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        external_scripts=[DECK_SCRIPT_URL],
        title="Madina Twin",
        update_title=None,
        serve_locally=True,
        background_callback_manager=dash.DiskcacheManager(jobs),
        enable_mcp=False,  # no second door to the callbacks beside the guarded one
        # Each role gets its own page (no studio for the public, ...), so no one layout holds
        # every callback's components; tests/test_roles.py checks each role's page instead.
        suppress_callback_exceptions=True,
    )
    if config.get("secret_key"):
        app.server.config["SECRET_KEY"] = config["secret_key"]
    app.server.config["MADINA_MIN_CONTRIBUTORS"] = check_k(
        config.get("min_contributors")
        or os.environ.get("MADINA_MIN_CONTRIBUTORS")
        or MIN_CONTRIBUTORS
    )
    app.server.config["MADINA_CITY"] = city
    app.server.config["MADINA_TELEMETRY_DAY"] = day
    app.server.config["MADINA_SCENARIO_DB"] = str(store.path)
    init_auth(
        app.server,
        user_db=str(config.get("user_db") or default_user_db()),
        session_hours=config.get("session_hours"),
        login_limit=config.get("login_limit"),
    )
    _register_routes(app.server)
    _register_scenario_routes(app.server)
    app.layout = dash.html.Div([dash.page_container], className="twin-root")
    init_guard(app, permission_of)
    return app


def _register_routes(server: flask.Flask) -> None:
    @server.get(DECK_SCRIPT_URL)
    def deck_script() -> flask.Response:
        response = flask.send_file(deck_bundle_path(), mimetype="text/javascript", max_age=86400)
        return response

    def serve_blob(city: str, name: str, known, what: str, pack) -> flask.Response:
        """A packed blob of this twin's city, or a 404/422 that names what is wrong."""
        if city != server.config["MADINA_CITY"]:
            return _error(
                404, f"unknown city {city!r}; this twin serves {server.config['MADINA_CITY']!r}"
            )
        if name not in known:
            return _error(404, f"unknown {what} {name!r}; known: {', '.join(known)}")
        try:
            blob = pack(name).blob
        except MadinaError as err:
            return _error(422, str(err))
        return flask.Response(
            blob,
            mimetype="application/octet-stream",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    @server.get("/api/layers/<city>/<layer>.bin")
    def layer_blob(city: str, layer: str) -> flask.Response:
        if layer in LAYER_BUILDERS:
            require(layer_permission(layer), f"the {layer} layer")
        return serve_blob(
            city,
            layer,
            LAYER_BUILDERS,
            "layer",
            lambda name: packed_layer(city, name, server.config["MADINA_TELEMETRY_DAY"]),
        )

    @server.get("/api/lamps/<city>/<name>.bin")
    def lamp_colors_blob(city: str, name: str) -> flask.Response:
        """``colors``: every colour mode (metered ones: RAW); ``public-colors``: the bundle's."""
        day = server.config["MADINA_TELEMETRY_DAY"]
        if name == "colors":
            require(RAW, "the lamps' metered colour modes")
        modes = PUBLIC_LAMP_MODES if name == "public-colors" else None
        return serve_blob(
            city,
            name,
            ("colors", "public-colors"),
            "lamp data",
            lambda _name: packed_lamp_colors(city, day, modes),
        )

    @server.get("/api/water/<city>/<name>.bin")
    def pipe_colors_blob(city: str, name: str) -> flask.Response:
        require(STAFF_LAYERS, "the water pipes' colours")
        return serve_blob(
            city, name, ("pipe-colors",), "water data", lambda _name: packed_pipe_colors(city)
        )

    @server.get("/api/hexagons/<city>/<variable>.bin")
    def hexagon_blob(city: str, variable: str) -> flask.Response:
        """A day of telemetry hexagons; ``?k=``: cells of fewer than k meters merged."""
        day = server.config["MADINA_TELEMETRY_DAY"]
        k = hexagon_k(flask.request.args.get("k"))
        return serve_blob(
            city,
            variable,
            DISPLAY,
            "cube variable",
            lambda name: packed_hexagons(city, day, name, k=k),
        )

    def hexagon_k(asked: str | None) -> int:
        """The k a request may have: at least the configured one unless the role holds RAW."""
        least = server.config["MADINA_MIN_CONTRIBUTORS"]
        try:
            k = int(asked) if asked else 0
        except ValueError:
            flask.abort(_error(422, f"k must be a whole number of meters, not {asked!r}"))
        if k < least and not allows(current_role(), RAW):
            refuse(RAW, f"telemetry cells of fewer than {least} meters (k={k})")
        return k

    @server.get("/api/lighting/<city>/<variable>.bin")
    def lighting_blob(city: str, variable: str) -> flask.Response:
        """A scenario's time-lapse hexagons: ?scenario=<JSON>&mode=day|year&day=YYYY-MM-DD."""
        require(RUN, "a lighting what-if")
        try:
            scenario, mode, day = playback_request(flask.request.args)
        except MadinaError as err:
            return _error(422, str(err))
        year = int(server.config["MADINA_TELEMETRY_DAY"][:4])
        return serve_blob(
            city,
            variable,
            PLAYBACK_DISPLAY,
            "scenario variable",
            lambda name: packed_playback(city, scenario, year, mode, day, name),
        )

    @server.get("/api/networks/<city>/<variable>.bin")
    def network_blob(city: str, variable: str) -> flask.Response:
        """A utility what-if's time-lapse: ?scenario=<JSON> of a pipe_break/pressure/outage."""
        require(RUN, "a network what-if")
        try:
            scenario = network_request(flask.request.args)
        except MadinaError as err:
            return _error(422, str(err))
        return serve_blob(
            city,
            variable,
            NETWORK_DISPLAY,
            "what-if variable",
            lambda name: packed_network_playback(city, scenario, name),
        )

    @server.get("/api/traffic/<city>/<name>.bin")
    def traffic_blob(city: str, name: str) -> flask.Response:
        """A traffic run's playback: today's, or ?scenario=<JSON> of a what-if."""
        text = flask.request.args.get("scenario")
        if text:
            require(RUN, "a traffic what-if")
        try:
            scenario = TrafficScenario.from_json(text) if text else TrafficScenario()
        except MadinaError as err:
            return _error(422, str(err))
        return serve_blob(
            city,
            name,
            ("playback",),
            "traffic data",
            lambda _name: packed_traffic_playback(city, scenario),
        )


def _register_scenario_routes(server: flask.Flask) -> None:
    """Exports of stored runs (NetCDF, CSV, GeoJSON cells, the brief) and video files."""

    def readable(scenario_id: str):
        # ScenarioStoreError -> 404 below; a run the role may not see -> 403
        return readable_run(open_store(server.config["MADINA_SCENARIO_DB"]), scenario_id)

    def finished(scenario_id: str):
        store = open_store(server.config["MADINA_SCENARIO_DB"])
        record = readable(scenario_id)
        if record.status != "done":
            raise CompareError(f"scenario {scenario_id} ({record.name}) is {record.status}")
        return store, record

    def download(body, mimetype: str, filename: str) -> flask.Response:
        return flask.Response(
            body,
            mimetype=mimetype,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @server.get("/api/scenarios/<scenario_id>/map/<variable>.bin")
    def scenario_map_blob(scenario_id: str, variable: str) -> flask.Response:
        """A stored run's hexagon frames.

        ``?against=<id>``: its difference to that run; ``?scale_with=<id>``: coloured on one
        scale with that run (the two maps of a split view).
        """
        against = flask.request.args.get("against") or None
        scale_with = flask.request.args.get("scale_with") or None
        try:
            for shown in filter(None, (scenario_id, against, scale_with)):
                readable(shown)
            packed = packed_stored_run(
                server.config["MADINA_SCENARIO_DB"], scenario_id, variable, against, scale_with
            )
        except ScenarioStoreError as err:
            return _error(404, str(err))
        except CompareError as err:
            return _error(409, str(err))
        except MadinaError as err:
            return _error(422, str(err))
        return flask.Response(
            packed.blob,
            mimetype="application/octet-stream",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    @server.get("/api/scenarios/<scenario_id>/<export>")
    def scenario_export(scenario_id: str, export: str) -> flask.Response:
        exports = ("results.nc", "results.csv", "cells.geojson", "brief.html")
        if export not in exports:
            return _error(404, f"unknown export {export!r}; known: {', '.join(exports)}")
        # the brief is a report (KPIs, map, chart); the others are the run's data
        require(LIBRARY if export == "brief.html" else EXPORT, f"the {export} export")
        try:
            store, record = finished(scenario_id)
            if export == "results.nc":
                return flask.send_file(
                    store.result_path(record),
                    mimetype="application/x-netcdf",
                    as_attachment=True,
                    download_name=f"madina-{record.kind}-{record.id}.nc",
                )
            results = store.result_dataset(record)
            if export == "results.csv":
                text = results_csv(results, record.city)
                return download(text, "text/csv", f"madina-{record.kind}-{record.id}.csv")
            if export == "cells.geojson":
                body = flask.json.dumps(cells_geojson(results))
                name = f"madina-{record.kind}-{record.id}.geojson"
                return download(body, "application/geo+json", name)
            against = flask.request.args.get("against")
            if against:
                _, reference = finished(against)
                page = brief_html(record, results, reference, store.result_dataset(reference))
            else:
                page = brief_html(record, results)
            return flask.Response(page, mimetype="text/html")
        except ScenarioStoreError as err:
            return _error(404, str(err))
        except CompareError as err:
            return _error(409, str(err))

    @server.get("/api/videos/<job_id>/<fmt>")
    def video_file(job_id: str, fmt: str) -> flask.Response:
        """A finished video export (``mp4`` or ``gif``), for the account that asked for it."""
        require(LIBRARY, "video exports")
        jobs = VideoJobs(videos_dir(server.config["MADINA_SCENARIO_DB"]))
        try:
            job = jobs.get(job_id)
            if job.owner != current_username():  # someone else's: as if there were none
                raise VideoError(f"no video job {job_id!r}")
            path = jobs.file(job_id, fmt)
        except MadinaError as err:
            return _error(404, str(err))
        if path is None:
            return _error(409, f"video job {job_id} has no {fmt}: still rendering, or failed")
        return flask.send_file(
            path,
            mimetype="video/mp4" if fmt == "mp4" else "image/gif",
            as_attachment=True,
            download_name=path.name,
        )


def _error(status: int, message: str) -> flask.Response:
    return flask.make_response(flask.jsonify(error=message), status)


def warm_up(city: str, day: str) -> float:
    """Load the city, pack every layer, run the traffic day, aggregate the day's telemetry.

    Returns the seconds it took.
    """
    started = time.perf_counter()
    for layer_id in LAYER_BUILDERS:
        packed_layer(city, layer_id, day)
    packed_lamp_colors(city, day)
    packed_pipe_colors(city)
    packed_traffic_playback(city, TrafficScenario())
    day_cubes(city, day)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Serve the twin on HOST:PORT (default 127.0.0.1:8050); ``users ...`` manages accounts."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["users"]:
        from access.cli import main as users

        return users(argv[1:])
    if argv:
        print("usage: python app.py  |  python -m app users {add,list,remove,passwd,role} ...")
        return 2
    app = create_app()
    city = app.server.config["MADINA_CITY"]
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8050"))
    print(
        f"Madina Twin: loading {city}, packing its layers, solving its water and traffic day, "
        f"aggregating the telemetry of {app.server.config['MADINA_TELEMETRY_DAY']} (~40 s)...",
        flush=True,
    )
    seconds = warm_up(city, app.server.config["MADINA_TELEMETRY_DAY"])
    print(f"Madina Twin: {city} ready in {seconds:.1f} s -> open http://{host}:{port}/", flush=True)
    app.run(host=host, port=port, debug=False)  # never Dash's dev tools outside development
    return 0


if __name__ == "__main__":
    sys.exit(main())

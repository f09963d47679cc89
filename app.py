"""Madina Twin's Dash app: ``create_app(config)`` builds it, ``python app.py`` serves it.

Serves deck.gl from pydeck's own wheel and layer columns from this server: nothing is fetched
from another host, ever.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import time
from functools import lru_cache
from pathlib import Path

import dash
import diskcache
import flask

from access.auth import init_auth
from access.guard import init_guard
from access.users import default_db_path as default_user_db
from api.city_blobs import register_city_routes
from api.scenario_files import register_scenario_routes
from data.settings import setting
from data.store.scenarios import ScenarioStore, default_db_path
from data.telemetry.day_cube import day_cubes, day_period, default_day
from data.telemetry.privacy import check_k
from layers.catalog import warm_layers
from pages.permissions import permission_of

HERE = Path(__file__).resolve().parent
K_ENV = "MADINA_MIN_CONTRIBUTORS"
DECK_SCRIPT_URL = "/vendor/deck.gl.js"


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
    city = config.get("city") or setting("MADINA_CITY")
    day = config.get("telemetry_day") or setting("MADINA_TELEMETRY_DAY") or default_day(city)
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
    app.server.config["MADINA_MIN_CONTRIBUTORS"] = min_contributors(config)
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
    app.layout = dash.html.Div([dash.page_container], className="twin-root")
    init_guard(app, permission_of)
    return app


def min_contributors(config: dict) -> int:
    """The public view's k: the config's, else ``MADINA_MIN_CONTRIBUTORS``, else 10."""
    if config.get("min_contributors") is not None:
        return check_k(config["min_contributors"])
    return setting(K_ENV)


def _register_routes(server: flask.Flask) -> None:
    @server.get(DECK_SCRIPT_URL)
    def deck_script() -> flask.Response:
        return flask.send_file(deck_bundle_path(), mimetype="text/javascript", max_age=86400)

    register_city_routes(server)
    register_scenario_routes(server)


def warm_up(city: str, day: str) -> float:
    """Load the city, pack every catalogue layer with what it serves, aggregate the telemetry.

    Returns the seconds it took.
    """
    started = time.perf_counter()
    warm_layers(city, day)
    day_cubes(city, day)
    return time.perf_counter() - started


def serve(argv: list[str]) -> int:
    """Serve the twin on HOST:PORT (default 127.0.0.1:8050) once every layer is warm."""
    if argv:
        print(f"usage: madina serve   (no arguments; HOST and PORT set the address, not {argv})")
        return 2
    app = create_app()
    city = app.server.config["MADINA_CITY"]
    host, port = setting("HOST"), setting("PORT")
    print(
        f"Madina Twin: loading {city}, packing its layers, solving its water and traffic day, "
        f"aggregating the telemetry of {app.server.config['MADINA_TELEMETRY_DAY']} (~40 s)...",
        flush=True,
    )
    seconds = warm_up(city, app.server.config["MADINA_TELEMETRY_DAY"])
    print(f"Madina Twin: {city} ready in {seconds:.1f} s -> open http://{host}:{port}/", flush=True)
    app.run(host=host, port=port, debug=False)  # never Dash's dev tools outside development
    return 0


def _command(module: str, *prefix: str):
    """A subcommand that hands its arguments to ``module``'s ``main`` (imported when used)."""

    def run(argv: list[str]) -> int:
        return importlib.import_module(module).main([*prefix, *argv]) or 0

    return run


# `madina <command> ...`: each is also reachable as the `python -m` form in its help.
COMMANDS = {
    "serve": (serve, "serve the twin (python app.py)"),
    "users": (_command("access.cli"), "manage staff accounts (python -m app users)"),
    "build": (_command("data.build.__main__"), "build a city bundle (python -m data.build)"),
    "interop": (
        _command("data.interop.cli"),
        "NGSI-LD and files in and out (python -m data.interop)",
    ),
    "cubes": (
        _command("data.telemetry.aggregate"),
        "aggregate telemetry into H3 cubes (python -m data.telemetry.aggregate)",
    ),
    "scenarios": (_command("simulation.__main__"), "run or list scenarios (python -m simulation)"),
    "video": (
        _command("simulation.__main__", "export-video"),
        "film a stored run (python -m simulation export-video)",
    ),
}


def main(argv: list[str] | None = None) -> int:
    """``madina <command>`` (default ``serve``); ``python app.py`` serves, ``-m app users``."""
    argv = sys.argv[1:] if argv is None else argv
    name, rest = (argv[0], argv[1:]) if argv else ("serve", [])
    if name not in COMMANDS:
        lines = "\n".join(f"  {n:<10} {help_}" for n, (_, help_) in COMMANDS.items())
        asked = name in ("help", "-h", "--help")
        print(
            ("" if asked else f"unknown command {name!r}; ") + f"usage: madina <command>\n{lines}"
        )
        return 0 if asked else 2
    return COMMANDS[name][0](rest)


if __name__ == "__main__":
    sys.exit(main())

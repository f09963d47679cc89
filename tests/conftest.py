"""Shared fixtures: the embedded city (loaded once) and the app (built once per session)."""

from __future__ import annotations

import os

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
def app(city_name: str, tmp_path_factory):
    # Dash's page registry is process-global: build the app once per test session.
    from app import create_app

    db = tmp_path_factory.mktemp("scenarios") / "scenarios.sqlite"
    return create_app({"city": city_name, "telemetry_day": TELEMETRY_DAY, "scenario_db": db})

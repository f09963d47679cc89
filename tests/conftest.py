"""Shared fixtures: the embedded city (loaded once) and the app (built once per session)."""

from __future__ import annotations

import os

import pytest

from data.city import DEFAULT_CITY, City, load_city


@pytest.fixture(scope="session")
def city_name() -> str:
    return os.environ.get("MADINA_CITY", DEFAULT_CITY)


@pytest.fixture(scope="session")
def city(city_name: str) -> City:
    return load_city(city_name)


@pytest.fixture(scope="session")
def app(city_name: str):
    # Dash's page registry is process-global: build the app once per test session.
    from app import create_app

    return create_app({"city": city_name})

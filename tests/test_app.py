"""The Dash app served through Flask's test client: routes, payload, callbacks as functions."""

import importlib

import numpy as np
import pytest
from dash import html

from layers.catalog import LAYER_BUILDERS, packed_layer


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def twin(app):
    # Dash pages may only be imported once the app exists.
    return importlib.import_module("pages.twin")


def test_page_serves_and_loads_deck_from_this_server(client):
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<script src="/vendor/deck.gl.js"' in text
    deck = client.get("/vendor/deck.gl.js")
    assert deck.status_code == 200
    assert deck.mimetype == "text/javascript"
    assert b"createDeck" in deck.get_data()


def test_layer_blob_matches_its_manifest(client, city_name):
    for layer_id in LAYER_BUILDERS:
        response = client.get(f"/api/layers/{city_name}/{layer_id}.bin")
        assert response.status_code == 200, layer_id
        assert response.mimetype == "application/octet-stream"
        assert len(response.get_data()) == packed_layer(city_name, layer_id).manifest["byteLength"]


def test_unknown_layer_and_city_are_refused_by_name(client, city_name):
    response = client.get(f"/api/layers/{city_name}/sewers.bin")
    assert response.status_code == 404
    assert "unknown layer 'sewers'" in response.get_json()["error"]
    response = client.get("/api/layers/..%2F..%2Fetc/lamps.bin")
    assert response.mimetype != "application/octet-stream"  # falls through to the page router
    response = client.get("/api/layers/atlantis/lamps.bin")
    assert response.status_code == 404
    assert "unknown city 'atlantis'" in response.get_json()["error"]


def test_bundle_names_every_layer_and_the_view(twin, city, city_name):
    bundle = twin.twin_bundle(city_name)
    assert [m["id"] for m in bundle["layers"]] == list(LAYER_BUILDERS)
    lon, lat = bundle["view"]["center"]
    assert np.isclose(lon, city.center[0]) and np.isclose(lat, city.center[1])
    assert "{layer}" in bundle["blobUrl"]


def test_legends_follow_the_toggles(twin, city_name):
    bundle = twin.twin_bundle(city_name)
    legends = twin.show_legends(["lamps", "roads"], bundle)
    assert [block.id for block in legends] == ["legend-lamps", "legend-roads"]
    assert twin.show_legends([], bundle) == []


def test_details_are_looked_up_server_side(twin, app, city):
    lamp = city.lamps.iloc[0]
    with app.server.test_request_context("/"):
        card = twin.show_details(
            {"layer": "lamps", "id": lamp["lamp_id"], "fields": {"power_w": "1"}}
        )
        text = str(card)
        assert lamp["lamp_id"] in text
        assert f"{int(lamp['power_w'])} W" in text  # from the bundle, not the forged fields
        refused = twin.show_details({"layer": "lamps", "id": "NOPE-1"})
        assert (
            isinstance(refused, html.P) and "no feature with lamp_id 'NOPE-1'" in refused.children
        )
        refused = twin.show_details({"layer": "sewers", "id": "x"})
        assert "no details for layer 'sewers'" in refused.children


def test_page_states_its_sources(twin, app, city):
    with app.server.test_request_context("/"):
        text = str(twin.layout())
    for line in city.meta["attribution"]:
        assert line in text

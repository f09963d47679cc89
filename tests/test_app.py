"""The Dash app served through Flask's test client: routes, payload, callbacks as functions."""

import numpy as np
import pytest
from dash import html

from layers.catalog import LAYER_BUILDERS, packed_layer
from tests.conftest import TELEMETRY_DAY


@pytest.fixture()
def client(client_as):
    return client_as("planner")  # every route open; tests/test_roles.py covers the others


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
        assert (
            len(response.get_data())
            == packed_layer(city_name, layer_id, TELEMETRY_DAY).manifest["byteLength"]
        )


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
    bundle = twin.twin_bundle(city_name, TELEMETRY_DAY)
    assert [m["id"] for m in bundle["layers"]] == list(LAYER_BUILDERS)
    lon, lat = bundle["view"]["center"]
    assert np.isclose(lon, city.center[0]) and np.isclose(lat, city.center[1])
    assert "{layer}" in bundle["blobUrl"]


def test_legends_follow_the_toggles(twin, city_name, legends_page):
    bundle = twin.twin_bundle(city_name, TELEMETRY_DAY)
    legends = legends_page.show_legends(["lamps", "roads"], bundle, None, None)
    assert [block.id for block in legends] == ["legend-lamps", "legend-roads"]
    assert legends_page.show_legends([], bundle, None, None) == []


def test_telemetry_legend_is_the_shown_resolution_in_units(
    twin, as_role, city_name, telemetry_page, legends_page
):
    with as_role("planner"):
        manifest, status = telemetry_page.load_hexagons("speed_kmh")
    assert status == "" and manifest["blobUrl"] == f"/api/hexagons/{city_name}/speed_kmh.bin"
    bundle = twin.twin_bundle(city_name, TELEMETRY_DAY)
    legends = legends_page.show_legends(
        ["lamps"], bundle, {"res": 9, "variable": "speed_kmh"}, hexagons=manifest
    )
    assert [block.id for block in legends] == ["legend-hexagons", "legend-lamps"]
    text = str(legends[0])
    assert "Mean vehicle speed (km/h), H3 resolution 9" in text
    assert text.count("km/h") == 1 + len(manifest["resolutions"]["9"]["legend"])
    hidden = legends_page.show_legends(
        ["lamps"], bundle, {"res": None, "variable": None}, hexagons=manifest
    )
    assert [block.id for block in hidden] == ["legend-lamps"]


def test_telemetry_variable_is_checked_on_the_server(as_role, client, city_name, telemetry_page):
    with as_role("planner"):
        assert telemetry_page.load_hexagons("") == (None, "")
        unchanged, message = telemetry_page.load_hexagons("salaries; drop table")
    assert message == "Unknown variable 'salaries; drop table'."
    refused = client.get(f"/api/hexagons/{city_name}/salaries.bin")
    assert refused.status_code == 404
    assert "unknown cube variable 'salaries'" in refused.get_json()["error"]
    assert client.get("/api/hexagons/atlantis/power_w.bin").status_code == 404
    served = client.get(f"/api/hexagons/{city_name}/power_w.bin")
    assert served.status_code == 200
    with as_role("planner"):
        manifest, _ = telemetry_page.load_hexagons("power_w")
    assert len(served.get_data()) == manifest["byteLength"]


def test_a_bad_telemetry_day_is_refused_by_name():
    from app import create_app
    from data.errors import MadinaError

    with pytest.raises(MadinaError, match="bad telemetry day '2026-13-40'"):
        create_app({"telemetry_day": "2026-13-40"})


def test_details_are_looked_up_server_side(as_role, city, details_page):
    lamp = city.lamps.iloc[0]
    with as_role("planner"):
        card = details_page.show_details(
            {"layer": "lamps", "id": lamp["lamp_id"], "fields": {"power_w": "1"}}
        )
        text = str(card)
        assert lamp["lamp_id"] in text
        assert f"{int(lamp['power_w'])} W" in text  # from the bundle, not the forged fields
        refused = details_page.show_details({"layer": "lamps", "id": "NOPE-1"})
        assert (
            isinstance(refused, html.P) and "no feature with lamp_id 'NOPE-1'" in refused.children
        )
        refused = details_page.show_details({"layer": "sewers", "id": "x"})
        assert "no details for layer 'sewers'" in refused.children


def test_page_states_its_sources(twin, as_role, city):
    with as_role("planner"):
        text = str(twin.layout())
    for line in city.meta["attribution"]:
        assert line in text


def test_scenario_time_lapse_route_checks_everything_it_is_sent(client, city_name):
    import json

    from simulation.lighting.plans import PRESETS, playback_query, scenario_to_dict

    query = playback_query(PRESETS["led-estonian"], "day", "2026-11-23")
    served = client.get(f"/api/lighting/{city_name}/cost_mad.bin?{query}")
    assert served.status_code == 200 and len(served.data) > 100_000
    unknown = client.get(f"/api/lighting/{city_name}/lux.bin?{query}")
    assert unknown.status_code == 404 and "unknown scenario variable 'lux'" in unknown.json["error"]
    forged = client.get(
        f"/api/lighting/{city_name}/energy_kwh.bin?scenario=%7B%22x%22%3A1%7D&mode=year"
    )
    assert forged.status_code == 422 and "unknown scenario field(s) ['x']" in forged.json["error"]
    share = {**scenario_to_dict(PRESETS["led-estonian"]), "led_share_pct": 140}
    out_of_range = client.get(
        f"/api/lighting/{city_name}/energy_kwh.bin",
        query_string={"scenario": json.dumps(share), "mode": "year"},
    )
    assert out_of_range.status_code == 422
    assert "led_share_pct must be within 0-100" in out_of_range.json["error"]
    late = client.get(
        f"/api/lighting/{city_name}/energy_kwh.bin?{query.replace('2026-11-23', '2030-01-05')}"
    )
    assert late.status_code == 422 and "outside the simulated" in late.json["error"]


def test_k_is_read_from_the_environment_and_a_bad_one_is_named(monkeypatch):
    from app import min_contributors
    from data.telemetry.privacy import PrivacyError

    monkeypatch.delenv("MADINA_MIN_CONTRIBUTORS", raising=False)
    assert min_contributors({}) == 10
    monkeypatch.setenv("MADINA_MIN_CONTRIBUTORS", " 20 ")
    assert min_contributors({}) == 20
    assert min_contributors({"min_contributors": 3}) == 3  # the app's config comes first
    monkeypatch.setenv("MADINA_MIN_CONTRIBUTORS", "ten")
    with pytest.raises(PrivacyError, match=r"MADINA_MIN_CONTRIBUTORS='ten' is not a whole number"):
        min_contributors({})
    monkeypatch.setenv("MADINA_MIN_CONTRIBUTORS", "0")
    with pytest.raises(PrivacyError, match="must be an integer >= 1, got 0"):
        min_contributors({})

"""Exports of stored runs through the app's routes: formats, and refusals that name the problem."""

import json

import pytest
import xarray as xr

from data.store.scenarios import ScenarioStore
from simulation.runs import execute, submit


@pytest.fixture()
def client(client_as):
    return client_as("planner")  # every route open; tests/test_roles.py covers the others


@pytest.fixture(scope="module")
def runs(app, city_name):
    store = ScenarioStore(app.server.config["MADINA_SCENARIO_DB"])

    def run(kind, params, name):
        record = submit(store, kind=kind, params=params, city=city_name, name=name, author="t")
        return execute(store, record.id)

    return {
        "outage": run("outage", {"element_id": "CAS-F001"}, "feeder 1"),
        "outage2": run("outage", {"element_id": "CAS-F002"}, "feeder 2"),
        "lighting": run("lighting", {"led_share_pct": 30}, "LED 30%"),
        "queued": submit(store, kind="lighting", params={}, city=city_name, name="q", author="t"),
    }


def test_a_finished_run_exports_as_netcdf_csv_geojson_and_a_brief(client, runs, tmp_path):
    outage = runs["outage"]
    nc = client.get(f"/api/scenarios/{outage.id}/results.nc")
    assert nc.status_code == 200 and "attachment" in nc.headers["Content-Disposition"]
    (tmp_path / "run.nc").write_bytes(nc.data)
    with xr.open_dataset(tmp_path / "run.nc", engine="netcdf4") as ds:
        assert ds["customers_off"].attrs["units"] == "customers"
    csv = client.get(f"/api/scenarios/{outage.id}/results.csv").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("local_time (UTC+1),h3_cell,customers_off (customers)")
    geo = json.loads(client.get(f"/api/scenarios/{outage.id}/cells.geojson").data)
    assert geo["type"] == "FeatureCollection" and geo["units"]["customers_off"] == "customers"
    assert max(f["properties"]["customers_off_peak"] for f in geo["features"]) > 0
    brief = client.get(f"/api/scenarios/{outage.id}/brief.html?against={runs['outage2'].id}")
    assert brief.status_code == 200 and "feeder 1 − feeder 2" in brief.get_data(as_text=True)


def test_exports_refuse_what_they_cannot_give_by_name(client, runs):
    missing = client.get("/api/scenarios/nope/results.csv")
    assert missing.status_code == 404 and "no scenario 'nope'" in missing.json["error"]
    unknown = client.get(f"/api/scenarios/{runs['outage'].id}/results.xlsx")
    assert unknown.status_code == 404 and "unknown export 'results.xlsx'" in unknown.json["error"]
    queued = client.get(f"/api/scenarios/{runs['queued'].id}/brief.html")
    assert queued.status_code == 409 and "is queued" in queued.json["error"]
    mixed = client.get(
        f"/api/scenarios/{runs['outage'].id}/brief.html?against={runs['lighting'].id}"
    )
    assert mixed.status_code == 409 and "deltas compare runs of one kind" in mixed.json["error"]

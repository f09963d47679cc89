"""``python -m data.interop``: exports, imports and their refusals, from the command line."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from data.interop.cli import main
from data.interop.ngsi_ld import streetlight_entities
from data.telemetry.sensors import sensors_for


def test_exports_and_imports_go_round_from_the_command_line(tmp_path, city, capsys):
    cabinets = tmp_path / "cabinets.jsonld"
    assert main(["export", "ngsi-ld", "StreetlightControlCabinet", "--out", str(cabinets),
                 "--form", "keyValues"]) == 0  # fmt: skip
    entities = json.loads(cabinets.read_text())
    assert len(entities) == len(city.cabinets) and entities[0]["workingMode"] == "automatic"

    assert main(["import", "cabinets", str(cabinets), "--store",
                 str(tmp_path / "store" / "ngsi-cabinets.parquet")]) == 0  # fmt: skip
    assert len(gpd.read_parquet(tmp_path / "store" / "ngsi-cabinets.parquet")) == len(city.cabinets)

    layer = tmp_path / "cabinets.csv"
    assert main(["export", "layer", "cabinets", "--out", str(layer)]) == 0
    store = tmp_path / "store" / "cabinets.parquet"
    assert main(["import", "assets", str(layer), "--store", str(store),
                 "--id-column", "cabinet_id"]) == 0  # fmt: skip
    assert len(gpd.read_parquet(store)) == len(city.cabinets)

    lights = tmp_path / "lights.jsonld"
    lights.write_text(json.dumps(streetlight_entities(city.lamps.iloc[:50])))
    lamps_store = tmp_path / "store" / "lamps.parquet"
    assert main(["import", "streetlights", str(lights), "--store", str(lamps_store)]) == 0
    assert gpd.read_parquet(lamps_store)["lamp_id"].tolist() == city.lamps["lamp_id"][:50].tolist()

    traffic = tmp_path / "traffic.jsonld"
    assert main(["export", "ngsi-ld", "TrafficFlowObserved", "--at", "2026-11-23T07:00Z",
                 "--out", str(traffic)]) == 0  # fmt: skip
    readings = tmp_path / "readings"
    assert main(["import", "observations", str(traffic), "--readings", str(readings)]) == 0
    out = capsys.readouterr().out
    assert "2,424 StreetlightControlCabinet entities (keyValues)" in out
    assert "50 light points from" in out and "readings from" in out
    assert len(list(readings.glob("part-*.parquet"))) == 1
    assert [p.name for p in tmp_path.glob(".*")] == []  # no temporary left anywhere

    # the store's latest observations go back out; groups and buildings too
    latest = tmp_path / "latest.jsonld"
    assert main(["export", "ngsi-ld", "observations", "--readings", str(readings),
                 "--out", str(latest)]) == 0  # fmt: skip
    assert {e["type"] for e in json.loads(latest.read_text())} == {"TrafficFlowObserved"}
    assert main(["export", "ngsi-ld", "StreetlightGroup", "--out", str(tmp_path / "g.jsonld")]) == 0
    buildings = tmp_path / "buildings.jsonld"
    assert main(["export", "ngsi-ld", "Building", "--out", str(buildings), "--form",
                 "keyValues"]) == 0  # fmt: skip
    assert main(["import", "buildings", str(buildings), "--store",
                 str(tmp_path / "store" / "buildings.parquet")]) == 0  # fmt: skip
    stored = gpd.read_parquet(tmp_path / "store" / "buildings.parquet")
    assert len(stored) == len(city.buildings) and stored.crs == "EPSG:4326"


def test_a_broken_import_exits_2_naming_the_problem_and_keeps_the_store(tmp_path, city, capsys):
    store = tmp_path / "lamps.parquet"
    good = tmp_path / "good.jsonld"
    good.write_text(json.dumps(streetlight_entities(city.lamps.iloc[:5])))
    assert main(["import", "streetlights", str(good), "--store", str(store)]) == 0
    before = store.read_bytes()
    bad = tmp_path / "bad.jsonld"
    entities = streetlight_entities(city.lamps.iloc[:5])
    entities[3]["status"] = {"type": "Property", "value": "glowing"}
    bad.write_text(json.dumps(entities))
    assert main(["import", "streetlights", str(bad), "--store", str(store)]) == 2
    error = capsys.readouterr().err
    assert f"{bad}: entity [3] urn:ngsi-ld:Streetlight:{city.lamps.lamp_id.iloc[3]}" in error
    assert "status: 'glowing' is not one of" in error
    assert store.read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["export", "ngsi-ld", "TrafficFlowObserved", "--out", "x.json"], "needs --at"),
        (["export", "ngsi-ld", "Parking", "--out", "x.json"], "unknown model 'Parking'"),
        (["export", "layer", "pipes", "--out", "x.csv"], "unknown layer 'pipes'"),
        (["export", "layer", "lamps", "--out", "x.kml"], "unknown format '.kml'"),
        (["export", "ngsi-ld", "TrafficFlowObserved", "--at", "8am", "--out", "x.json"],
         "'8am' is not a time"),
        (["import", "streetlights", "x.jsonld"], "needs --store"),
        (["export", "ngsi-ld", "observations", "--readings", "none", "--out", "x.json"],
         "no readings stored"),
        (["import", "observations", "missing.jsonld"], "cannot read it"),
        (["fetch", "http://127.0.0.1:9", "Streetlight"], "fetch needs --out"),
        (["fetch-history", "http://127.0.0.1:9"], "needs --from and --to"),
        (["fetch", "ftp://broker", "Streetlight", "--out", "x.json"], "must be http(s)://"),
    ],
)  # fmt: skip
def test_bad_commands_exit_2_and_say_why(tmp_path, monkeypatch, capsys, argv, named):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert named in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_readings_land_on_the_roads_sensors(tmp_path, city, city_name):
    sensors = sensors_for(city_name)
    assert main(["export", "ngsi-ld", "TrafficFlowObserved", "--at", "2026-11-23T17:00Z",
                 "--out", str(tmp_path / "t.jsonld")]) == 0  # fmt: skip
    assert main(["import", "observations", str(tmp_path / "t.jsonld"), "--readings",
                 str(tmp_path / "r")]) == 0  # fmt: skip
    from data.telemetry.ingest import ReadingStore

    frame = ReadingStore(tmp_path / "r", sensors).readings().to_frame(sensors)
    assert set(frame["variable"]) == {"vehicles", "speed_kmh"}
    assert frame["sensor_id"].isin(set(city.roads["road_id"])).all() and len(frame) > 10_000

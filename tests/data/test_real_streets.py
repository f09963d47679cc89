"""Casablanca built on its real streets (OSM 2018): ids kept, one graph, bridges apart, one-ways.

Positions are checked against an independent source: tram stops of 2026 (OSM, another export)
named after the boulevard they stand on must lie on that boulevard of 2018.
"""

import contextlib

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from data.build.casablanca_streets import ROADS_FILE
from data.city import load_city
from data.city.constants import ROAD_CLASSES
from data.transit.network import load_transit

# (tram or busway stop, the street it is named after and stands on)
STOPS_ON_THEIR_STREET = [
    ("Abdelmoumen", "Boulevard Abdelmoumen"),
    ("Boulevard Bahmad", "Boulevard Bahmad"),
    ("La Résistance", "Boulevard de la Résistance"),
    ("Mohamed Smiha", "Boulevard Mohamed Smiha"),
    ("Sidi Abderrahmane", "Boulevard Sidi Abderrahmane"),
    ("Anoual", "Boulevard Anoual"),
]
TWIN_CENTER = (-7.6322, 33.5866)  # the towers stand on the corner of these two boulevards
TWIN_CENTER_STREETS = ("Boulevard Mohamed Zerktouni", "Boulevard al Massira al Khadra")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from data.build.__main__ import main as build

    out = tmp_path_factory.mktemp("real") / "casablanca"
    with contextlib.redirect_stdout(None):
        args = ["casablanca", "--streets", "osm", "--out", str(out), "--no-networks"]
        assert build(args) == 0
    return load_city.__wrapped__("casablanca", bundle_dir=out)


@pytest.fixture(scope="module")
def source():
    return gpd.read_parquet(ROADS_FILE)


def _metric(frame, city):
    return frame.to_crs(city.crs_metric)


def test_every_road_is_an_osm_way_and_every_drivable_way_is_a_road(real, source):
    roads = real.roads
    assert not roads["synthetic"].any()
    ids = set(source["osm_id"].astype(str))
    assert set(roads["osm_id"]) <= ids  # ids kept
    drivable = source[~source["fclass"].isin(["footway", "steps", "path", "pedestrian", "track",
                                              "track_grade1"])]  # fmt: skip
    assert len(set(roads["osm_id"])) >= 0.995 * len(drivable)  # a few ways under 1 m go
    walked = set(source.loc[source["fclass"].isin(["footway", "steps", "path"]), "osm_id"])
    assert not set(roads["osm_id"]) & {str(i) for i in walked}  # not in the drivable graph
    assert real.meta["road_length_km"] == pytest.approx(3363, rel=0.01)


def test_the_drivable_graph_is_one_component_for_nearly_all_its_length(real):
    roads = real.roads
    graph = nx.Graph()
    graph.add_edges_from(zip(roads["u"], roads["v"], strict=True))
    largest = max(nx.connected_components(graph), key=len)
    share = roads.loc[roads["u"].isin(largest), "length_m"].sum() / roads["length_m"].sum()
    assert share >= 0.95


def test_named_streets_are_where_an_independent_source_puts_them(real):
    roads = _metric(real.roads, real)
    stops = _metric(load_transit(load_city("casablanca")).stops, real).set_index("name")
    for stop, street in STOPS_ON_THEIR_STREET:
        on_street = roads[roads["name"] == street]
        assert len(on_street), street
        assert on_street.distance(stops.loc[stop].geometry).min() < 50, (stop, street)
    corner = gpd.GeoSeries([shapely.Point(*TWIN_CENTER)], crs=4326).to_crs(real.crs_metric)[0]
    for street in TWIN_CENTER_STREETS:
        assert roads[roads["name"] == street].distance(corner).min() < 50, street


def _crossings(roads, level_of_way) -> int:
    """Pairs of a bridge or tunnel and a street at grade crossing without a junction."""
    level = roads["osm_id"].map(level_of_way).to_numpy()
    over, under = roads[level != 0], roads[level == 0]
    pairs, _ = shapely.STRtree(under.geometry.values).query(
        over.geometry.values, predicate="crosses"
    )
    return len(pairs)


def test_bridges_and_tunnels_meet_the_streets_only_at_their_ends(real, source):
    from data.build.bundle import with_road_defaults
    from data.build.casablanca_streets import real_streets
    from data.build.road_network import node_road_lines

    roads = _metric(real.roads, real)
    assert {-1, 0, 1} <= set(roads["level"])
    level_of_way = dict(zip(source["osm_id"].astype(str), source["layer"], strict=True))
    assert _crossings(roads, level_of_way) > 50  # they pass over and under the streets
    lines = with_road_defaults(real_streets(real.crs_metric)).drop(columns="level")
    blind, _ = node_road_lines(lines, prefix="X")  # noded as if all were at grade
    assert _crossings(blind, level_of_way) == 0  # every crossing would have been a junction
    assert blind["u"].nunique() > roads["u"].nunique()


def test_one_way_streets_run_the_way_the_traffic_does(real, source):
    roads = _metric(real.roads, real)
    ways = _metric(source, real).assign(osm_id=lambda f: f["osm_id"].astype(str))
    ways = ways.set_index("osm_id")
    oneway = roads[roads["oneway"]]
    assert len(oneway) > 1000
    tags = ways.loc[oneway["osm_id"], "oneway"].to_numpy()
    assert set(tags) <= {"F", "T"}
    drawn = ways.loc[oneway["osm_id"]].geometry.values
    traffic = np.where(tags == "T", shapely.reverse(drawn), drawn)  # T: against the drawing
    start = shapely.line_locate_point(traffic, shapely.get_point(oneway.geometry.values, 0))
    end = shapely.line_locate_point(traffic, shapely.get_point(oneway.geometry.values, -1))
    assert (start < end).all()
    two_way = roads[~roads["oneway"]]
    assert set(ways.loc[two_way["osm_id"], "oneway"]) == {"B"}


def test_lanes_and_speeds_missing_in_osm_are_estimated_and_flagged(real, source):
    roads = real.roads
    assert roads["lanes_estimated"].all() and roads["width_estimated"].all()  # OSM has none
    speeds = source.set_index(source["osm_id"].astype(str))["maxspeed"]
    known = speeds.loc[roads["osm_id"]].to_numpy() > 0
    assert known.sum() > 500
    assert (~roads["maxspeed_estimated"].to_numpy() == known).all()
    assert (roads.loc[known, "maxspeed_kmh"].to_numpy() == speeds.loc[roads["osm_id"]][known]).all()
    defaults = roads["road_class"].map(lambda c: ROAD_CLASSES[c].maxspeed_kmh)
    assert (roads.loc[~known, "maxspeed_kmh"] == defaults[~known]).all()


def test_no_generated_building_stands_on_a_street_or_a_real_one_and_lamps_line_them(real):
    roads = _metric(real.roads, real)
    width = roads["road_class"].map(lambda c: ROAD_CLASSES[c].width_m).to_numpy()
    streets = shapely.buffer(roads.geometry.values, width / 2)
    buildings = _metric(real.buildings, real)
    generated = buildings[buildings["synthetic"]]
    hit, _ = shapely.STRtree(streets).query(generated.geometry.values, predicate="intersects")
    assert len(hit) == 0 and len(generated) > 50_000  # in the blocks the real streets enclose
    assert set(buildings["district_id"]) == set(real.districts["district_id"])  # Méchouar too
    traced = buildings[~buildings["synthetic"]].geometry.values
    hit, _ = shapely.STRtree(traced).query(generated.geometry.values, predicate="intersects")
    assert len(hit) == 0  # nor on a real building
    lamps = _metric(real.lamps, real).merge(
        roads[["road_id", "geometry"]].rename(columns={"geometry": "road"}), on="road_id"
    )
    gap = shapely.distance(lamps.geometry.values, gpd.GeoSeries(lamps["road"]).values)
    lamp_width = lamps["road_id"].map(dict(zip(roads["road_id"], width, strict=True)))
    assert (gap <= lamp_width / 2 + 1.0).all()  # on the pavement by the kerb of their road
    assert 100_000 < len(real.lamps) < 125_000  # the spacing is re-checked at the switch


def test_real_buildings_keep_their_footprint_and_measured_height(real):
    from data.build.casablanca_buildings import KONTUR_FILE, MIN_FOOTPRINT_M2, OSM_FILE

    kontur = gpd.read_parquet(KONTUR_FILE).explode(ignore_index=True)
    traced = kontur.to_crs(real.crs_metric).area >= MIN_FOOTPRINT_M2  # not the artefacts
    assert (~traced).sum() == 66
    kontur = kontur[traced].reset_index(drop=True)
    osm = gpd.read_parquet(OSM_FILE)
    real_rows = real.buildings[~real.buildings["synthetic"]]
    assert len(real_rows) == len(kontur) + len(osm)
    measured = real_rows[~real_rows["height_estimated"]].reset_index(drop=True)
    assert len(measured) == len(kontur)
    assert (measured["height_m"].to_numpy() == kontur["building_height"].to_numpy()).all()
    assert measured.geometry.geom_equals_exact(kontur.geometry, tolerance=1e-7).all()
    mapped = real_rows[real_rows["height_estimated"]]
    assert {"moroccan_house", "apartment", "villa"} <= set(mapped["building_type"])
    assert not {"yes", "roof", "construction"} & set(mapped["building_type"])  # typed by census
    assert {"school", "mosque", "office"} <= set(real_rows["building_type"])  # uses kept
    sources = {s["layer"]: s for s in real.meta["sources"]}
    assert "Kontur / Geoalert" in sources["buildings"]["source"]
    assert any("Kontur / Geoalert" in line for line in real.meta["attribution"])


def test_every_real_building_goes_out_and_back_through_ngsi_ld(real):
    from data.interop.ngsi_buildings import building_entities, read_buildings

    buildings = real.buildings[~real.buildings["synthetic"]]
    entities = building_entities(buildings, "Casablanca", form="keyValues")
    back = read_buildings(entities, "export", tuple(real.buildings.total_bounds))
    assert len(back) == len(buildings)  # no footprint too small to survive the export


@pytest.mark.slow
def test_the_networks_build_on_the_real_streets_and_every_dma_is_metered(tmp_path):
    """The whole bundle with its networks (~45 s): a cell's sliver that only a plain pipe
    reaches is no DMA of its own but joins the one feeding it, so every DMA has a PRV inlet."""
    from data.build.__main__ import main as build
    from data.water.network import read_water_network

    out = tmp_path / "casablanca"
    with contextlib.redirect_stdout(None):
        assert build(["casablanca", "--streets", "osm", "--out", str(out)]) == 0
    net = read_water_network("casablanca", out)
    inlets = net.pipes[net.pipes["role"] == "inlet"]
    assert set(net.dmas["dma_id"]) == set(inlets["dma_id"]) and len(net.dmas) > 50
    assert set(net.junctions["dma_id"]) - {"trunk"} == set(net.dmas["dma_id"])

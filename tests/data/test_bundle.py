"""The built city bundle: contract, counts, geometry and the lighting inventory's sanity."""

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from data.city import LAYER_COLUMNS, LAYER_FILES, load_city
from data.city.constants import COASTAL_LANDMARKS, ROAD_CLASSES, TECHNOLOGY_SHARES


@pytest.fixture(scope="module")
def casablanca():
    return load_city("casablanca")


@pytest.mark.parametrize("layer", LAYER_FILES)
def test_every_layer_follows_the_contract(city, layer):
    frame = city.layer(layer)
    assert frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*LAYER_COLUMNS[layer], "geometry"]
    assert len(frame) > 0
    assert not frame.geometry.is_empty.any() and frame.geometry.notna().all()
    assert frame.geometry.is_valid.all()
    assert city.meta["counts"][layer] == len(frame)


@pytest.mark.parametrize(
    "layer, id_field",
    [("districts", "district_id"), ("roads", "road_id"), ("nodes", "node_id"),
     ("buildings", "building_id"), ("lamps", "lamp_id"), ("cabinets", "cabinet_id")],
)  # fmt: skip
def test_ids_are_unique(city, layer, id_field):
    assert city.layer(layer)[id_field].is_unique


def test_references_point_at_existing_features(city):
    roads, lamps = city.roads, city.lamps
    districts = set(city.districts["district_id"])
    assert set(lamps["road_id"]) <= set(roads["road_id"])
    assert set(lamps["cabinet_id"]) == set(city.cabinets["cabinet_id"])
    assert set(roads["district_id"]) <= districts
    assert set(city.buildings["district_id"]) <= districts
    nodes = set(city.nodes["node_id"])
    assert set(roads["u"]) <= nodes and set(roads["v"]) <= nodes
    cabinet_sizes = lamps.groupby("cabinet_id").size()
    assert (city.cabinets.set_index("cabinet_id")["n_lamps"] == cabinet_sizes).all()


def test_lamps_stand_beside_their_road(city):
    """Each light point is on its own road's kerb: within half the width plus 1.5 m."""
    metric_roads = city.roads.set_index("road_id").to_crs(city.crs_metric)
    lamps = city.lamps.to_crs(city.crs_metric)
    surveyed = ~lamps["synthetic"].to_numpy()
    lines = metric_roads.geometry.loc[lamps["road_id"]].values
    distance = shapely.distance(lamps.geometry.values, lines)
    limit = metric_roads["width_m"].loc[lamps["road_id"]].to_numpy() / 2 + 1.5
    placed = ~surveyed
    assert (distance[placed] <= limit[placed]).all(), distance[placed].max()
    if surveyed.any():  # mapped lamps keep their surveyed position: near a road, not on it
        assert np.median(distance[surveyed]) < 30


def test_lamp_attributes_are_plausible(city):
    lamps = city.lamps
    assert set(lamps["technology"]) <= set(TECHNOLOGY_SHARES)
    assert lamps["power_w"].between(20, 400).all()
    assert lamps["mounting_height_m"].between(4, 20).all()
    assert lamps["install_year"].between(1980, 2026).all()
    assert lamps["feeder_id"].notna().all()


def test_roads_form_one_routable_network(city):
    graph = city.graph()
    assert graph.number_of_edges() == 2 * len(city.roads)  # both directions
    assert set(city.roads["road_class"]) <= set(ROAD_CLASSES)
    largest = max(len(c) for c in nx.weakly_connected_components(graph))
    assert largest / graph.number_of_nodes() >= 0.95


def test_buildings_have_heights_and_say_when_estimated(city):
    buildings = city.buildings
    assert (buildings["height_m"] > 0).all()
    assert buildings["levels"].ge(1).all()
    assert buildings["height_estimated"].dtype == bool


def test_lengths_are_metric_not_degrees(city):
    metric = city.roads.to_crs(city.crs_metric)
    np.testing.assert_allclose(city.roads["length_m"], metric.geometry.length, atol=0.01)


def test_casablanca_totals_match_the_city(casablanca):
    assert 130_000 <= len(casablanca.lamps) <= 150_000, "about 140,000 public light points"
    shares = casablanca.lamps["technology"].value_counts(normalize=True)
    assert shares["HPS"] > 0.6 and 0.05 < shares["LED"] < 0.35, "mostly sodium, some LED"
    assert len(casablanca.districts) == 17  # 16 arrondissements and Méchouar
    assert 3_000_000 < casablanca.districts["population"].sum() < 3_600_000
    assert casablanca.crs_metric == "EPSG:26191"
    assert casablanca.roads["synthetic"].all() and casablanca.lamps["synthetic"].all()
    assert not casablanca.districts["synthetic"].any()


def test_casablanca_coast_is_where_the_landmarks_are(casablanca):
    """The district limits were moved onto the real coast: landmarks lie on their edge."""
    land = casablanca.districts.to_crs(casablanca.crs_metric).union_all()
    for name, (lon, lat) in COASTAL_LANDMARKS.items():
        point = gpd.GeoSeries(shapely.points([(lon, lat)]), crs=4326).to_crs(casablanca.crs_metric)
        assert land.boundary.distance(point.iloc[0]) < 1_500, name

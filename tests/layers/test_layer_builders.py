import json

import numpy as np
import pytest
import shapely

from data.errors import LayerSpecError
from data.lighting.lamp_day import OK, lamp_day
from data.power.network import load_power_network
from data.traffic.network import traffic_network
from data.transit.network import load_transit
from data.water.network import load_water_network
from layers.catalog import LAYER_BUILDERS, build_layer
from layers.city.buildings import HEIGHT_CLASSES, height_colors
from layers.city.roads import CLASS_COLORS
from layers.codec import decode_field, pack_layer
from layers.lighting.lamps import TECHNOLOGY_COLORS
from tests.conftest import TELEMETRY_DAY


@pytest.fixture(scope="module")
def specs(city):
    return {layer_id: build_layer(city, layer_id, TELEMETRY_DAY) for layer_id in LAYER_BUILDERS}


def test_every_layer_has_one_row_per_feature(city, specs):
    faulty = int((lamp_day(city.name, TELEMETRY_DAY).state != OK).sum())
    water, power = load_water_network(city.name), load_power_network(city)
    rows = {
        "circuits": len(city.lamps),  # a span per lamp
        "lamp-faults": faulty,
        "water-dmas": len(water.dmas),
        "water-pipes": len(water.pipes),
        "water-nodes": len(water.junctions),
        "water-sources": len(water.sources),
        "power-lines": len(power.lines),
        "power-stations": len(power.substations) + len(power.transformers),
        "traffic": int(traffic_network(city).segments["road_ids"].map(len).sum()),
        "transit-lines": len(load_transit(city).lines),
        "transit-stops": len(load_transit(city).stops),
    }
    assert 0.01 * len(city.lamps) < faulty < 0.04 * len(city.lamps)
    for layer_id, spec in specs.items():
        assert spec.length == (rows.get(layer_id) or len(city.layer(layer_id))), layer_id
        assert spec.id == layer_id
        assert spec.legend, f"{layer_id} has no legend"
        assert spec.tooltip and spec.id_field in spec.fields


def test_unknown_layer_is_refused_by_name(city):
    with pytest.raises(LayerSpecError, match="unknown layer 'sewers'"):
        build_layer(city, "sewers")


def test_lamp_colours_follow_technology(city, specs):
    colors = specs["lamps"].attributes["getFillColor"]
    technology = city.lamps["technology"].to_numpy()
    for tech, color in TECHNOLOGY_COLORS.items():
        rows = technology == tech
        if rows.any():
            assert (colors[rows, :3] == np.array(color[:3], dtype=np.uint8)).all(), tech
    assert (colors[:, 3] == 255).all()


def test_lamp_positions_match_geometry(city, specs):
    positions = specs["lamps"].attributes["getPosition"]
    assert positions.dtype == np.float32 and positions.shape == (len(city.lamps), 2)
    expected = shapely.get_coordinates(city.lamps.geometry.values)
    # float32 at Casablanca's longitude/latitude resolves ~2e-6 degrees (~0.2 m).
    assert np.abs(positions - expected).max() < 5e-6


def test_road_paths_split_per_segment(city, specs):
    spec = specs["roads"]
    starts = spec.start_indices
    assert starts[0] == 0 and starts[-1] == len(spec.attributes["getPath"])
    assert (np.diff(starts.astype(np.int64)) >= 2).all(), "every road has at least two vertices"
    road_class = city.roads["road_class"].to_numpy()
    first = road_class[0]
    assert tuple(spec.attributes["getColor"][0][:3]) == CLASS_COLORS[first][:3]


def test_building_rings_are_closed_counter_clockwise(specs):
    spec = specs["buildings"]
    vertices = spec.attributes["getPolygon"].astype(np.float64)
    starts = spec.start_indices.astype(np.int64)
    for i in np.linspace(0, spec.length - 1, 50).astype(int):
        ring = vertices[starts[i] : starts[i + 1]]
        assert (ring[0] == ring[-1]).all()
        x, y = ring[:, 0], ring[:, 1]
        signed_area = 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])
        assert signed_area > 0, f"building {i} is not counter-clockwise"


def test_height_classes_colour_by_upper_bound():
    colors = height_colors(np.array([3.0, 7.0, 7.5, 60.0]))
    palette = [c for _, _, c in HEIGHT_CLASSES]
    assert [tuple(c[:3]) for c in colors] == [palette[0], palette[0], palette[1], palette[3]]


def test_deck_json_keeps_literals_literal(specs):
    lamps = specs["lamps"].deck_json()
    assert lamps["@@type"] == "ScatterplotLayer"
    assert lamps["radiusUnits"] == "meters"
    buildings = specs["buildings"].deck_json()
    assert buildings["_windingOrder"] == "CCW" and buildings["_normalize"] is False
    for spec in specs.values():
        for key, value in spec.deck_json().items():
            assert not (isinstance(value, str) and value.startswith("@@=")), (spec.id, key)


def test_packed_lamps_decode_to_the_bundle(city, specs):
    packed = pack_layer(specs["lamps"])
    manifest = packed.manifest
    assert manifest["byteLength"] == len(packed.blob)
    json.dumps(manifest)  # the manifest travels as JSON
    position = manifest["attributes"]["getPosition"]
    assert position["size"] == 2 and position["dtype"] == "float32"
    assert position["count"] == 2 * len(city.lamps)
    assert position["offset"] % 8 == 0
    ids = manifest["fields"]["lamp_id"]
    assert ids["kind"] == "sequence", "lamp ids should travel as prefix + uint32 numbers"
    assert decode_field(ids, packed.blob) == city.lamps["lamp_id"].tolist()
    tech = manifest["fields"]["technology"]
    assert tech["kind"] == "dictionary" and tech["dtype"] == "uint8"
    power = decode_field(manifest["fields"]["power_w"], packed.blob)
    assert power == city.lamps["power_w"].astype(int).tolist()


def test_packed_paths_expand_colours_per_vertex(specs):
    packed = pack_layer(specs["roads"])
    manifest = packed.manifest
    n_vertices = manifest["attributes"]["getPath"]["count"] // 2
    assert manifest["attributes"]["getColor"]["count"] == 4 * n_vertices
    assert manifest["attributes"]["getColor"]["normalized"] is True
    assert manifest["attributes"]["getWidth"]["count"] == n_vertices
    assert manifest["startIndices"]["count"] == specs["roads"].length + 1

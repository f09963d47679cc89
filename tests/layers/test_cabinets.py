"""Control cabinets and their modelled circuits: specs, spanning trees, colours, details."""

import itertools
import json

import networkx as nx
import numpy as np
import pytest

from data.errors import LayerSpecError
from data.lighting.physics import drawn_power_w
from layers.catalog import LAYER_BUILDERS
from layers.codec import decode_field, pack_layer
from layers.details import feature_details
from layers.lighting.cabinets import (
    FEEDER_PALETTE,
    cabinet_layer,
    circuit_layer,
    circuit_spans,
    feeder_colors,
    spanning_parents,
)


@pytest.fixture(scope="module")
def spans(city):
    return circuit_spans(city)


@pytest.fixture(scope="module")
def cabinets_spec(city):
    return cabinet_layer(city)


@pytest.fixture(scope="module")
def circuits_spec(city):
    return circuit_layer(city)


@pytest.fixture(scope="module")
def metric_xy(city):
    """Cabinets then lamps, in the city's metric CRS (metres)."""
    points = [city.cabinets.geometry.to_crs(city.crs_metric)]
    points.append(city.lamps.geometry.to_crs(city.crs_metric))
    return np.concatenate([np.column_stack([p.x, p.y]) for p in points])


def test_catalog_draws_circuits_and_cabinets_below_lamps():
    order = list(LAYER_BUILDERS)
    assert order.index("circuits") < order.index("cabinets") < order.index("lamps")


def test_cabinet_spec_packs_one_row_per_cabinet(city, cabinets_spec):
    packed = pack_layer(cabinets_spec)
    manifest = packed.manifest
    json.dumps(manifest)
    n = len(city.cabinets)
    assert manifest["length"] == n and manifest["visible"] is False
    assert manifest["deck"]["@@type"] == "ScatterplotLayer"
    assert manifest["deck"]["radiusUnits"] == "meters" and manifest["deck"]["stroked"] is True
    assert manifest["attributes"]["getPosition"]["count"] == 2 * n
    fill = manifest["attributes"]["getFillColor"]
    assert fill["count"] == 4 * n and fill["dtype"] == "uint8" and fill["normalized"] is True
    ids = decode_field(manifest["fields"]["cabinet_id"], packed.blob)
    assert ids == city.cabinets["cabinet_id"].tolist()
    assert cabinets_spec.id_field == "cabinet_id" and len(cabinets_spec.legend) == 1


def test_circuit_spec_packs_one_span_per_lamp(city, circuits_spec):
    packed = pack_layer(circuits_spec)
    manifest = packed.manifest
    json.dumps(manifest)
    n = len(city.lamps)
    assert manifest["length"] == n and manifest["visible"] is False
    assert manifest["deck"]["@@type"] == "LineLayer"
    for name in ("getSourcePosition", "getTargetPosition"):
        d = manifest["attributes"][name]
        assert (d["dtype"], d["size"], d["count"]) == ("float32", 2, 2 * n), name
        assert "normalized" not in d
    color = manifest["attributes"]["getColor"]
    assert (color["dtype"], color["size"], color["normalized"]) == ("uint8", 4, True)
    assert manifest["byteLength"] == len(packed.blob)


def test_every_lamp_hangs_from_its_own_cabinet(city, spans):
    n_cabinets = len(city.cabinets)
    cabinet_of_lamp = city.cabinets["cabinet_id"].to_numpy()[spans.cabinet_row]
    assert (cabinet_of_lamp == city.lamps["cabinet_id"].to_numpy()).all()
    # One span per lamp: a tree over k lamps + 1 cabinet has k edges.
    assert len(spans.upstream) == len(spans.length_m) == len(city.lamps)
    upstream_lamp = spans.upstream >= n_cabinets
    upstream_cabinet = np.where(
        upstream_lamp,
        spans.cabinet_row[np.where(upstream_lamp, spans.upstream - n_cabinets, 0)],
        spans.upstream,
    )
    assert (upstream_cabinet == spans.cabinet_row).all(), "a span joins two cabinets' points"
    # Walking upstream from every lamp reaches its cabinet (no cycles, nothing left over).
    node = spans.upstream.copy()
    for _ in range(len(city.lamps)):
        on_lamp = node >= n_cabinets
        if not on_lamp.any():
            break
        node[on_lamp] = spans.upstream[node[on_lamp] - n_cabinets]
    assert (node == spans.cabinet_row).all()


def test_cable_per_cabinet_sums_its_spans_and_reaches_its_farthest_lamp(city, spans, metric_xy):
    n_cabinets = len(city.cabinets)
    lamp_xy = metric_xy[n_cabinets:]
    assert np.allclose(
        spans.length_m, np.hypot(*(lamp_xy - metric_xy[spans.upstream]).T), atol=1e-6
    )
    per_cabinet = np.bincount(spans.cabinet_row, spans.length_m, minlength=n_cabinets)
    assert np.allclose(spans.cable_m, per_cabinet)
    reach = np.hypot(*(lamp_xy - metric_xy[spans.cabinet_row]).T)
    farthest = np.zeros(n_cabinets)
    np.maximum.at(farthest, spans.cabinet_row, reach)
    assert (spans.cable_m >= farthest - 1e-6).all()


def test_trees_are_minimal_like_networkx(city, spans, metric_xy):
    # An independent route to the same number: networkx's MST of the complete graph.
    n_cabinets = len(city.cabinets)
    rows = [*np.linspace(0, n_cabinets - 1, 6).astype(int), int(city.cabinets["n_lamps"].argmax())]
    for row in rows:
        points = np.r_[row, n_cabinets + np.flatnonzero(spans.cabinet_row == row)]
        graph = nx.Graph()
        graph.add_nodes_from(range(len(points)))
        for i, j in itertools.combinations(range(len(points)), 2):
            length = float(np.hypot(*(metric_xy[points[i]] - metric_xy[points[j]])))
            graph.add_edge(i, j, weight=length)
        expected = nx.minimum_spanning_tree(graph).size(weight="weight")
        assert spans.cable_m[row] == pytest.approx(expected, rel=1e-9), row


def test_collinear_lamps_give_the_analytic_tree():
    # Cabinet at x=0; lamps at 30, 65 and -20 m on one line: spans 30 + 35 + 20 = 85 m.
    xy = np.array([[0.0, 0.0], [30.0, 0.0], [65.0, 0.0], [-20.0, 0.0]])
    parents = spanning_parents(xy, np.zeros(4, int), np.array([True, False, False, False]))
    assert parents.tolist() == [-1, 0, 1, 0]
    lengths = np.hypot(*(xy[1:] - xy[parents[1:]]).T)
    assert lengths.sum() == pytest.approx(85.0)


def test_separate_groups_and_coincident_points_stay_apart_and_connected():
    xy = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [9.0, 9.0]])
    group = np.array(["b", "a", "a", "b", "b", "c"])
    root = np.array([False, True, False, True, False, True])
    parents = spanning_parents(xy, group, root)
    assert parents.tolist() == [3, -1, 1, -1, 3, -1]


def test_a_group_needs_exactly_one_root():
    with pytest.raises(LayerSpecError, match="group 'b' has 0 roots"):
        spanning_parents(np.zeros((3, 2)), np.array(["a", "b", "a"]), np.array([1, 0, 0], bool))


def test_feeder_colours_match_between_cabinets_and_their_circuits(
    city, spans, cabinets_spec, circuits_spec
):
    table = feeder_colors(city)
    assert set(table.values()) <= set(FEEDER_PALETTE)
    cabinet_rgb = cabinets_spec.attributes["getFillColor"][:, :3]
    expected = np.array([table[f] for f in city.cabinets["feeder_id"]], dtype=np.uint8)
    assert (cabinet_rgb == expected).all()
    circuit_rgb = circuits_spec.attributes["getColor"][:, :3]
    assert (circuit_rgb == cabinet_rgb[spans.cabinet_row]).all()
    assert feeder_colors(city) == table  # deterministic


def test_cabinet_tooltip_fields_add_up(city, spans, cabinets_spec):
    fields = cabinets_spec.fields
    assert np.asarray(fields["n_lamps"]).sum() == len(city.lamps)
    assert np.asarray(fields["load_kw"]).sum() == pytest.approx(
        drawn_power_w(city.lamps).sum() / 1000, rel=1e-3
    )
    assert np.allclose(fields["cable_m"], spans.cable_m, atol=0.5)
    for name in ("cabinet_id", "feeder_id", "n_lamps", "load_kw", "cable_m"):
        assert "{" + name + "}" in cabinets_spec.tooltip


def test_cabinet_details_list_its_lamp_count(city):
    row = city.cabinets.iloc[0]
    details = dict(feature_details(city, "cabinets", row["cabinet_id"]))
    assert details["Control cabinet"] == row["cabinet_id"]
    assert details["Light points"] == str(int(row["n_lamps"]))
    assert details["Feeder"] == row["feeder_id"]

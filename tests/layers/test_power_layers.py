"""Electricity network layers built from the embedded city's stored network (no mocks)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely

from data.power.network import TRANSFORMER_LOADING, load_power_network
from layers.codec import decode_field, pack_layer
from layers.power.network import (
    DISK_RESOLUTION,
    LOADING_CLASSES,
    SUBSTATION_COLOR,
    SUBSTATION_RADIUS_M,
    TIE_COLOR,
    TIE_WIDTH_M,
    TRANSFORMER_RADIUS_M,
    WIDTH_PER_CABLE_M,
    feeder_layer,
    loading_colors,
    peak_line_loading,
    station_layer,
)

CLASS_COLOR = {label: (*color, 255) for _, label, color in LOADING_CLASSES}


@pytest.fixture(scope="module")
def net(city):
    return load_power_network(city)


@pytest.fixture(scope="module")
def lines(city):
    return feeder_layer(city)


@pytest.fixture(scope="module")
def stations(city):
    return station_layer(city)


@pytest.mark.parametrize("which", ["lines", "stations"])
def test_specs_pack_and_start_hidden(request, which):
    spec = request.getfixturevalue(which)
    assert spec.id == {"lines": "power-lines", "stations": "power-stations"}[which]
    assert spec.visible is False
    assert spec.id_field in spec.fields
    assert set(re.findall(r"\{(\w+)\}", spec.tooltip)) <= set(spec.fields)
    packed = pack_layer(spec)
    json.dumps(packed.manifest)
    assert packed.manifest["byteLength"] == len(packed.blob)
    ids = decode_field(packed.manifest["fields"][spec.id_field], packed.blob)
    assert ids == list(spec.fields[spec.id_field]) and len(set(ids)) == spec.length
    for key, value in spec.deck_json().items():
        assert not (isinstance(value, str) and value.startswith("@@=")), key


def test_legends_carry_units(lines, stations):
    assert "%" in lines.legend_title and " m " in lines.legend_title
    assert "% of rated kVA" in stations.legend_title and "kVA" in stations.legend_title
    for spec, extra in ((lines, "normally-open tie"), (stations, "substation")):
        labels = [entry.label for entry in spec.legend]
        assert labels[-1].startswith(extra) or extra in labels[-1]
        assert all("%" in label for label in labels[:-1])
        assert len(labels) == len(LOADING_CLASSES) + 1
    assert "MVA" in stations.legend[-1].label


def test_loading_classes_take_the_upper_bound_into_the_lower_class():
    colors = loading_colors(np.array([10.0, 40.0, 45.0, 85.0, 100.0, 120.0, np.nan]))
    labels = ["under 40 %", "under 40 %", "40–60 %", "80–100 %", "80–100 %"]
    expected = [CLASS_COLOR[label] for label in labels]
    assert [tuple(c) for c in colors[:5]] == expected
    assert tuple(colors[5]) == CLASS_COLOR["over 100 % (overloaded)"]
    assert tuple(colors[6]) != tuple(colors[0])  # no result: not mistaken for lightly loaded


def test_line_colours_follow_peak_loading_and_ties_are_grey(city, net, lines):
    tie = lines.fields["normally_open"]
    assert (tie == net.lines["normally_open"].to_numpy()).all() and tie.any()
    colors = lines.attributes["getColor"]
    assert (colors[tie] == np.array(TIE_COLOR, dtype=np.uint8)).all()
    assert (lines.fields["loading_pct"][tie] == 0).all()
    flow = peak_line_loading(city).reindex(lines.fields["line_id"][~tie])
    assert np.allclose(lines.fields["loading_pct"][~tie], flow, atol=0.051)
    assert (colors[~tie] == loading_colors(flow.round(1).to_numpy())).all()
    assert not (colors[~tie] == np.array(TIE_COLOR, dtype=np.uint8)).all(axis=1).any()
    assert len({tuple(c) for c in colors[~tie]}) >= 2  # the load flow spreads over classes


def test_line_width_grows_with_parallel_cables(net, lines):
    width = lines.attributes["getWidth"]
    tie = lines.fields["normally_open"]
    assert (width[tie] == TIE_WIDTH_M).all()
    assert (width[~tie] == WIDTH_PER_CABLE_M * net.lines["n_parallel"].to_numpy()[~tie]).all()
    assert lines.deck_json()["widthMinPixels"] == 1.5
    assert lines.start_indices[-1] == len(lines.attributes["getPath"])


def test_every_station_appears_once(net, stations):
    ids = list(stations.fields["station_id"])
    expected = [*net.substations["substation_id"], *net.transformers["transformer_id"]]
    assert ids == expected
    kind = np.asarray(stations.fields["kind"])
    assert (kind == "substation").sum() == len(net.substations)
    tr = kind == "transformer"
    assert (stations.fields["n_customers"][~tr].sum()) == net.transformers["n_customers"].sum()
    assert (np.asarray(stations.fields["feeder_id"])[tr] == net.transformers["feeder_id"]).all()


def test_columns_stand_on_their_stations_and_grow_with_capacity(net, stations):
    starts = stations.start_indices.astype(np.int64)
    assert (np.diff(starts) == DISK_RESOLUTION + 1).all()  # closed 12-gons
    rings = stations.attributes["getPolygon"].astype(float).reshape(-1, DISK_RESOLUTION + 1, 2)
    centres = rings[:, :-1].mean(axis=1)
    points = np.concatenate(
        [shapely.get_coordinates(f.geometry.values) for f in (net.substations, net.transformers)]
    )
    assert np.abs(centres - points).max() < 1e-5
    kind = np.asarray(stations.fields["kind"])
    radius_deg = np.abs(rings[:, :-1, 1] - centres[:, None, 1]).max(axis=1)
    radius_m = radius_deg * 110_900  # metres per degree of latitude at 33.6 N
    expected = np.where(kind == "substation", SUBSTATION_RADIUS_M, TRANSFORMER_RADIUS_M)
    assert np.allclose(radius_m, expected, rtol=0.03)
    elevation = stations.attributes["getElevation"]
    capacity = stations.fields["capacity_kva"].to_numpy()
    for k in ("substation", "transformer"):
        rows = kind == k
        order = np.argsort(capacity[rows], kind="stable")
        assert (np.diff(elevation[rows][order]) >= 0).all(), k
        assert elevation[rows].min() > 0
    bigger = capacity[kind == "transformer"] == capacity[kind == "transformer"].max()
    assert elevation[kind == "transformer"][bigger].min() > elevation[kind == "transformer"].min()


def test_station_colours_follow_utilisation(stations):
    kind = np.asarray(stations.fields["kind"])
    colors = stations.attributes["getFillColor"]
    assert (colors[kind == "substation"] == np.array((*SUBSTATION_COLOR, 255))).all()
    tr = kind == "transformer"
    use = stations.fields["utilisation_pct"].to_numpy()
    assert (colors[tr] == loading_colors(use[tr])).all()
    # transformers are sized to carry their peak at the design loading: never above it
    assert use[tr].max() <= TRANSFORMER_LOADING * 100 + 0.05

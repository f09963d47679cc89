"""Water layers: classes with units, fixed colours for valves, DMA flows that balance."""

import numpy as np
import pytest

from data.water.network import load_water_network
from layers.codec import decode_field, pack_layer
from layers.geometry import line_vertices
from layers.water.network import (
    AGE_BREAKS,
    AGE_COLORS,
    CLOSED_COLOR,
    PRV_COLOR,
    VELOCITY_BREAKS,
    class_legend,
    classify,
    dma_flows,
    packed_pipe_colors,
    pipe_layer,
    source_layer,
)
from simulation.water.hydraulics import baseline_day


def test_classes_put_bounds_in_the_lower_class_and_label_units():
    colors = classify(np.array([0.05, 0.1, 0.11, 99.0]), VELOCITY_BREAKS)
    legend = class_legend(VELOCITY_BREAKS, "m/s")
    assert [list(c) for c in colors[:2]] == [legend[0]["color"]] * 2
    assert list(colors[2]) == legend[1]["color"] and list(colors[3]) == legend[-1]["color"]
    assert legend[0]["label"] == "under 0.1 m/s" and legend[-1]["label"] == "1.5 m/s and over"
    assert all("m/s" in row["label"] for row in legend)


def test_every_pipe_colour_mode_covers_every_vertex_and_fixes_valve_colours(city):
    net = load_water_network(city.name)
    packed = packed_pipe_colors(city.name)
    vertices, starts = line_vertices(net.pipes)
    first_vertex = starts[:-1]
    prv = (net.pipes["role"] == "inlet").to_numpy()
    closed = (net.pipes["status"] == "closed").to_numpy()
    assert set(packed.manifest["modes"]) == {"velocity", "flow", "pressure", "age"}
    for name, mode in packed.manifest["modes"].items():
        colors = np.frombuffer(
            packed.blob, np.uint8, mode["color"]["count"], mode["color"]["offset"]
        ).reshape(-1, 4)
        assert len(colors) == len(vertices), name
        assert (colors[first_vertex[prv], :3] == PRV_COLOR).all(), name
        assert (colors[first_vertex[closed], :3] == CLOSED_COLOR).all(), name
        assert any("PRV" in row["label"] for row in mode["legend"])
    age = packed.manifest["modes"]["age"]
    colors = np.frombuffer(packed.blob, np.uint8, age["color"]["count"], age["color"]["offset"])
    colors = colors.reshape(-1, 4)[first_vertex]
    plain = ~prv & ~closed
    old = plain & (net.pipes["install_year"].to_numpy() < AGE_BREAKS[0])
    assert old.any()
    # "before 1975" is the first class: its colour is the first age colour
    assert (colors[old, :3] == AGE_COLORS[0]).all()
    assert age["legend"][0]["label"].startswith("before 1975")


def test_dma_inflows_add_up_to_what_the_reservoirs_send(city):
    """Two routes to the water produced: nodal demand + leakage per DMA, and the flow in the
    reservoirs' outlet mains (link flows from EPANET)."""
    day = baseline_day(city.name)
    flows = dma_flows(city)
    mains = [c for c in day.flow_m3h.columns if c.startswith("RES-")]
    sent = day.flow_m3h[mains].to_numpy().sum()
    assert flows["inflow_m3_day"].sum() == pytest.approx(sent, rel=0.005)
    # the minimum hour is at most the mean one (equal where a DMA only leaks)
    assert (flows["night_flow_m3h"] * 24 <= flows["inflow_m3_day"] * 1.0001).all()
    assert (flows["night_flow_m3h"] * 24 < 0.8 * flows["inflow_m3_day"]).mean() > 0.9
    share = flows["leakage_share"]
    assert 0.15 < share.median() < 0.4  # around the city's 27.7 % losses


def test_pipe_tooltips_carry_units_and_the_peak_hour(city):
    spec = pipe_layer(city)
    assert "L/s" in spec.tooltip and "m/s" in spec.tooltip and "mm" in spec.tooltip
    assert spec.id_field == "link_id" and not spec.visible
    ids = decode_field(pack_layer(spec).manifest["fields"]["link_id"], pack_layer(spec).blob)
    assert ids[:3] == list(load_water_network(city.name).pipes["link_id"][:3])


def test_reservoir_columns_stand_as_high_as_their_water_level(city):
    net = load_water_network(city.name)
    spec = source_layer(city)
    heights = spec.attributes["getElevation"]
    expected = net.sources["head_m"].to_numpy() - net.sources["elevation_m"].to_numpy()
    assert np.allclose(heights, expected) and (heights > 0).all()
    balance = baseline_day(city.name).balance
    assert float(np.sum(spec.fields["outflow_m3_day"])) == pytest.approx(
        balance["produced_m3"], rel=0.005
    )
    assert "m³/day" in spec.tooltip

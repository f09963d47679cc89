"""Colouring the light points: every mode one RGBA per lamp, faults drawn apart, lamp card."""

import numpy as np
import pytest

from data.errors import MadinaError
from data.lighting.lamp_day import LAMP_STATES, OK, OUT, lamp_day
from layers.catalog import build_layer
from layers.codec import pack_layer
from layers.details import feature_details, lamp_day_rows
from layers.lighting.colors import STATE_COLORS, color_modes, packed_lamp_colors, wattage_colors
from tests.conftest import TELEMETRY_DAY


@pytest.fixture(scope="module")
def today(city_name):
    return lamp_day(city_name, TELEMETRY_DAY)


def test_every_mode_colours_every_lamp_with_a_legend_entry_for_each_colour(city, today):
    packed = packed_lamp_colors(city.name, TELEMETRY_DAY)
    assert set(packed.manifest["modes"]) == {"technology", "wattage", "state", "energy"}
    for name, mode in packed.manifest["modes"].items():
        d = mode["color"]
        colors = np.frombuffer(packed.blob, np.uint8, d["count"], d["offset"]).reshape(-1, 4)
        assert len(colors) == len(city.lamps), name
        legend = {tuple(e["color"]) for e in mode["legend"]}
        assert {tuple(c) for c in np.unique(colors, axis=0)} <= legend, name
    assert packed.manifest["dimming"]["legend"][-1]["label"] == "off (daylight)"


def test_faulty_lamps_get_the_fault_colours_and_counts(city, today):
    state = color_modes(city, today)["state"]
    out = today.state == OUT
    assert (state.colors[out, :3] == STATE_COLORS["out"]).all()
    assert (state.colors[today.state == OK, :3] == STATE_COLORS["ok"]).all()
    assert f"{int(out.sum()):,}" in state.legend[1]["label"]


def test_wattage_classes_have_round_bounds():
    colors, legend = wattage_colors(np.array([40, 50, 51, 250, 400]))
    assert [e["label"] for e in legend][:2] == ["0-50 W", "51-80 W"]
    assert (colors[0] == colors[1]).all() and not (colors[1] == colors[2]).all()
    assert legend[-1]["label"] == "over 200 W" and (colors[3] == colors[4]).all()


def test_fault_layer_holds_exactly_the_faulty_lamps(city, today):
    spec = build_layer(city, "lamp-faults", TELEMETRY_DAY)
    faulty = city.lamps["lamp_id"].to_numpy()[today.state != OK]
    assert list(spec.fields["lamp_id"]) == list(faulty)
    assert spec.length == len(faulty) and pack_layer(spec).manifest["length"] == len(faulty)
    out_rows = spec.fields["fault"] == "Out while dark (failed lamp, fuse or cable)"
    assert (spec.fields["hours_out"][out_rows] > 0).all()


def test_lamp_card_rows_say_what_the_meter_saw(city, today):
    out_lamp = city.lamps["lamp_id"].iloc[int(np.flatnonzero(today.state == OUT)[0])]
    rows = dict(lamp_day_rows(city, today, out_lamp))
    assert rows[f"State on {TELEMETRY_DAY}"] == "OUT while dark"
    assert rows["Dark but off"].endswith(" h") and rows["Dark but off"] != "0.0 h"
    installed = int(city.lamps.set_index("lamp_id").loc[out_lamp, "install_year"])
    assert rows["Age"] == f"{2026 - installed} years"
    assert LAMP_STATES[OUT] == "out"
    # a click on a fault marker or a circuit shows its lamp's or cabinet's details
    assert dict(feature_details(city, "lamp-faults", out_lamp))["Lamp"] == out_lamp
    cabinet = city.cabinets["cabinet_id"].iloc[0]
    assert dict(feature_details(city, "circuits", cabinet))["Control cabinet"] == cabinet
    with pytest.raises(MadinaError, match="CAS-L999999"):
        lamp_day_rows(city, today, "CAS-L999999")

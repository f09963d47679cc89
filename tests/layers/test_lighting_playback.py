"""A scenario's time-lapse hexagons: coarser resolutions keep the sums, lamps carry groups."""

import numpy as np
import pytest

from data.errors import LayerSpecError
from layers.codec import decode_field
from layers.lighting.playback import pack_playback, scenario_frames
from simulation.lighting.plans import PRESETS


@pytest.fixture(scope="module")
def frames(city_name):
    return scenario_frames(city_name, PRESETS["led-motion"], 2026, "day", "2026-12-21")


def _column(blob, d):
    return np.frombuffer(blob, dtype=np.dtype(d["dtype"]), count=d["count"], offset=d["offset"])


def test_every_resolution_sums_to_the_same_city_total_per_frame(frames):
    packed = pack_playback(frames, "energy_kwh", time_zone="Africa/Casablanca")
    m = packed.manifest
    assert m["kind"] == "scenario" and m["countLabel"] == "light points"
    assert m["byteLength"] == len(packed.blob) and len(m["times"]) == 24
    totals = frames["energy_total_kwh"].to_numpy()
    for res, r in m["resolutions"].items():
        values = _column(packed.blob, r["values"]).reshape(24, len(r["cells"]))
        counts = _column(packed.blob, r["counts"]).reshape(24, len(r["cells"]))
        np.testing.assert_allclose(values.sum(axis=1), totals, rtol=1e-4, err_msg=f"res {res}")
        assert counts[0].sum() == len(frames["lamp_group"])  # every lamp in one cell
        assert len(r["breaks"]) == len(r["legend"]) and "kWh" in r["legend"][0]["label"]
    assert list(m["resolutions"]) == ["7", "8", "9"]


def test_lamps_carry_their_dimming_group_and_levels_per_frame(frames):
    m = pack_playback(frames, "saved_kwh", time_zone="Africa/Casablanca")
    groups = decode_field({**m.manifest["lampGroups"], "kind": "number"}, m.blob)
    assert len(groups) == frames.sizes["lamp"]
    assert m.manifest["groups"] == ["unmanaged", "scheduled", "motion:residential"]
    assert set(groups) == {1, 2}  # every lamp is LED and managed in this plan
    levels = np.array(m.manifest["levels"])
    assert levels.shape == (24, 3) and levels[3, 1] == pytest.approx(0.2)


def test_an_unknown_variable_is_refused_by_name(frames):
    with pytest.raises(LayerSpecError, match="unknown scenario variable 'lux'"):
        pack_playback(frames, "lux", time_zone="UTC")

"""Telemetry hexagons: the columns the browser gets are the cube's, at every resolution."""

import datetime as dt

import h3
import numpy as np
import pytest

from data.errors import LayerSpecError, MadinaError
from data.telemetry.day_cube import day_cubes, day_period, default_day
from data.telemetry.sensors import VARIABLES
from layers.hexagons import DISPLAY, PALETTE, pack_hexagons, packed_hexagons, variable_options

DAY = "2026-11-23"


@pytest.fixture(scope="module")
def cubes(city_name):
    return day_cubes(city_name, DAY)


def _column(packed, descriptor, dtype):
    return np.frombuffer(packed.blob, dtype, count=descriptor["count"], offset=descriptor["offset"])


def test_every_cube_variable_has_a_map_display_with_units():
    assert set(DISPLAY) == set(VARIABLES)
    labels = [o["label"] for o in variable_options()]
    assert "Mean vehicle speed (km/h)" in labels and "Light points switched on (%)" in labels


def test_the_day_is_local_and_totals_agree_across_resolutions(cubes):
    period = day_period("casablanca", DAY)
    assert str(period.start) == "2026-11-22 23:00:00"  # local midnight, UTC+1
    late = dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC)  # 00:30 on the 25th in Casablanca
    assert default_day("casablanca", late) == "2026-11-24"
    with pytest.raises(MadinaError, match="bad telemetry day 'monday'"):
        day_period("casablanca", "monday")
    totals = {res: float(np.nansum(cube["vehicles"])) for res, cube in cubes.items()}
    assert len(set(np.round(list(totals.values())))) == 1, totals
    assert totals[10] > 0
    sizes = [cubes[r].sizes["cell"] for r in (7, 8, 9, 10)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


@pytest.mark.parametrize("variable", ["power_w", "lamp_on", "vehicles", "pressure_bar"])
def test_packed_columns_are_the_cube_values_in_display_units(cubes, variable):
    packed = pack_hexagons(cubes, variable, "Africa/Casablanca")
    manifest = packed.manifest
    assert manifest["byteLength"] == len(packed.blob)
    assert manifest["times"][20] == "Mon 23 Nov 2026 20:00"  # hour 19 UTC shown in local time
    scale = DISPLAY[variable].scale
    for res, part in manifest["resolutions"].items():
        cube = cubes[int(res)]
        cells = np.array([h3.str_to_int(c) for c in part["cells"]], np.uint64)
        assert all(h3.get_resolution(c) == int(res) for c in part["cells"][:50])
        values = _column(packed, part["values"], np.float32).reshape(24, len(cells))
        counts = _column(packed, part["counts"], np.uint32).reshape(24, len(cells))
        expected = cube[variable].sel(cell=cells).to_numpy() * scale
        np.testing.assert_allclose(values, expected, rtol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(counts, cube[f"{variable}_count"].sel(cell=cells))
        assert counts.sum(axis=0).min() > 0  # only cells the fleet reports in are sent
        breaks = part["breaks"]
        assert breaks == sorted(breaks) and breaks[-1] == pytest.approx(np.nanmax(values))
        assert len(part["legend"]) == len(breaks)
        assert all(e["label"].endswith(DISPLAY[variable].unit) for e in part["legend"])
        assert tuple(part["legend"][-1]["color"][:3]) == PALETTE[-1]


def test_lamps_are_on_at_night_and_off_at_noon(cubes, city_name):
    packed = packed_hexagons(city_name, DAY, "lamp_on")
    part = packed.manifest["resolutions"]["7"]
    share = _column(packed, part["values"], np.float32).reshape(24, -1)
    assert np.nanmean(share[22]) > 90  # 22:00 local: lit (a few % faulty)
    assert np.nanmean(share[12]) < 5  # noon: off but for lamps stuck on


def test_unknown_variable_is_refused_by_name(cubes, city_name):
    with pytest.raises(LayerSpecError, match="unknown cube variable 'humidity'"):
        pack_hexagons(cubes, "humidity", "UTC")
    with pytest.raises(LayerSpecError, match="unknown cube variable 'humidity'"):
        packed_hexagons(city_name, DAY, "humidity")

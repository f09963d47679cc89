"""Suppression by who reported: a meter silent in an hour hides no one in that hour's value.

Crafted registries (`tests.data.test_privacy`) whose meters fall silent in chosen hours go
through the real `CubeBuilder` and `ReportingTally`; each hour's public views must show no
value from fewer than k reporting meters, and must still nest.
"""

import numpy as np
import pandas as pd
import pytest
from h3.api import basic_int as h3i

from data.telemetry.cube import CUBE_RESOLUTIONS, CubeBuilder
from data.telemetry.privacy import PrivacyError, contributors, suppressed_by_bucket, suppressed_cube
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.reporting import ReportingTally
from data.telemetry.sensors import Sensors, sensors_for
from tests.data.test_privacy import CENTRE, _ancestry, _children, registry

START = pd.Timestamp("2026-11-23")
HOURS = 2
K = 10


def readings(sensors: Sensors, silent: dict[int, set[int]], loud: dict[int, float]) -> Readings:
    """One power reading per lamp meter and hour, 100 W, but NaN for ``silent[hour]`` rows.

    ``loud``: rows whose readings are that value instead (a household's distinctive draw).
    """
    rows = sensors.of_kind("lamp")
    parts = []
    for hour in range(HOURS):
        value = np.full(len(rows), 100.0, np.float32)
        for row, watts in loud.items():
            value[np.searchsorted(rows, row)] = watts
        for row in silent.get(hour, ()):
            value[np.searchsorted(rows, row)] = np.nan
        time = np.full(len(rows), (START + pd.Timedelta(hours=hour)).to_datetime64())
        code = np.full(len(rows), VARIABLE_NAMES.index("power_w"), np.int8)
        parts.append(Readings(rows.astype(np.int32), time, code, value))
    return Readings.concat(parts)


def build(sensors: Sensors, batch: Readings):
    end = START + pd.Timedelta(hours=HOURS)
    cube = CubeBuilder(sensors, START, end, freq="1h", res=10, variables=["power_w"])
    tally = ReportingTally(sensors, START, end, freq="1h", variables=["power_w"])
    return cube.add(batch).dataset(), tally.add(batch).dataset()


@pytest.fixture(scope="module")
def quiet_hour():
    """12 meters in cell b and 20 in cell g (one res-8 cell), 30 in cell z of another.

    In hour 1 eleven of b's meters are silent: the twelfth, drawing a distinctive 777 W, is
    the only one behind b's value that hour, though b has 12 registered meters.
    """
    a8, c8 = _children(CENTRE, 8)[:2]
    b9, g9 = _children(a8, 9)[:2]
    cells = {
        "b": _children(b9, 10)[0],
        "g": _children(g9, 10)[0],
        "z": _children(_children(c8, 9)[0], 10)[0],
    }
    sensors = registry({cells["b"]: 12, cells["g"]: 20, cells["z"]: 30})
    in_b = np.flatnonzero(
        (sensors.table["cell"].to_numpy() == cells["b"]) & (sensors.table["kind"] == "lamp")
    )
    batch = readings(sensors, silent={1: set(in_b[1:])}, loud={int(in_b[0]): 777.0})
    cube, tally = build(sensors, batch)
    return {**cells, "a8": a8, "b9": b9}, sensors, cube, tally


def shown(view, t: int) -> dict[int, float]:
    """Cell -> value of the cells a view shows in bucket ``t``."""
    values = view["power_w"].isel(time=t).to_numpy()
    cells = view["cell"].to_numpy()
    return {int(c): float(v) for c, v in zip(cells, values, strict=True) if not np.isnan(v)}


def test_the_tally_counts_distinct_meters_that_gave_a_value(quiet_hour):
    cells, sensors, _, tally = quiet_hour
    counts = tally["power_w"].to_series().unstack("cell")
    assert counts[cells["b"]].tolist() == [12, 1]
    assert counts[cells["g"]].tolist() == [20, 20]
    twice = readings(sensors, {}, {})  # every meter twice in each hour still counts once
    end = START + pd.Timedelta(hours=HOURS)
    again = ReportingTally(sensors, START, end, variables=["power_w"]).add(twice).add(twice)
    assert again.dataset()["power_w"].sum().item() == 62 * HOURS
    late = Readings(twice.sensor, twice.time + np.timedelta64(5, "h"), twice.variable, twice.value)
    outside = ReportingTally(sensors, START, end, variables=["power_w"]).add(late)
    assert outside.dataset()["power_w"].sum().item() == 0


def test_a_meter_alone_in_its_hour_is_merged_not_published(quiet_hour):
    cells, sensors, cube, tally = quiet_hour
    static = suppressed_cube(cube, contributors(sensors, "lamp"), 10, k=K)
    assert shown(static, 1)[cells["b"]] == 777.0  # counting registered meters leaks it
    views = suppressed_by_bucket(cube, tally, "lamp", k=K)
    for res, view in views.items():
        assert 777.0 not in shown(view, 1).values()
        mean_b = pytest.approx((777 + 11 * 100) / 12)  # hour 0: all twelve reported
        assert shown(view, 0).get(cells["b"]) == (mean_b if res == 10 else None)
        sensors_behind = view["power_w_sensors"].to_numpy()
        values = view["power_w"].to_numpy()
        assert (sensors_behind[~np.isnan(values)] >= K).all()
        assert (view["power_w_count"].to_numpy()[np.isnan(values)] == 0).all()
    # hour 1 at res 10: b's lone meter is in a8 with g's 20 (the mean of 21 meters)
    view = views[10]
    hour1 = shown(view, 1)
    assert cells["b"] not in hour1 and cells["b9"] not in hour1
    assert hour1[cells["a8"]] == pytest.approx((777 + 20 * 100) / 21)
    assert cells["g"] not in hour1  # a8 is not split while one of its children is too small
    assert cells["g"] in shown(view, 0)
    at = list(view["cell"].to_numpy()).index(cells["a8"])
    assert view["power_w_sensors"].isel(time=1, cell=at).item() == 21


def test_each_hours_views_nest_and_add_up(quiet_hour):
    _, _, cube, tally = quiet_hour
    views = suppressed_by_bucket(cube, tally, "lamp", k=K)
    assert sorted(views) == list(CUBE_RESOLUTIONS)
    for t in range(HOURS):
        totals = {r: int(v["power_w_count"].isel(time=t).sum()) for r, v in views.items()}
        assert len(set(totals.values())) == 1  # the same readings in every view
        for r in CUBE_RESOLUTIONS[:-1]:
            coarse = set(shown(views[r], t))
            for fine in shown(views[r + 1], t):
                assert len(coarse.intersection(_ancestry(fine))) == 1


def test_a_tally_that_does_not_fit_the_cube_is_refused(quiet_hour):
    _, _, cube, tally = quiet_hour
    with pytest.raises(PrivacyError, match="no reporting tally for"):
        suppressed_by_bucket(cube, tally.drop_vars("power_w"), "lamp", k=K)
    shifted = tally.assign_coords(time=tally["time"] + np.timedelta64(1, "h"))
    with pytest.raises(PrivacyError, match="different time buckets"):
        suppressed_by_bucket(cube, shifted, "lamp", k=K)
    with pytest.raises(PrivacyError, match="k .* must be an integer >= 1"):
        suppressed_by_bucket(cube, tally, "lamp", k=0)


def test_the_real_citys_public_hexagons_count_who_reported(city_name):
    from data.telemetry.day_cube import day_cubes, day_reporting
    from layers.hexagons import packed_hexagons

    day = "2026-11-23"
    reporting, finest = day_reporting(city_name, day), day_cubes(city_name, day)[10]
    assert h3i.get_resolution(int(reporting["cell"][0])) == 10
    # a speed needs a vehicle: fewer counters report it than vehicles, in quiet hours most
    assert (reporting["speed_kmh"].sum("cell") <= reporting["vehicles"].sum("cell")).all()
    view = suppressed_by_bucket(finest, reporting, "road", k=K)[9]
    values = view["speed_kmh"].to_numpy()
    assert (view["speed_kmh_sensors"].to_numpy()[~np.isnan(values)] >= K).all()
    registered = suppressed_cube(finest, contributors(sensors_for(city_name), "road"), 9, k=K)
    # counting registered counters would have shown cell-hours that fewer than k reported
    assert (~np.isnan(values)).sum() < (~np.isnan(registered["speed_kmh"].to_numpy())).sum()
    assert packed_hexagons(city_name, day, "speed_kmh", k=K).manifest["minContributors"] == K

"""One local day of the lamp fleet: states detected from the readings, energy, lookups."""

import numpy as np
import pandas as pd
import pytest

from data.city.clock import to_utc
from data.errors import MadinaError
from data.lighting.lamp_day import LAMP_STATES, lamp_day
from data.lighting.meters import (
    OUTAGE_MEAN_H,
    OUTAGE_SHARE,
    STUCK_ON_MEAN_H,
    STUCK_ON_SHARE,
)
from data.lighting.physics import dark, drawn_power_w
from data.telemetry.day_cube import day_period
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import sensors_for
from data.telemetry.synthetic import generate
from tests.conftest import TELEMETRY_DAY

ARRAYS = ("power_w", "energy_kwh", "hours_out", "hours_lit_by_day", "state")


@pytest.fixture(scope="module")
def day(city_name):
    return lamp_day(city_name, TELEMETRY_DAY)


@pytest.fixture(scope="module")
def is_dark(city_name, day):
    """Photocell schedule of the readings (one for the fleet, at its centre, as simulated)."""
    registry = sensors_for(city_name)
    lat, lon = registry.table[["lat", "lon"]].iloc[registry.of_kind("lamp")].mean()
    return dark(lat, lon, to_utc(city_name, day.times).to_numpy())


def share(day, name: str) -> float:
    return float(np.mean(day.state == LAMP_STATES.index(name)))


def expected_share(mask: np.ndarray, share: float, mean_h: float) -> float:
    """Lamps with a fault running at one or more readings in ``mask`` (96 quarter-hours).

    The generator starts faults uniformly from one mean repair time before the day to its end
    (rate ``share / mean_h`` per lamp-hour) and lasts them Exp(``mean_h``): a fault starting
    at s counts if it outlives the gap from s to the next reading in ``mask``.
    """
    readings_h = np.arange(96)[mask] * 0.25
    starts = np.linspace(-mean_h, 24, 100_000, endpoint=False)
    following = np.append(readings_h, np.inf)[np.searchsorted(readings_h, starts)]
    outlives = np.exp(-(following - starts) / mean_h)  # P(duration > gap), 0 if no reading
    faults_per_lamp = share / mean_h * (24 + mean_h) * outlives.mean()
    return float(1 - np.exp(-faults_per_lamp))


def test_arrays_follow_the_lamps(city, day):
    n = len(city.lamps)
    assert day.power_w.shape == (n, 96) and day.power_w.dtype == np.float32
    for name in ARRAYS[1:]:
        assert getattr(day, name).shape == (n,)
    assert day.state.dtype == np.uint8 and day.state.max() < len(LAMP_STATES)
    with pytest.raises(ValueError):  # one cached day serves every user: no one may edit it
        day.energy_kwh[0] = 0


def test_times_are_the_local_quarter_hours_of_the_day(day):
    assert day.times.tz is None
    assert day.times[0] == pd.Timestamp(TELEMETRY_DAY)
    assert len(day.times) == 96
    assert (np.diff(day.times) == pd.Timedelta(minutes=15)).all()


def test_out_share_matches_the_outage_assumption(day, is_dark):
    # 2% of lamps out at a moment, 72 h to repair; the fleet's faults start at most one repair
    # time before the day, so fewer than 2% run at midnight and more lamps get touched over
    # the night: the expectation comes to ~1.9%. ~2,600 such lamps among 140,000: Poisson
    # counting spread ~2%, so 10% is five standard deviations.
    expected = expected_share(is_dark, OUTAGE_SHARE, OUTAGE_MEAN_H)
    assert 0.015 < expected < 0.025
    assert share(day, "out") == pytest.approx(expected, rel=0.10)


def test_day_burner_share_matches_the_stuck_on_assumption(day, is_dark):
    # 0.5% stuck on, 120 h to repair, seen only while light (~0.37% of lamps); ~500 lamps,
    # spread ~4.5%. A few of them are also out that day (they count as "out"), and an outage
    # hides a stuck lamp: 20% allows for both and four standard deviations.
    expected = expected_share(~is_dark, STUCK_ON_SHARE, STUCK_ON_MEAN_H)
    assert share(day, "day-burner") == pytest.approx(expected, rel=0.20)


def test_an_ok_lamp_draws_its_power_for_the_dark_hours(city, day, is_dark):
    ok = day.state == LAMP_STATES.index("ok")
    assert ok.mean() > 0.95
    assert (day.hours_out[ok] == 0).all() and (day.hours_lit_by_day[ok] == 0).all()
    expected_kwh = drawn_power_w(city.lamps)[ok] * is_dark.sum() * 0.25 / 1000
    # 2% meter noise per reading averages down over ~50 dark readings: 2% bounds every lamp
    np.testing.assert_allclose(day.energy_kwh[ok], expected_kwh, rtol=0.02)


def test_detected_faults_show_in_the_power_readings(day, is_dark):
    out = day.state == LAMP_STATES.index("out")
    assert ((day.power_w[out] == 0) & is_dark).any(axis=1).all()
    assert (day.hours_out[out] > 0).all()
    burner = day.state == LAMP_STATES.index("day-burner")
    assert ((day.power_w[burner] > 0) & ~is_dark).any(axis=1).all()
    assert (day.hours_lit_by_day[burner] > 0).all()


def test_a_lamp_row_holds_that_lamps_own_readings(city_name, city, day):
    # Second route: generate a few lamps by registry row and find them by id.
    registry = sensors_for(city_name)
    rows = registry.of_kind("lamp")[:: len(city.lamps) // 150]
    period = day_period(city_name, TELEMETRY_DAY)
    readings = Readings.concat(list(generate(city_name, period, kinds=("lamp",), sensors=rows)))
    pick = readings.variable == VARIABLE_NAMES.index("lamp_on")
    ids = registry.table["sensor_id"].to_numpy()[readings.sensor[pick]]
    unique, inverse = np.unique(ids, return_inverse=True)
    lamp_rows = np.array([day.of(i) for i in unique])[inverse]
    cols = (readings.time[pick] - period.start.to_datetime64()) // period.step.to_timedelta64()
    lit = day.power_w[lamp_rows, cols] > 0  # on/off does not depend on the chunking
    np.testing.assert_array_equal(lit, readings.value[pick] > 0.5)


def test_of_finds_a_lamp_and_names_an_unknown_one(city, day):
    assert day.of(city.lamps["lamp_id"].iloc[1234]) == 1234
    with pytest.raises(MadinaError, match="no-such-lamp"):
        day.of("no-such-lamp")


@pytest.mark.parametrize("bad", ["2026-13-40", "23/11/2026", ""])
def test_bad_day_is_refused(city_name, bad):
    with pytest.raises(MadinaError, match="bad telemetry day"):
        lamp_day(city_name, bad)


def test_same_day_same_arrays(city_name, day):
    again = lamp_day.__wrapped__(city_name, TELEMETRY_DAY)  # bypass the cache: recompute
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(again, name), getattr(day, name))
    assert again.times.equals(day.times)

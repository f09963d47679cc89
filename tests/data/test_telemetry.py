"""Generated telemetry: repeatable, physically shaped, chunked without changing the result."""

import numpy as np
import pandas as pd
import pytest

from data.lighting.physics import dark
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import VARIABLES, sensors_for
from data.telemetry.synthetic import Period, generate
from data.traffic.physics import traffic_profile
from data.water.physics import water_demand_profile


@pytest.fixture(scope="module")
def sensors(city_name):
    return sensors_for(city_name)


@pytest.fixture(scope="module")
def sample(sensors):
    """A few hundred of each fleet, for two days (a Sunday and a Monday)."""
    rows = np.concatenate([sensors.of_kind(k)[::max(1, len(sensors.of_kind(k)) // 400)]
                           for k in ("lamp", "road", "water")])  # fmt: skip
    return rows


def frame(readings: Readings, sensors) -> pd.DataFrame:
    df = readings.to_frame(sensors)
    df["kind"] = df["variable"].map(lambda v: VARIABLES[v].kind)
    return df


@pytest.fixture(scope="module")
def two_days(city_name, sensors, sample):
    period = Period.of("2026-11-22", "2026-11-24")  # Sunday, Monday
    return frame(Readings.concat(list(generate(city_name, period, sensors=sample))), sensors)


def test_every_sensor_reports_every_step(two_days, sample):
    assert two_days.groupby("variable", observed=True).size().min() > 0
    per_sensor = two_days.groupby(["sensor_id", "variable"], observed=True).size()
    assert (per_sensor == 2 * 96).all()
    assert len(two_days["sensor_id"].unique()) == len(sample)


def test_same_seed_same_readings_and_chunking_does_not_matter(city_name, sample, monkeypatch):
    period = Period.of("2026-11-22", "2026-11-23")
    whole = Readings.concat(list(generate(city_name, period, sensors=sample)))
    import data.telemetry.synthetic as telemetry

    monkeypatch.setattr(telemetry, "CHUNK_READINGS", 5_000)
    chunks = list(generate(city_name, period, sensors=sample))
    assert len(chunks) > 10
    small = Readings.concat(chunks)
    key = lambda r: np.lexsort((r.variable, r.sensor, r.time))  # noqa: E731
    a, b = key(whole), key(small)
    np.testing.assert_array_equal(whole.time[a], small.time[b])
    lamp_on = VARIABLE_NAMES.index("lamp_on")
    same = whole.variable[a] == lamp_on  # state does not depend on the chunking
    np.testing.assert_array_equal(whole.value[a][same], small.value[b][same])
    other_seed = Readings.concat(list(generate(city_name, period, sensors=sample, seed=7)))
    assert not np.array_equal(np.sort(whole.value), np.sort(other_seed.value))


def test_lamps_follow_computed_sunset_and_sunrise():
    # Casablanca (7.6 W): solar noon ~12:29 UTC in December; sunset ~17:28 UTC on 21 December,
    # ~19:43 UTC on 21 June (ephemerides); nights of ~9.5 h and ~14 h.
    lat, lon = 33.59, -7.62
    june = pd.date_range("2026-06-21", periods=96, freq="15min").to_numpy()
    december = pd.date_range("2026-12-21", periods=96, freq="15min").to_numpy()
    assert 7.5 < dark(lat, lon, june).sum() / 4 < 10.5  # short summer night, hours
    assert 12.5 < dark(lat, lon, december).sum() / 4 < 15.0  # long winter night
    # switched on within half an hour after the sunset (UTC)
    on = pd.DatetimeIndex(december[dark(lat, lon, december)])
    first_evening = on[on.hour >= 12][0]
    assert pd.Timestamp("2026-12-21 17:28") <= first_evening <= pd.Timestamp("2026-12-21 18:00")


def test_lamps_are_on_at_night_off_by_day_with_plausible_faults(two_days):
    lamps = two_days[two_days["variable"] == "lamp_on"].copy()
    local_hour = (lamps["timestamp"] + pd.Timedelta(hours=1)).dt.hour
    night = lamps[local_hour.isin([1, 2, 3])]["value"].mean()
    noon = lamps[local_hour.isin([12, 13])]["value"].mean()
    assert 0.93 < night < 0.995, "about 2% of lamps out at night"
    assert 0.0005 < noon < 0.03, "a few day-burners stuck on at noon"
    power = two_days[two_days["variable"] == "power_w"]
    assert power["value"].max() < 400 and (power["value"] >= 0).all()


def test_traffic_has_weekday_peaks_and_a_quieter_weekend():
    hours = np.arange(0, 24, 0.25)
    weekday = traffic_profile(hours, np.zeros_like(hours, bool))
    weekend = traffic_profile(hours, np.ones_like(hours, bool))
    assert weekday[int(8.5 * 4)] > 3 * weekday[4 * 4] and weekday[int(18.5 * 4)] > 0.9
    assert weekend[int(8.5 * 4)] < 0.5 * weekday[int(8.5 * 4)]


def test_speed_drops_when_counts_rise(two_days, city):
    arterial = city.roads.loc[
        city.roads["road_class"].isin(["motorway", "trunk", "primary", "secondary"]), "road_id"
    ]
    counted = two_days[two_days["sensor_id"].isin(arterial)]
    roads = counted.pivot_table(
        index=["sensor_id", "timestamp"], columns="variable", values="value", observed=True
    )
    correlation = roads.groupby(level="sensor_id").apply(
        lambda r: r["vehicles"].corr(r["speed_kmh"])
    )
    assert len(correlation) > 10
    assert correlation.median() < -0.2, "on each arterial, more vehicles means slower traffic"
    assert roads.loc[roads["vehicles"] == 0, "speed_kmh"].isna().all(), "no vehicle, no speed"


def test_water_night_minimum_reveals_leakage(two_days):
    assert abs(water_demand_profile(np.arange(0, 24, 1 / 60)).mean() - 1) < 1e-6
    water = two_days[two_days["variable"] == "flow_m3h"]
    hour = (water["timestamp"] + pd.Timedelta(hours=1)).dt.hour
    by_hour = water.groupby(hour)["value"].sum()
    night_minimum, mean = by_hour.loc[[2, 3, 4]].min(), by_hour.mean()
    # with ~28% lost (yield 72.3%) the flow never drops near zero at night
    assert 0.35 < night_minimum / mean < 0.8
    pressure = two_days[two_days["variable"] == "pressure_bar"]
    p_hour = (pressure["timestamp"] + pd.Timedelta(hours=1)).dt.hour
    by_p = pressure.groupby(p_hour)["value"].mean()
    assert by_p.loc[3] > by_p.loc[8], "pressure is highest when demand is lowest"


def test_bad_periods_are_refused():
    with pytest.raises(ValueError, match="after its start"):
        Period.of("2026-11-23", "2026-11-22")
    with pytest.raises(ValueError, match="step must be positive"):
        Period.of("2026-11-22", "2026-11-23", "0min")


def test_a_year_runs_and_lit_hours_follow_the_seasons(city_name, sensors):
    """A year at 15-minute steps (200 lamps): nights are longest at the December solstice.

    Casablanca (33.6 N) has about 14.1 h of night on 21 December and 9.8 h on 21 June; the
    photocells trim 20 minutes and ~2% of lamps are out, so a lamp is on at most ~13.5 and
    ~9.3 h those days (the generator gives 13.3 and 9.0 h with its faults); over the year
    ~4,100 h, the usual order for dusk-to-dawn lighting. Bounds allow for the fault draw.
    """
    from data.telemetry.cube import aggregate

    lamps = sensors.of_kind("lamp")[::700]
    period = Period.of("2026-01-01", "2027-01-01")
    readings = generate(city_name, period, kinds=("lamp",), sensors=lamps)
    cube = aggregate(readings, sensors, period.start, period.end, res=7, freq="1D",
                     variables=("lamp_on",))  # fmt: skip
    on = cube["lamp_on"] * cube["lamp_on_count"]
    hours_on = (on.sum("cell") / cube["lamp_on_count"].sum("cell") * 24).to_series()
    assert len(hours_on) == 365 and int(cube["lamp_on_count"].sum()) == len(lamps) * 35_040
    assert 13.0 < hours_on["2026-12-21"] < 14.2
    assert 8.8 < hours_on["2026-06-21"] < 9.9
    assert hours_on.idxmax().month in (12, 1) and hours_on.idxmin().month in (6, 7)
    assert 3_900 < hours_on.sum() < 4_400

"""The road counters and the traffic engine's baseline agree: the counters report it."""

import numpy as np
import pandas as pd
import pytest

from data.city import bundle_dir
from data.city.clock import local_midnight
from data.telemetry.readings import Readings
from data.telemetry.sensors import sensors_for
from data.telemetry.synthetic import Period, generate
from data.traffic.physics import TRAFFIC_BASELINE_FILE
from simulation.traffic.baseline import baseline_table


@pytest.fixture(scope="module")
def stored(city_name):
    return pd.read_parquet(bundle_dir(city_name) / TRAFFIC_BASELINE_FILE)


@pytest.fixture(scope="module")
def monday(city_name, stored):
    """Hourly counts and mean speeds of the carried roads over a Monday (local time)."""
    sensors = sensors_for(city_name)
    rows = np.flatnonzero(sensors.table["sensor_id"].isin(stored["road_id"].unique()))
    start = local_midnight(city_name, "2026-11-23")
    period = Period.of(start, start + pd.Timedelta(days=1), "15min")
    frame = Readings.concat(list(generate(city_name, period, kinds=("road",), sensors=rows)))
    df = frame.to_frame(sensors)
    df["hour"] = (df["timestamp"].dt.tz_convert(None) - start) // pd.Timedelta(hours=1)
    counts = df[df["variable"] == "vehicles"].groupby(["sensor_id", "hour"], observed=True)
    speeds = df[df["variable"] == "speed_kmh"].groupby(["sensor_id", "hour"], observed=True)
    out = pd.DataFrame({"count": counts["value"].sum(), "speed": speeds["value"].mean()})
    return out.rename_axis(["road_id", "hour"]).reset_index()


def test_the_stored_baseline_is_the_engines_run(city_name, stored):
    from simulation.traffic.uxsim_engine import run_traffic

    table = baseline_table(run_traffic(city_name))
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), stored.reset_index(drop=True), check_dtype=False
    )


def test_counters_agree_with_the_baseline_to_their_noise(stored, monday):
    both = monday.merge(stored, on=["road_id", "hour"])
    assert len(both) == len(stored), "every carried road reports every hour"
    # the city's total within 2 %: only the day-to-day spread (15 %/road) and counting noise
    total = both["count"].sum() / both["flow_veh_h"].sum()
    assert 0.98 < total < 1.02
    # per road and day: the day factor (lognormal, sigma 0.15) dominates; 95 % within +-35 %
    day = both.groupby("road_id")[["count", "flow_veh_h"]].sum()
    busy = day[day["flow_veh_h"] > 2000]
    ratio = busy["count"] / busy["flow_veh_h"]
    assert 0.95 < ratio.median() < 1.05
    assert ((ratio > 0.65) & (ratio < 1.35)).mean() > 0.95
    # speeds: the engine's, with 5 % reading noise
    timed = both.dropna(subset=["speed"])
    error = (timed["speed"] / timed["speed_kmh"] - 1).abs()
    assert error.median() < 0.05 and error.quantile(0.95) < 0.12
    # and the counters show the engine's morning congestion
    peak = both[both["hour"] == 8]
    night = both[both["hour"] == 3]
    assert peak["speed"].mean() < night["speed"].mean() - 5

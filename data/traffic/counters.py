"""The road counters: one per road segment (id = road_id, at its midpoint), counting vehicles.

Each reports the vehicles counted and their mean speed.

Simulated counts follow the traffic engine's baseline day where the bundle has one (its
hourly flow and speed per road), else the roads' physics (`data.traffic.physics`): capacity
by class and lanes, the day's profile, BPR speeds.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from data.city import City, bundle_dir, load_city
from data.city.clock import local_hours
from data.telemetry.fleet import Fleet, Variable, rng
from data.traffic.physics import (
    BPR_ALPHA,
    BPR_BETA,
    LANE_CAPACITY_VEH_H,
    PEAK_VC,
    TRAFFIC_BASELINE_FILE,
    traffic_profile,
)

ROAD_DAY_SPREAD = 0.15  # day-to-day lognormal spread of a road's volume (assumption)
SPEED_NOISE = 0.05  # relative, per reading


def road_counters(city: City) -> pd.DataFrame:
    """One counter per road segment, at its midpoint."""
    mid = city.roads.to_crs(city.crs_metric).geometry.interpolate(0.5, normalized=True)
    mid = mid.to_crs(4326)
    return pd.DataFrame(
        {
            "sensor_id": city.roads["road_id"].to_numpy(),
            "lon": mid.x.to_numpy(),
            "lat": mid.y.to_numpy(),
        }
    )


@functools.lru_cache(maxsize=4)
def _roads(city: str):
    roads = load_city(city).roads
    lanes = roads["lanes"].fillna(1).clip(lower=1).to_numpy(float)
    capacity = roads["road_class"].map(LANE_CAPACITY_VEH_H).to_numpy(float) * lanes
    peak = roads["road_class"].map(PEAK_VC).to_numpy(float)
    free = roads["maxspeed_kmh"].to_numpy(float)
    return capacity, peak, free, _engine_baseline(city)


def _engine_baseline(city: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(24, roads) hourly flow and speed of the engine's baseline; NaN off its network."""
    path = bundle_dir(city) / TRAFFIC_BASELINE_FILE
    if not path.exists():
        return None
    table = pd.read_parquet(path)
    # the counters are the roads in bundle order (sensor_id = road_id)
    col = pd.Index(load_city(city).roads["road_id"]).get_indexer(table["road_id"])
    flow, speed = np.full((2, 24, len(load_city(city).roads)), np.nan)
    flow[table["hour"].to_numpy(), col] = table["flow_veh_h"].to_numpy()
    speed[table["hour"].to_numpy(), col] = table["speed_kmh"].to_numpy()
    return flow, speed


def road_readings(city, period, positions, times, first, seed) -> dict[str, np.ndarray]:
    """Vehicles and mean speed of the counters at ``positions`` at ``times``."""
    capacity, peak, free, engine = _roads(city)
    pos = positions
    hour, weekend = local_hours(city, times)
    day = (
        times.astype("datetime64[D]") - period.start.to_datetime64().astype("datetime64[D]")
    ).astype(int)
    day_factor = np.empty((len(times), len(pos)))
    for d in np.unique(day):  # one draw per road and day, whatever the chunking
        spread = rng(seed, 4, int(d)).standard_normal(len(capacity))[pos]
        day_factor[day == d] = np.exp(ROAD_DAY_SPREAD * spread)
    flow_h = capacity[pos] * peak[pos] * traffic_profile(hour, weekend)[:, None]
    step_h = period.step / pd.Timedelta(hours=1)
    draw = rng(seed, 5, first, len(pos))
    if engine is not None:  # the engine's weekday, scaled to the weekend's lighter profile
        slot = np.floor(hour).astype(int) % 24
        ratio = traffic_profile(hour, weekend) / traffic_profile(hour, np.zeros_like(weekend))
        engine_flow = engine[0][slot][:, pos] * ratio[:, None]
        flow_h = np.where(np.isnan(engine_flow), flow_h, engine_flow)
    vehicles = draw.poisson(flow_h * day_factor * step_h).astype(float)
    vc = vehicles / step_h / capacity[pos]
    speed = free[pos] / (1 + BPR_ALPHA * vc**BPR_BETA)
    if engine is not None:
        engine_speed = engine[1][slot][:, pos]
        speed = np.where(np.isnan(engine_speed), speed, engine_speed)
    speed = speed * (1 + SPEED_NOISE * draw.standard_normal(vc.shape))
    speed = np.where(vehicles > 0, np.clip(speed, 3, None), np.nan)  # no vehicle: no speed
    return {"vehicles": vehicles, "speed_kmh": speed}


ROAD_COUNTERS = Fleet(
    kind="road",
    title="Road counters",
    variables={
        "vehicles": Variable("road", "vehicles", "vehicles counted", "sum", 0, 5000),
        "speed_kmh": Variable("road", "km h-1", "mean vehicle speed", "mean", 0, 200),
    },
    sensors=road_counters,
    synthetic=road_readings,
)

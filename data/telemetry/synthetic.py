"""Realistic, seeded telemetry for a city's sensors over any period (a week, a year).

Readings come in chunks of at most `CHUNK_READINGS` so a year of 200,000 sensors streams in
bounded memory. A chunk depends only on (seed, period, chunk bounds): chunks can be made on
different machines (Dask workers) and still repeat exactly.

Every constant below says where it comes from; "assumption" marks an engineering estimate.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.city import bundle_dir, load_city
from data.city.clock import local_hours
from data.city.constants import SEED
from data.city.grid import cells_of
from data.lighting.physics import dark, drawn_power_w
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import DMA_RES, KINDS, VARIABLES, dma_cells, sensors_for
from data.traffic.physics import (
    BPR_ALPHA,
    BPR_BETA,
    LANE_CAPACITY_VEH_H,
    PEAK_VC,
    TRAFFIC_BASELINE_FILE,
    traffic_profile,
)
from data.water.physics import (
    CONSUMPTION_L_PER_DAY,
    DAY_HOURS,
    LEAKAGE_EXPONENT,
    NETWORK_YIELD,
    inlet_pressure_bar,
    water_demand_profile,
)

CHUNK_READINGS = 4_000_000  # readings per chunk (about 70 MB of columns)
DEFAULT_STEP = "15min"

# --- Public lighting ------------------------------------------------------------------------
POWER_NOISE = 0.02  # meter reading noise, relative
# Faults. Share of lamps out at any moment (assumption: performance contracts target 97-99%
# availability, so 2% out), mean time to repair 72 h. Day-burners (stuck on by day): 0.5%,
# found later because nobody reports them at night: mean 120 h.
OUTAGE_SHARE, OUTAGE_MEAN_H = 0.02, 72.0
STUCK_ON_SHARE, STUCK_ON_MEAN_H = 0.005, 120.0

# --- Traffic --------------------------------------------------------------------------------
ROAD_DAY_SPREAD = 0.15  # day-to-day lognormal spread of a road's volume (assumption)
SPEED_NOISE = 0.05  # relative, per reading

# --- Water ----------------------------------------------------------------------------------
LEAKAGE_SPREAD = 0.35  # lognormal spread of the loss share between DMAs (assumption)
FLOW_NOISE = 0.02


@dataclass(frozen=True)
class Period:
    """Reading times: ``start`` (inclusive) to ``end`` (exclusive) every ``step``."""

    start: pd.Timestamp
    end: pd.Timestamp
    step: pd.Timedelta

    @staticmethod
    def of(start, end, step=DEFAULT_STEP) -> Period:
        """Validated period; timestamps with a time zone are converted to naive UTC."""
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        start = start.tz_convert(None) if start.tzinfo else start
        end = end.tz_convert(None) if end.tzinfo else end
        step = pd.Timedelta(step)
        if end <= start:
            raise ValueError(f"period end {end} must be after its start {start}")
        if step <= pd.Timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        return Period(start, end, step)

    @property
    def times(self) -> np.ndarray:
        """Reading times (datetime64[ns], UTC)."""
        return pd.date_range(self.start, self.end, freq=self.step, inclusive="left").to_numpy()

    @property
    def hours(self) -> float:
        """Length of the period in hours."""
        return (self.end - self.start) / pd.Timedelta(hours=1)


def generate(
    city: str,
    period: Period,
    *,
    kinds: tuple[str, ...] = KINDS,
    seed: int = SEED,
    sensors: np.ndarray | None = None,
) -> Iterator[Readings]:
    """Yield the readings of ``city``'s sensors over ``period`` in bounded chunks.

    ``sensors`` (registry rows) limits the fleet, e.g. to one district's lamps.
    """
    for task in chunk_tasks(city, period, kinds=kinds, seed=seed, sensors=sensors):
        yield make_chunk(*task)


def chunk_tasks(city, period, *, kinds=KINDS, seed=SEED, sensors=None) -> list[tuple]:
    """The chunks of a generation as picklable tasks: ``make_chunk(*task)`` makes one."""
    registry = sensors_for(city)
    times = period.times
    tasks = []
    for kind in kinds:
        rows = registry.of_kind(kind)
        if sensors is not None:
            rows = np.intersect1d(rows, sensors)
        if len(rows) == 0:
            continue
        n_vars = sum(1 for v in VARIABLE_NAMES if _kind_of(v) == kind)
        per_chunk = max(1, CHUNK_READINGS // (len(rows) * n_vars))
        for first in range(0, len(times), per_chunk):
            tasks.append(
                (city, period, kind, rows, first, min(first + per_chunk, len(times)), seed)
            )
    return tasks


def make_chunk(city, period, kind, rows, first, last, seed) -> Readings:
    """Readings of fleet ``kind`` (registry ``rows``) at ``period.times[first:last]``."""
    times = period.times[first:last]
    make = {"lamp": _lamp_values, "road": _road_values, "water": _water_values}[kind]
    values = make(city, period, rows, times, first, seed)  # {variable: (T, N) array}
    n_t, n_s = len(times), len(rows)
    parts = []
    for name, matrix in values.items():
        parts.append(
            Readings(
                sensor=np.tile(rows.astype(np.int32), n_t),
                time=np.repeat(times, n_s),
                variable=np.full(n_t * n_s, VARIABLE_NAMES.index(name), np.int8),
                value=matrix.astype(np.float32).ravel(),
            )
        )
    return Readings.concat(parts)


def _kind_of(variable: str) -> str:
    return VARIABLES[variable].kind


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


# --- Public lighting ------------------------------------------------------------------------


def _fault_events(n: int, period: Period, share: float, mean_h: float, seed: int, tag: int):
    """Fault intervals (sensor position, start, end) whose steady share of sensors is ``share``."""
    rng = _rng(seed, tag)
    span_h = period.hours + mean_h  # faults that began before the period still run into it
    count = rng.poisson(n * share * span_h / mean_h)
    who = rng.integers(0, n, count)
    start = (
        period.start
        - pd.Timedelta(hours=mean_h)
        + pd.to_timedelta(rng.uniform(0, span_h, count), unit="h")
    )
    end = start + pd.to_timedelta(rng.exponential(mean_h, count), unit="h")
    return who, start.to_numpy(), end.to_numpy()


@functools.lru_cache(maxsize=8)
def _lamp_fleet(city: str, seed: int, period: Period):
    registry = sensors_for(city)
    lamps = load_city(city).lamps
    rows = registry.of_kind("lamp")
    out = _fault_events(len(rows), period, OUTAGE_SHARE, OUTAGE_MEAN_H, seed, 1)
    stuck = _fault_events(len(rows), period, STUCK_ON_SHARE, STUCK_ON_MEAN_H, seed, 2)
    return rows, drawn_power_w(lamps), out, stuck


def _active(events, times: np.ndarray, positions: np.ndarray, n_all: int) -> np.ndarray:
    """(T, N) mask of sensors (at ``positions`` among ``n_all``) with an event running.

    Only the chunk's own sensors get a column, so memory is T x N whatever the fleet size
    (a year of 200 lamps must not allocate a year of all 140,000).
    """
    who, start, end = events
    column = np.full(n_all, -1)
    column[positions] = np.arange(len(positions))
    first = np.searchsorted(times, start)  # first reading at or after the start
    last = np.searchsorted(times, end)  # first reading at or after the end
    mine = (last > first) & (column[who] >= 0)
    steps = np.zeros((len(times) + 1, len(positions)), np.int32)
    np.add.at(steps, (first[mine], column[who[mine]]), 1)
    np.add.at(steps, (last[mine], column[who[mine]]), -1)
    return np.cumsum(steps[:-1], axis=0) > 0


def _lamp_values(city, period, rows, times, first, seed):
    all_rows, power, out_events, stuck_events = _lamp_fleet(city, seed, period)
    positions = np.searchsorted(all_rows, rows)
    registry = sensors_for(city)
    lat, lon = registry.table[["lat", "lon"]].iloc[all_rows].mean()
    lit = dark(lat, lon, times)[:, None]
    out = _active(out_events, times, positions, len(all_rows))
    stuck = _active(stuck_events, times, positions, len(all_rows))
    on = (lit & ~out) | (stuck & ~out)
    noise = 1 + POWER_NOISE * _rng(seed, 3, first, len(rows)).standard_normal(on.shape)
    return {"power_w": on * power[positions] * noise, "lamp_on": on.astype(np.float32)}


# --- Traffic --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _road_fleet(city: str):
    roads = load_city(city).roads
    lanes = roads["lanes"].fillna(1).clip(lower=1).to_numpy(float)
    capacity = roads["road_class"].map(LANE_CAPACITY_VEH_H).to_numpy(float) * lanes
    peak = roads["road_class"].map(PEAK_VC).to_numpy(float)
    free = roads["maxspeed_kmh"].to_numpy(float)
    return sensors_for(city).of_kind("road"), capacity, peak, free, _engine_baseline(city)


def _engine_baseline(city: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(24, roads) hourly flow and speed of the engine's baseline; NaN off its network."""
    path = bundle_dir(city) / TRAFFIC_BASELINE_FILE
    if not path.exists():
        return None
    table = pd.read_parquet(path)
    # the registry's road sensors are the roads in bundle order (sensor_id = road_id)
    col = pd.Index(load_city(city).roads["road_id"]).get_indexer(table["road_id"])
    flow, speed = np.full((2, 24, len(load_city(city).roads)), np.nan)
    flow[table["hour"].to_numpy(), col] = table["flow_veh_h"].to_numpy()
    speed[table["hour"].to_numpy(), col] = table["speed_kmh"].to_numpy()
    return flow, speed


def _road_values(city, period, rows, times, first, seed):
    all_rows, capacity, peak, free, engine = _road_fleet(city)
    pos = np.searchsorted(all_rows, rows)
    hour, weekend = local_hours(city, times)
    day = (
        times.astype("datetime64[D]") - period.start.to_datetime64().astype("datetime64[D]")
    ).astype(int)
    day_factor = np.empty((len(times), len(rows)))
    for d in np.unique(day):  # one draw per road and day, whatever the chunking
        spread = _rng(seed, 4, int(d)).standard_normal(len(all_rows))[pos]
        day_factor[day == d] = np.exp(ROAD_DAY_SPREAD * spread)
    flow_h = capacity[pos] * peak[pos] * traffic_profile(hour, weekend)[:, None]
    step_h = period.step / pd.Timedelta(hours=1)
    rng = _rng(seed, 5, first, len(rows))
    if engine is not None:  # the engine's weekday, scaled to the weekend's lighter profile
        slot = np.floor(hour).astype(int) % 24
        ratio = traffic_profile(hour, weekend) / traffic_profile(hour, np.zeros_like(weekend))
        engine_flow = engine[0][slot][:, pos] * ratio[:, None]
        flow_h = np.where(np.isnan(engine_flow), flow_h, engine_flow)
    vehicles = rng.poisson(flow_h * day_factor * step_h).astype(float)
    vc = vehicles / step_h / capacity[pos]
    speed = free[pos] / (1 + BPR_ALPHA * vc**BPR_BETA)
    if engine is not None:
        engine_speed = engine[1][slot][:, pos]
        speed = np.where(np.isnan(engine_speed), speed, engine_speed)
    speed = speed * (1 + SPEED_NOISE * rng.standard_normal(vc.shape))
    speed = np.where(vehicles > 0, np.clip(speed, 3, None), np.nan)  # no vehicle: no speed
    return {"vehicles": vehicles, "speed_kmh": speed}


# --- Water ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _water_fleet(city: str, seed: int):
    """Population served and mean leak flow of each DMA (lamps share the built-up area)."""
    c = load_city(city)
    lamp_dma = cells_of(c.lamps.geometry.x.to_numpy(), c.lamps.geometry.y.to_numpy(), DMA_RES)
    dmas = dma_cells(c)
    share = np.bincount(np.searchsorted(dmas, lamp_dma), minlength=len(dmas)) / len(lamp_dma)
    population = share * c.districts["population"].sum()
    demand_m3h = population * CONSUMPTION_L_PER_DAY / 1000 / 24
    loss_share = (1 - NETWORK_YIELD) * np.exp(
        LEAKAGE_SPREAD * _rng(seed, 6).standard_normal(len(dmas)) - LEAKAGE_SPREAD**2 / 2
    )
    loss_share = np.clip(loss_share, 0.05, 0.6)
    leak_m3h = demand_m3h * loss_share / (1 - loss_share)
    return sensors_for(city).of_kind("water"), demand_m3h, leak_m3h


def _water_values(city, period, rows, times, first, seed):
    all_rows, demand, leak = _water_fleet(city, seed)
    pos = np.searchsorted(all_rows, rows)
    hour, _ = local_hours(city, times)
    profile = water_demand_profile(hour)[:, None]
    use = demand[pos] * profile
    pressure = inlet_pressure_bar(profile)
    mean_pressure = inlet_pressure_bar(water_demand_profile(DAY_HOURS)).mean()
    leaking = leak[pos] * (pressure / mean_pressure) ** LEAKAGE_EXPONENT
    rng = _rng(seed, 7, first, len(rows))
    flow = (use + leaking) * (1 + FLOW_NOISE * rng.standard_normal(use.shape))
    pressure = pressure * (1 + 0.01 * rng.standard_normal(use.shape))
    return {"flow_m3h": flow, "pressure_bar": pressure}

"""The telemetry cube the dashboard shows: one local day of the city's readings, hourly.

The day's readings (every sensor, every 15 minutes, seeded) are aggregated once at the finest
resolution (`BASE_RES`) and rolled up to the coarser ones, so every resolution the map offers
sums to the same city totals. Cached per (city, day): several users share one process.
"""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import xarray as xr

from data.city.clock import local_midnight, local_time
from data.city.grid import BASE_RES
from data.errors import MadinaError
from data.telemetry.cube import CUBE_RESOLUTIONS, CubeBuilder, roll_up
from data.telemetry.reporting import ReportingTally
from data.telemetry.sensors import sensors_for
from data.telemetry.synthetic import Period, generate

DASHBOARD_BUCKET = "1h"  # 24 frames a day: smooth enough to read a day, small to send


def default_day(city: str, now=None) -> str:
    """Yesterday in the city's local time, as YYYY-MM-DD (the last complete day)."""
    now = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    utc = now.tz_convert(None) if now.tzinfo else now  # naive times are taken as UTC
    local = local_time(city, utc)
    return (local.normalize() - pd.Timedelta(days=1)).strftime("%Y-%m-%d")


def day_period(city: str, day: str) -> Period:
    """The local day ``day`` (YYYY-MM-DD) as a UTC period of 15-minute readings."""
    try:
        start = local_midnight(city, dt.date.fromisoformat(day))
    except (TypeError, ValueError) as err:
        raise MadinaError(f"bad telemetry day {day!r}: expected YYYY-MM-DD") from err
    return Period.of(start, start + pd.Timedelta(days=1))


def day_cubes(city: str, day: str) -> dict[int, xr.Dataset]:
    """Hourly cubes of ``day`` at every cube resolution, finest rolled up to the others."""
    return _day(city, day)[0]


def day_reporting(city: str, day: str) -> xr.Dataset:
    """Distinct sensors that reported each variable, per hour of ``day`` and `BASE_RES` cell.

    What the public view's small-count suppression counts (`data.telemetry.reporting`).
    """
    return _day(city, day)[1]


@functools.lru_cache(maxsize=4)
def _day(city: str, day: str) -> tuple[dict[int, xr.Dataset], xr.Dataset]:
    # one pass over the day's readings fills the cube and the tally of who reported
    period = day_period(city, day)
    sensors = sensors_for(city)
    builder = CubeBuilder(sensors, period.start, period.end, freq=DASHBOARD_BUCKET, res=BASE_RES)
    tally = ReportingTally(sensors, period.start, period.end, freq=DASHBOARD_BUCKET)
    for batch in generate(city, period):
        builder.add(batch)
        tally.add(batch)
    finest = builder.dataset()
    finest.attrs["local_day"] = day
    return {res: roll_up(finest, res) for res in CUBE_RESOLUTIONS}, tally.dataset()

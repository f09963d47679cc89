"""The city's clock: its time zone (from the bundle), local times of UTC instants and back.

The twin keeps every instant in UTC (naive datetimes). A bundle names its city's IANA time
zone in ``meta.json`` (``time_zone``, written by `data.build`, checked on load); every module
that shows or reads local time asks here, so a city built from any extract plays in its own
legal time, daylight saving and Morocco's Ramadan hour (GMT+0 during Ramadan, GMT+1
otherwise, as tzdata has it) included.
Never reads readings or builds anything.
"""

from __future__ import annotations

import functools
import zoneinfo

import numpy as np
import pandas as pd

from data.city import City, load_city


def time_zone(city: str | City) -> str:
    """The IANA time zone the city's clocks show (``Africa/Casablanca`` for the default city).

    ``city``: a name (its registered bundle) or a loaded `City`.
    """
    return (load_city(city) if isinstance(city, str) else city).meta["time_zone"]


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    # zoneinfo, not pandas' default pytz for a zone named by a string: pytz 2026.x reads
    # Morocco's post-2018 rules wrongly (UTC+0 in November 2026; tzdata: UTC+1)
    return zoneinfo.ZoneInfo(name)


def in_zone(times, zone: str) -> pd.DatetimeIndex:
    """UTC ``times`` (naive) as naive wall-clock times in ``zone`` (an IANA name)."""
    index = pd.DatetimeIndex(np.atleast_1d(np.asarray(times, dtype="datetime64[ns]")))
    return index.tz_localize("UTC").tz_convert(_zone(zone)).tz_localize(None)


def to_local(city: str | City, times) -> pd.DatetimeIndex:
    """UTC ``times`` (naive) as the city's local wall-clock times (naive)."""
    return in_zone(times, time_zone(city))


def local_time(city: str | City, instant) -> pd.Timestamp:
    """One UTC ``instant`` (naive) as the city's local wall-clock time."""
    return to_local(city, [pd.Timestamp(instant)])[0]


def to_utc(city: str | City, local) -> pd.DatetimeIndex:
    """The city's local wall-clock times (naive) as UTC instants (naive).

    A wall-clock time that occurs twice (clocks set back) is taken at its first occurrence; one
    that does not occur (clocks set forward) at the instant the clocks jumped to.
    """
    index = pd.DatetimeIndex(np.atleast_1d(np.asarray(local, dtype="datetime64[ns]")))
    aware = index.tz_localize(
        _zone(time_zone(city)), ambiguous=np.ones(len(index), bool), nonexistent="shift_forward"
    )
    return aware.tz_convert("UTC").tz_localize(None)


def local_midnight(city: str | City, day) -> pd.Timestamp:
    """The UTC instant (naive) at which the local day ``day`` (ISO date) starts in ``city``."""
    return to_utc(city, [pd.Timestamp(day).normalize()])[0]


def utc_offset(city: str | City, at) -> pd.Timedelta:
    """The city's legal offset from UTC at the UTC instant ``at`` (local = UTC + offset)."""
    utc = pd.Timestamp(at)
    return local_time(city, utc) - utc


def offset_label(city: str | City, at) -> str:
    """``"UTC+1"``: the offset at ``at`` as clocks of the city read it."""
    return f"UTC{utc_offset(city, at) / pd.Timedelta(hours=1):+g}"


def local_hours(city: str | City, times) -> tuple[np.ndarray, np.ndarray]:
    """Local hour of day (float) and weekend flag (Saturday, Sunday) of UTC ``times``."""
    local = to_local(city, times)
    hour = local.hour + local.minute / 60 + local.second / 3600
    return np.asarray(hour, float), np.asarray(local.day_of_week >= 5)

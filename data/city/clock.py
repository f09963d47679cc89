"""The city's clock: its legal offset from UTC, its time zone, and local hours of UTC times.

Every module that turns the twin's UTC instants into a city's local time asks here; never reads
readings or builds anything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.city import load_city

# Legal time: Morocco keeps GMT+1 all year except during Ramadan (decree 2-18-855, 2018).
UTC_OFFSET_H = {"casablanca": 1}


def utc_offset(city) -> pd.Timedelta:
    """The city's legal offset from UTC (known, else its solar time zone from its centre).

    ``city``: a name (its default bundle) or a loaded `City`.
    """
    name = city if isinstance(city, str) else city.name
    hours = UTC_OFFSET_H.get(name)
    if hours is None:
        hours = round((load_city(city) if isinstance(city, str) else city).center[0] / 15)
    return pd.Timedelta(hours=hours)


def local_hours(city: str, times) -> tuple[np.ndarray, np.ndarray]:
    """Local hour of day (float) and weekend flag (Saturday, Sunday) of UTC ``times``."""
    local = pd.DatetimeIndex(times) + utc_offset(city)
    hour = local.hour + local.minute / 60 + local.second / 3600
    return np.asarray(hour, float), np.asarray(local.day_of_week >= 5)


# The time zone each city's time bar names (the IANA zone of its legal time).
TIME_ZONES = {"casablanca": "Africa/Casablanca"}


def time_zone(city) -> str:
    """The IANA time zone the city's clocks show (``Africa/Casablanca`` for the default city)."""
    name = city if isinstance(city, str) else city.name
    return TIME_ZONES.get(name, "Africa/Casablanca")

"""Physics of a light point: the power it draws and when its photocell holds it on.

Facts and pure functions only (sourced constants, astral's sun times); no readings, no I/O.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
from astral import Observer
from astral.sun import sun

# Photocells switch on a little after sunset and off a little before sunrise (white paper:
# "lamps switch on/off by ambient light, not clock"). Assumption: 10 minutes either side.
SWITCH_ON_AFTER_SUNSET = pd.Timedelta(minutes=10)
SWITCH_OFF_BEFORE_SUNRISE = pd.Timedelta(minutes=10)

# Power drawn over the lamp's rated wattage: magnetic ballasts add ~10-15% to HPS/MH lamps,
# LED drivers ~5-8% (assumption from manufacturer data sheets).
POWER_OVERHEAD = {"HPS": 1.12, "MH": 1.10, "LED": 1.06}


def drawn_power_w(lamps: pd.DataFrame) -> np.ndarray:
    """Power each lamp draws at full level: rated W x ballast/driver overhead."""
    overhead = lamps["technology"].map(POWER_OVERHEAD).fillna(1.1).to_numpy()
    return lamps["power_w"].to_numpy(float) * overhead


@functools.lru_cache(maxsize=64)
def _sun_times(lat: float, lon: float, day: dt.date) -> tuple[np.datetime64, np.datetime64]:
    """Sunrise and sunset (UTC, naive) of ``day`` at (lat, lon), computed by astral."""
    times = sun(Observer(latitude=lat, longitude=lon), date=day, tzinfo=dt.UTC)
    return (
        np.datetime64(times["sunrise"].replace(tzinfo=None), "ns"),
        np.datetime64(times["sunset"].replace(tzinfo=None), "ns"),
    )


def dark(lat: float, lon: float, times: np.ndarray) -> np.ndarray:
    """Whether photocells hold the lamps on at each UTC time (computed sunset/sunrise)."""
    times = np.asarray(times, "datetime64[ns]")
    days = times.astype("datetime64[D]")
    out = np.zeros(len(times), bool)
    for day in np.unique(days):
        rise, set_ = _sun_times(round(lat, 3), round(lon, 3), day.astype(dt.date))
        on = times[days == day]
        lit = (on < rise - SWITCH_OFF_BEFORE_SUNRISE.to_timedelta64()) | (
            on >= set_ + SWITCH_ON_AFTER_SUNSET.to_timedelta64()
        )
        out[days == day] = lit
    return out

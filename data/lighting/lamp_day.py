"""What each light point did over one local day, derived from the day's lamp telemetry.

Feeds the lamp card and the lamp layer's "state"/"energy" colouring. It must never ask the
fault generator which lamps are faulty: states are detected from the readings and the sun, as
a real twin would detect them from meter data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.city import load_city
from data.city.clock import to_local
from data.errors import MadinaError
from data.lighting.physics import dark
from data.telemetry.day_cube import day_period
from data.telemetry.readings import VARIABLE_NAMES
from data.telemetry.sensors import sensors_for
from data.telemetry.synthetic import generate

# What a lamp did over the day, judged reading by reading against `dark()`:
LAMP_STATES = (
    "ok",  # on at every dark reading and off at every light one
    "out",  # off ("lamp_on" 0) for at least one reading while dark: failed lamp, fuse, cable
    "day-burner",  # on ("lamp_on" 1) for at least one reading while light: stuck photocell
)
# A lamp both out and burning by day that day counts as "out": a dark street is the safety
# fault crews fix first, and `hours_lit_by_day` still shows the wasted energy.
OK, OUT, DAY_BURNER = (np.uint8(i) for i in range(len(LAMP_STATES)))


@dataclass(frozen=True, eq=False)  # eq=False: comparing array fields with == is ambiguous
class LampDay:
    """One local day of every light point, arrays in ``load_city(city).lamps`` row order.

    Arrays are read-only: one cached instance is shared by every user of the process.

    Attributes
    ----------
    city : str
        City name.
    day : str
        Local day, YYYY-MM-DD.
    times : pd.DatetimeIndex
        Start of each 15-minute reading in city legal time (naive), 96 of them.
    power_w : np.ndarray
        float32 (n_lamps, n_times), power drawn (W); NaN where no reading arrived.
    energy_kwh : np.ndarray
        float32 (n_lamps,), energy drawn over the day (kWh) from the readings that arrived.
    hours_out : np.ndarray
        float32 (n_lamps,), hours the lamp was off while it was dark.
    hours_lit_by_day : np.ndarray
        float32 (n_lamps,), hours the lamp was on while it was light.
    state : np.ndarray
        uint8 (n_lamps,), index into `LAMP_STATES`.
    """

    city: str
    day: str
    times: pd.DatetimeIndex
    power_w: np.ndarray
    energy_kwh: np.ndarray
    hours_out: np.ndarray
    hours_lit_by_day: np.ndarray
    state: np.ndarray

    @functools.cached_property
    def _lamp_index(self) -> pd.Index:
        return pd.Index(load_city(self.city).lamps["lamp_id"])

    def of(self, lamp_id: str) -> int:
        """Row of lamp ``lamp_id`` in the arrays; `MadinaError` naming it if unknown."""
        row = int(self._lamp_index.get_indexer([lamp_id])[0])
        if row < 0:
            raise MadinaError(f"unknown lamp {lamp_id!r} in city {self.city!r}")
        return row


@functools.lru_cache(maxsize=2)
def lamp_day(city: str, day: str) -> LampDay:
    """What every light point of ``city`` did on local ``day`` (YYYY-MM-DD).

    Parameters
    ----------
    city : str
        City name.
    day : str
        Local day, YYYY-MM-DD.

    Returns
    -------
    LampDay
        Power per reading, energy, hours out and lit by day, and state of every lamp.

    Raises
    ------
    MadinaError
        If ``day`` is not a YYYY-MM-DD date.
    """
    period = day_period(city, day)
    registry = sensors_for(city)
    lamp_ids = load_city(city).lamps["lamp_id"]
    rows = registry.of_kind("lamp")
    # Registry row -> lamp row through the ids, whatever order the registry keeps.
    lamp_of = np.full(len(registry), -1, np.int64)
    lamp_of[rows] = pd.Index(lamp_ids).get_indexer(registry.table["sensor_id"].to_numpy()[rows])
    times = period.times
    step = period.step.to_timedelta64()
    power = np.full((len(lamp_ids), len(times)), np.nan, np.float32)
    switched = np.full(power.shape, -1, np.int8)  # lamp_on: 1 on, 0 off, -1 no reading
    power_code, on_code = VARIABLE_NAMES.index("power_w"), VARIABLE_NAMES.index("lamp_on")
    for batch in generate(city, period, kinds=("lamp",)):
        lamp, col = lamp_of[batch.sensor], (batch.time - times[0]) // step
        pick = (batch.variable == power_code) & (lamp >= 0)
        power[lamp[pick], col[pick]] = batch.value[pick]
        pick = (batch.variable == on_code) & (lamp >= 0) & ~np.isnan(batch.value)
        switched[lamp[pick], col[pick]] = batch.value[pick] > 0.5
    # One sun schedule for the whole fleet, at its centre, as the telemetry switches it: sun
    # times at each lamp's own position move one transition reading for part of the city and
    # would flag healthy lamps (real photocells scatter by minutes: use a guard band there).
    lat, lon = registry.table[["lat", "lon"]].iloc[rows].mean()
    is_dark = dark(lat, lon, times)
    step_h = period.step / pd.Timedelta(hours=1)
    hours_out = ((switched == 0) & is_dark).sum(axis=1) * step_h
    hours_lit_by_day = ((switched == 1) & ~is_dark).sum(axis=1) * step_h
    state = np.where(hours_out > 0, OUT, np.where(hours_lit_by_day > 0, DAY_BURNER, OK))
    energy_kwh = np.nansum(power, axis=1, dtype=np.float64) * step_h / 1000
    local = to_local(city, times)
    return LampDay(
        city=city,
        day=day,
        times=local,
        power_w=_read_only(power),
        energy_kwh=_read_only(energy_kwh),
        hours_out=_read_only(hours_out),
        hours_lit_by_day=_read_only(hours_lit_by_day),
        state=_read_only(state, np.uint8),
    )


def _read_only(values: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    out = np.asarray(values, dtype)
    out.flags.writeable = False
    return out

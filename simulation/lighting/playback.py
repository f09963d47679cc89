"""Time-lapse frames of a lighting result against its baseline: a day by hour, a year by week.

Pure reductions of `LightingResult`s (sums over hours, lit-weighted mean levels); nothing here
knows about maps or browsers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from data.city.clock import to_local
from simulation.lighting.model import LightingResult, ScenarioError

PLAYBACK_MODES = ("day", "year")


def frame_of_hours(city: str, times: np.ndarray, mode: str, day: str | None = None):
    """Frame index of each UTC hour (-1: outside the playback) and the frames' labels.

    ``day``: local day YYYY-MM-DD, hourly frames; ``year``: weeks of the local year
    (week 53 holds the last day or two).
    """
    if mode not in PLAYBACK_MODES:
        raise ScenarioError(f"playback mode {mode!r} unknown; use {', '.join(PLAYBACK_MODES)}")
    local = to_local(city, times)
    if mode == "day":
        try:
            chosen = pd.Timestamp(dt.date.fromisoformat(str(day)))
        except ValueError:
            raise ScenarioError(f"playback day {day!r} is not a date (YYYY-MM-DD)") from None
        inside = np.asarray(local.normalize() == chosen)
        if not inside.any():
            first, last = local[0].date(), local[-1].date()
            raise ScenarioError(f"playback day {day} is outside the simulated {first} - {last}")
        frame = np.where(inside, np.asarray(local.hour), -1)
        hours = sorted(set(frame[inside].tolist()))
        labels = [f"{chosen:%a %d %b %Y} {h:02d}:00" for h in hours]
        frame = np.where(inside, np.searchsorted(hours, frame), -1)
        return frame, labels
    week = np.asarray(local.day_of_year - 1) // 7
    year = local[len(local) // 2].year
    frame = np.where(np.asarray(local.year) == year, week, -1)
    labels = []
    for w in range(int(frame.max()) + 1):
        first = pd.Timestamp(year=year, month=1, day=1) + pd.Timedelta(days=7 * w)
        last = min(first + pd.Timedelta(days=6), pd.Timestamp(year=year, month=12, day=31))
        labels.append(f"Week {w + 1} ({first:%d %b} - {last:%d %b %Y})")
    return frame, labels


def playback(
    city: str,
    result: LightingResult,
    baseline: LightingResult,
    *,
    mode: str = "day",
    day: str | None = None,
) -> xr.Dataset:
    """The frames of ``result`` and ``baseline`` for a time-lapse.

    Returns
    -------
    xarray.Dataset
        dims (frame, cell, group): energy_kwh, cost_mad, saved_kwh (baseline - scenario) per
        frame and cell; load_kw and baseline_load_kw (mean load over the frame, kW);
        energy_total_kwh, cost_total_mad, baseline_energy_total_kwh (city, per frame);
        level (frame, group, lit-weighted mean dimming level); lit (frame, share of the frame
        lit); lamps (cell, light points per cell); coords label, hours and start (UTC) of
        each frame.
    """
    times = result.energy["time"].to_numpy()
    frame, labels = frame_of_hours(city, times, mode, day)
    inside = frame >= 0
    n = len(labels)
    index = xr.DataArray(frame[inside], dims="time")

    def by_frame(values: xr.DataArray) -> xr.DataArray:
        picked = values.isel(time=np.flatnonzero(inside)).assign_coords(frame=index)
        return picked.groupby("frame").sum().reindex(frame=np.arange(n), fill_value=0)

    energy, cost = by_frame(result.energy), by_frame(result.cost).astype(np.float32)
    base_energy = by_frame(baseline.energy)
    hours = np.bincount(frame[inside], minlength=n).astype(float)
    starts = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    for k, t in zip(frame[inside][::-1], times[inside][::-1], strict=True):
        starts[k] = t  # backwards: each frame ends up with its first hour
    lit = by_frame(result.on)
    lit_levels = by_frame(result.levels * result.on)
    level = (lit_levels / lit.where(lit > 0)).fillna(0.0)
    lamps = np.bincount(result.lamp_cell, minlength=result.energy.sizes["cell"])
    frames = xr.Dataset(
        {
            "energy_kwh": energy.assign_attrs(units="kWh", long_name="lighting energy"),
            "cost_mad": cost.assign_attrs(units="MAD", long_name="lighting energy cost"),
            "saved_kwh": (base_energy - energy).assign_attrs(
                units="kWh", long_name="energy saved against the baseline"
            ),
            "load_kw": ("frame", energy.sum("cell").to_numpy() / hours, {"units": "kW"}),
            "baseline_load_kw": (
                "frame",
                base_energy.sum("cell").to_numpy() / hours,
                {"units": "kW"},
            ),
            "energy_total_kwh": energy.sum("cell").assign_attrs(units="kWh"),
            "cost_total_mad": cost.sum("cell").assign_attrs(units="MAD"),
            "baseline_energy_total_kwh": base_energy.sum("cell").assign_attrs(units="kWh"),
            "level": level.assign_attrs(units="1", long_name="mean dimming level while lit"),
            "lit": ("frame", lit.to_numpy() / hours, {"units": "1"}),
            "lamps": ("cell", lamps, {"long_name": "light points in the cell"}),
            "lamp_group": ("lamp", result.lamp_group, {"long_name": "dimming group of the lamp"}),
        },
        coords={"label": ("frame", labels), "hours": ("frame", hours), "start": ("frame", starts)},
        attrs={
            "mode": mode,
            "day": day or "",
            "scenario": result.scenario.name,
            "h3_resolution": int(result.energy.attrs["h3_resolution"]),
        },
    )
    return frames.drop_vars("tariff_mad_kwh", errors="ignore")

"""A lighting scenario's time-lapse on the map: energy, cost or savings per H3 cell per frame.

Packs the frames of `simulation.lighting.playback.playback` into the hexagon manifest the browser
already plays (one colour scale per resolution over all frames), plus each lamp's dimming
group and the groups' level per frame so the lamps can show their dimming as the frames play.
"""

from __future__ import annotations

import functools

import numpy as np
import xarray as xr

from data.city import load_city
from data.city.clock import time_zone
from data.city.grid import roll_up_columns
from layers.codec import BlobWriter, PackedLayer
from layers.hexagons import CellFrames, Display, lookup_display, pack_cell_frames
from simulation.lighting.model import LightingResult, LightingScenario, simulate
from simulation.lighting.plans import PRESETS
from simulation.lighting.playback import playback

PLAYBACK_DISPLAY: dict[str, Display] = {
    "energy_kwh": Display("Lighting energy", "kWh"),
    "cost_mad": Display("Lighting energy cost", "MAD"),
    "saved_kwh": Display("Energy saved against the baseline", "kWh"),
}
PLAYBACK_RESOLUTIONS = (7, 8, 9)


def playback_display(variable: str) -> Display:
    """The display of a playback variable; `LayerSpecError` naming it if unknown."""
    return lookup_display(PLAYBACK_DISPLAY, variable, "scenario")


def summed_frames(values: xr.DataArray, lamps: np.ndarray, res: int) -> CellFrames:
    """(frame, cell) sums at the coarser resolution ``res`` (energy adds up; lamps too)."""
    cells = values["cell"].to_numpy()
    if res == int(values.attrs.get("h3_resolution", res)):
        return CellFrames(cells, values.to_numpy(), np.broadcast_to(lamps, values.shape))
    parents, sums, counts = roll_up_columns(cells, values.to_numpy(), res, weights=lamps)
    return CellFrames(parents, sums, np.broadcast_to(counts, sums.shape))


def pack_playback(frames: xr.Dataset, variable: str, *, time_zone: str) -> PackedLayer:
    """Manifest + blob of one playback variable, with the lamps' dimming per frame.

    ``frames`` is a `simulation.lighting.playback.playback` Dataset with ``lamp_group`` (lamp).
    """
    display = playback_display(variable)
    values = frames[variable].assign_attrs(h3_resolution=int(frames.attrs["h3_resolution"]))
    lamps = frames["lamps"].to_numpy()
    writer = BlobWriter()
    extra = {
        "kind": "scenario",
        "scenario": frames.attrs["scenario"],
        "lampGroups": writer.add(frames["lamp_group"].to_numpy().astype(np.uint8)),
        "groups": [str(g) for g in frames["group"].to_numpy()],
        "levels": np.round(frames["level"].to_numpy(), 3).tolist(),
        "lit": np.round(frames["lit"].to_numpy(), 3).tolist(),
    }
    return pack_cell_frames(
        {res: summed_frames(values, lamps, res) for res in PLAYBACK_RESOLUTIONS},
        variable=variable,
        display=display,
        labels=[str(label) for label in frames["label"].to_numpy()],
        starts=frames["start"].to_numpy(),
        time_zone=time_zone,
        count_label="light points",
        writer=writer,
        extra=extra,
    )


@functools.lru_cache(maxsize=4)
def scenario_result(city: str, scenario: LightingScenario, year: int) -> LightingResult:
    """The scenario simulated over ``year`` (cached per process; scenarios are values)."""
    return simulate(load_city(city), scenario, year)


@functools.lru_cache(maxsize=16)
def scenario_frames(
    city: str, scenario: LightingScenario, year: int, mode: str, day: str | None
) -> xr.Dataset:
    """The time-lapse frames of ``scenario`` against today's stock (cached per process)."""
    baseline = scenario_result(city, PRESETS["baseline"], year)
    return playback(city, scenario_result(city, scenario, year), baseline, mode=mode, day=day)


@functools.lru_cache(maxsize=16)
def packed_playback(
    city: str, scenario: LightingScenario, year: int, mode: str, day: str | None, variable: str
) -> PackedLayer:
    """The hexagon layer of one playback variable (cached per process)."""
    playback_display(variable)  # refuse before simulating
    frames = scenario_frames(city, scenario, year, mode, day)
    return pack_playback(frames, variable, time_zone=time_zone(city))

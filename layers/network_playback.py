"""A utility what-if's time-lapse on the map: its (time, cell) cube as playable hexagons.

Water scenarios (pipe break, pressure management) and traffic what-ifs give hourly frames,
electricity outages quarter-hourly ones; all pack into the hexagon manifest the browser plays.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import xarray as xr

from data.city import load_city
from data.city.clock import time_zone, utc_offset
from data.city.grid import roll_up_columns
from data.errors import MadinaError
from layers.codec import PackedLayer
from layers.hexagons import CellFrames, Display, lookup_display, pack_cell_frames
from simulation.power.outage import OutageResult, OutageScenario, run_outage
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import TrafficResult, run_traffic
from simulation.water.hydraulics import WaterResult, run_pipe_break, run_pressure_management
from simulation.water.scenarios import (
    PipeBreakScenario,
    PressureScenario,
    WaterScenarioError,
    scenario_from_json,
)

NetworkScenario = PipeBreakScenario | PressureScenario | OutageScenario | TrafficScenario
# Variables by what-if kind (first: the default) and how they read on the map.
NETWORK_DISPLAY: dict[str, Display] = {
    "people_without_water": Display("People without water", "people"),
    "pressure_change_m": Display("Pressure change against the ordinary day", "m"),
    "unserved_m3h": Display("Water demand not served", "m³/h"),
    "pressure_m": Display("Mean pressure at the junctions", "m"),
    "customers_off": Display("Electricity customers without power", "customers"),
    "lamps_off": Display("Light points without power", "lamps"),
    "load_lost_kw": Display("Load not supplied", "kW"),
    "delay_change_veh_h": Display(
        "Traffic delay change against the ordinary day", "vehicle-hours per hour"
    ),
    "delay_veh_h": Display("Traffic delay (over free-flow time)", "vehicle-hours per hour"),
    "vehicle_km": Display("Traffic (vehicle-kilometres)", "vehicle-km per hour"),
}
WATER_VARIABLES = ("people_without_water", "pressure_change_m", "unserved_m3h", "pressure_m")
POWER_VARIABLES = ("customers_off", "lamps_off", "load_lost_kw")
TRAFFIC_VARIABLES = ("delay_change_veh_h", "delay_veh_h", "vehicle_km")
MEAN_VARIABLES = ("pressure_change_m", "pressure_m")  # the others add up over cells
RESOLUTIONS = (8, 9)


def parse_scenario(text: str) -> NetworkScenario:
    """A network scenario from its JSON (``kind``: pipe_break, pressure, outage or traffic)."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as err:
        raise WaterScenarioError(f"scenario is not JSON: {err}") from None
    if isinstance(data, dict) and data.get("kind") == "outage":
        data.pop("kind")
        return OutageScenario.from_json(json.dumps(data))
    if isinstance(data, dict) and data.get("kind") == "traffic":
        return TrafficScenario.from_json(text)
    return scenario_from_json(text)


def scenario_json(scenario: NetworkScenario) -> str:
    """The JSON ``parse_scenario`` reads back."""
    if isinstance(scenario, OutageScenario | TrafficScenario):
        kind = "outage" if isinstance(scenario, OutageScenario) else "traffic"
        return json.dumps({"kind": kind, **json.loads(scenario.to_json())}, sort_keys=True)
    return scenario.to_json()


def variables_of(scenario: NetworkScenario) -> tuple[str, ...]:
    """The map variables of a scenario's kind."""
    if isinstance(scenario, TrafficScenario):
        return TRAFFIC_VARIABLES
    return POWER_VARIABLES if isinstance(scenario, OutageScenario) else WATER_VARIABLES


@functools.lru_cache(maxsize=8)
def network_result(
    city: str, scenario: NetworkScenario
) -> WaterResult | OutageResult | TrafficResult:
    """Run a scenario (cached per process: scenarios are immutable values)."""
    if isinstance(scenario, TrafficScenario):
        return run_traffic(city, scenario)
    if isinstance(scenario, OutageScenario):
        return run_outage(load_city(city), scenario)
    if isinstance(scenario, PipeBreakScenario):
        return run_pipe_break(city, scenario)
    return run_pressure_management(city, scenario)


def rolled_up(values: xr.DataArray, res: int, *, mean: bool) -> CellFrames:
    """(time, cell) values at the coarser ``res``: sums, or means of the child cells."""
    cells = values["cell"].to_numpy()
    data = np.nan_to_num(values.to_numpy().astype(float))
    if res == int(values.attrs.get("h3_resolution", res)):
        return CellFrames(cells, data, np.ones_like(data))
    parents, sums, counts = roll_up_columns(cells, data, res)
    counts = counts.astype(float)
    if mean:
        sums /= counts[None, :]
    return CellFrames(parents, sums, np.broadcast_to(counts, sums.shape))


@functools.lru_cache(maxsize=16)
def packed_network_playback(city: str, scenario: NetworkScenario, variable: str) -> PackedLayer:
    """The hexagon time-lapse of one variable of a scenario (cached per process)."""
    if variable not in variables_of(scenario):
        lookup_display({v: NETWORK_DISPLAY[v] for v in variables_of(scenario)}, variable, "what-if")
    display = NETWORK_DISPLAY[variable]
    cube = network_result(city, scenario).cube
    values = cube[variable]
    if variable not in MEAN_VARIABLES:  # keep only the cells the event touches
        touched = (np.abs(values.fillna(0)) > 0).any("time")
        if bool(touched.any()):
            values = values.sel(cell=touched)
    times = pd.DatetimeIndex(cube["time"].to_numpy()) + utc_offset(city)
    return pack_cell_frames(
        {r: rolled_up(values, r, mean=variable in MEAN_VARIABLES) for r in RESOLUTIONS},
        variable=variable,
        display=display,
        labels=[t.strftime("%a %d %b %Y %H:%M") for t in times],
        starts=cube["time"].to_numpy(),
        time_zone=time_zone(city),
        count_label="H3 cells",
        extra={"kind": "network"},
    )


def playback_request(args) -> NetworkScenario:
    """The scenario of a ``?scenario=<JSON>`` request; `MadinaError` naming what is wrong."""
    text = args.get("scenario")
    if not text:
        raise MadinaError("missing ?scenario=<JSON> (kind pipe_break, pressure, outage or traffic)")
    return parse_scenario(text)

"""A utility what-if's time-lapse on the map: its (time, cell) cube as playable hexagons.

Water scenarios (pipe break, pressure management) and traffic what-ifs give hourly frames,
electricity outages quarter-hourly ones; all pack into the hexagon manifest the browser plays.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import xarray as xr

from data.city.clock import time_zone, to_local
from data.city.grid import roll_up_columns
from data.errors import MadinaError
from layers.codec import PackedLayer
from layers.hexagons import CellFrames, Display, lookup_display, pack_cell_frames
from simulation.kinds import NETWORK_KINDS, kind_of_scenario
from simulation.power.outage import OutageResult, OutageScenario
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import TrafficResult
from simulation.water.hydraulics import WaterResult
from simulation.water.scenarios import (
    PipeBreakScenario,
    PressureScenario,
    WaterScenarioError,
    scenario_from_json,
)

NetworkScenario = PipeBreakScenario | PressureScenario | OutageScenario | TrafficScenario
# How each network kind's variables read on the map: from the kinds (`simulation.kinds`).
NETWORK_DISPLAY: dict[str, Display] = {
    v.key: Display(v.label, v.unit) for kind in NETWORK_KINDS.values() for v in kind.map_variables
}


def kind_variables(kind: str) -> tuple[str, ...]:
    """The map variables of the network kind called ``kind`` (first: the default)."""
    return tuple(v.key for v in NETWORK_KINDS[kind].map_variables)


WATER_VARIABLES = kind_variables("pipe_break")
POWER_VARIABLES = kind_variables("outage")
TRAFFIC_VARIABLES = kind_variables("traffic")
MEAN_VARIABLES = tuple(  # the others add up over cells
    dict.fromkeys(
        v for kind in NETWORK_KINDS.values() for v in kind.mean_variables if v in NETWORK_DISPLAY
    )
)
RESOLUTIONS = (8, 9)


def parse_scenario(text: str) -> NetworkScenario:
    """A network scenario from its JSON (``kind``: pipe_break, pressure, outage or traffic)."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as err:
        raise WaterScenarioError(f"scenario is not JSON: {err}") from None
    kind = NETWORK_KINDS.get(data.get("kind")) if isinstance(data, dict) else None
    if kind is None:  # the water reader names the missing or unknown kind
        return scenario_from_json(text)
    return kind.parse({k: v for k, v in data.items() if k != "kind"})


def scenario_json(scenario: NetworkScenario) -> str:
    """The JSON ``parse_scenario`` reads back."""
    kind = kind_of_scenario(scenario)
    return json.dumps({"kind": kind.name, **kind.to_dict(scenario)}, sort_keys=True)


def variables_of(scenario: NetworkScenario) -> tuple[str, ...]:
    """The map variables of a scenario's kind."""
    return kind_variables(kind_of_scenario(scenario).name)


@functools.lru_cache(maxsize=8)
def network_result(
    city: str, scenario: NetworkScenario
) -> WaterResult | OutageResult | TrafficResult:
    """Run a scenario (cached per process: scenarios are immutable values)."""
    simulate = kind_of_scenario(scenario).simulate
    assert simulate is not None  # every network kind has its engine
    return simulate(city, scenario)


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
    times = to_local(city, cube["time"].to_numpy())
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

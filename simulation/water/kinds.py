"""The water what-if kinds: a pipe break and pressure management, each a day on EPANET."""

from __future__ import annotations

import json

from data.water.network import load_water_network
from simulation.kind import Kpi, network_kind
from simulation.water.hydraulics import run_pipe_break, run_pressure_management
from simulation.water.scenarios import PipeBreakScenario, PressureScenario
from simulation.water.scenarios import scenario_from_json as water_scenario_from_json
from simulation.water.studio import PIPE_BREAK_STUDIO, PRESSURE_STUDIO


def _water_parse(kind: str):
    def parse(params: dict):
        return water_scenario_from_json(json.dumps({**params, "kind": kind}))

    return parse


def _water_dict(scenario) -> dict:
    data = json.loads(scenario.to_json())
    data.pop("kind", None)
    return data


def _validate_water(city: str, scenario) -> None:
    scenario.validate(load_water_network(city))


WATER_KPIS = (
    Kpi("yield_share", "Network yield (billed / produced)", "share", ",.4f"),
    Kpi("produced_m3", "Water produced", "m³/day"),
    Kpi("billed_m3", "Water billed", "m³/day"),
    Kpi("leaked_m3", "Leakage", "m³/day"),
    Kpi("mean_pressure_m", "Mean pressure at customers", "m", ",.1f"),
    Kpi("people_without_water", "People without water (worst hour)", "people", ",.0f"),
    Kpi("person_hours_without_water", "Person-hours without water", "person-h"),
    Kpi("pressure_drop_area_km2", "Area losing ≥ 5 m of pressure", "km²"),
    Kpi("volume_lost_m3", "Volume lost through bursts", "m³"),
)

# The (time, cell) variables a water run's map can show, with their label and unit.
WATER_MAP = (
    Kpi("people_without_water", "People without water", "people"),
    Kpi("pressure_change_m", "Pressure change against the ordinary day", "m"),
    Kpi("unserved_m3h", "Water demand not served", "m³/h"),
    Kpi("pressure_m", "Mean pressure at the junctions", "m"),
)
WATER_MEANS = ("pressure_change_m", "pressure_m")


def _water_kind(name: str, title: str, map_variable: str, simulate, scenario_type, studio):
    """A day of the water network on EPANET: every water kind shares its KPIs and map."""
    return network_kind(
        name, title, ("wntr",), WATER_KPIS, map_variable, _water_parse(name), _water_dict,
        _validate_water, simulate=simulate, scenario_types=(scenario_type,),
        map_variables=WATER_MAP, mean_variables=WATER_MEANS, sums_buildings=True, studio=studio,
    )  # fmt: skip


PIPE_BREAK_KIND = _water_kind(
    "pipe_break", "Water: pipe break (a day)", "people_without_water", run_pipe_break,
    PipeBreakScenario, PIPE_BREAK_STUDIO,
)  # fmt: skip
PRESSURE_KIND = _water_kind(
    "pressure", "Water: pressure management (a day)", "pressure_m", run_pressure_management,
    PressureScenario, PRESSURE_STUDIO,
)  # fmt: skip

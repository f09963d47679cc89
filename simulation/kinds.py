"""Every what-if kind, one registration line each (each kind is defined in its domain).

The studios, the scenario store's runs, the library, the playback, the brief and the
exports find a kind here by its name or its scenario value (`simulation.kind` is the
interface they share).
"""

from __future__ import annotations

from data.errors import ScenarioParamsError
from simulation.kind import Kpi, ScenarioKind, ScenarioRun, canonical, engine_versions
from simulation.lighting.kind import LIGHTING_KIND
from simulation.power.kind import OUTAGE_KIND
from simulation.traffic.kind import TRAFFIC_KIND
from simulation.water.kinds import PIPE_BREAK_KIND, PRESSURE_KIND

__all__ = ["KINDS", "NETWORK_KINDS", "Kpi", "ScenarioKind", "ScenarioRun", "canonical",
           "engine_versions", "kind_of", "kind_of_scenario"]  # fmt: skip

# A new kind: its module in its domain folder and one line here.
KINDS: dict[str, ScenarioKind] = {
    kind.name: kind
    for kind in (
        LIGHTING_KIND,
        PIPE_BREAK_KIND,
        PRESSURE_KIND,
        OUTAGE_KIND,
        TRAFFIC_KIND,
    )
}


def kind_of(name: object) -> ScenarioKind:
    """The kind called ``name``; `ScenarioParamsError` listing the known ones otherwise."""
    if not isinstance(name, str) or name not in KINDS:
        raise ScenarioParamsError(f"unknown scenario kind {name!r}; known: {', '.join(KINDS)}")
    return KINDS[name]


def kind_of_scenario(scenario: object) -> ScenarioKind:
    """The kind a scenario value belongs to (by its type); `ScenarioParamsError` if none."""
    for kind in KINDS.values():
        if isinstance(scenario, kind.scenario_types):
            return kind
    raise ScenarioParamsError(f"{type(scenario).__name__} is not the scenario of any kind")


# The kinds whose runs play on the map as (time, cell) hexagons.
NETWORK_KINDS = {name: kind for name, kind in KINDS.items() if kind.map_variables}

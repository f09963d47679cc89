"""The city's sensor fleets, one registration line each (each fleet lives in its domain).

The registry (`data.telemetry.sensors`), the synthetic generator, the cubes, the privacy
rule and the importers read the fleets and their variables from here.
"""

from __future__ import annotations

from data.lighting.meters import LAMP_METERS
from data.telemetry.fleet import Fleet, Variable
from data.traffic.counters import ROAD_COUNTERS
from data.water.meters import WATER_METERS

# Registry order. A new fleet: its module in its domain folder and one line here.
FLEETS: tuple[Fleet, ...] = (
    LAMP_METERS,
    ROAD_COUNTERS,
    WATER_METERS,
)
FLEET_OF: dict[str, Fleet] = {fleet.kind: fleet for fleet in FLEETS}
KINDS: tuple[str, ...] = tuple(FLEET_OF)
VARIABLES: dict[str, Variable] = {
    name: variable for fleet in FLEETS for name, variable in fleet.variables.items()
}

"""The traffic what-if kind: works, demand, a new road, a corridor or an emergency, a weekday."""

from __future__ import annotations

import json

from data.city import load_city
from data.traffic.network import traffic_network
from simulation.forms import Studio
from simulation.kind import Kpi, network_kind, plain_dict
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import run_traffic

TRAFFIC_KPIS = (
    Kpi("trips", "Trips finished", "trips/day", ",.0f"),
    Kpi("trips_unfinished", "Trips not finished", "trips", ",.0f"),
    Kpi("vehicle_km", "Vehicle-km", "veh-km/day"),
    Kpi("vehicle_hours", "Vehicle-hours", "veh-h/day"),
    Kpi("delay_veh_h", "Delay", "veh-h/day"),
    Kpi("mean_speed_kmh", "Mean speed", "km/h", ",.1f"),
    Kpi("congested_link_hours", "Congested link-hours", "link-h"),
    Kpi("peak_congested_km", "Congested km in the worst hour", "km"),
    Kpi("co2_t", "CO2", "t/day"),
)

# The (time, cell) variables each network kind's map can show, with their label and unit.
TRAFFIC_MAP = (
    Kpi(
        "delay_change_veh_h",
        "Traffic delay change against the ordinary day",
        "vehicle-hours per hour",
    ),
    Kpi("delay_veh_h", "Traffic delay (over free-flow time)", "vehicle-hours per hour"),
    Kpi("vehicle_km", "Traffic (vehicle-kilometres)", "vehicle-km per hour"),
)


def _parse_traffic(params: dict) -> TrafficScenario:
    return TrafficScenario.from_json(json.dumps(params))


TRAFFIC_KIND = network_kind(
    "traffic",
    "Traffic (a weekday)",
    ("uxsim",),
    TRAFFIC_KPIS,
    "delay_veh_h",
    _parse_traffic,
    plain_dict,
    lambda city, s: s.validate(traffic_network(load_city(city))),
    simulate=run_traffic,
    scenario_types=(TrafficScenario,),
    map_variables=TRAFFIC_MAP,
    mean_variables=("speed_kmh",),
    # its form picks streets and trips on the map: a page of its own (pages.traffic_form)
    studio=Studio("Traffic: works, demand, new road, corridor, emergency"),
)

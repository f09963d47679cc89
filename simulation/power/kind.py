"""The electricity what-if kind: a feeder, transformer or substation outage over a day."""

from __future__ import annotations

import json

from data.city import load_city
from data.power.network import load_power_network
from simulation.kind import Kpi, network_kind, plain_dict
from simulation.power.outage import OutageScenario, run_outage
from simulation.power.studio import OUTAGE_STUDIO

OUTAGE_KPIS = (
    Kpi("customers", "Customers cut off", "customers", ",.0f"),
    Kpi("buildings", "Buildings cut off", "buildings", ",.0f"),
    Kpi("lamps", "Light points without power", "lamps", ",.0f"),
    Kpi("customer_minutes_lost", "Customer-minutes lost", "customer-min"),
    Kpi("saidi_min", "SAIDI contribution", "min", ",.2f"),
    Kpi("energy_not_supplied_kwh", "Energy not supplied", "kWh"),
    Kpi("lamp_hours_dark", "Lamp-hours dark at night", "lamp-h"),
    Kpi("customers_backfed", "Customers back-fed over ties", "customers", ",.0f"),
)
OUTAGE_MAP = (
    Kpi("customers_off", "Electricity customers without power", "customers"),
    Kpi("lamps_off", "Light points without power", "lamps"),
    Kpi("load_lost_kw", "Load not supplied", "kW"),
)


def _parse_outage(params: dict) -> OutageScenario:
    return OutageScenario.from_json(json.dumps(params))


OUTAGE_KIND = network_kind(
    "outage",
    "Electricity: outage (a day)",
    ("pandapower",),
    OUTAGE_KPIS,
    "customers_off",
    _parse_outage,
    plain_dict,
    lambda city, s: s.validate(load_power_network(load_city(city))),
    simulate=lambda city, s: run_outage(load_city(city), s),
    scenario_types=(OutageScenario,),
    map_variables=OUTAGE_MAP,
    sums_buildings=True,
    studio=OUTAGE_STUDIO,
)

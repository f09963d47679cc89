"""Every what-if kind behind one interface: read untrusted parameters, validate them, run them.

A run returns what the scenario store keeps: a ``(time, cell)`` Dataset with units on every
variable, and flat numeric KPIs. Nothing here touches the database or Dash.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from data.city import load_city
from data.city.clock import utc_offset
from data.errors import ScenarioParamsError
from data.power.network import load_power_network
from data.traffic.network import traffic_network
from data.water.network import load_water_network
from simulation.lighting.model import LightingScenario, compare, simulate
from simulation.lighting.plans import PRESETS, scenario_from_dict, scenario_to_dict
from simulation.power.outage import OutageScenario, run_outage
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import run_traffic
from simulation.water.hydraulics import run_pipe_break, run_pressure_management
from simulation.water.scenarios import PipeBreakScenario, PressureScenario
from simulation.water.scenarios import scenario_from_json as water_scenario_from_json

Progress = Callable[[float, str], None]
DEFAULT_LIGHTING_YEAR = 2026


@dataclass(frozen=True)
class Kpi:
    """A headline figure: its key in ``ScenarioRun.kpis``, a label and the unit it is in."""

    key: str
    label: str
    unit: str


@dataclass(frozen=True)
class ScenarioRun:
    """What a run leaves: ``results`` (dims ``time`` and ``cell``, H3 ids) and numeric KPIs.

    ``results`` also carries city totals per time step (``*_total`` variables, dim ``time``).
    KPIs that have no value (a payback that never comes) are NaN.
    """

    results: xr.Dataset
    kpis: dict[str, float]


@dataclass(frozen=True)
class ScenarioKind:
    """One kind of what-if: how its parameters read, validate and run."""

    name: str
    title: str
    engine_packages: tuple[str, ...]  # whose versions a run depends on
    kpis: tuple[Kpi, ...]
    map_variable: str  # the (time, cell) variable a map or brief shows first
    # The scenario value is each kind's own frozen dataclass, hence Any.
    parse: Callable[[dict], Any]  # untrusted dict -> scenario value (types checked)
    to_dict: Callable[[Any], dict]  # scenario value -> canonical JSON-able dict
    validate: Callable[[str, Any], None]  # (city, scenario): ranges and ids, for the city
    run: Callable[[str, Any, Progress], ScenarioRun]
    # Kinds whose engine gives a (time, cell) cube the map plays (the utility networks):
    scenario_types: tuple[type, ...] = ()  # the scenario values of this kind
    simulate: Callable[[str, Any], Any] | None = None  # (city, scenario) -> the engine's result
    map_variables: tuple[Kpi, ...] = ()  # the cube variables a map can show (label, unit)
    mean_variables: tuple[str, ...] = ()  # those averaged over cells; the others add up
    # Its cells add up buildings' figures (customers, people): the public sees cells of k or
    # more buildings only (`layers.run_playback`).
    sums_buildings: bool = False

    def seed(self, params: dict) -> int | None:
        """The scenario's random seed, if its kind has one."""
        seed = params.get("seed")
        return int(seed) if isinstance(seed, int) else None


def engine_versions(kind: ScenarioKind) -> dict[str, str]:
    """Versions of Madina Twin and of the engines ``kind`` runs on, as a run records them."""
    versions = {}
    for package in ("madina-twin", *kind.engine_packages):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def canonical(kind: ScenarioKind, params: object) -> tuple[object, dict]:
    """The scenario ``params`` describe and its canonical parameters.

    Raises `MadinaError` (a subclass naming the field) for anything that is not a scenario of
    ``kind``; ranges that need the city are checked by ``kind.validate``.
    """
    if not isinstance(params, dict):
        raise ScenarioParamsError(
            f"{kind.name} parameters must be an object of fields, got {type(params).__name__}"
        )
    try:
        scenario = kind.parse(dict(params))
    except TypeError as err:  # a dataclass given a field of the wrong shape
        raise ScenarioParamsError(f"bad {kind.name} parameters: {err}") from None
    return scenario, kind.to_dict(scenario)


# --- lighting: a year of every light point -------------------------------------------------


@dataclass(frozen=True)
class LightingYear:
    """A lighting plan and the year it is simulated over."""

    scenario: LightingScenario
    year: int = DEFAULT_LIGHTING_YEAR


def _parse_lighting(params: dict) -> LightingYear:
    year = params.pop("year", DEFAULT_LIGHTING_YEAR)
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ScenarioParamsError(f"year must be a whole year within 2000-2100, got {year!r}")
    return LightingYear(scenario_from_dict(params), year)


def _lighting_dict(plan: LightingYear) -> dict:
    return {**scenario_to_dict(plan.scenario), "year": plan.year}


@functools.lru_cache(maxsize=2)
def _lighting_baseline(city: str, year: int):
    return simulate(load_city(city), PRESETS["baseline"], year)


def _run_lighting(city: str, plan: LightingYear, progress: Progress) -> ScenarioRun:
    progress(0.1, f"simulating {plan.year}, hour by hour, for every light point")
    result = simulate(load_city(city), plan.scenario, plan.year)
    progress(0.5, "simulating today's stock for the savings")
    saved = compare(result, _lighting_baseline(city, plan.year))
    progress(0.8, "summing the days")
    # local days, stamped at local midnight (in UTC); the year's hours past local midnight on
    # 31 December (UTC+1: one) count in its last day, so the days add up to the year's KPIs
    offset = utc_offset(city)
    local_days = (pd.DatetimeIndex(result.energy["time"].to_numpy()) + offset).floor("D")
    last = pd.Timestamp(f"{plan.year}-12-31")
    days = local_days.where(local_days <= last, last) - offset
    energy = result.energy.assign_coords(day=("time", days))
    cost = result.cost.assign_coords(day=("time", days))
    daily_energy = energy.groupby("day").sum().rename(day="time")
    daily_cost = cost.groupby("day").sum().rename(day="time")
    results = xr.Dataset(
        {
            "energy_kwh": daily_energy.astype(np.float32).assign_attrs(
                units="kWh", long_name="public-lighting energy in the day"
            ),
            "cost_mad": daily_cost.astype(np.float32).assign_attrs(
                units="MAD", long_name="public-lighting energy cost in the day"
            ),
        }
    )
    results = _with_totals(results, mean=())
    results.attrs["h3_resolution"] = int(result.energy.attrs["h3_resolution"])
    kpis = {**result.kpis, **saved}
    return ScenarioRun(results, kpis)


def _validate_lighting(city: str, plan: LightingYear) -> None:
    plan.scenario.validate(load_city(city))


LIGHTING_KPIS = (
    Kpi("energy_kwh", "Energy", "kWh/yr"),
    Kpi("cost_mad", "Energy cost", "MAD/yr"),
    Kpi("co2_t", "CO2", "t/yr"),
    Kpi("peak_kw", "Peak load", "kW"),
    Kpi("maintenance_mad", "Maintenance", "MAD/yr"),
    Kpi("lamps_retrofitted", "Lamps retrofitted", "lamps"),
    Kpi("investment_mad", "Investment", "MAD"),
    Kpi("energy_saving_pct", "Energy saved against today", "%"),
    Kpi("cost_saved_mad", "Cost saved against today", "MAD/yr"),
    Kpi("co2_saved_t", "CO2 saved against today", "t/yr"),
    Kpi("payback_years", "Simple payback", "years"),
    Kpi("underlit_lamp_hours", "Lamp-hours below the road's level", "lamp-h"),
)


# --- the networks: a day of water, electricity or traffic ----------------------------------


def _with_totals(cube: xr.Dataset, mean: tuple[str, ...]) -> xr.Dataset:
    """``cube`` plus a city total (a mean for ``mean`` variables) per time step of each.

    Each cell variable is tagged ``cell_aggregation`` ("sum" or "mean"): how it rolls up.
    """
    out = {}
    for name, values in cube.data_vars.items():
        if "cell" not in values.dims:
            continue
        how = "mean" if name in mean else "sum"
        total = values.mean("cell") if how == "mean" else values.sum("cell")
        out[name] = values.assign_attrs(cell_aggregation=how)
        out[f"{name}_total"] = total.assign_attrs(
            units=values.attrs.get("units", ""),
            long_name=f"{values.attrs.get('long_name', name)} "
            f"({'mean over the cells' if how == 'mean' else 'city total'})",
        )
    return cube.assign(out)


def _numbers(record: Any) -> dict[str, float]:
    """The numeric fields of a KPI dataclass (dates and ids are left out)."""
    out = {}
    for name, value in dataclasses.asdict(record).items():
        if isinstance(value, bool | int | float | np.integer | np.floating):
            out[name] = float(value)
    return out


def _network_run(runner, mean: tuple[str, ...] = ()):
    def run(city: str, scenario, progress: Progress) -> ScenarioRun:
        progress(0.1, "solving the network's day")
        result = runner(city, scenario)
        progress(0.85, "summarising")
        cube = result.cube.drop_vars(
            [v for v in result.cube.coords if v not in result.cube.dims], errors="ignore"
        )
        return ScenarioRun(_with_totals(cube, mean), _numbers(result.kpis))

    return run


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
    Kpi("yield_share", "Network yield (billed / produced)", "share"),
    Kpi("produced_m3", "Water produced", "m³/day"),
    Kpi("billed_m3", "Water billed", "m³/day"),
    Kpi("leaked_m3", "Leakage", "m³/day"),
    Kpi("mean_pressure_m", "Mean pressure at customers", "m"),
    Kpi("people_without_water", "People without water (worst hour)", "people"),
    Kpi("person_hours_without_water", "Person-hours without water", "person-h"),
    Kpi("pressure_drop_area_km2", "Area losing ≥ 5 m of pressure", "km²"),
    Kpi("volume_lost_m3", "Volume lost through bursts", "m³"),
)
OUTAGE_KPIS = (
    Kpi("customers", "Customers cut off", "customers"),
    Kpi("buildings", "Buildings cut off", "buildings"),
    Kpi("lamps", "Light points without power", "lamps"),
    Kpi("customer_minutes_lost", "Customer-minutes lost", "customer-min"),
    Kpi("saidi_min", "SAIDI contribution", "min"),
    Kpi("energy_not_supplied_kwh", "Energy not supplied", "kWh"),
    Kpi("lamp_hours_dark", "Lamp-hours dark at night", "lamp-h"),
    Kpi("customers_backfed", "Customers back-fed over ties", "customers"),
)
TRAFFIC_KPIS = (
    Kpi("trips", "Trips finished", "trips/day"),
    Kpi("trips_unfinished", "Trips not finished", "trips"),
    Kpi("vehicle_km", "Vehicle-km", "veh-km/day"),
    Kpi("vehicle_hours", "Vehicle-hours", "veh-h/day"),
    Kpi("delay_veh_h", "Delay", "veh-h/day"),
    Kpi("mean_speed_kmh", "Mean speed", "km/h"),
    Kpi("congested_link_hours", "Congested link-hours", "link-h"),
    Kpi("peak_congested_km", "Congested km in the worst hour", "km"),
    Kpi("co2_t", "CO2", "t/day"),
)

# The (time, cell) variables each network kind's map can show, with their label and unit.
WATER_MAP = (
    Kpi("people_without_water", "People without water", "people"),
    Kpi("pressure_change_m", "Pressure change against the ordinary day", "m"),
    Kpi("unserved_m3h", "Water demand not served", "m³/h"),
    Kpi("pressure_m", "Mean pressure at the junctions", "m"),
)
WATER_MEANS = ("pressure_change_m", "pressure_m")
OUTAGE_MAP = (
    Kpi("customers_off", "Electricity customers without power", "customers"),
    Kpi("lamps_off", "Light points without power", "lamps"),
    Kpi("load_lost_kw", "Load not supplied", "kW"),
)
TRAFFIC_MAP = (
    Kpi(
        "delay_change_veh_h",
        "Traffic delay change against the ordinary day",
        "vehicle-hours per hour",
    ),
    Kpi("delay_veh_h", "Traffic delay (over free-flow time)", "vehicle-hours per hour"),
    Kpi("vehicle_km", "Traffic (vehicle-kilometres)", "vehicle-km per hour"),
)


def _parse_outage(params: dict) -> OutageScenario:
    return OutageScenario.from_json(json.dumps(params))


def _parse_traffic(params: dict) -> TrafficScenario:
    return TrafficScenario.from_json(json.dumps(params))


def _plain_dict(scenario) -> dict:
    return json.loads(scenario.to_json())


def network_kind(
    name: str,
    title: str,
    engine_packages: tuple[str, ...],
    kpis: tuple[Kpi, ...],
    map_variable: str,
    parse: Callable[[dict], Any],
    to_dict: Callable[[Any], dict],
    validate: Callable[[str, Any], None],
    *,
    simulate: Callable[[str, Any], Any],
    scenario_types: tuple[type, ...],
    map_variables: tuple[Kpi, ...],
    mean_variables: tuple[str, ...] = (),
    sums_buildings: bool = False,
) -> ScenarioKind:
    """A kind whose engine returns a result with a (time, cell) ``cube`` and ``kpis``."""
    run = _network_run(simulate, mean=mean_variables)
    return ScenarioKind(
        name, title, engine_packages, kpis, map_variable, parse, to_dict, validate, run,
        scenario_types, simulate, map_variables, mean_variables, sums_buildings,
    )  # fmt: skip


KINDS: dict[str, ScenarioKind] = {
    kind.name: kind
    for kind in (
        ScenarioKind(
            "lighting",
            "Public lighting (a year)",
            ("numpy",),
            LIGHTING_KPIS,
            "energy_kwh",
            _parse_lighting,
            _lighting_dict,
            _validate_lighting,
            _run_lighting,
        ),
        network_kind(
            "pipe_break",
            "Water: pipe break (a day)",
            ("wntr",),
            WATER_KPIS,
            "people_without_water",
            _water_parse("pipe_break"),
            _water_dict,
            _validate_water,
            simulate=run_pipe_break,
            scenario_types=(PipeBreakScenario,),
            map_variables=WATER_MAP,
            mean_variables=WATER_MEANS,
            sums_buildings=True,
        ),
        network_kind(
            "pressure",
            "Water: pressure management (a day)",
            ("wntr",),
            WATER_KPIS,
            "pressure_m",
            _water_parse("pressure"),
            _water_dict,
            _validate_water,
            simulate=run_pressure_management,
            scenario_types=(PressureScenario,),
            map_variables=WATER_MAP,
            mean_variables=WATER_MEANS,
            sums_buildings=True,
        ),
        network_kind(
            "outage",
            "Electricity: outage (a day)",
            ("pandapower",),
            OUTAGE_KPIS,
            "customers_off",
            _parse_outage,
            _plain_dict,
            lambda city, s: s.validate(load_power_network(load_city(city))),
            simulate=lambda city, s: run_outage(load_city(city), s),
            scenario_types=(OutageScenario,),
            map_variables=OUTAGE_MAP,
            sums_buildings=True,
        ),
        network_kind(
            "traffic",
            "Traffic (a weekday)",
            ("uxsim",),
            TRAFFIC_KPIS,
            "delay_veh_h",
            _parse_traffic,
            _plain_dict,
            lambda city, s: s.validate(traffic_network(load_city(city))),
            simulate=run_traffic,
            scenario_types=(TrafficScenario,),
            map_variables=TRAFFIC_MAP,
            mean_variables=("speed_kmh",),
        ),
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

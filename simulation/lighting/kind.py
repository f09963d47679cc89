"""The lighting what-if kind: a plan simulated over a year of every light point."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from data.city import load_city
from data.city.clock import to_local, to_utc
from data.errors import ScenarioParamsError
from simulation.kind import Kpi, Progress, ScenarioKind, ScenarioRun, with_totals
from simulation.lighting.model import LightingScenario, compare, simulate
from simulation.lighting.plans import PRESETS, scenario_from_dict, scenario_to_dict

DEFAULT_LIGHTING_YEAR = 2026


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
    local_days = to_local(city, result.energy["time"].to_numpy()).floor("D")
    last = pd.Timestamp(f"{plan.year}-12-31")
    days = to_utc(city, local_days.where(local_days <= last, last))
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
    results = with_totals(results, mean=())
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
    Kpi("lamps_retrofitted", "Lamps retrofitted", "lamps", ",.0f"),
    Kpi("investment_mad", "Investment", "MAD"),
    Kpi("energy_saving_pct", "Energy saved against today", "%", ",.1f"),
    Kpi("cost_saved_mad", "Cost saved against today", "MAD/yr"),
    Kpi("co2_saved_t", "CO2 saved against today", "t/yr"),
    Kpi("payback_years", "Simple payback", "years", ",.1f"),
    Kpi("underlit_lamp_hours", "Lamp-hours below the road's level", "lamp-h"),
)


LIGHTING_KIND = ScenarioKind(
    "lighting",
    "Public lighting (a year)",
    ("numpy",),
    LIGHTING_KPIS,
    "energy_kwh",
    _parse_lighting,
    _lighting_dict,
    _validate_lighting,
    _run_lighting,
)

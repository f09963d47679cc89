"""The water what-ifs in the networks studio: their forms and the KPI rows against today."""

from __future__ import annotations

from data.water.model import CRITICAL_PRESSURE_M
from data.water.network import load_water_network
from simulation.forms import Field, FormValues, Rows, Studio
from simulation.water.hydraulics import baseline_day
from simulation.water.scenarios import PipeBreakScenario, PressureScenario


def _dma_options(city: str) -> list[dict]:
    dmas = load_water_network(city).dmas.sort_values("population", ascending=False)
    return [
        {"label": f"{d} · {p:,} people", "value": d}
        for d, p in zip(dmas["dma_id"], dmas["population"], strict=True)
    ]


def _read_break(form: FormValues, day: str) -> PipeBreakScenario:
    pipes = form.ids("pipes")
    return PipeBreakScenario(
        pipes=pipes,
        random_breaks=0 if pipes else form.whole("random_breaks"),
        seed=form.whole("seed"),
        start=form.whole("start"),
        isolation_h=form.whole("isolation_h"),
        repair_h=form.whole("repair_h"),
        day=day,
    )


def _read_pressure(form: FormValues, day: str) -> PressureScenario:
    return PressureScenario(
        dmas=form.chosen("dmas"),
        critical_pressure_m=form.number("critical_pressure_m"),
        modulated=form.ticked("modulated"),
        day=day,
    )


def water_rows(city: str, result) -> Rows:
    """(label, today, scenario) rows of a water what-if, units in the labels."""
    k = result.kpis
    base = baseline_day(city, result.scenario.day)
    b = base.balance
    people = load_water_network(city).junctions.set_index("junction_id")["population"]
    demand = (people.reindex(base.pressure_m.columns) > 0).to_numpy()
    base_pressure = float(base.pressure_m.to_numpy()[:, demand].mean())
    return [
        ("Network yield (billed / produced, %)", f"{100 * k.baseline_yield_share:.2f}",
         f"{100 * k.yield_share:.2f}"),
        ("Water produced (m³/day)", f"{b['produced_m3']:,.0f}", f"{k.produced_m3:,.0f}"),
        ("Water billed (m³/day)", f"{b['billed_m3']:,.0f}", f"{k.billed_m3:,.0f}"),
        ("Leakage (m³/day)", f"{b['leaked_m3']:,.0f}", f"{k.leaked_m3:,.0f}"),
        ("Mean pressure at customers (m)", f"{base_pressure:.1f}", f"{k.mean_pressure_m:.1f}"),
        ("People without water (worst hour)", "0", f"{k.people_without_water:,}"),
        ("Buildings without water (worst hour)", "0", f"{k.buildings_without_water:,}"),
        ("Person-hours without water", "0", f"{k.person_hours_without_water:,.0f}"),
        ("Area losing ≥ 5 m of pressure (km²)", "0", f"{k.pressure_drop_area_km2:.2f}"),
        ("Volume lost through bursts (m³)", "0", f"{k.volume_lost_m3:,.0f}"),
    ]  # fmt: skip


PIPE_BREAK_STUDIO = Studio(
    "Pipe break (water)",
    (
        Field("pipes", "pipes", "Pipes that burst (ids, comma-separated)", "ids",
              placeholder="e.g. CAS-R012345 (click a water pipe for its id)",
              picks=lambda layer, _fields: layer == "water-pipes"),
        Field("random_breaks", "random", "or random pipes", "number", 0, 0, 20),
        Field("seed", "seed", "Seed", "number", 1, 0, 10_000),
        Field("start", "start", "Burst at (local hour)", "number", 6, 0, 23),
        Field("isolation_h", "isolation", "Valves closed after (h)", "number", 2, 0, 12),
        Field("repair_h", "repair", "Repair takes (h)", "number", 6, 1, 23),
    ),
    _read_break,
    water_rows,
)  # fmt: skip
PRESSURE_STUDIO = Studio(
    "Pressure management (water)",
    (
        Field("dmas", "dmas", "DMAs (all if none chosen)", "choices", options=_dma_options,
              placeholder=lambda city: f"All {len(load_water_network(city).dmas)} DMAs"),
        Field("critical_pressure_m", "critical",
              f"Pressure at the DMA's highest point (m; today {CRITICAL_PRESSURE_M:g})",
              "number", 20, 15, 60),
        Field("modulated", "modulated", "modulate the PRV outlets with demand", "check", True),
    ),
    _read_pressure,
    water_rows,
)  # fmt: skip

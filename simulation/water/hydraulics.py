"""Water what-ifs on the city's EPANET model: 24 h extended-period runs of scenarios.

Each run reads a fresh copy of the stored model (`data.water.network`), changes it, solves it
with EPANET 2.2 through WNTR and reduces the results to KPIs and an H3 (time, cell) cube, on the
telemetry's conventions. Never draws or serves anything.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import wntr
import xarray as xr
from wntr.network.controls import Control, ControlAction

from data.city.clock import local_midnight
from data.city.grid import cells_of
from data.water.layout import demand_pattern
from data.water.model import (
    CRITICAL_PRESSURE_M,
    DMA_HEADLOSS_ALLOWANCE_M,
    run_hydraulics,
    water_balance,
)
from data.water.network import WaterNetwork, load_water_network
from simulation.water.scenarios import DEFAULT_DAY, PipeBreakScenario, PressureScenario

BREAK_DISCHARGE_COEFFICIENT = 0.6  # sharp-edged orifice (assumption for a split pipe wall)
UNSERVED_SHARE = 0.5  # a junction is "without water" below half its requested demand
PRESSURE_DROP_M = 5.0  # a cell is in the "pressure drop area" if it loses 5 m or more


@dataclass(frozen=True)
class HydraulicDay:
    """One solved day: hourly pressures (m) per junction, flows (m3/h) per link, balance."""

    times: np.ndarray  # UTC datetime64, one per local hour 0-23
    pressure_m: pd.DataFrame  # (hour, junction_id)
    requested_m3h: pd.DataFrame  # consumer demand asked for (hour, junction_id)
    delivered_m3h: pd.DataFrame  # consumer demand served (hour, junction_id)
    leak_m3h: pd.DataFrame  # leakage out of the emitters (hour, junction_id)
    flow_m3h: pd.DataFrame  # (hour, link_id), signed start -> end
    velocity_ms: pd.DataFrame  # (hour, link_id)
    balance: dict = field(default_factory=dict)  # produced/billed/leaked m3, yield


@dataclass(frozen=True)
class WaterKpis:
    """What a water scenario changes, against the baseline day."""

    yield_share: float  # billed / produced
    produced_m3: float
    billed_m3: float
    leaked_m3: float
    mean_pressure_m: float  # demand junctions, day mean
    people_without_water: int  # at the worst hour
    buildings_without_water: int
    person_hours_without_water: float
    pressure_drop_area_km2: float  # res-9 cells that lost >= 5 m at some hour
    volume_lost_m3: float  # out of the bursts
    baseline_yield_share: float


@dataclass(frozen=True)
class WaterResult:
    """A scenario's day, its KPIs and its (time, cell) cube."""

    scenario: PipeBreakScenario | PressureScenario
    day: HydraulicDay
    kpis: WaterKpis
    cube: xr.Dataset
    broken: tuple[str, ...] = ()
    isolated_pipes: tuple[str, ...] = ()


def _hour_times(city: str, day: str) -> np.ndarray:
    midnight = local_midnight(city, day)
    return (midnight + pd.to_timedelta(np.arange(24), unit="h")).to_numpy()


def _solve(city: str, wn, day: str, extra=()) -> tuple[HydraulicDay, object]:
    """The solved day and the raw results.

    The day keeps the city's own junctions and links, not the ``extra`` ones a scenario added.
    """
    results = run_hydraulics(wn)
    junctions = [name for name in wn.junction_name_list if name not in extra]
    pressure = results.node["pressure"][junctions].iloc[:24]
    demand = results.node["demand"][junctions].iloc[:24]
    coeff = pd.Series({n: wn.get_node(n).emitter_coefficient or 0.0 for n in junctions})
    leak = pressure.clip(lower=0).pow(wn.options.hydraulic.emitter_exponent).mul(coeff, axis=1)
    base = pd.Series({n: wn.get_node(n).demand_timeseries_list[0].base_value for n in junctions})
    pattern = np.array(demand_pattern())[:, None]
    requested = pd.DataFrame(pattern * base.to_numpy()[None, :] * 3600, columns=junctions)
    delivered = ((demand - leak).clip(lower=0) * 3600).reset_index(drop=True)
    links = [name for name in wn.link_name_list if name not in extra]
    solved = HydraulicDay(
        times=_hour_times(city, day),
        pressure_m=pressure.reset_index(drop=True),
        requested_m3h=requested,
        delivered_m3h=delivered.clip(upper=requested),
        leak_m3h=(leak * 3600).reset_index(drop=True),
        flow_m3h=(results.link["flowrate"][links].iloc[:24] * 3600).reset_index(drop=True),
        velocity_ms=results.link["velocity"][links].iloc[:24].abs().reset_index(drop=True),
        balance=water_balance(wn, results),
    )
    return solved, results


def baseline_day(city: str, day: str = DEFAULT_DAY) -> HydraulicDay:
    """The stored network's ordinary day (cached per process, per city and day)."""
    return _baseline_day(city, str(day))


@functools.lru_cache(maxsize=2)
def _baseline_day(city: str, day: str) -> HydraulicDay:
    network = load_water_network(city)
    return _solve(city, network.model(), day)[0]


def _add_time_control(wn, link: str, hour: float, attribute: str, value) -> None:
    action = ControlAction(wn.get_link(link), attribute, value)
    control = Control._time_control(wn, int(hour * 3600), "SIM_TIME", False, action)
    wn.add_control(f"{link}-{attribute}-{int(hour * 60)}", control)


def run_pipe_break(city: str, scenario: PipeBreakScenario) -> WaterResult:
    """Burst, isolation and repair of ``scenario``'s pipes over one day."""
    network = load_water_network(city)
    scenario.validate(network)
    broken = scenario.chosen_pipes(network)
    wn = network.model()
    pipes = network.pipes.set_index("link_id")
    segments = pipes.loc[list(broken), "segment"].unique()
    isolated = pipes.index[pipes["segment"].isin(segments)]
    shut_at = scenario.start + scenario.isolation_h
    reopen_at = min(24, shut_at + scenario.repair_h)
    outlets = []
    for k, pipe in enumerate(broken):
        burst_node, outlet = f"BURST-{k + 1}", f"BURST-{k + 1}-OUT"
        wntr.morph.split_pipe(wn, pipe, f"{pipe}-B", burst_node, return_copy=False)
        node = wn.get_node(burst_node)
        wn.add_reservoir(f"{burst_node}-GROUND", base_head=node.elevation,
                         coordinates=node.coordinates)  # fmt: skip
        bore = wn.get_link(pipe).diameter
        # Orifice through a 1 m stub of the burst's equivalent bore: K = 1 / Cd^2.
        wn.add_pipe(
            outlet, burst_node, f"{burst_node}-GROUND", length=1.0, roughness=140.0,
            diameter=bore * np.sqrt(scenario.opening),
            minor_loss=1 / BREAK_DISCHARGE_COEFFICIENT**2, initial_status="CLOSED",
        )  # fmt: skip
        outlets.append(outlet)
        _add_time_control(wn, outlet, scenario.start, "status", wntr.network.LinkStatus.Open)
        _add_time_control(wn, outlet, shut_at, "status", wntr.network.LinkStatus.Closed)
    shut_links = [*isolated, *(f"{p}-B" for p in broken)]
    for link in shut_links:
        _add_time_control(wn, link, shut_at, "status", wntr.network.LinkStatus.Closed)
        if reopen_at < 24:
            _add_time_control(wn, link, reopen_at, "status", wntr.network.LinkStatus.Open)
    extra = {*outlets, *(f"{p}-B" for p in broken), *(f"BURST-{k + 1}" for k in range(len(broken)))}
    day, results = _solve(city, wn, scenario.day, extra=extra)
    lost = float(results.link["flowrate"][outlets].iloc[:24].clip(lower=0).to_numpy().sum() * 3600)
    balance = dict(day.balance)  # the bursts' outflow was produced and lost, like leakage
    balance["produced_m3"] += lost
    balance["leaked_m3"] += lost
    day = dataclasses.replace(day, balance=balance)
    junctions = network.junctions.set_index("junction_id")
    cut = junctions.index[junctions["segment"].isin(segments)]
    day = _cut_supply(day, cut, shut_at, reopen_at)
    return _result(city, network, scenario, day, lost, broken, tuple(isolated))


def _cut_supply(day: HydraulicDay, cut, shut_at: int, reopen_at: int) -> HydraulicDay:
    """Junctions of isolated segments get nothing while shut (EPANET leaves them dangling)."""
    pressure, delivered = day.pressure_m.copy(), day.delivered_m3h.copy()
    hours = list(range(shut_at, reopen_at))
    columns = [c for c in cut if c in pressure.columns]
    pressure.loc[hours, columns] = 0.0
    delivered.loc[hours, columns] = 0.0
    leak = day.leak_m3h.copy()
    leak.loc[hours, columns] = 0.0
    return dataclasses.replace(day, pressure_m=pressure, delivered_m3h=delivered, leak_m3h=leak)


def run_pressure_management(city: str, scenario: PressureScenario) -> WaterResult:
    """Lowered (and optionally demand-modulated) PRV outlets over one day."""
    network = load_water_network(city)
    scenario.validate(network)
    wn = network.model()
    inlets = network.pipes[network.pipes["role"] == "inlet"]
    if scenario.dmas:
        inlets = inlets[inlets["dma_id"].isin(scenario.dmas)]
    pattern = np.array(demand_pattern())
    lift = (pattern / pattern.max()) ** 2 if scenario.modulated else np.ones(24)
    drop = CRITICAL_PRESSURE_M - scenario.critical_pressure_m
    for link_id in inlets["link_id"]:
        valve = wn.get_link(link_id)
        relief = valve.initial_setting - CRITICAL_PRESSURE_M - DMA_HEADLOSS_ALLOWANCE_M
        settings = scenario.critical_pressure_m + relief + DMA_HEADLOSS_ALLOWANCE_M * lift
        valve.initial_setting = float(settings[0])
        if scenario.modulated:
            for hour in range(1, 24):
                _add_time_control(wn, link_id, hour, "setting", float(settings[hour]))
        elif drop == 0:
            break
    day, _ = _solve(city, wn, scenario.day)
    return _result(city, network, scenario, day, 0.0, (), ())


def _result(city, network, scenario, day: HydraulicDay, lost, broken, isolated) -> WaterResult:
    base = baseline_day(city, scenario.day)
    junctions = network.junctions.set_index("junction_id").loc[day.pressure_m.columns]
    served = day.delivered_m3h / day.requested_m3h.where(day.requested_m3h > 0)
    without = (served < UNSERVED_SHARE).to_numpy()  # (hour, junction)
    people = junctions["population"].to_numpy()
    buildings = junctions["n_buildings"].to_numpy()
    worst = int(np.argmax(without @ people)) if without.any() else 0
    cube = junction_cube(city, network, day, base)
    drop_cells = (cube["pressure_change_m"] <= -PRESSURE_DROP_M).any("time")
    demand_nodes = people > 0
    balance = day.balance
    kpis = WaterKpis(
        yield_share=balance["billed_m3"] / balance["produced_m3"],
        produced_m3=balance["produced_m3"],
        billed_m3=balance["billed_m3"],
        leaked_m3=balance["leaked_m3"],
        mean_pressure_m=float(day.pressure_m.to_numpy()[:, demand_nodes].mean()),
        people_without_water=int(round(float(without[worst] @ people))),
        buildings_without_water=int(without[worst] @ buildings),
        person_hours_without_water=float((without @ people).sum()),
        pressure_drop_area_km2=float(drop_cells.sum()) * CELL_AREA_KM2,
        volume_lost_m3=float(lost),
        baseline_yield_share=base.balance["billed_m3"] / base.balance["produced_m3"],
    )
    return WaterResult(scenario, day, kpis, cube, tuple(broken), tuple(isolated))


CUBE_RES = 9
CELL_AREA_KM2 = 0.1053  # mean area of an H3 resolution-9 cell


def junction_cube(city: str, network: WaterNetwork, day: HydraulicDay, base: HydraulicDay):
    """(time, cell) cube at H3 resolution 9 of the demand junctions' hourly state."""
    junctions = network.junctions.set_index("junction_id").loc[day.pressure_m.columns]
    demand = (junctions["population"] > 0).to_numpy()
    lon, lat = junctions.geometry.x.to_numpy(), junctions.geometry.y.to_numpy()
    cells_all = cells_of(lon[demand], lat[demand], CUBE_RES)
    cells, cell_of = np.unique(cells_all, return_inverse=True)

    def per_cell(values: np.ndarray, how: str) -> np.ndarray:
        out = np.zeros((values.shape[0], len(cells)))
        for h in range(values.shape[0]):
            out[h] = np.bincount(cell_of, weights=values[h], minlength=len(cells))
        if how == "mean":
            out /= np.bincount(cell_of, minlength=len(cells))[None, :]
        return out.astype(np.float32)

    pressure = day.pressure_m.to_numpy()[:, demand]
    base_pressure = base.pressure_m[day.pressure_m.columns].to_numpy()[:, demand]
    unserved = (day.requested_m3h - day.delivered_m3h).to_numpy()[:, demand]
    served = day.delivered_m3h.to_numpy()[:, demand] / np.maximum(
        day.requested_m3h.to_numpy()[:, demand], 1e-12
    )
    people_off = (served < UNSERVED_SHARE) * junctions["population"].to_numpy()[demand][None, :]
    coords = {"time": day.times, "cell": cells}
    dims = ("time", "cell")

    def var(values, units, long_name):
        attrs = {"units": units, "long_name": long_name, "h3_resolution": CUBE_RES}
        return xr.DataArray(values, dims=dims, coords=coords, attrs=attrs)

    return xr.Dataset(
        {
            "pressure_m": var(per_cell(pressure, "mean"), "m", "mean junction pressure head"),
            "pressure_change_m": var(
                per_cell(pressure - base_pressure, "mean"), "m", "pressure change vs baseline"
            ),
            "unserved_m3h": var(per_cell(unserved, "sum"), "m3/h", "demand not served"),
            "people_without_water": var(
                per_cell(people_off, "sum"), "1", "people served below half their demand"
            ),
        }
    )

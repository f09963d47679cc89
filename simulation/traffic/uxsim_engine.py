"""A day of city traffic on UXsim (mesoscopic, C++ engine) and what the what-ifs change.

Engine: UXsim 1.15 with its C++ core (``cpp=True``): kinematic-wave links, platoons of
`PLATOON` vehicles, dynamic user-optimal route choice updated every `ROUTE_UPDATE_S`. The
network is the arterial skeleton (`data.traffic.network`), the demand the gravity matrix of
`data.traffic.demand`. Eclipse SUMO runs the same (`simulation.traffic.sumo_engine`, README).

Outputs (`TrafficResult`): hourly (time, link) flows, speeds and densities; the same painted
back on the roads and summed per H3 cell (time, cell); KPIs. Times are UTC (naive), the
engine's t = 0 being local midnight of the scenario's day.

Post-processing (per road, per cell, KPIs) is `simulation.traffic.outputs`.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import xarray as xr
from uxsim import World

import data.city
from data.city.clock import local_midnight
from data.city.grid import cells_of
from data.traffic.demand import Demand, demand
from data.traffic.network import SATURATION_VEH_H, TrafficNetwork, traffic_network
from simulation.traffic.outputs import (
    CELL_RES,
    HOURS,
    TrafficKpis,
    cell_cube,
    co2_g_per_km,
    day_kpis,
    link_dataset,
    road_results,
    with_change,
)
from simulation.traffic.scenarios import TrafficScenario

__all__ = ["CELL_RES", "HOURS", "TrafficKpis", "TrafficResult", "co2_g_per_km", "run_traffic"]

PLATOON = 10  # vehicles per simulated platoon (UXsim deltan)
STEP_S = 10  # engine step = reaction time (1 s) x platoon
ROUTE_UPDATE_S = 600
TAIL_H = 2  # let trips that leave late in the evening arrive
# Links shorter than one step at free-flow speed are lengthened to it (UXsim's advice); a
# platoon must fit on a link.
JAM_DENSITY_PER_LANE = 0.15  # vehicles per metre of lane (6.7 m per car; assumption)
BUS_KMH = 22.0  # assumption: a bus in its own lane, stops included
BUS_MIXED_SHARE = 0.85  # assumption: a bus in mixed traffic runs at 85% of car speed


@dataclass(frozen=True)
class EmergencyTrip:
    """An emergency vehicle's route and times (minutes) with and without priority."""

    road_ids: tuple[str, ...]
    length_km: float
    minutes_in_traffic: float
    minutes_with_priority: float


@dataclass(frozen=True)
class TrafficResult:
    """A run's outputs. ``links``: (time, link) flow_veh_h, speed_kmh, density_veh_km.

    ``roads``: (time, road) the same per road of the bundle that the engine carries, both
    directions together. ``cube``: (time, cell) vehicle_km, delay_veh_h, speed_kmh and
    delay_change_veh_h (against the ordinary day).
    ``engine``: network size, vehicles and wall time of the run.
    """

    scenario: TrafficScenario
    links: xr.Dataset = field(repr=False)
    roads: xr.Dataset = field(repr=False)
    cube: xr.Dataset = field(repr=False)
    kpis: TrafficKpis
    engine: dict
    emergency: EmergencyTrip | None = None
    bus_minutes: tuple[float, float] | None = None  # corridor end to end at 08:00: before, after


def run_traffic(
    city: str | data.city.City, scenario: TrafficScenario | None = None
) -> TrafficResult:
    """Simulate the scenario's day (cached per process: scenarios are immutable values)."""
    scenario = scenario or TrafficScenario()
    town = data.city.load_city(city) if isinstance(city, str) else city
    where = (town.name, str(town.folder))
    net = traffic_network(town)
    scenario.validate(net)
    run = _engine_run(*where, scenario.engine_part())
    today = _engine_run(*where, TrafficScenario(day=scenario.day, seed=scenario.seed))
    emergency = _emergency(net, run, scenario) if scenario.emergency_route else None
    bus = _bus_minutes(today, net, scenario) if scenario.bus_lane else None
    cube = with_change(run.cube, today.cube)
    return TrafficResult(scenario, run.links, run.roads, cube, run.kpis, run.engine, emergency, bus)


@functools.lru_cache(maxsize=8)
def _engine_run(city: str, bundle_dir: str, scenario: TrafficScenario) -> TrafficResult:
    default = Path(bundle_dir) == data.city.bundle_dir(city)  # the process's cached bundle
    town = data.city.load_city(city, bundle_dir=None if default else Path(bundle_dir))
    net = traffic_network(town)
    started = time.perf_counter()
    world, links = _world(net, scenario)
    platoons = _add_demand(world, net, demand(town), scenario)
    built = time.perf_counter()
    _simulate(world, links, net, scenario)
    simulated = time.perf_counter()
    times = hour_times(town, scenario.day)
    link_ds = _link_results(world, links, net, times)
    world.analyzer.basic_analysis()
    finished = int(world.analyzer.trip_completed)
    road_ds = road_results(net, link_ds)
    kpis = day_kpis(link_ds, finished, int(world.analyzer.trip_all) - finished)
    engine = {
        "engine": "UXsim (C++)",
        "nodes": len(net.nodes),
        "links": len(links),
        "vehicles": int(platoons * PLATOON),
        "platoon": PLATOON,
        "step_s": STEP_S,
        "build_s": round(built - started, 2),
        "simulate_s": round(simulated - built, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }
    cube = cell_cube(town, road_ds)
    return TrafficResult(scenario, link_ds, road_ds, cube, kpis, engine)


def hour_times(city: data.city.City, day: str) -> np.ndarray:
    """The 24 hourly UTC times (naive) of ``day``'s local hours in ``city``."""
    midnight = local_midnight(city, day)
    return (midnight + pd.to_timedelta(np.arange(HOURS), unit="h")).to_numpy()


def _world(net: TrafficNetwork, scenario: TrafficScenario):
    world = World(
        name="",
        deltan=PLATOON,
        reaction_time=STEP_S / PLATOON,
        duo_update_time=ROUTE_UPDATE_S,
        tmax=(HOURS + TAIL_H) * 3600,
        print_mode=0,
        save_mode=0,
        show_mode=0,
        show_progress=0,
        vehicle_logging_timestep_interval=-1,
        reduce_memory_delete_vehicle_route_pref=True,
        random_seed=int(scenario.seed),
        cpp=True,
    )
    for node in net.nodes.itertuples(index=False):
        world.addNode(str(node.node_id), node.x, node.y)
    capacity = _capacities(net, scenario)
    links = {}
    for row, cap in zip(net.links.itertuples(index=False), capacity, strict=True):
        links[row.link] = world.addLink(
            row.link, str(row.start), str(row.end), max(row.length_m, row.speed_kmh / 3.6 * STEP_S),
            free_flow_speed=row.speed_kmh / 3.6,
            jam_density_per_lane=JAM_DENSITY_PER_LANE,
            number_of_lanes=int(row.lanes),
            capacity_out=cap / 3600,
        )  # fmt: skip
    if scenario.new_link:
        a, b = scenario.new_link
        xy = net.nodes.set_index("node_id")[["x", "y"]]
        length = float(np.hypot(*(xy.loc[a] - xy.loc[b])))
        for name, s, e in (("new+", a, b), ("new-", b, a)):
            links[name] = world.addLink(
                name, str(s), str(e), max(length, 50.0),
                free_flow_speed=scenario.new_link_speed_kmh / 3.6,
                jam_density_per_lane=JAM_DENSITY_PER_LANE,
                number_of_lanes=scenario.new_link_lanes,
                capacity_out=scenario.new_link_lanes * SATURATION_VEH_H * 0.5 / 3600,
            )  # fmt: skip
    return world, links


def _capacities(net: TrafficNetwork, scenario: TrafficScenario) -> np.ndarray:
    """Discharge capacity of each link (veh/h) with the corridor measures applied."""
    links = net.links
    capacity = links["capacity_veh_h"].to_numpy(float).copy()
    if not scenario.corridor_roads:
        return capacity
    on = np.isin(links["segment"], net.road_segment(scenario.corridor_roads))
    lanes = links["lanes"].to_numpy(float) - (1 if scenario.bus_lane else 0) * on
    signal = links["signalised"].to_numpy()
    green = scenario.corridor_green_share
    ends = set(links.loc[on & signal, "end"])
    cross = ~on & signal & links["end"].isin(ends).to_numpy()
    share = np.where(signal, capacity / (links["lanes"] * SATURATION_VEH_H), 1.0)
    share = np.where(on & signal, green, np.where(cross, 1 - green, share))
    return lanes * SATURATION_VEH_H * share


def _add_demand(world, net: TrafficNetwork, dem: Demand, scenario: TrafficScenario) -> int:
    """Platoons drawn from the hourly matrices; returns how many."""
    rng = np.random.default_rng(scenario.seed)
    nodes = zone_nodes(net, dem)
    factor = 1 + scenario.demand_growth_pct / 100
    count = rng.poisson(dem.trips * factor / PLATOON)  # (hour, origin, destination)
    hour, orig, dest = np.nonzero(count)
    reps = count[hour, orig, dest]
    hour, orig, dest = (np.repeat(a, reps) for a in (hour, orig, dest))
    depart = (hour + rng.random(len(hour))) * 3600

    def junction(zones: np.ndarray) -> np.ndarray:  # one of the zone's junctions at random
        draw = rng.integers(0, 1 << 30, len(zones))
        return np.array([nodes[z][i % len(nodes[z])] for z, i in zip(zones, draw, strict=True)])

    o_node, d_node = junction(orig), junction(dest)
    keep = o_node != d_node
    order = np.argsort(depart[keep], kind="stable")
    for o, d, t in zip(o_node[keep][order], d_node[keep][order], depart[keep][order], strict=True):
        world.addVehicle(str(o), str(d), float(t))
    return int(keep.sum())


def zone_nodes(net: TrafficNetwork, dem: Demand) -> list[np.ndarray]:
    """The network's junctions in each zone (the nearest one for zones without any)."""
    res = int(dem.zones["res"].iloc[0])
    node_cell = cells_of(net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy(), res)
    ids = net.nodes["node_id"].to_numpy()
    lat0 = math.cos(math.radians(float(net.nodes["lat"].mean())))
    out = []
    for zone in dem.zones.itertuples(index=False):
        inside = ids[node_cell == zone.zone]
        if not len(inside):
            d2 = ((net.nodes["lon"] - zone.lon) * lat0) ** 2 + (net.nodes["lat"] - zone.lat) ** 2
            inside = ids[[int(np.argmin(d2.to_numpy()))]]
        out.append(inside)
    return out


OPEN, REDUCED, CLOSED = 0, 1, 2  # state of a link under the scenario's works


def works_state(net: TrafficNetwork, scenario: TrafficScenario, link_names) -> np.ndarray:
    """(hour, link) `OPEN`, `REDUCED` or `CLOSED`: works covering the middle of the hour."""
    names = np.asarray(link_names)
    state = np.zeros((HOURS, len(names)), np.uint8)
    if not scenario.closed_roads:
        return state
    works = net.links.loc[
        np.isin(net.links["segment"], net.road_segment(scenario.closed_roads)), "link"
    ]
    middle = np.arange(HOURS) + 0.5
    during = (middle > scenario.closure_from_h) & (middle < scenario.closure_to_h)
    state[np.ix_(during, np.isin(names, works))] = CLOSED if scenario.lanes_open == 0 else REDUCED
    return state


def _simulate(world, links: dict, net: TrafficNetwork, scenario: TrafficScenario) -> None:
    """Run the day, applying and lifting the works at their hours."""
    if not scenario.closed_roads:
        world.exec_simulation()
        return
    closed = np.isin(net.links["segment"], net.road_segment(scenario.closed_roads))
    works = [links[name] for name in net.links.loc[closed, "link"]]
    before = [(lk.capacity_in, lk.capacity_out, lk.route_choice_penalty) for lk in works]
    if scenario.closure_from_h > 0:
        world.exec_simulation(until_t=scenario.closure_from_h * 3600)
    for lk in works:
        if scenario.lanes_open == 0:
            lk.capacity_in, lk.capacity_in_remain = 0.0, 0.0
            lk.route_choice_penalty = 24 * 3600.0  # routes avoid it while closed
        else:
            share = min(1.0, scenario.lanes_open / lk.number_of_lanes)
            lk.capacity_out = lk.capacity_out * share
            lk.capacity_in = lk.capacity * share
    if scenario.closure_to_h < HOURS + TAIL_H:
        world.exec_simulation(until_t=scenario.closure_to_h * 3600)
        for lk, (cap_in, cap_out, penalty) in zip(works, before, strict=True):
            lk.capacity_in, lk.capacity_out, lk.route_choice_penalty = cap_in, cap_out, penalty
    world.exec_simulation()


def _link_results(world, links: dict, net: TrafficNetwork, times) -> xr.Dataset:
    per_hour = 3600 // STEP_S
    edges = np.arange(HOURS + 1) * per_hour
    names = list(links)
    flow = np.empty((HOURS, len(names)))
    speed = np.empty((HOURS, len(names)))
    density = np.empty((HOURS, len(names)))
    length = np.empty(len(names))
    for j, name in enumerate(names):
        lk = links[name]
        arrival = np.asarray(lk.cum_arrival, float)
        on_link = arrival - np.asarray(lk.cum_departure, float)
        flow[:, j] = np.diff(arrival[edges])
        tt = np.asarray(lk.traveltime_actual, float)[: edges[-1]].reshape(HOURS, per_hour)
        speed[:, j] = lk.length / tt.mean(axis=1) * 3.6
        density[:, j] = on_link[: edges[-1]].reshape(HOURS, per_hour).mean(axis=1) / lk.length
        length[j] = lk.length
    density *= 1000  # veh/km of the engine's link
    length[: len(net.links)] = net.links["length_m"].to_numpy()  # the map's, for vehicle-km
    extra = np.full(len(names) - len(net.links), -1)  # new links belong to no segment
    segment = np.concatenate([net.links["segment"].to_numpy(), extra]).astype(np.int64)
    free = np.array([links[n].u * 3.6 for n in names])
    return link_dataset(times, names, segment, length, free, flow, speed, density)


def _emergency(net: TrafficNetwork, run: TrafficResult, scenario: TrafficScenario):
    """Fastest route at the hour in today's traffic, timed in traffic and with priority."""
    hour = int(scenario.emergency_hour)
    links = run.links.isel(time=hour)
    graph = nx.DiGraph()
    table = net.links.set_index("link")
    for name, speed, free, length in zip(
        links["link"].to_numpy(), links["speed_kmh"].to_numpy(),
        links["free_speed_kmh"].to_numpy(), links["length_m"].to_numpy(), strict=True,
    ):  # fmt: skip
        if name not in table.index:
            continue
        row = table.loc[name]
        graph.add_edge(
            int(row["start"]), int(row["end"]), link=name, segment=int(row["segment"]),
            slow=length / max(speed, 1) * 3.6, fast=length / free * 3.6, length=length,
        )  # fmt: skip
    a, b = scenario.emergency_route
    try:
        path = nx.shortest_path(graph, a, b, weight="slow")
    except nx.NetworkXNoPath:
        return EmergencyTrip((), 0.0, math.inf, math.inf)
    edges = [graph.edges[u, v] for u, v in zip(path, path[1:], strict=False)]
    roads = tuple(r for e in edges for r in net.segments["road_ids"].iloc[e["segment"]])
    return EmergencyTrip(
        road_ids=roads,
        length_km=sum(e["length"] for e in edges) / 1000,
        minutes_in_traffic=sum(e["slow"] for e in edges) / 60,
        minutes_with_priority=sum(e["fast"] for e in edges) / 60,
    )


def _bus_minutes(base: TrafficResult, net: TrafficNetwork, scenario: TrafficScenario):
    """A bus along the corridor (both directions, averaged) at 08:00, before and after."""
    on = np.isin(net.links["segment"], net.road_segment(scenario.corridor_roads))
    links = base.links.isel(time=8, link=np.flatnonzero(on))
    km = links["length_m"].to_numpy() / 1000
    bus_kmh = np.clip(links["speed_kmh"].to_numpy() * BUS_MIXED_SHARE, 1, BUS_KMH)
    mixed = (km / bus_kmh).sum() * 30
    return float(mixed), float(km.sum() / BUS_KMH * 30)

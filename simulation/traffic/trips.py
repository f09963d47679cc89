"""Sample trips of a traffic run for animation: drawn from the demand, routed on its speeds.

The engine moves platoons without logging their paths (full vehicle logs of a city day take
tens of GB), so the animated vehicles are a sample of the day's trips (origin zone,
destination zone and departure hour drawn with the demand's weights) sent along the fastest
route through the run's link travel times at their departure hour, avoiding links closed
then. Timestamps are seconds after local midnight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

import data.city
from data.traffic.demand import demand
from data.traffic.network import traffic_network
from simulation.traffic.uxsim_engine import CLOSED, TrafficResult, works_state, zone_nodes

SIMPLIFY_DEG = 0.0002  # ~20 m: enough for a moving dot


@dataclass(frozen=True)
class SampledTrips:
    """Paths (lon, lat float32), timestamps (s, float32) and start indices (uint32, n + 1)."""

    path: np.ndarray
    timestamps: np.ndarray
    starts: np.ndarray

    def __len__(self) -> int:
        return len(self.starts) - 1


def sample_trips(city: data.city.City, result: TrafficResult, n: int = 1500) -> SampledTrips:
    """``n`` trips of the run's day (fewer if some have no route)."""
    scenario = result.scenario
    net = traffic_network(city)
    dem = demand(city)
    rng = np.random.default_rng(scenario.seed + 7)
    weights = dem.trips.ravel() / dem.trips.sum()
    picked = rng.choice(len(weights), size=n, p=weights)
    hour, orig, dest = np.unravel_index(picked, dem.trips.shape)
    nodes = zone_nodes(net, dem)
    o_node = np.array([rng.choice(nodes[z]) for z in orig])
    d_node = np.array([rng.choice(nodes[z]) for z in dest])
    depart = (hour + rng.random(n)) * 3600

    ends, shapes = _link_table(net, result)
    index = {node: i for i, node in enumerate(net.nodes["node_id"])}
    paths, stamps, counts = [], [], []
    closed = works_state(net, scenario, result.links["link"].to_numpy()) == CLOSED
    for h in np.unique(hour):
        seconds = _link_seconds(result, int(h), closed)
        usable = np.isfinite(seconds)
        graph = csr_matrix(
            (seconds[usable], (ends[usable, 0], ends[usable, 1])), shape=(len(index),) * 2
        )
        link_at = {(a, b): j for j, (a, b) in enumerate(ends) if usable[j]}
        mine = np.flatnonzero(hour == h)
        sources = np.unique([index[o] for o in o_node[mine]])
        _, pred = dijkstra(graph, indices=sources, return_predecessors=True)
        row = {s: k for k, s in enumerate(sources)}
        for t in mine:
            a, b = index[o_node[t]], index[d_node[t]]
            chain = _walk_back(pred[row[a]], a, b)
            if chain is None:
                continue
            clock, vertices = depart[t], 0
            for u, v in zip(chain, chain[1:], strict=False):
                j = link_at[(u, v)]
                coords = shapes[j]
                seg = np.hypot(*np.diff(coords, axis=0).T)
                share = np.concatenate([[0], np.cumsum(seg)]) / max(seg.sum(), 1e-12)
                first = 0 if u == chain[0] else 1  # links share their end vertex
                paths.append(coords[first:])
                stamps.append(clock + share[first:] * seconds[j])
                clock += seconds[j]
                vertices += len(coords) - first
            counts.append(vertices)
    if not paths:
        return SampledTrips(np.zeros((0, 2), np.float32), np.zeros(0, np.float32),
                            np.zeros(1, np.uint32))  # fmt: skip
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint32)
    return SampledTrips(
        np.concatenate(paths).astype(np.float32), np.concatenate(stamps).astype(np.float32), starts
    )


def _walk_back(pred: np.ndarray, a: int, b: int) -> list[int] | None:
    if a == b:
        return None
    chain = [b]
    while chain[-1] != a:
        prev = pred[chain[-1]]
        if prev < 0:
            return None
        chain.append(int(prev))
    return chain[::-1]


def _link_table(net, result: TrafficResult):
    """Start/end node positions (rows of net.nodes) and simplified coordinates of each link."""
    index = {node: i for i, node in enumerate(net.nodes["node_id"])}
    lonlat = net.nodes[["lon", "lat"]].to_numpy()
    table = net.links.set_index("link")
    geometry = shapely.simplify(net.segments.geometry.values, SIMPLIFY_DEG)
    ends, shapes = [], []
    new = [int(x) for x in result.scenario.new_link] or [0, 0]
    for name in result.links["link"].to_numpy():
        if name in table.index:
            row = table.loc[name]
            a, b = index[int(row["start"])], index[int(row["end"])]
            line = geometry[int(row["segment"])]
            coords = shapely.get_coordinates(line)
            if np.hypot(*(coords[0] - lonlat[a])) > np.hypot(*(coords[-1] - lonlat[a])):
                coords = coords[::-1]  # drawn from the other end
        else:  # the scenario's new road, straight
            a, b = index[new[0]], index[new[1]]
            a, b = (a, b) if name == "new+" else (b, a)
            coords = lonlat[[a, b]]
        ends.append((a, b))
        shapes.append(coords)
    return np.array(ends), shapes


def _link_seconds(result: TrafficResult, hour: int, closed: np.ndarray) -> np.ndarray:
    """Travel time (s) of each link at ``hour``; inf where it is closed then."""
    links = result.links.isel(time=hour)
    seconds = links["length_m"].to_numpy() / np.maximum(links["speed_kmh"].to_numpy(), 1) * 3.6
    return np.where(closed[hour], np.inf, seconds)

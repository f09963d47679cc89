"""The road network the traffic engine runs on: the city's arterials as directed links.

A 24 h city run must return in well under a minute, and the engine (UXsim) holds route choice
as nodes x links per platoon: the whole street grid (31,000 nodes, 113,000 directed edges) would
need ~28 GB. So the engine gets the arterial skeleton, the roads of class `ARTERIAL_CLASSES`:
chains of roads through junctions where nothing else meets (degree 2) are merged into one
segment (its class: the longest share's; its lanes: the fewest), each segment becomes two
directed links, and every segment keeps the road_ids it is made of, so results are painted
back on the streets of the map. Local streets (tertiary, residential) feed the arterials;
their traffic is not simulated.

Capacity (assumptions, Highway Capacity Manual orders of magnitude): a lane discharges
`SATURATION_VEH_H` vehicles/h of green; signalised junctions (where three or more segments
meet, except between motorway links) give each approach `GREEN_SHARE` of the cycle. Lanes are
the road's total (both directions): each direction gets half, at least one.

Built on the fly from the bundle's roads (~1 s) and cached per process; never written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

import data.city
from data.city import City
from data.city.constants import ROAD_CLASSES

ARTERIAL_CLASSES = ("motorway", "trunk", "primary", "secondary")
SATURATION_VEH_H = 1800.0  # per lane of green (HCM base saturation flow, rounded)
GREEN_SHARE = 0.5  # assumption: two-phase signals, equal splits
UNSIGNALISED = ("motorway", "trunk")  # grade-separated: no signal at their junctions
JOIN_M = 60.0  # junction pieces shorter than this are joined into one node
# Roads without lanes or a speed limit (OSM often omits them) get their class's cross-section.
_DEFAULT_SPEED = {name: c.maxspeed_kmh for name, c in ROAD_CLASSES.items()}
_DEFAULT_LANES = {name: c.lanes for name, c in ROAD_CLASSES.items()}


@dataclass(frozen=True)
class TrafficNetwork:
    """Arterial segments and their directed links.

    ``segments`` (GeoDataFrame, EPSG:4326), one row per merged chain: segment (int, row
    position), u, v (node ids at its ends), road_class, lanes (total), speed_kmh, length_m,
    road_ids (tuple of the bundle's road_id), geometry (LineString u -> v).

    ``links`` (DataFrame), two rows per segment, link position = 2 x segment + direction
    (0: u -> v, 1: v -> u): link (name "s12+" / "s12-"), segment, start, end (node ids),
    lanes (per direction), speed_kmh, length_m, capacity_veh_h (at the downstream junction),
    signalised (bool).

    ``nodes`` (DataFrame): node_id, lon, lat, x, y (metric CRS of the city, metres).
    """

    city: str
    nodes: pd.DataFrame = field(repr=False)
    segments: gpd.GeoDataFrame = field(repr=False)
    links: pd.DataFrame = field(repr=False)

    def road_ends(self, road_id: str) -> tuple[int, int]:
        """The end nodes (u, v) of the segment carrying ``road_id`` (KeyError if none)."""
        seg = int(self.road_segment([road_id])[0])
        if seg < 0:
            raise KeyError(road_id)
        row = self.segments.iloc[seg]
        return int(row["u"]), int(row["v"])

    def road_segment(self, road_ids) -> np.ndarray:
        """Segment of each road_id (-1 for roads the engine does not carry)."""
        lookup = pd.Series(
            np.repeat(self.segments["segment"].to_numpy(), self.segments["road_ids"].map(len)),
            index=np.concatenate(self.segments["road_ids"].map(list).to_numpy()),
        )
        return lookup.reindex(np.asarray(road_ids)).fillna(-1).to_numpy(np.int64)


def traffic_network(city: City) -> TrafficNetwork:
    """The city's arterial traffic network (cached per bundle)."""
    return _cached(city.name, str(city.folder))


@functools.lru_cache(maxsize=4)
def _cached(name: str, bundle_dir: str) -> TrafficNetwork:
    default = Path(bundle_dir) == data.city.bundle_dir(name)  # the process's cached bundle
    return _build(data.city.load_city(name, bundle_dir=None if default else Path(bundle_dir)))


def _build(city: City) -> TrafficNetwork:
    roads = city.roads[city.roads["road_class"].isin(ARTERIAL_CLASSES)]
    roads = roads[roads["u"] != roads["v"]]
    join = _junction_clusters(roads)
    graph = nx.MultiGraph()
    for row in roads[["road_id", "u", "v", "road_class"]].itertuples(index=False):
        u, v = join.get(int(row.u), int(row.u)), join.get(int(row.v), int(row.v))
        if u != v:  # roads inside a joined junction are not links
            graph.add_edge(u, v, key=row.road_id, road_class=row.road_class, u=u)
    largest = max(nx.connected_components(graph), key=len)
    graph = graph.subgraph(largest).copy()
    chains = _merge_chains(graph)
    by_id = roads.set_index("road_id")
    seg_rows, seen_pairs = [], set()
    for start, end, road_ids, flips in chains:
        pair = (min(start, end), max(start, end))
        if start == end or pair in seen_pairs:  # loops and parallels: the engine takes one
            continue  # link per node pair; these roads stay unsimulated
        seen_pairs.add(pair)
        part = by_id.loc[list(road_ids)]
        speed = part["maxspeed_kmh"].fillna(part["road_class"].map(_DEFAULT_SPEED)).to_numpy()
        lanes = part["lanes"].fillna(part["road_class"].map(_DEFAULT_LANES))
        lines = [
            shapely.reverse(g) if flip else g for g, flip in zip(part.geometry, flips, strict=True)
        ]
        length = float(part["length_m"].sum())
        seg_rows.append(
            {
                "u": start,
                "v": end,
                "road_class": part.groupby("road_class")["length_m"].sum().idxmax(),
                "lanes": int(lanes.min()),
                "speed_kmh": float((speed * part["length_m"]).sum() / length),
                "length_m": length,
                "road_ids": tuple(road_ids),
                # one line u -> v, bridging the junctions joined on the way
                "geometry": shapely.LineString(
                    np.concatenate([shapely.get_coordinates(g) for g in lines])
                ),
            }
        )
    segments = gpd.GeoDataFrame(seg_rows, geometry="geometry", crs=city.roads.crs)
    segments.insert(0, "segment", np.arange(len(segments)))
    nodes = _nodes(city, segments)
    return TrafficNetwork(city.name, nodes, segments, _links(segments))


def _junction_clusters(roads: pd.DataFrame) -> dict[int, int]:
    """Node -> representative for junctions drawn as several nodes (dual carriageways).

    Roads shorter than `JOIN_M` from a node where three or more roads meet are a
    junction's inside: their ends become one node (the lowest id), as SUMO's
    ``--junctions.join`` does. A link shorter than one engine step would otherwise cost a
    whole step (10 s) to cross.
    """
    degree = pd.concat([roads["u"], roads["v"]]).value_counts()
    short = roads[roads["length_m"] < JOIN_M]
    short = short[(degree.reindex(short["u"]).to_numpy() >= 3)
                  | (degree.reindex(short["v"]).to_numpy() >= 3)]  # fmt: skip
    groups = nx.Graph()
    groups.add_edges_from(zip(short["u"].astype(int), short["v"].astype(int), strict=True))
    return {n: min(c) for c in nx.connected_components(groups) for n in c}


def _merge_chains(graph: nx.MultiGraph) -> list[tuple[int, int, list[str], list[bool]]]:
    """Chains of edges through degree-2 nodes: (start, end, road_ids, flipped)."""

    def passes(node) -> bool:
        return graph.degree(node) == 2 and len(set(graph.neighbors(node))) == 2

    done: set[str] = set()
    chains = []
    for u, v, key in graph.edges(keys=True):
        if key in done or passes(u) and passes(v):
            continue  # start walks from an end (a node that does not pass)
        start, nxt = (v, u) if passes(u) else (u, v)
        chains.append(_walk(graph, start, nxt, key, passes, done))
    for u, v, key in graph.edges(keys=True):  # rings made only of passing nodes
        if key not in done:
            chains.append(_walk(graph, u, v, key, passes, done))
    return chains


def _walk(graph, start, nxt, key, passes, done):
    road_ids, flips = [key], [_flipped(graph, start, nxt, key)]
    done.add(key)
    while passes(nxt) and nxt != start:
        onward = [(n, k) for _, n, k in graph.edges(nxt, keys=True) if k not in done]
        if not onward:
            break
        n2, k2 = onward[0]
        done.add(k2)
        road_ids.append(k2)
        flips.append(_flipped(graph, nxt, n2, k2))
        nxt = n2
    return start, nxt, road_ids, flips


def _flipped(graph, a, b, key) -> bool:
    """Whether road ``key`` is drawn b -> a (its stored u is b)."""
    return graph.edges[a, b, key]["u"] == b


def _nodes(city: City, segments: gpd.GeoDataFrame) -> pd.DataFrame:
    ids = np.unique(np.concatenate([segments["u"], segments["v"]]))
    pts = city.nodes.set_index("node_id").geometry.loc[ids]
    metric = pts.to_crs(city.crs_metric)
    return pd.DataFrame(
        {"node_id": ids, "lon": pts.x.to_numpy(), "lat": pts.y.to_numpy(),
         "x": metric.x.to_numpy(), "y": metric.y.to_numpy()}
    )  # fmt: skip


def _links(segments: gpd.GeoDataFrame) -> pd.DataFrame:
    degree = pd.concat([segments["u"], segments["v"]]).value_counts()
    fast = segments["road_class"].isin(UNSIGNALISED).to_numpy()
    # a junction is signalised unless every segment meeting there is grade-separated
    slow_nodes = set(segments.loc[~fast, "u"]) | set(segments.loc[~fast, "v"])
    rows = []
    for direction, (a, b) in enumerate((("u", "v"), ("v", "u"))):
        end = segments[b].to_numpy()
        lanes = np.maximum(1, segments["lanes"].to_numpy() // 2)
        signal = (degree.reindex(end).to_numpy() >= 3) & np.isin(end, list(slow_nodes))
        rows.append(
            pd.DataFrame(
                {
                    "link": [f"s{s}{'+-'[direction]}" for s in segments["segment"]],
                    "segment": segments["segment"].to_numpy(),
                    "direction": direction,
                    "start": segments[a].to_numpy(),
                    "end": end,
                    "lanes": lanes,
                    "speed_kmh": segments["speed_kmh"].to_numpy(),
                    "length_m": segments["length_m"].to_numpy(),
                    "capacity_veh_h": lanes * SATURATION_VEH_H * np.where(signal, GREEN_SHARE, 1),
                    "signalised": signal,
                }
            )
        )
    links = pd.concat(rows).sort_values(["segment", "direction"], kind="stable")
    return links.reset_index(drop=True)

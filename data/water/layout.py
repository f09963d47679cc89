"""The layout of a city's water network, generated from its bundle: pipes, DMAs, sources, sizes.

Never solves the hydraulics (that is `data.water.model`) nor reads or writes a file.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from data.city import City
from data.city.grid import cells_of
from data.water.meters import DMA_RES
from data.water.physics import CONSUMPTION_L_PER_DAY, water_demand_profile

# Approximate ground heights (m above sea level) read off topographic maps, +-15 m
# (assumption): the city rises gently from the coast to the plateau of Sidi Maarouf.
SPOT_HEIGHTS = {
    "Port": (-7.605, 33.605, 3.0),
    "Place Mohammed V": (-7.6187, 33.5928, 20.0),
    "Ain Diab shore": (-7.7069, 33.580, 5.0),
    "Ain Sebaa": (-7.540, 33.605, 15.0),
    "Maarif": (-7.635, 33.578, 40.0),
    "Hay Hassani": (-7.680, 33.560, 70.0),
    "Sidi Moumen": (-7.540, 33.575, 70.0),
    "Ain Chock": (-7.600, 33.545, 90.0),
    "Sidi Maarouf": (-7.645, 33.530, 110.0),
}
TRUNK_CLASSES = ("motorway", "trunk", "primary")
# Nominal diameter by the road a pipe lies under (mm; assumption: trunk mains 500-600 mm,
# distribution mains 300 mm, distribution pipes 100-200 mm, a large city's usual range).
DIAMETER_MM = {
    "motorway": 600, "trunk": 600, "primary": 500, "secondary": 300,
    "tertiary": 200, "residential": 150, "service": 100,
}  # fmt: skip
OLDEST_YEAR, NEWEST_YEAR = 1950, 2024  # pipes are older toward the historic centre
# Material and Hazen-Williams C by laying era (assumption: cast iron before 1975, then ductile
# iron for mains and asbestos cement for distribution, PE/PVC from 1995).
ERAS = ((1975, "cast iron", "cast iron", 90.0, 90.0),
        (1995, "ductile iron", "asbestos cement", 115.0, 120.0),
        (9999, "ductile iron", "PE/PVC", 130.0, 140.0))  # fmt: skip
N_SOURCES = 4
SOURCE_SHARE_HIGHEST = 0.15  # sources sit among the highest 15 % of trunk nodes
# Pipe sizing: each pipe carries the peak demand (plus leakage) of everything downstream of it
# on the shortest-path tree from the sources at <= 1 m/s; never below its road class's size.
CATALOGUE_MM = (100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000)
DESIGN_VELOCITY_MS = 1.0
DESIGN_LEAKAGE_FACTOR = 1.4  # produced / billed at the 72.3 % yield
TRUNK_PREFERENCE = 0.25  # supply routes follow the trunk mains: a trunk metre costs a quarter
INLET_PEAK_LPS = 40.0  # one PRV inlet per 40 L/s of peak DMA demand
MAX_INLETS = 6


def ground_elevation(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Ground height (m): inverse-distance-squared interpolation of `SPOT_HEIGHTS`.

    Stays within the spot heights' range (no extrapolation beyond the mapped plateau).
    """
    spots = np.array(list(SPOT_HEIGHTS.values()))
    dx = (np.asarray(lon, float)[:, None] - spots[None, :, 0]) * np.cos(np.radians(33.6))
    dy = np.asarray(lat, float)[:, None] - spots[None, :, 1]
    weight = 1.0 / np.maximum(dx**2 + dy**2, 1e-10)
    return (weight * spots[None, :, 2]).sum(axis=1) / weight.sum(axis=1)


def demand_pattern() -> list[float]:
    """Hourly demand multipliers: the telemetry's profile at mid-hour, scaled to mean 1."""
    values = water_demand_profile(np.arange(24) + 0.5)
    return [round(float(v), 4) for v in values / values.mean()]


def _largest_component(roads: pd.DataFrame) -> set[int]:
    graph = nx.Graph()
    graph.add_edges_from(zip(roads["u"], roads["v"], strict=True))
    return max(nx.connected_components(graph), key=len)


def _building_population(city: City) -> pd.Series:
    """People per building: each district's census population spread by floor area."""
    buildings = city.buildings
    floor = buildings.to_crs(city.crs_metric).area * buildings["levels"].clip(lower=1)
    per_district = floor.groupby(buildings["district_id"]).transform("sum")
    population = buildings["district_id"].map(city.districts.set_index("district_id")["population"])
    return (floor / per_district * population).fillna(0.0)


def _pipe_years(roads: gpd.GeoDataFrame, centre_xy: np.ndarray, seed: int) -> np.ndarray:
    mid = roads.geometry.interpolate(0.5, normalized=True)
    dist = np.hypot(mid.x - centre_xy[0], mid.y - centre_xy[1])
    share = (dist / dist.max()) ** 0.7
    noise = np.random.default_rng(seed).normal(0, 8, len(roads))
    years = OLDEST_YEAR + (NEWEST_YEAR - OLDEST_YEAR) * share + noise
    return np.clip(np.round(years), OLDEST_YEAR, NEWEST_YEAR).astype(int)


def _material(years: np.ndarray, trunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    era = np.searchsorted([e[0] for e in ERAS], years, side="right")
    material = np.where(trunk, [ERAS[e][1] for e in era], [ERAS[e][2] for e in era])
    c = np.where(trunk, [ERAS[e][3] for e in era], [ERAS[e][4] for e in era])
    return material, c


class _Units:
    """Union-find over junction indices: the groups always connected by open pipes."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def layout(city: City) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Pipes (metric CRS) with roles, junctions with DMA/elevation/population, source rows."""
    keep = _largest_component(city.roads)
    nodes = city.nodes[city.nodes["node_id"].isin(keep)].reset_index(drop=True)
    roads = city.roads[city.roads["u"].isin(keep)].reset_index(drop=True)
    index = pd.Series(np.arange(len(nodes)), index=nodes["node_id"])
    u, v = index[roads["u"]].to_numpy(), index[roads["v"]].to_numpy()
    lon, lat = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()

    trunk_pipe = roads["road_class"].isin(TRUNK_CLASSES).to_numpy()
    trunk_node = np.zeros(len(nodes), bool)
    trunk_node[u[trunk_pipe]] = trunk_node[v[trunk_pipe]] = True
    dma = np.where(trunk_node, "trunk", [f"DMA-{c:x}" for c in cells_of(lon, lat, DMA_RES)])

    # Demand: people per building to the nearest distribution junction (trunk if none).
    metric_nodes = nodes.to_crs(city.crs_metric)
    xy = np.column_stack([metric_nodes.geometry.x, metric_nodes.geometry.y])
    serving = np.flatnonzero(~trunk_node) if (~trunk_node).any() else np.arange(len(nodes))
    centroids = city.buildings.to_crs(city.crs_metric).geometry.centroid
    _, nearest = cKDTree(xy[serving]).query(np.column_stack([centroids.x, centroids.y]))
    building_node = serving[nearest]
    population = np.bincount(
        building_node, weights=_building_population(city).to_numpy(), minlength=len(nodes)
    )
    n_buildings = np.bincount(building_node, minlength=len(nodes))

    junctions = gpd.GeoDataFrame(
        {
            "junction_id": [f"J{n}" for n in nodes["node_id"]],
            "node_id": nodes["node_id"].to_numpy(),
            "elevation_m": np.round(ground_elevation(lon, lat), 2),
            "dma_id": dma,
            "population": np.round(population, 1),
            "n_buildings": n_buildings,
        },
        geometry=nodes.geometry.values,
        crs=nodes.crs,
    )

    metric_roads = roads.to_crs(city.crs_metric)
    centre = gpd.GeoSeries.from_xy([city.center[0]], [city.center[1]], crs=4326)
    centre = centre.to_crs(city.crs_metric)
    years = _pipe_years(metric_roads, np.array([centre.x[0], centre.y[0]]), city.meta["seed"])
    material, c_factor = _material(years, trunk_pipe)
    role = np.where(trunk_pipe, "trunk", "distribution")
    # A distribution pipe between two DMAs or touching the trunk is a candidate connection.
    crossing = ~trunk_pipe & ((dma[u] != dma[v]) | trunk_node[u] | trunk_node[v])
    role = np.where(crossing, "boundary", role)
    pipes = gpd.GeoDataFrame(
        {
            "link_id": roads["road_id"].to_numpy(),
            "road_id": roads["road_id"].to_numpy(),
            "start_id": junctions["junction_id"].to_numpy()[u],
            "end_id": junctions["junction_id"].to_numpy()[v],
            "road_class": roads["road_class"].to_numpy(),
            "role": role,
            "status": "open",
            "diameter_mm": roads["road_class"].map(DIAMETER_MM).fillna(150).astype(int),
            "material": material,
            "install_year": years,
            "roughness_c": c_factor,
            "length_m": np.maximum(roads["length_m"].to_numpy(), 1.0),
            "dma_id": np.where(trunk_pipe, "trunk", np.where(dma[u] == "trunk", dma[v], dma[u])),
        },
        geometry=roads.geometry.values,
        crs=roads.crs,
    )
    sources = _source_nodes(junctions, trunk_node, xy)
    _connect_dmas(pipes, junctions, u, v, trunk_node, sources, xy)
    _merge_unmetered(pipes, junctions)
    _size_pipes(pipes, junctions, u, v, sources)
    return pipes, junctions, sources


def _source_nodes(junctions, trunk_node: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """`N_SOURCES` high trunk nodes far apart (farthest-point sampling, deterministic)."""
    candidates = np.flatnonzero(trunk_node)
    elev = junctions["elevation_m"].to_numpy()[candidates]
    high = candidates[elev >= np.quantile(elev, 1 - SOURCE_SHARE_HIGHEST)]
    chosen = [high[np.argmax(junctions["elevation_m"].to_numpy()[high])]]
    while len(chosen) < min(N_SOURCES, len(high)):
        dist = np.min(
            np.hypot(*(xy[high][:, None, :] - xy[chosen][None, :, :]).transpose(2, 0, 1)), axis=1
        )
        chosen.append(high[np.argmax(dist)])
    return np.array(chosen)


def _connect_dmas(pipes, junctions, u, v, trunk_node, sources, xy) -> None:
    """Pick PRV inlets and open transfers so every junction is supplied; close the rest."""
    role = pipes["role"].to_numpy().copy()
    units = _Units(len(junctions))
    for k in np.flatnonzero(role != "boundary"):
        units.union(u[k], v[k])
    root = np.array([units.find(i) for i in range(len(junctions))])
    supplied = set(root[sources].tolist())
    peak = max(demand_pattern())
    demand_lps = junctions["population"].to_numpy() * CONSUMPTION_L_PER_DAY / 86400 * peak
    unit_peak = pd.Series(demand_lps).groupby(root).sum()
    candidates = np.flatnonzero(role == "boundary")
    opened: dict[int, tuple[str, int]] = {}  # pipe -> (role, junction on the fed side)
    valves = _PrvNodes()
    while True:
        grown = False
        # Trunk-to-DMA connections from a supplied trunk become PRV inlets of the DMA unit.
        inlets: dict[int, list[int]] = {}
        for k in candidates:
            if k in opened:
                continue
            a, b = (u[k], v[k]) if trunk_node[u[k]] else (v[k], u[k])
            if trunk_node[a] and not trunk_node[b] and root[a] in supplied:
                if root[b] not in supplied:
                    inlets.setdefault(root[b], []).append(k)
        for unit, links in inlets.items():
            need = int(np.clip(np.ceil(unit_peak.get(unit, 0) / INLET_PEAK_LPS), 1, MAX_INLETS))
            fed = np.where(trunk_node[u[links]], v[links], u[links])
            for i in _spread(list(range(len(links))), xy[fed], need):
                other = u[links[i]] + v[links[i]] - fed[i]
                if valves.allows(other, fed[i]):
                    opened[links[i]] = ("inlet", fed[i])
                    valves.add(other, fed[i])
                    supplied.add(unit)
                    grown = True
        if not grown:
            # No trunk nearby: one pipe from a supplied neighbour per unit, a PRV between two
            # DMAs (a cascade, metered like any inlet), a plain pipe into a trunk fragment.
            for k in candidates:
                if k in opened:
                    continue
                ra, rb = root[u[k]], root[v[k]]
                if (ra in supplied) != (rb in supplied):
                    fed = v[k] if ra in supplied else u[k]
                    other = u[k] + v[k] - fed
                    between_dmas = not (trunk_node[u[k]] or trunk_node[v[k]])
                    if between_dmas and valves.allows(other, fed):
                        opened[k] = ("inlet", fed)
                        valves.add(other, fed)
                    else:
                        opened[k] = ("transfer", fed)
                    supplied.add(root[fed])
                    grown = True
        if not grown:
            break
    start_col, end_col = pipes.columns.get_loc("start_id"), pipes.columns.get_loc("end_id")
    dma_col = pipes.columns.get_loc("dma_id")
    names = junctions["junction_id"].to_numpy()
    dma = junctions["dma_id"].to_numpy()
    for k in candidates:
        kind, fed = opened.get(k, ("boundary", -1))
        role[k] = kind
        if kind == "inlet":  # the PRV's outlet (end) is on the side it feeds
            other = u[k] if fed == v[k] else v[k]
            pipes.iloc[k, start_col], pipes.iloc[k, end_col] = names[other], names[fed]
            pipes.iloc[k, dma_col] = dma[fed]
    pipes["role"] = role
    pipes["status"] = np.where(role == "boundary", "closed", "open")
    junctions["supplied"] = np.isin(root, list(supplied))


def _merge_unmetered(pipes, junctions) -> None:
    """Fold a DMA that got no PRV inlet into the DMA whose pipe feeds it (in place).

    On a real street graph an H3 cell can hold a sliver of a few junctions reached only
    through a plain transfer pipe (no PRV could be placed there): not a metered area of its
    own, so it joins the area it is fed from.
    """
    metered = set(pipes.loc[pipes["role"] == "inlet", "dma_id"])
    start, end = pipes["start_id"].to_numpy(), pipes["end_id"].to_numpy()
    for dma in sorted(set(junctions["dma_id"]) - metered - {"trunk"}):
        members = set(junctions.loc[junctions["dma_id"] == dma, "junction_id"])
        feeds = (pipes["role"] == "transfer").to_numpy() & (
            np.isin(start, list(members)) != np.isin(end, list(members))
        )
        outside = [a if b in members else b for a, b in zip(start[feeds], end[feeds], strict=True)]
        into = set(junctions.loc[junctions["junction_id"].isin(outside), "dma_id"]) - {"trunk"}
        if not into:
            continue
        target = sorted(into)[0]
        junctions.loc[junctions["dma_id"] == dma, "dma_id"] = target
        pipes.loc[pipes["dma_id"] == dma, "dma_id"] = target
        pipes.loc[feeds, ["role", "dma_id"]] = ["distribution", target]


class _PrvNodes:
    """Ends of the PRVs placed so far: EPANET refuses PRVs in series or sharing an outlet."""

    def __init__(self) -> None:
        self.starts: set[int] = set()
        self.ends: set[int] = set()

    def allows(self, start: int, end: int) -> bool:
        return end not in self.ends and end not in self.starts and start not in self.ends

    def add(self, start: int, end: int) -> None:
        self.starts.add(start)
        self.ends.add(end)


def _size_pipes(pipes, junctions, u, v, sources) -> None:
    """Diameters from the peak flow each open pipe carries on the supply tree (in place)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(junctions)
    is_open = pipes["status"].to_numpy() == "open"
    length = pipes["length_m"].to_numpy()
    cost = length * np.where(pipes["role"].to_numpy() == "trunk", TRUNK_PREFERENCE, 1.0)
    graph = coo_matrix((cost[is_open], (u[is_open], v[is_open])), shape=(n, n)).tocsr()
    dist, pred, _ = dijkstra(
        graph, directed=False, indices=sources, min_only=True, return_predecessors=True
    )
    peak = max(demand_pattern()) * DESIGN_LEAKAGE_FACTOR
    flow = junctions["population"].to_numpy() * CONSUMPTION_L_PER_DAY / 1000 / 86400 * peak
    carried = flow.copy()  # m3/s through the tree edge into each node
    for node in np.argsort(-dist):
        if np.isfinite(dist[node]) and pred[node] >= 0:
            carried[pred[node]] += carried[node]
    edge = {}
    for k in np.flatnonzero(is_open)[np.argsort(-length[is_open])]:  # shortest parallel wins
        edge[(min(u[k], v[k]), max(u[k], v[k]))] = k
    needed = np.zeros(len(pipes))
    for node in np.flatnonzero(pred >= 0):
        k = edge.get((min(node, pred[node]), max(node, pred[node])))
        if k is not None:
            needed[k] = np.sqrt(4 * carried[node] / (np.pi * DESIGN_VELOCITY_MS)) * 1000
    sizes = np.array(CATALOGUE_MM)
    designed = sizes[np.minimum(np.searchsorted(sizes, needed), len(sizes) - 1)]
    pipes["diameter_mm"] = np.maximum(pipes["diameter_mm"].to_numpy(), designed)


def _spread(links: list[int], points: np.ndarray, n: int) -> list[int]:
    """``n`` of ``links`` far apart (farthest-point sampling from the first)."""
    chosen = [0]
    while len(chosen) < min(n, len(links)):
        dist = np.min(np.hypot(*(points[:, None, :] - points[chosen][None]).transpose(2, 0, 1)), 1)
        chosen.append(int(np.argmax(dist)))
    return [links[i] for i in chosen]

"""The water distribution network of a city: pipes along its streets, DMAs, sources, leakage.

Generated deterministically from the city bundle and stored beside it (EPANET ``water.inp.gz``
for the hydraulics, GeoParquet for geometry); solving scenarios is `simulation.water`'s job.

Layout (every fact below is an assumption unless a source is given):

- one pipe under every road segment (id = road_id), junctions at the road nodes; pipes on
  motorways, trunk and primary roads are the trunk mains, the rest distribution pipes;
- ground elevation from a plane through approximate spot heights (`SPOT_HEIGHTS`);
- sources: reservoirs at the high inland edge (water reaches Casablanca from the Oum Er-Rbia
  and Bouregreg plants to reservoirs on its southern heights) at one common head;
- district metered areas (DMAs) = H3 resolution-7 cells, as the telemetry's DMA meters: the
  distribution pipes of a cell are fed from the trunk through pressure-reducing valves (PRVs),
  every other connection to the trunk or to another DMA is a closed boundary valve;
- demand: the district's population spread over its buildings by floor area, 110 L/person/day
  (`data.telemetry`), on the telemetry's daily profile; leakage as pressure-dependent emitters
  on distribution junctions, calibrated so the network yield is the seed's 72.3 %;
- isolation valves per wntr's "strategic N-2" rule (valves on all but two pipes at each
  junction); segments are what closing them isolates.
"""

from __future__ import annotations

import functools
import gzip
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import wntr
from scipy.spatial import cKDTree

from data.city import City, load_city
from data.errors import MadinaError
from data.sensors import DMA_RES, cells_of
from data.telemetry import (
    CONSUMPTION_L_PER_DAY,
    LEAKAGE_EXPONENT,
    NETWORK_YIELD,
    water_demand_profile,
)

INP_FILE = "water.inp.gz"
PIPES_FILE = "water_pipes.parquet"
JUNCTIONS_FILE = "water_junctions.parquet"
DMAS_FILE = "water_dmas.parquet"
VALVES_FILE = "water_valves.parquet"
SOURCES_FILE = "water_sources.parquet"
WATER_FILES = (INP_FILE, PIPES_FILE, JUNCTIONS_FILE, DMAS_FILE, VALVES_FILE, SOURCES_FILE)
REBUILD = "python -m data.water_network {city}"

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
SOURCE_HEAD_ABOVE_HIGHEST_M = 35.0  # reservoir level over the highest trunk node
CRITICAL_PRESSURE_M = 25.0  # PRV outlets keep 25 m at the DMA's highest node (baseline)
DMA_HEADLOSS_ALLOWANCE_M = 5.0  # allowance for losses inside a DMA at peak
# Pipe sizing: each pipe carries the peak demand (plus leakage) of everything downstream of it
# on the shortest-path tree from the sources at <= 1 m/s; never below its road class's size.
CATALOGUE_MM = (100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000)
DESIGN_VELOCITY_MS = 1.0
DESIGN_LEAKAGE_FACTOR = 1.4  # produced / billed at the 72.3 % yield
TRUNK_PREFERENCE = 0.25  # supply routes follow the trunk mains: a trunk metre costs a quarter
MAX_VELOCITY_MS = 1.5  # after tree sizing, pipes above this at peak are enlarged (EPANET)
SIZING_PASSES = 4
INLET_PEAK_LPS = 40.0  # one PRV inlet per 40 L/s of peak DMA demand
MAX_INLETS = 6
REQUIRED_PRESSURE_M = 15.0  # full demand served from 15 m (PDD); none below 1 m
MINIMUM_PRESSURE_M = 1.0
LEAK_AGE_FACTOR_YEARS = 50.0  # a pipe leaks (1 + age / 50) times a new one per metre
VALVE_SEED = 5


class WaterNetworkError(MadinaError):
    """A water network file is missing or malformed, or a request names an unknown element."""


@dataclass(frozen=True)
class WaterNetwork:
    """A city's water network: the EPANET model file and its GeoDataFrames (EPSG:4326)."""

    city: str
    inp_path: Path
    pipes: gpd.GeoDataFrame  # link_id, role, status, diameter_mm, ..., dma_id, segment
    junctions: gpd.GeoDataFrame  # junction_id, node_id, elevation_m, dma_id, population, ...
    dmas: gpd.GeoDataFrame  # dma_id, n_inlets, population, demand_m3_day, geometry
    valves: gpd.GeoDataFrame  # valve_id, link_id, node_id, geometry
    sources: gpd.GeoDataFrame  # junction_id (RES-n), node_id, elevation_m, head_m, geometry

    def model(self) -> wntr.network.WaterNetworkModel:
        """A fresh WNTR model read from the stored .inp (callers may change it freely)."""
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / "water.inp"
            with gzip.open(self.inp_path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return wntr.network.WaterNetworkModel(str(plain))


def run_hydraulics(wn: wntr.network.WaterNetworkModel):
    """Solve ``wn`` with EPANET 2.2 (wntr's EpanetSimulator); returns its results."""
    with tempfile.TemporaryDirectory() as tmp:
        return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(tmp) / "run"))


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


def _layout(city: City) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
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


def _upsize_by_velocity(pipes, junctions, sources) -> list[int]:
    """Enlarge pipes faster than `MAX_VELOCITY_MS` at the peak hour, re-solving each pass.

    Returns how many pipes each pass enlarged.
    """
    sizes = np.array(CATALOGUE_MM)
    changed = []
    for _ in range(SIZING_PASSES):
        wn = _model(pipes, junctions, sources, np.zeros(len(junctions)))
        wn.options.time.duration = 0
        wn.options.time.pattern_start = int(np.argmax(demand_pattern())) * 3600
        wn.options.hydraulic.demand_multiplier = DESIGN_LEAKAGE_FACTOR
        velocity = run_hydraulics(wn).link["velocity"].iloc[0].abs()
        v = velocity.reindex(pipes["link_id"]).fillna(0.0).to_numpy()
        fast = v > MAX_VELOCITY_MS
        changed.append(int(fast.sum()))
        if not fast.any():
            break
        diameter = pipes["diameter_mm"].to_numpy().astype(float)
        needed = diameter * np.sqrt(v / DESIGN_VELOCITY_MS)
        bigger = sizes[np.minimum(np.searchsorted(sizes, needed), len(sizes) - 1)]
        pipes["diameter_mm"] = np.where(fast, np.maximum(bigger, diameter), diameter).astype(int)
    return changed


def _spread(links: list[int], points: np.ndarray, n: int) -> list[int]:
    """``n`` of ``links`` far apart (farthest-point sampling from the first)."""
    chosen = [0]
    while len(chosen) < min(n, len(links)):
        dist = np.min(np.hypot(*(points[:, None, :] - points[chosen][None]).transpose(2, 0, 1)), 1)
        chosen.append(int(np.argmax(dist)))
    return [links[i] for i in chosen]


def _model(pipes, junctions, sources, emitter_c: np.ndarray) -> wntr.network.WaterNetworkModel:
    """The WNTR model of a layout; ``emitter_c`` per junction (m3/s per m of pressure**N)."""
    wn = wntr.network.WaterNetworkModel()
    wn.title = [
        "Madina Twin water distribution network (synthetic, generated from the city bundle)",
        "Rebuild: python -m data.water_network <city>; see data/water_network.py",
    ]
    wn.options.time.duration = 24 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    # Metric units in every .inp written (runs too): wntr converts emitter coefficients as if
    # the exponent were 0.5, which is exact only when pressure is in metres (LPS, not GPM/psi).
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = REQUIRED_PRESSURE_M
    wn.options.hydraulic.minimum_pressure = MINIMUM_PRESSURE_M
    wn.options.hydraulic.emitter_exponent = LEAKAGE_EXPONENT
    wn.options.hydraulic.trials = 100
    wn.options.hydraulic.unbalanced = "CONTINUE"  # report a hard hour, do not abort the day
    wn.options.hydraulic.unbalanced_value = 20
    wn.add_pattern("residential", demand_pattern())
    demand_m3s = junctions["population"].to_numpy() * CONSUMPTION_L_PER_DAY / 1000 / 86400
    lon, lat = junctions.geometry.x.to_numpy(), junctions.geometry.y.to_numpy()
    for k, row in enumerate(junctions.itertuples(index=False)):
        wn.add_junction(
            row.junction_id,
            base_demand=float(demand_m3s[k]),
            demand_pattern="residential",
            elevation=float(row.elevation_m),
            coordinates=(float(lon[k]), float(lat[k])),
        )
        if emitter_c[k] > 0:
            wn.get_node(row.junction_id).emitter_coefficient = float(emitter_c[k])
    head = source_head(junctions)
    for i, node in enumerate(sources):
        name = f"RES-{i + 1}"
        wn.add_reservoir(name, base_head=head, coordinates=(float(lon[node]), float(lat[node])))
        wn.add_pipe(f"{name}-MAIN", name, junctions["junction_id"].iat[node], length=50.0,
                    diameter=1.2, roughness=130.0)  # fmt: skip
    settings = _prv_settings(pipes, junctions)
    for row in pipes.itertuples(index=False):
        if row.role == "inlet":
            wn.add_valve(
                row.link_id, row.start_id, row.end_id, diameter=row.diameter_mm / 1000,
                valve_type="PRV", minor_loss=0.0, initial_setting=settings[row.link_id],
            )  # fmt: skip
            continue
        wn.add_pipe(
            row.link_id, row.start_id, row.end_id, length=float(row.length_m),
            diameter=row.diameter_mm / 1000, roughness=float(row.roughness_c),
            initial_status="CLOSED" if row.status == "closed" else "OPEN",
        )  # fmt: skip
    return wn


def source_head(junctions: pd.DataFrame) -> float:
    """The reservoirs' common water level (m): above the highest trunk junction."""
    elevation = junctions["elevation_m"].to_numpy()
    trunk = junctions["dma_id"].to_numpy() == "trunk"
    return float(elevation[trunk].max() if trunk.any() else elevation.max()) + (
        SOURCE_HEAD_ABOVE_HIGHEST_M
    )


def _prv_settings(pipes, junctions) -> dict[str, float]:
    """Outlet pressure head (m) of each PRV: the critical-point target plus the DMA's relief."""
    elevation = junctions.set_index("junction_id")["elevation_m"]
    highest = junctions.groupby("dma_id")["elevation_m"].max()
    inlets = pipes[pipes["role"] == "inlet"]
    outlet_elev = elevation[inlets["end_id"]].to_numpy()
    top = highest[inlets["dma_id"]].to_numpy()
    setting = CRITICAL_PRESSURE_M + DMA_HEADLOSS_ALLOWANCE_M + np.maximum(0, top - outlet_elev)
    return dict(zip(inlets["link_id"], np.round(setting, 1), strict=True))


def leak_weights(pipes, junctions) -> np.ndarray:
    """Leakage weight per junction: half the length of its open distribution pipes, by age."""
    open_dist = pipes[(pipes["role"] != "trunk") & (pipes["status"] == "open")]
    age = NEWEST_YEAR - open_dist["install_year"]
    weight = open_dist["length_m"] * (1 + age / LEAK_AGE_FACTOR_YEARS)
    ends = pd.concat([
        pd.Series(weight.to_numpy() / 2, index=open_dist["start_id"]),
        pd.Series(weight.to_numpy() / 2, index=open_dist["end_id"]),
    ])  # fmt: skip
    per_node = ends.groupby(level=0).sum()
    trunk = junctions["dma_id"].to_numpy() == "trunk"
    out = per_node.reindex(junctions["junction_id"]).fillna(0.0).to_numpy()
    return np.where(trunk, 0.0, out)


def water_balance(wn, results) -> dict[str, float]:
    """Produced, billed (consumed) and leaked volumes (m3) over the run's whole hours."""
    pressure = results.node["pressure"]
    demand = results.node["demand"]
    junction_names = wn.junction_name_list
    coeff = pd.Series(
        {n: wn.get_node(n).emitter_coefficient or 0.0 for n in junction_names}, dtype=float
    )
    p = pressure[junction_names].clip(lower=0).iloc[:-1]
    leak = p.pow(wn.options.hydraulic.emitter_exponent).mul(coeff, axis=1)
    total = demand[junction_names].iloc[:-1]
    step_s = wn.options.time.report_timestep
    leaked = float(leak.to_numpy().sum() * step_s)
    consumed = float((total - leak).clip(lower=0).to_numpy().sum() * step_s)
    return {"produced_m3": leaked + consumed, "billed_m3": consumed, "leaked_m3": leaked}


def _calibrate_leakage(pipes, junctions, sources) -> tuple[np.ndarray, dict]:
    """Emitter coefficients giving the target yield (billed / produced), two EPANET runs."""
    weights = leak_weights(pipes, junctions)
    demand_m3 = junctions["population"].sum() * CONSUMPTION_L_PER_DAY / 1000
    if demand_m3 <= 0 or weights.sum() <= 0:  # nobody to serve, or no distribution pipe
        return np.zeros(len(junctions)), {"produced_m3": 0.0, "billed_m3": 0.0,
                                          "leaked_m3": 0.0, "yield": float("nan")}  # fmt: skip
    target_leak = demand_m3 * (1 - NETWORK_YIELD) / NETWORK_YIELD
    mean_pressure_guess = 35.0
    coeff = weights * target_leak / 86400 / mean_pressure_guess**LEAKAGE_EXPONENT / weights.sum()
    for attempt in range(3):
        wn = _model(pipes, junctions, sources, coeff)
        balance = water_balance(wn, run_hydraulics(wn))
        balance["yield"] = balance["billed_m3"] / balance["produced_m3"]
        if abs(balance["yield"] - NETWORK_YIELD) < 0.002 or attempt == 2:
            return coeff, balance
        # leak ~ C at fixed pressure; the billed volume barely moves with C
        target = balance["billed_m3"] * (1 - NETWORK_YIELD) / NETWORK_YIELD
        coeff = coeff * target / balance["leaked_m3"]
    raise AssertionError("unreachable")


def valve_segments(pipes, junctions, valves: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Segment id of each pipe and junction: what closing the surrounding valves isolates.

    A pipe joins its end junctions unless a valve sits at that end; closed pipes and PRVs
    join nothing (they already separate). Connected components over junctions + pipes.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    node_index = pd.Series(np.arange(len(junctions)), index=junctions["junction_id"])
    n_nodes, n_links = len(junctions), len(pipes)
    link_index = pd.Series(np.arange(n_links), index=pipes["link_id"])
    valved = set(zip(valves["link_id"], valves["node_id"], strict=True))
    joins = (pipes["status"].to_numpy() == "open") & (pipes["role"].to_numpy() != "inlet")
    rows, cols = [], []
    for end in ("start_id", "end_id"):
        ends = pipes[end].to_numpy()
        keep = joins & np.array(
            [(lk, nd) not in valved for lk, nd in zip(pipes["link_id"], ends, strict=True)]
        )
        rows.append(node_index[ends[keep]].to_numpy())
        cols.append(n_nodes + link_index[pipes["link_id"].to_numpy()[keep]].to_numpy())
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    size = n_nodes + n_links
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    _, labels = np.unique(labels, return_inverse=True)
    return labels[n_nodes:], labels[:n_nodes]


def build_water_network(city: City, folder: Path) -> dict:
    """Generate, calibrate and write the water network of ``city`` into ``folder``.

    Returns a summary (counts, calibrated balance, seconds).
    """
    started = time.perf_counter()
    pipes, junctions, sources = _layout(city)
    sizing_passes = _upsize_by_velocity(pipes, junctions, sources)
    coeff, balance = _calibrate_leakage(pipes, junctions, sources)
    junctions["emitter_coefficient"] = coeff
    wn = _model(pipes, junctions, sources, coeff)
    layer = wntr.network.layer.generate_valve_layer(wn, "strategic", 2, seed=VALVE_SEED)
    layer = layer[layer["link"].isin(pipes["link_id"])].reset_index(drop=True)
    valves = pd.DataFrame({"link_id": layer["link"].to_numpy(), "node_id": layer["node"]})
    pipes["segment"], junctions["segment"] = valve_segments(pipes, junctions, valves)
    valves = _valve_points(valves, pipes)

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "water.inp"
        wntr.network.write_inpfile(wn, str(plain), units="LPS")
        # no name, no timestamp in the gzip header: the same network gives the same bytes
        with (
            open(plain, "rb") as src,
            open(folder / INP_FILE, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as dst,
        ):
            shutil.copyfileobj(src, dst)
    source_rows = gpd.GeoDataFrame(
        {
            "junction_id": [f"RES-{i + 1}" for i in range(len(sources))],
            "node_id": junctions["node_id"].to_numpy()[sources],
            "elevation_m": junctions["elevation_m"].to_numpy()[sources],
            "head_m": source_head(junctions),
            "kind": "reservoir",
        },
        geometry=junctions.geometry.values[sources],
        crs=junctions.crs,
    )
    junctions["kind"] = "junction"
    junctions.to_parquet(folder / JUNCTIONS_FILE)
    pipes.to_crs(4326).to_parquet(folder / PIPES_FILE)
    valves.to_parquet(folder / VALVES_FILE)
    _dma_table(pipes, junctions).to_parquet(folder / DMAS_FILE)
    source_rows.to_parquet(folder / SOURCES_FILE)
    return {
        "junctions": len(junctions),
        "pipes": int((pipes["role"] != "inlet").sum()),
        "prv_inlets": int((pipes["role"] == "inlet").sum()),
        "closed_boundary_valves": int((pipes["status"] == "closed").sum()),
        "isolation_valves": len(valves),
        "segments": int(pipes["segment"].max() + 1),
        "reservoirs": len(sources),
        "dmas": int(junctions.loc[junctions["dma_id"] != "trunk", "dma_id"].nunique()),
        "pipes_enlarged_per_sizing_pass": sizing_passes,
        **{k: round(v, 4) for k, v in balance.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def _valve_points(valves: pd.DataFrame, pipes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Isolation valves drawn 8 m along their pipe from the junction they guard."""
    by_link = pipes.set_index("link_id")
    lines = gpd.GeoSeries(by_link.geometry[valves["link_id"]].values, crs=pipes.crs)
    metric = lines.to_crs(3857)  # only to step a few metres along the line
    at_start = by_link["start_id"][valves["link_id"]].to_numpy() == valves["node_id"].to_numpy()
    # road geometry runs u -> v; PRV inlets may have been flipped, so test the line's ends
    lengths = metric.length.to_numpy()
    offset = np.minimum(8.0, lengths / 3)
    dist = np.where(at_start, offset, lengths - offset)
    points = gpd.GeoSeries(metric.interpolate(dist).values, crs=3857).to_crs(4326)
    return gpd.GeoDataFrame(
        {"valve_id": [f"V{i + 1:05d}" for i in range(len(valves))], **valves},
        geometry=points.values,
        crs=4326,
    )


def _dma_table(pipes: gpd.GeoDataFrame, junctions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per DMA: its H3 cell outline, inlets, population and daily demand."""
    import h3
    import shapely

    dist = junctions[junctions["dma_id"] != "trunk"]
    table = dist.groupby("dma_id").agg(
        population=("population", "sum"), n_junctions=("junction_id", "size")
    )
    inlets = pipes[pipes["role"] == "inlet"].groupby("dma_id").size()
    table["n_inlets"] = inlets.reindex(table.index).fillna(0).astype(int)
    mains = pipes[pipes["role"] != "trunk"].groupby("dma_id")["length_m"].sum() / 1000
    table["pipe_km"] = mains.reindex(table.index).fillna(0.0).round(2)
    table["demand_m3_day"] = (table["population"] * CONSUMPTION_L_PER_DAY / 1000).round(1)
    table["population"] = table["population"].round().astype(int)
    cells = [dma.removeprefix("DMA-") for dma in table.index]
    outlines = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    return gpd.GeoDataFrame(table.reset_index().assign(cell=cells), geometry=outlines, crs=4326)


def water_dir(city: City) -> Path:
    """Folder of the city's bundle, where its water network files live."""
    return Path(city.meta.get("_bundle_dir", ""))


@functools.lru_cache(maxsize=4)
def load_water_network(city_name: str) -> WaterNetwork:
    """The stored water network of an embedded city (cached per process)."""
    return read_water_network(city_name, water_dir(load_city(city_name)))


def read_water_network(city_name: str, folder: Path) -> WaterNetwork:
    """Read the water network files of ``city_name`` from ``folder``.

    Raises
    ------
    WaterNetworkError
        If a file is missing, naming it and the command that rebuilds it.
    """
    folder = Path(folder)
    missing = [name for name in WATER_FILES if not (folder / name).is_file()]
    if missing:
        raise WaterNetworkError(
            f"city {city_name!r} has no water network ({', '.join(missing)} missing in "
            f"{folder}); build it with `{REBUILD.format(city=city_name)}`"
        )
    return WaterNetwork(
        city=city_name,
        inp_path=folder / INP_FILE,
        pipes=gpd.read_parquet(folder / PIPES_FILE),
        junctions=gpd.read_parquet(folder / JUNCTIONS_FILE),
        dmas=gpd.read_parquet(folder / DMAS_FILE),
        valves=gpd.read_parquet(folder / VALVES_FILE),
        sources=gpd.read_parquet(folder / SOURCES_FILE),
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m data.water_network [city]``: rebuild and store the city's water network."""
    args = sys.argv[1:] if argv is None else argv
    city = load_city(args[0] if args else "casablanca")
    print(f"building the water network of {city.name} (EPANET calibration runs)...", flush=True)
    summary = build_water_network(city, water_dir(city))
    for key, value in summary.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()

"""The electricity distribution network of a city bundle: substations, MV feeders, transformers.

Generated deterministically from the bundle and stored beside it; never runs a load flow or
an outage (that is `simulation.power.outage`); the pandapower model of it is `data.power.model`.
Rebuild (network files and model): ``python -m data.power.network [city]``.

Topology. HV/MV substations (60/20 kV) sit at `N_SUBSTATIONS` k-means centres of the feeders;
each feeder (the H3 resolution-7 cell of the lighting inventory,
`data.city.constants.FEEDER_H3_RES`)
is a radial 20 kV tree from its substation through its MV/LV transformers (minimum spanning
tree over the transformers plus one link from the substation to the nearest of them). Every
building is supplied by one transformer of the feeder of its centroid's cell; every lighting
cabinet by the nearest transformer of the feeder it already carries. Adjacent feeders are
linked by one normally-open tie between their two nearest transformers.

Stored files (GeoParquet in EPSG:4326 unless said): ``power_substations.parquet``,
``power_transformers.parquet``, ``power_lines.parquet``, ``power_connections.parquet`` and
``power_cabinets.parquet`` (plain Parquet), and ``power.json`` (the pandapower model of the MV
network, written by `data.power.model`). Columns: see `PowerNetwork`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree
from scipy.spatial import cKDTree, distance_matrix

from data.city import City
from data.city.constants import FEEDER_H3_RES, FLOOR_AREA_PER_DWELLING_M2, SEED
from data.city.grid import cells_of, parent_cells
from data.errors import PowerNetworkError
from data.lighting.physics import drawn_power_w

# Lydec distributes at 20 kV from 60/20 kV source substations (Lydec network description).
MV_KV = 20.0
HV_KV = 60.0
# Assumption: about ten 60/20 kV source substations serve the embedded districts (Lydec runs
# some 30 for the whole concession of ~1.4 M customers).
N_SUBSTATIONS = 10
SUBSTATION_UNIT_MVA = 40.0  # assumption: capacity in steps of one 40 MVA transformer
SUBSTATION_LOADING = 0.8  # assumption: firm design loading of a source substation at peak
# MV/LV (20/0.4 kV) transformer sizes, kVA (standard ratings in Moroccan distribution).
TRANSFORMER_KVA = (400, 630, 1000)
TRANSFORMER_LOADING = 0.8  # assumption: design loading at peak, the headroom for growth
POWER_FACTOR = 0.95  # assumption: residential load power factor
# Assumption: after-diversity maximum demand (ADMD) of a dwelling at the evening peak, kW.
ADMD_KW = 1.5
MAX_BUILDINGS_PER_TRANSFORMER = 30  # clusters are split until at most this many (15-30)
FLOOR_AREA_TOWER_M2 = FLOOR_AREA_PER_DWELLING_M2["apartment"]  # towers hold apartments
# 20 kV cable: NA2XS2Y 1x240 (pandapower standard type, 421 A); sections run cables in
# parallel so the downstream peak loads them at most CABLE_LOADING (assumption, N-1 margin).
CABLE_TYPE = "NA2XS2Y 1x240 RM/25 12/20 kV"
CABLE_MAX_I_KA = 0.421
CABLE_LOADING = 0.7
CABLE_KVA = math.sqrt(3) * MV_KV * CABLE_MAX_I_KA * 1000  # rating of one cable, kVA

FILES = ("substations", "transformers", "lines", "connections", "cabinets")
GEO_FILES = ("substations", "transformers", "lines")


@dataclass(frozen=True)
class PowerNetwork:
    """The distribution network of one city (GeoDataFrames in EPSG:4326).

    substations : substation_id, name, capacity_mva, n_feeders, synthetic, geometry (Point)
    transformers : transformer_id, feeder_id, substation_id, capacity_kva, n_buildings,
        n_customers, peak_load_kw (dwellings x ADMD + lamps), n_cabinets, n_lamps, synthetic,
        geometry (Point)
    lines : line_id, kind ('mv' or 'tie'), feeder_id, from_id (upstream: substation or
        transformer), to_id, length_m (metric CRS), n_parallel (cables), normally_open,
        synthetic, geometry (LineString)
    connections : building_id, transformer_id, customers (dwellings)
    cabinets : cabinet_id, transformer_id
    """

    city: str
    substations: gpd.GeoDataFrame = field(repr=False)
    transformers: gpd.GeoDataFrame = field(repr=False)
    lines: gpd.GeoDataFrame = field(repr=False)
    connections: pd.DataFrame = field(repr=False)
    cabinets: pd.DataFrame = field(repr=False)

    @functools.cached_property
    def feeders(self) -> pd.DataFrame:
        """One row per feeder: substation_id, n_transformers, peak_load_kw, rating_kw.

        ``rating_kw`` is the thermal rating of the feeder's head section (its parallel
        cables at 421 A, 20 kV, power factor 0.95): what the feeder can carry in total.
        """
        tr = self.transformers.groupby("feeder_id").agg(
            substation_id=("substation_id", "first"),
            n_transformers=("transformer_id", "size"),
            peak_load_kw=("peak_load_kw", "sum"),
        )
        mv = self.lines[self.lines["kind"] == "mv"]
        head = mv[mv["from_id"].isin(self.substations["substation_id"])]
        cables = head.set_index("feeder_id")["n_parallel"]
        tr["rating_kw"] = cables.reindex(tr.index).to_numpy() * CABLE_KVA * POWER_FACTOR
        return tr


def _customers(city: City, floor_m2: np.ndarray) -> np.ndarray:
    """Dwellings per building: floor area / dwelling size, scaled to the district households.

    Each building gets at least one dwelling; the rest is shared by largest remainder, so each
    district's total equals its census ``households`` exactly.
    """
    b = city.buildings
    size = b["building_type"].map(FLOOR_AREA_PER_DWELLING_M2).fillna(FLOOR_AREA_TOWER_M2)
    weight = floor_m2 / size.to_numpy()
    out = np.zeros(len(b), np.int64)
    households = city.districts.set_index("district_id")["households"]
    for district, rows in b.groupby("district_id").indices.items():
        total = int(households.get(district, 0))
        base = 1 if total >= len(rows) else 0
        share = weight[rows] / weight[rows].sum() * (total - base * len(rows))
        whole = np.floor(share).astype(np.int64)
        left = total - base * len(rows) - int(whole.sum())
        order = np.argsort(-(share - whole), kind="stable")[:left]
        whole[order] += 1
        out[rows] = base + whole
    return out


def _feeder_cells(city: City) -> pd.Series:
    """The resolution-7 cell (uint64) of each feeder id, from its cabinets."""
    cab = city.cabinets
    cells = parent_cells(cells_of(cab.geometry.x, cab.geometry.y, 9), FEEDER_H3_RES)
    table = pd.DataFrame({"feeder_id": cab["feeder_id"].to_numpy(), "cell": cells})
    return table.groupby("feeder_id")["cell"].agg(lambda c: c.mode().iloc[0])


def _bisect(xy: np.ndarray, kw: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Split ``rows`` along their longer extent until each group fits one transformer."""
    max_kw = max(TRANSFORMER_KVA) * TRANSFORMER_LOADING * POWER_FACTOR
    out, stack = [], [rows]
    while stack:
        group = stack.pop()
        small = len(group) <= MAX_BUILDINGS_PER_TRANSFORMER and kw[group].sum() <= max_kw
        if small or len(group) == 1:
            out.append(group)
            continue
        pts = xy[group]
        order = np.argsort(pts[:, int(np.argmax(np.ptp(pts, axis=0)))], kind="stable")
        half = len(group) // 2
        stack += [group[order[half:]], group[order[:half]]]
    return out


def _capacity_kva(peak_kw: np.ndarray) -> np.ndarray:
    """Smallest standard size carrying the peak at the design loading (1000 kVA units above)."""
    need = peak_kw / POWER_FACTOR / TRANSFORMER_LOADING
    sizes = np.asarray(TRANSFORMER_KVA)
    pick = sizes[np.minimum(np.searchsorted(sizes, need), len(sizes) - 1)]
    units = np.ceil(need / sizes[-1]).clip(1)
    return np.where(need > sizes[-1], units * sizes[-1], pick).astype(np.int64)


def _kmeans(xy: np.ndarray, k: int, seed: int, iterations: int = 50) -> np.ndarray:
    """Lloyd's k-means from seeded starting points; returns the centres (k x 2)."""
    rng = np.random.default_rng(seed)
    centres = xy[np.sort(rng.choice(len(xy), k, replace=False))]
    for _ in range(iterations):
        label = np.argmin(distance_matrix(xy, centres), axis=1)
        moved = np.array(
            [xy[label == j].mean(axis=0) if (label == j).any() else centres[j] for j in range(k)]
        )
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres


def _tree(sub_xy: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Radial MV tree: parent of each transformer (-1 at the root), the root, root-first order."""
    root = int(np.argmin(np.hypot(*(xy - sub_xy).T)))
    if len(xy) == 1:
        return np.array([-1]), root, np.array([0])
    dist = distance_matrix(xy, xy) + 1e-3  # scipy reads a zero weight as "no edge"
    np.fill_diagonal(dist, 0)
    mst = minimum_spanning_tree(dist)
    order, parent = breadth_first_order(mst + mst.T, root, directed=False)
    return np.where(parent < 0, -1, parent), root, order


def build_power_network(city: City) -> PowerNetwork:
    """Generate the distribution network of ``city`` (deterministic: same bundle, same net).

    Parameters
    ----------
    city : City
        A loaded bundle with buildings, lamps, cabinets and districts.

    Returns
    -------
    PowerNetwork
        Layers in EPSG:4326; lengths in metres measured in ``city.crs_metric``.
    """
    prefix = str(city.cabinets["cabinet_id"].iloc[0]).split("-")[0]
    metric = city.buildings.geometry.to_crs(city.crs_metric)
    centroid = metric.centroid
    b_xy = np.column_stack([centroid.x, centroid.y])
    b_wgs = centroid.to_crs(4326)
    customers = _customers(city, metric.area.to_numpy() * city.buildings["levels"].to_numpy())
    b_kw = customers * ADMD_KW

    cab = city.cabinets
    c_xy = shapely.get_coordinates(cab.geometry.to_crs(city.crs_metric).values)
    lamp_kw = pd.Series(drawn_power_w(city.lamps) / 1000).groupby(city.lamps["cabinet_id"].values)
    c_kw = lamp_kw.sum().reindex(cab["cabinet_id"]).fillna(0).to_numpy()
    feeder_cell = _feeder_cells(city)
    by_cell = pd.Series(feeder_cell.index, index=feeder_cell.to_numpy())
    b_cell = parent_cells(cells_of(b_wgs.x, b_wgs.y, 9), FEEDER_H3_RES)
    b_feeder = pd.Series(b_cell).map(by_cell).to_numpy(object)
    lost = pd.isna(b_feeder)  # outside every feeder's cell: the nearest cabinet's feeder
    if lost.any():
        b_feeder[lost] = cab["feeder_id"].to_numpy()[cKDTree(c_xy).query(b_xy[lost])[1]]

    feeders = sorted(feeder_cell.index)
    tr_feeder, tr_xy, b_tr, c_tr = [], [], np.empty(len(b_xy), np.int64), np.empty(len(cab), int)
    for feeder in feeders:
        rows = np.flatnonzero(b_feeder == feeder)
        c_rows = np.flatnonzero(cab["feeder_id"].to_numpy() == feeder)
        first = len(tr_xy)
        if len(rows):
            for group in _bisect(b_xy, b_kw, rows):
                b_tr[group] = len(tr_xy)
                tr_xy.append(b_xy[group].mean(axis=0))
                tr_feeder.append(feeder)
        else:  # a feeder of streets only: one transformer for its cabinets
            tr_xy.append(c_xy[c_rows].mean(axis=0))
            tr_feeder.append(feeder)
        c_tr[c_rows] = first + cKDTree(np.asarray(tr_xy[first:])).query(c_xy[c_rows])[1]
    tr_xy, tr_feeder = np.asarray(tr_xy), np.asarray(tr_feeder, object)
    n_tr = len(tr_xy)
    tr_ids = np.array([f"{prefix}-T{i + 1:05d}" for i in range(n_tr)], object)
    peak_kw = np.bincount(b_tr, b_kw, n_tr) + np.bincount(c_tr, c_kw, n_tr)

    # Substations: k-means on the feeders' load centres; each feeder to its nearest centre.
    f_index = {f: i for i, f in enumerate(feeders)}
    f_of_tr = np.array([f_index[f] for f in tr_feeder])
    f_kw = np.bincount(f_of_tr, peak_kw, len(feeders))
    f_xy = (
        np.column_stack([np.bincount(f_of_tr, peak_kw * tr_xy[:, k], len(feeders)) for k in (0, 1)])
        / np.maximum(f_kw, 1e-9)[:, None]
    )
    k = min(N_SUBSTATIONS, len(feeders))
    s_xy = _kmeans(f_xy, k, SEED)
    f_sub = np.argmin(distance_matrix(f_xy, s_xy), axis=1)
    s_ids = np.array([f"{prefix}-S{i + 1:02d}" for i in range(k)], object)

    # MV trees, sections sized by their downstream peak.
    lines = []
    for fi, feeder in enumerate(feeders):
        members = np.flatnonzero(f_of_tr == fi)
        parent, root, order = _tree(s_xy[f_sub[fi]], tr_xy[members])
        down = peak_kw[members].copy()
        for j in order[::-1]:
            if parent[j] >= 0:
                down[parent[j]] += down[j]
        for j in range(len(members)):
            src = s_ids[f_sub[fi]] if j == root else tr_ids[members[parent[j]]]
            a = s_xy[f_sub[fi]] if j == root else tr_xy[members[parent[j]]]
            lines.append(("mv", feeder, src, tr_ids[members[j]], a, tr_xy[members[j]], down[j]))
    # Ties: one per pair of adjacent feeder cells, between their nearest transformers.
    for a, b in _adjacent_pairs(feeder_cell):
        ia, ib = np.flatnonzero(tr_feeder == a), np.flatnonzero(tr_feeder == b)
        d, j = cKDTree(tr_xy[ib]).query(tr_xy[ia])
        i = int(np.argmin(d))
        ta, tb = ia[i], ib[j[i]]
        lines.append(("tie", a, tr_ids[ta], tr_ids[tb], tr_xy[ta], tr_xy[tb], 0.0))

    kind = np.array([ln[0] for ln in lines], object)
    geoms = shapely.linestrings(np.stack([np.stack([ln[4], ln[5]]) for ln in lines]))
    n_mv = int((kind == "mv").sum())
    down_kva = np.array([ln[6] for ln in lines]) / POWER_FACTOR
    lines_gdf = _to_wgs(
        {
            "line_id": [f"{prefix}-MV{i + 1:05d}" for i in range(n_mv)]
            + [f"{prefix}-TIE{i + 1:04d}" for i in range(len(lines) - n_mv)],
            "kind": kind,
            "feeder_id": [ln[1] for ln in lines],
            "from_id": [ln[2] for ln in lines],
            "to_id": [ln[3] for ln in lines],
            "length_m": shapely.length(geoms),
            "n_parallel": np.ceil(down_kva / (CABLE_KVA * CABLE_LOADING)).clip(1).astype(np.int64),
            "normally_open": kind == "tie",
        },
        geoms,
        city.crs_metric,
    )

    n_lamps = cab["n_lamps"].to_numpy()
    transformers = _to_wgs(
        {
            "transformer_id": tr_ids,
            "feeder_id": tr_feeder,
            "substation_id": s_ids[f_sub[f_of_tr]],
            "capacity_kva": _capacity_kva(peak_kw),
            "n_buildings": np.bincount(b_tr, minlength=n_tr),
            "n_customers": np.bincount(b_tr, customers, n_tr).astype(np.int64),
            "peak_load_kw": peak_kw,
            "n_cabinets": np.bincount(c_tr, minlength=n_tr),
            "n_lamps": np.bincount(c_tr, n_lamps, n_tr).astype(np.int64),
        },
        shapely.points(tr_xy),
        city.crs_metric,
    )
    s_kw = np.bincount(f_sub, f_kw, k)
    units = np.ceil(s_kw / POWER_FACTOR / 1000 / SUBSTATION_LOADING / SUBSTATION_UNIT_MVA)
    substations = _to_wgs(
        {
            "substation_id": s_ids,
            "name": _substation_names(city, s_xy),
            "capacity_mva": units.clip(1) * SUBSTATION_UNIT_MVA,
            "n_feeders": np.bincount(f_sub, minlength=k),
        },
        shapely.points(s_xy),
        city.crs_metric,
    )
    connections = pd.DataFrame(
        {
            "building_id": city.buildings["building_id"].to_numpy(),
            "transformer_id": tr_ids[b_tr],
            "customers": customers,
        }
    )
    cabinets = pd.DataFrame(
        {"cabinet_id": cab["cabinet_id"].to_numpy(), "transformer_id": tr_ids[c_tr]}
    )
    return PowerNetwork(city.name, substations, transformers, lines_gdf, connections, cabinets)


def _adjacent_pairs(feeder_cell: pd.Series) -> list[tuple[str, str]]:
    """Pairs (a < b) of feeders whose resolution-7 cells touch."""
    feeder_of = {int(c): f for f, c in feeder_cell.items()}
    pairs = set()
    for cell, a in feeder_of.items():
        for other in h3.grid_ring(h3.int_to_str(cell), 1):
            b = feeder_of.get(h3.str_to_int(other))
            if b is not None:
                pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


def _substation_names(city: City, xy: np.ndarray) -> list[str]:
    """Names "Poste 60/20 kV <district>" after the district nearest each substation."""
    districts = city.districts.to_crs(city.crs_metric)
    points = gpd.GeoSeries(shapely.points(xy), crs=city.crs_metric)
    names, seen = [], {}
    for point in points:
        name = districts["name"].iloc[int(np.argmin(districts.distance(point).to_numpy()))]
        seen[name] = seen.get(name, 0) + 1
        names.append(
            f"Poste {HV_KV:.0f}/{MV_KV:.0f} kV {name}" + f" {seen[name]}" * (seen[name] > 1)
        )
    return names


def _to_wgs(columns: dict, geometry: np.ndarray, crs: str) -> gpd.GeoDataFrame:
    """A GeoDataFrame of metric ``geometry`` reprojected to EPSG:4326, ``synthetic`` set."""
    frame = gpd.GeoDataFrame(columns, geometry=geometry, crs=crs)
    frame.insert(len(frame.columns) - 1, "synthetic", True)
    return frame.to_crs(4326)


def load_power_network(city: City) -> PowerNetwork:
    """The stored network of ``city`` (cached per process).

    Raises
    ------
    PowerNetworkError
        If a file is missing; the message names it and the rebuild command.
    """
    return _load(city.name, str(city.folder))


@functools.lru_cache(maxsize=4)
def _load(name: str, bundle_dir: str) -> PowerNetwork:
    folder = Path(bundle_dir)
    layers = {}
    for layer in FILES:
        path = folder / f"power_{layer}.parquet"
        if not path.is_file():
            raise PowerNetworkError(
                f"power network file {path.name} missing in {folder}; "
                f"rebuild it with `python -m data.power {name}`"
            )
        layers[layer] = (gpd.read_parquet if layer in GEO_FILES else pd.read_parquet)(path)
    return PowerNetwork(city=name, **layers)

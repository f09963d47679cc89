"""The `City` object: the one way code gets at a city's layers.

Loads a built bundle (GeoParquet files under ``data/<city>/``); never builds or downloads anything.

Bundle contract (every file GeoParquet, geometry in WGS84 / EPSG:4326):

``districts.parquet``
    district_id (str), name (str), name_ar (str), population (int), households (int),
    area_km2 (float), synthetic (bool), source (str), geometry (Polygon/MultiPolygon).
``roads.parquet``
    road_id (str), u, v (int64, node ids of the routable graph), road_class (str: motorway,
    trunk, primary, secondary, tertiary, residential, service), name (str), lanes (Int64,
    nullable), maxspeed_kmh (float, NaN if unknown), width_m (float), length_m (float, measured
    in the metric CRS), district_id (str), synthetic (bool), osm_id (str, the OSM way it comes
    from; "" if generated), ref (str, e.g. "N1"), oneway (bool: traffic runs from u to v only),
    level (int, OSM ``layer``: 1 a bridge, -1 a tunnel; roads meet only at shared ends across
    levels), lanes_estimated, maxspeed_estimated, width_estimated (bool: derived from the
    class, not read from the source), geometry (LineString).
``nodes.parquet``
    node_id (int64), geometry (Point).
``buildings.parquet``
    building_id (str), building_type (str), levels (int), height_m (float),
    height_estimated (bool), district_id (str), synthetic (bool), geometry (Polygon).
``lamps.parquet``
    lamp_id (str), road_id (str), district_id (str), technology (str: HPS, LED, MH),
    power_w (int), mounting_height_m (float), cabinet_id (str), feeder_id (str),
    install_year (int), synthetic (bool), geometry (Point).
``cabinets.parquet``
    cabinet_id (str), feeder_id (str), district_id (str), n_lamps (int), synthetic (bool),
    geometry (Point).
``meta.json``
    name, title, crs_metric (e.g. "EPSG:26191"), center [lon, lat], view {zoom, pitch, bearing},
    seed, attribution (list of str), sources (list of {layer, source, licence, synthetic}),
    counts {layer: n}.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx

from data.city.contract import check_layer, check_meta
from data.errors import CityNotFoundError

BUNDLE_ROOT = Path(__file__).resolve().parent.parent  # data/: each bundle is data/<city>/
# Attribute columns of each layer file, in order (geometry comes last); see the contract above.
LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "districts": (
        "district_id", "name", "name_ar", "population", "households", "area_km2", "synthetic",
        "source",
    ),
    "roads": (
        "road_id", "u", "v", "road_class", "name", "lanes", "maxspeed_kmh", "width_m", "length_m",
        "district_id", "synthetic", "osm_id", "ref", "oneway", "level", "lanes_estimated",
        "maxspeed_estimated", "width_estimated",
    ),
    "nodes": ("node_id",),
    "buildings": (
        "building_id", "building_type", "levels", "height_m", "height_estimated", "district_id",
        "synthetic",
    ),
    "lamps": (
        "lamp_id", "road_id", "district_id", "technology", "power_w", "mounting_height_m",
        "cabinet_id", "feeder_id", "install_year", "synthetic",
    ),
    "cabinets": ("cabinet_id", "feeder_id", "district_id", "n_lamps", "synthetic"),
}  # fmt: skip
LAYER_FILES = tuple(LAYER_COLUMNS)
DEFAULT_CITY = "casablanca"


@dataclass(frozen=True)
class City:
    """A loaded city bundle: one GeoDataFrame per layer plus its metadata."""

    name: str
    districts: gpd.GeoDataFrame = field(repr=False)
    roads: gpd.GeoDataFrame = field(repr=False)
    nodes: gpd.GeoDataFrame = field(repr=False)
    buildings: gpd.GeoDataFrame = field(repr=False)
    lamps: gpd.GeoDataFrame = field(repr=False)
    cabinets: gpd.GeoDataFrame = field(repr=False)
    meta: dict = field(repr=False)

    @property
    def crs_metric(self) -> str:
        """Projected CRS used for every metric computation (lengths, buffers, spacing)."""
        return self.meta["crs_metric"]

    @property
    def center(self) -> tuple[float, float]:
        """Map centre as (lon, lat) in degrees."""
        lon, lat = self.meta["center"]
        return float(lon), float(lat)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """Return one layer by name; raise `ValueError` naming the layer if unknown."""
        if name not in LAYER_FILES:
            raise ValueError(f"unknown layer {name!r}; known layers: {', '.join(LAYER_FILES)}")
        return getattr(self, name)

    @property
    def folder(self) -> Path:
        """The folder this bundle was loaded from (the networks and baselines beside it)."""
        return Path(self.meta.get("_bundle_dir", bundle_dir(self.name)))

    def graph(self) -> nx.MultiDiGraph:
        """Routable road graph; edge weights ``length_m`` (metres), both directions."""
        return _road_graph(self.name, str(self.folder))


@functools.lru_cache(maxsize=4)
def _road_graph(name: str, bundle_dir: str) -> nx.MultiDiGraph:
    city = load_city(name, bundle_dir=Path(bundle_dir))
    graph = nx.MultiDiGraph(name=name, crs="EPSG:4326")
    pts = city.nodes.geometry
    graph.add_nodes_from(
        (int(n), {"x": float(x), "y": float(y)})
        for n, x, y in zip(city.nodes["node_id"], pts.x, pts.y, strict=True)
    )
    roads = city.roads
    for row in roads[["road_id", "u", "v", "length_m", "road_class"]].itertuples(index=False):
        attrs = {"road_id": row.road_id, "length_m": row.length_m, "road_class": row.road_class}
        graph.add_edge(int(row.u), int(row.v), **attrs)
        graph.add_edge(int(row.v), int(row.u), **attrs)
    return graph


# Bundles outside the package, by name (`register_bundle`): loaded like the embedded ones.
_REGISTERED: dict[str, Path] = {}


def register_bundle(name: str, folder: Path) -> None:
    """Serve the bundle in ``folder`` as city ``name`` wherever a city is asked for by name.

    For a city built elsewhere (``python -m data.build NAME --out FOLDER``): its telemetry,
    networks and layers then load by name as the embedded cities' do.
    """
    if (BUNDLE_ROOT / name / "meta.json").is_file():
        raise CityNotFoundError(
            f"{name!r} is an embedded city; register the bundle under another name"
        )
    _REGISTERED[name] = Path(folder)


def bundle_dir(name: str) -> Path:
    """Folder holding the bundle of city ``name``: a registered one, else inside the package."""
    return _REGISTERED.get(name, BUNDLE_ROOT / name)


@functools.lru_cache(maxsize=4)
def load_city(name: str = DEFAULT_CITY, *, bundle_dir: Path | None = None) -> City:
    """Load (once per process) the bundle of city ``name``.

    Parameters
    ----------
    name : str
        City name, the folder under ``data/``.
    bundle_dir : Path, optional
        Load from this folder instead (tests, freshly built bundles).

    Raises
    ------
    CityNotFoundError
        If the folder or one of its layer files is missing; `BundleContractError` (one of
        them) if a file breaks the contract (columns, their kinds, CRS, geometry types) or
        ``meta.json`` names no valid time zone.
    """
    folder = (
        Path(bundle_dir) if bundle_dir is not None else _REGISTERED.get(name, BUNDLE_ROOT / name)
    )
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise CityNotFoundError(
            f"no city bundle {name!r} at {folder} (meta.json missing); "
            f"build it with `python -m data.build {name}`"
        )
    missing = [f for f in LAYER_FILES if not (folder / f"{f}.parquet").is_file()]
    if missing:
        raise CityNotFoundError(f"city bundle {name!r} at {folder} lacks {', '.join(missing)}")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    check_meta(str(folder), meta)
    meta["_bundle_dir"] = str(folder)
    layers = {f: gpd.read_parquet(folder / f"{f}.parquet") for f in LAYER_FILES}
    for layer, frame in layers.items():
        check_layer(str(folder), layer, frame, LAYER_COLUMNS[layer])
    return City(name=name, meta=meta, **layers)

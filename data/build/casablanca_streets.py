"""Casablanca's real street network (OpenStreetMap, spring 2018) as the builder's road lines.

Reads ``data/sources/casablanca/roads/casablanca_roads_osm2018.parquet`` (a Geofabrik-style
``gis_osm_roads_free`` clip: one row per OSM way; see ``data/sources/casablanca/SOURCE.md``).
Keeps the drivable classes (`data.city.constants.OSM_HIGHWAY_CLASS`: footways, steps, paths,
pedestrian streets and tracks stay out of the graph), the OSM way id, name, ``ref``, one-way
direction, speed limit (0 in the file means unknown) and ``layer``. The file has no lanes or
widths: `data.build.bundle.with_road_defaults` derives them from the class, flagged estimated.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from data.city.constants import OSM_HIGHWAY_CLASS
from data.errors import SourceDataError

SOURCE = Path(__file__).resolve().parents[1] / "sources" / "casablanca" / "roads"
ROADS_FILE = SOURCE / "casablanca_roads_osm2018.parquet"
COLUMNS = ("osm_id", "fclass", "name", "ref", "oneway", "maxspeed", "layer", "geometry")
ROADS_SOURCE = {
    "layer": "roads",
    "source": "OpenStreetMap ways of spring 2018 (Geofabrik-style roads clip, 14,273 ways; "
    "drivable classes kept, lanes and widths estimated from the class)",
    "licence": "ODbL 1.0 (© OpenStreetMap contributors)",
    "synthetic": False,
}


BUILDINGS_SOURCE = {
    "layer": "buildings",
    "source": "5,957 footprints with measured heights (Kontur / Geoalert 2021: Sidi Belyout, "
    "Anfa, Maârif) and 2,862 OpenStreetMap buildings (2025, Sidi Maârouf); elsewhere "
    "generated in the real street blocks from HCP dwelling shares, heights estimated",
    "licence": "MIT, © Kontur Inc. (Kontur / Geoalert); ODbL 1.0 (OpenStreetMap); Madina Twin",
    "synthetic": False,
}


def real_streets(crs_metric: str, path: Path = ROADS_FILE) -> gpd.GeoDataFrame:
    """The drivable OSM ways of ``path`` as road lines in ``crs_metric`` (metres).

    Columns: road_class, name, ref, osm_id, oneway (a way tagged against its drawing is
    reversed, so every one-way line runs the traffic's way), level (OSM ``layer``),
    maxspeed_kmh (NaN when unknown), synthetic (False). Raises `SourceDataError` naming the
    file if it is missing or lacks a column.
    """
    try:
        ways = gpd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise SourceDataError(f"{path}: not a GeoParquet file of roads ({err})") from err
    missing = [c for c in COLUMNS if c not in ways.columns]
    if missing:
        raise SourceDataError(f"{path}: missing columns {missing}")
    ways = ways[ways["fclass"].isin(OSM_HIGHWAY_CLASS)].reset_index(drop=True)
    backward = (ways["oneway"] == "T").to_numpy()
    geometry = ways.geometry.values.copy()
    geometry[backward] = shapely.reverse(geometry[backward])
    speed = ways["maxspeed"].astype(float)
    lines = gpd.GeoDataFrame(
        {
            "road_class": ways["fclass"].map(OSM_HIGHWAY_CLASS),
            "name": ways["name"].fillna("").astype(str),
            "ref": ways["ref"].fillna("").astype(str),
            "osm_id": ways["osm_id"].astype(str),
            "oneway": ways["oneway"].isin(["F", "T"]).to_numpy(),
            "level": ways["layer"].fillna(0).astype(np.int64),
            "maxspeed_kmh": speed.where(speed > 0),
            "synthetic": False,
        },
        geometry=geometry,
        crs=ways.crs,
    )
    return lines.to_crs(crs_metric)

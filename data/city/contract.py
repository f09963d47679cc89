"""The bundle contract, checked when a city loads: layer columns, kinds, CRS; the time zone.

Every layer's columns, their kinds, its CRS and geometry types, and the metadata every module
relies on (the city's IANA time zone).

A bundle written by another tool (or an old build) that breaks it is refused naming the file
and what is wrong, instead of failing later deep in a layer or an engine.
"""

from __future__ import annotations

import zoneinfo

import geopandas as gpd
import pandas as pd

from data.errors import BundleContractError

# Kind of every attribute column that is not text (text: any of the string dtypes).
NUMBERS = {
    "population", "households", "area_km2", "u", "v", "lanes", "maxspeed_kmh", "width_m",
    "length_m", "node_id", "levels", "height_m", "power_w", "mounting_height_m", "install_year",
    "n_lamps", "level",
}  # fmt: skip
FLAGS = {"synthetic", "height_estimated", "oneway", "lanes_estimated", "maxspeed_estimated",
         "width_estimated"}  # fmt: skip
GEOMETRIES = {
    "districts": {"Polygon", "MultiPolygon"},
    "roads": {"LineString", "MultiLineString"},
    "nodes": {"Point"},
    "buildings": {"Polygon", "MultiPolygon"},
    "lamps": {"Point"},
    "cabinets": {"Point"},
}
CRS = "EPSG:4326"


def _kind_ok(column: str, series: pd.Series) -> bool:
    if column in FLAGS:
        return pd.api.types.is_bool_dtype(series)
    if column in NUMBERS:
        return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def check_layer(where: str, layer: str, frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> None:
    """Refuse ``frame``, the ``layer`` file of the bundle at ``where``, if it breaks the rules."""
    name = f"{where}/{layer}.parquet"
    expected = [*columns, "geometry"]
    if list(frame.columns) != expected:
        missing = [c for c in expected if c not in frame.columns]
        extra = [c for c in frame.columns if c not in expected]
        raise BundleContractError(
            f"{name}: columns must be {expected}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unexpected {extra}" if extra else "")
            + ("; out of order" if not missing and not extra else "")
        )
    wrong = [
        f"{c} ({frame[c].dtype})" for c in columns if not _kind_ok(c, frame[c])
    ]  # fmt: skip
    if wrong:
        raise BundleContractError(f"{name}: columns of the wrong kind: {', '.join(wrong)}")
    if frame.crs is None or frame.crs.to_string() != CRS:
        raise BundleContractError(f"{name}: CRS must be {CRS}, not {frame.crs}")
    kinds = set(frame.geom_type.dropna().unique()) - GEOMETRIES[layer]
    if kinds:
        raise BundleContractError(
            f"{name}: {sorted(kinds)} geometries; a {layer} file holds {sorted(GEOMETRIES[layer])}"
        )


def check_meta(where: str, meta: dict) -> None:
    """Refuse the bundle at ``where`` if its ``meta.json`` lacks a valid IANA ``time_zone``."""
    name = f"{where}/meta.json"
    zone = meta.get("time_zone")
    if not zone:
        raise BundleContractError(
            f"{name}: no time_zone (the city's IANA zone, e.g. 'Africa/Casablanca'); "
            "rebuild the bundle with python -m data.build"
        )
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as err:
        raise BundleContractError(f"{name}: time_zone {zone!r} is not an IANA time zone") from err

"""Assets from and to open-data files: GeoJSON, GeoParquet and CSV (lon/lat or x/y columns).

Every file's CRS is found (the file's own declaration, or the caller's) and reprojected to
WGS 84 with pyproj; every row is checked and a problem names the file, the row and the field;
imports are written atomically (see `data.interop.entity_files.write_geoparquet`). No network.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from data.errors import AssetFileError
from data.interop.entity_files import MAX_FILE_BYTES, write_geoparquet
from data.interop.ngsi_ld import refuse

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".parquet": "GeoParquet", ".csv": "CSV"}
WGS84 = "EPSG:4326"
BOUNDS_MARGIN_DEG = 0.05


def read_assets(
    path: str | Path,
    *,
    id_column: str = "id",
    crs: str | None = None,
    bounds: tuple | None = None,
) -> gpd.GeoDataFrame:
    """The assets of a GeoJSON, GeoParquet or CSV file, checked, in WGS 84 (EPSG:4326).

    ``crs``: the file's CRS when it does not declare one (a CSV's x/y, an old GeoJSON);
    a declared CRS wins over it only if they agree, else the file is refused. ``bounds``
    (west, south, east, north): the city's extent; assets outside it are refused.
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise AssetFileError(f"{path}: unknown format {path.suffix!r}; known: {', '.join(FORMATS)}")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise AssetFileError(f"{path}: cannot read it ({err})") from None
    if size == 0:
        raise AssetFileError(f"{path}: the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise AssetFileError(f"{path}: {size:,} bytes; at most {MAX_FILE_BYTES:,}")
    frame = _read(path, kind, crs)
    return _checked(frame, path, id_column, bounds)


def _read(path: Path, kind: str, crs: str | None) -> gpd.GeoDataFrame:
    asked = _crs(crs, path) if crs else None
    try:
        if kind == "CSV":
            frame = _read_csv(path, asked)
        elif kind == "GeoParquet":
            frame = gpd.read_parquet(path)
        else:
            _check_json(path)
            frame = gpd.read_file(path, engine="pyogrio")
    except AssetFileError:
        raise
    except (ValueError, OSError, pyogrio.errors.DataSourceError, ImportError) as err:
        raise AssetFileError(f"{path}: not a readable {kind} file ({_first_line(err)})") from None
    declared = frame.crs
    if kind == "GeoJSON" and declared is not None and not _declares_crs(path):
        declared = None  # GDAL assumes WGS 84 for GeoJSON; only a "crs" member declares one
    if declared is not None and asked is not None and pyproj.CRS(declared) != asked:
        raise AssetFileError(f"{path}: the file declares {pyproj.CRS(declared).to_string()}, "
                             f"not {asked.to_string()} as asked")  # fmt: skip
    source = declared or asked or pyproj.CRS(WGS84)  # undeclared: lon/lat, as GeoJSON says
    frame = frame.set_crs(source, allow_override=True)
    if pyproj.CRS(source) != pyproj.CRS(WGS84):
        if not _finite(frame):
            raise AssetFileError(f"{path}: a geometry has coordinates that are not numbers")
        frame = frame.to_crs(WGS84)
    return frame


def _crs(text: str, path: Path) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise AssetFileError(
            f"{path}: CRS {str(text)[:40]!r} is unknown (e.g. EPSG:26191)"
        ) from None


def _read_csv(path: Path, crs: pyproj.CRS | None) -> gpd.GeoDataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as err:
        raise AssetFileError(f"{path}: not a readable CSV file ({_first_line(err)})") from None
    projected = crs is not None and not crs.is_geographic
    x_name, y_name = ("x", "y") if projected else ("lon", "lat")
    for name in (x_name, y_name):
        if name not in table.columns:
            need = "x and y columns (in the given CRS)" if projected else "lon and lat columns"
            raise AssetFileError(f"{path}: no {name!r} column; a CSV of assets needs {need}")
    problems = []
    numbers = {}
    for name in (x_name, y_name):
        values = pd.to_numeric(table[name].str.strip(), errors="coerce")
        for row in np.flatnonzero(values.isna().to_numpy() | ~np.isfinite(values.to_numpy(float))):
            problems.append(
                f"{path}: row {row + 1}: {name} {table[name].iloc[row][:20]!r} is not a number"
            )
        numbers[name] = values.to_numpy(float)
    refuse(problems, f"{path}: ", AssetFileError)
    frame = table.drop(columns=[x_name, y_name])
    geometry = shapely.points(numbers[x_name], numbers[y_name])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)


def _check_json(path: Path) -> None:
    """A GeoJSON file must be JSON (GDAL's own messages are vague about truncated files)."""
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise AssetFileError(f"{path}: not valid JSON ({_first_line(err)})") from None
    except RecursionError:
        raise AssetFileError(f"{path}: JSON nested too deeply to be GeoJSON") from None


def _declares_crs(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text(encoding="utf-8")).get("crs"), dict)
    except (ValueError, AttributeError):
        return False


def _finite(frame: gpd.GeoDataFrame) -> bool:
    coords = shapely.get_coordinates(frame.geometry.values)
    return bool(np.isfinite(coords).all())


def _checked(frame: gpd.GeoDataFrame, path: Path, id_column: str, bounds) -> gpd.GeoDataFrame:
    if id_column not in frame.columns:
        raise AssetFileError(f"{path}: no {id_column!r} column to identify the assets "
                             f"(columns: {', '.join(map(str, frame.columns))[:200]})")  # fmt: skip
    problems = []
    ids = frame[id_column].astype(str).str.strip()
    first: dict[str, int] = {}
    for row, (asset_id, geometry) in enumerate(zip(ids, frame.geometry, strict=True), start=1):
        where = f"{path}: row {row}"
        if not asset_id or asset_id in ("nan", "None"):
            problems.append(f"{where}: {id_column} is empty")
        elif asset_id in first:
            problems.append(f"{where}: {id_column} {asset_id[:40]!r} is a duplicate of row "
                            f"{first[asset_id]}")  # fmt: skip
        else:
            first[asset_id] = row
        problem = _geometry_problem(geometry, bounds)
        if problem:
            problems.append(f"{where} ({asset_id[:40]}): geometry: {problem}")
    refuse(problems, f"{path}: ", AssetFileError)
    frame = frame.copy()
    frame[id_column] = ids
    return frame.reset_index(drop=True)


def _geometry_problem(geometry, bounds) -> str | None:
    if geometry is None or geometry.is_empty:
        return "missing or empty"
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        return "coordinates are not numbers"
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        return (f"({lon[0]:g}, {lat[0]:g}) is not a longitude and latitude: a projected CRS "
                "(metres)? give the file's CRS (e.g. EPSG:26191)")  # fmt: skip
    if bounds is not None:
        m = BOUNDS_MARGIN_DEG
        west, south, east, north = bounds[0] - m, bounds[1] - m, bounds[2] + m, bounds[3] + m
        inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        if not inside.all():
            k = int(np.flatnonzero(~inside)[0])
            swapped = west <= lat[k] <= east and south <= lon[k] <= north
            hint = "; latitude and longitude look swapped" if swapped else ""
            return f"({lon[k]:g}, {lat[k]:g}) is outside the city{hint}"
    return None


def _first_line(err: Exception) -> str:
    return str(err).strip().split("\n")[0][:200]


def import_assets(path: str | Path, store: str | Path, **options) -> gpd.GeoDataFrame:
    """`read_assets` then write them to ``store`` (GeoParquet) atomically; all or nothing."""
    assets = read_assets(path, **options)
    write_geoparquet(assets, store)
    return assets


def write_assets(frame: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Export ``frame`` (any CRS) in WGS 84 as GeoJSON, GeoParquet or CSV, by ``path``'s suffix.

    A CSV has ``lon`` and ``lat`` columns for points, else a ``wkt`` column.
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise AssetFileError(f"{path}: unknown format {path.suffix!r}; known: {', '.join(FORMATS)}")
    frame = frame.to_crs(WGS84)
    if kind == "GeoParquet":
        return write_geoparquet(frame, path)
    partial = path.with_name(f".{path.name}.part")
    try:
        if kind == "GeoJSON":
            frame.to_file(partial, driver="GeoJSON", engine="pyogrio")
        else:
            table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            if (frame.geom_type == "Point").all():
                table["lon"] = frame.geometry.x.round(7)
                table["lat"] = frame.geometry.y.round(7)
            else:
                table["wkt"] = frame.geometry.to_wkt()
            table.to_csv(partial, index=False)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path

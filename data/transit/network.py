"""The city's public transport: tram and busway lines with their stops, from OpenStreetMap.

Read from an Overpass export (GeoJSON: one LineString per route relation, one Point per stop
node with the relations it belongs to in ``@relations``) in ``data/sources/<city>/transit/``,
and stored in the bundle as ``transit_lines.parquet`` and ``transit_stops.parquet`` (the
bundle part "transit"). A city without such a source gets empty files: no line is invented.

OSM maps a stop as several nodes (a stop position per direction and platforms); the nodes of
one mode that share a name and lie within `STOP_MERGE_M` of each other are one stop, serving
the union of their lines. An unnamed node joins the nearest named stop of its mode within
`UNNAMED_MERGE_M`, else stands alone as "(unnamed)". A stop is drawn at its node nearest the
centre of its nodes.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.build.bundle import record_source
from data.build.parts import BundlePart
from data.city import City, load_city
from data.errors import SourceDataError
from data.interop.entity_files import write_geoparquet

SOURCES_ROOT = Path(__file__).resolve().parents[1] / "sources"
LINES_FILE = "transit_lines.parquet"
STOPS_FILE = "transit_stops.parquet"
LINE_COLUMNS = ("line_id", "ref", "name", "mode", "origin", "destination", "color",
                "color_estimated", "operator", "opening_date", "length_km")  # fmt: skip
STOP_COLUMNS = ("stop_id", "name", "mode", "lines", "osm_nodes")
MODES = {"tram": "tram", "bus": "busway"}  # OSM route=* -> the twin's mode
# Colours of the lines OSM leaves untagged (T1 and T2 carry theirs: #F38230, #FFDB2F).
# Chosen by the twin to tell the lines apart, flagged ``color_estimated``; not the operator's.
ESTIMATED_COLORS = {"T3": "#8E44AD", "T4": "#2E9E5B", "BW1": "#1F77B4", "BW2": "#D62728"}
OTHER_COLOR = "#555555"
STOP_MERGE_M = 400.0  # an OSM stop position and its platforms lie within tens of metres
UNNAMED_MERGE_M = 200.0
SOURCE_NOTE = (
    "OpenStreetMap tram and busway routes and stops (Overpass export of {date}), "
    "© OpenStreetMap contributors, ODbL 1.0"
)


@dataclass(frozen=True)
class Transit:
    """Lines (LineStrings, one per route relation and direction) and stops (Points)."""

    lines: gpd.GeoDataFrame
    stops: gpd.GeoDataFrame
    source: str = ""  # what they come from, "" if the city has no transit source
    attribution: str = ""  # the map corner's credit


def read_transit(path: Path, crs_metric: str) -> Transit:
    """Lines and merged stops of the Overpass GeoJSON export at ``path``.

    ``crs_metric``: the city's metric CRS (lengths, merging distances). Raises
    `SourceDataError` naming the file if it is not such an export.
    """
    try:
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SourceDataError(f"{path}: not a GeoJSON FeatureCollection ({err})") from err
    lines = [f for f in features if (f.get("geometry") or {}).get("type") == "LineString"]
    points = [f for f in features if (f.get("geometry") or {}).get("type") == "Point"]
    if not lines:
        raise SourceDataError(f"{path}: no route LineString in {len(features)} features")
    date = str(collection.get("timestamp", ""))[:10] or "unknown date"
    return Transit(
        _lines(lines, crs_metric),
        _stops(points, crs_metric),
        SOURCE_NOTE.format(date=date),
        f"Tram and busway: OpenStreetMap, {date} (ODbL)",
    )


def _mode(route: str | None) -> str | None:
    return MODES.get(route or "")


def _lines(features: list[dict], crs_metric: str) -> gpd.GeoDataFrame:
    rows = []
    for f in features:
        p = f.get("properties", {})
        mode = _mode(p.get("route"))
        if mode is None:
            continue
        ref = p.get("ref", "")
        color = p.get("colour")
        rows.append(
            {
                "line_id": str(p.get("@id", "")),
                "ref": ref,
                "name": p.get("name", ref),
                "mode": mode,
                "origin": p.get("from", ""),
                "destination": p.get("to", ""),
                "color": (color or ESTIMATED_COLORS.get(ref, OTHER_COLOR)).upper(),
                "color_estimated": color is None,
                "operator": p.get("operator", ""),
                "opening_date": p.get("opening_date", ""),
                "geometry": shapely.geometry.shape(f["geometry"]),
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    frame["length_km"] = (frame.to_crs(crs_metric).length / 1000).round(2)
    return frame[[*LINE_COLUMNS, "geometry"]].sort_values(["mode", "ref", "line_id"])


def _stop_nodes(features: list[dict]) -> pd.DataFrame:
    rows = []
    for f in features:
        p = f.get("properties", {})
        relations = p.get("@relations") or []
        modes = {_mode(r.get("reltags", {}).get("route")) for r in relations} - {None}
        if not modes:  # a node outside any route: its own tags say what stops there
            tagged = {
                "tram": p.get("railway") == "tram_stop" or p.get("tram") == "yes",
                "busway": p.get("highway") == "bus_stop" or p.get("bus") == "yes",
            }
            modes = {mode for mode, yes in tagged.items() if yes}
        lon, lat = f["geometry"]["coordinates"][:2]
        for mode in modes:
            refs = {
                r["reltags"].get("ref", "")
                for r in relations
                if _mode(r.get("reltags", {}).get("route")) == mode
            }
            rows.append({"name": p.get("name", ""), "mode": mode, "refs": refs - {""},
                         "lon": lon, "lat": lat})  # fmt: skip
    return pd.DataFrame(rows, columns=["name", "mode", "refs", "lon", "lat"])


def _stops(features: list[dict], crs_metric: str) -> gpd.GeoDataFrame:
    nodes = _stop_nodes(features)
    xy = shapely.get_coordinates(
        gpd.GeoSeries(gpd.points_from_xy(nodes["lon"], nodes["lat"]), crs=4326).to_crs(crs_metric)
    )
    groups: list[list[int]] = []  # node rows of each stop
    for rows in nodes[nodes["name"] != ""].groupby(["mode", "name"]).groups.values():
        clusters: list[list[int]] = []  # the stops of one name: nodes near its first node
        for row in rows:
            near = [c for c in clusters if np.hypot(*(xy[c[0]] - xy[row])) <= STOP_MERGE_M]
            near[0].append(row) if near else clusters.append([row])
        groups += clusters
    for row in nodes.index[nodes["name"] == ""]:
        same = [g for g in groups if nodes.at[g[0], "mode"] == nodes.at[row, "mode"]]
        distances = [np.hypot(*(xy[g].mean(axis=0) - xy[row])) for g in same]
        if distances and min(distances) <= UNNAMED_MERGE_M:
            same[int(np.argmin(distances))].append(row)
        else:
            groups.append([row])
    records = []
    for group in groups:
        first = nodes.loc[group[0]]
        # drawn at its node nearest the group's centre: on a track even where two lines'
        # platforms of one name (an interchange) lie a few hundred metres apart
        centre = xy[group].mean(axis=0)
        x, y = xy[group][np.argmin(np.hypot(*(xy[group] - centre).T))]
        refs = set().union(*nodes.loc[group, "refs"])
        records.append(
            {
                "name": first["name"] or "(unnamed)",
                "mode": first["mode"],
                "lines": ", ".join(sorted(refs)),
                "osm_nodes": len(group),
                "x": x,
                "y": y,
            }
        )
    frame = pd.DataFrame(records).sort_values(["mode", "name", "x"], ignore_index=True)
    prefix = frame["mode"].map({"tram": "TRAM", "busway": "BW"})
    frame["stop_id"] = prefix + "-" + (frame.groupby("mode").cumcount() + 1).map("{:03d}".format)
    points = gpd.GeoSeries(gpd.points_from_xy(frame["x"], frame["y"]), crs=crs_metric)
    return gpd.GeoDataFrame(frame[list(STOP_COLUMNS)], geometry=points.to_crs(4326).values)


def empty_transit() -> Transit:
    """No lines and no stops (a city without a transit source)."""
    lines = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in LINE_COLUMNS},
                             geometry=gpd.GeoSeries([], crs=4326))  # fmt: skip
    stops = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in STOP_COLUMNS},
                             geometry=gpd.GeoSeries([], crs=4326))  # fmt: skip
    lines = lines.astype({"color_estimated": bool, "length_km": float})
    stops = stops.astype({"osm_nodes": int})
    return Transit(lines, stops)


def source_file(city_name: str) -> Path | None:
    """The city's transit export under ``data/sources/<city>/transit/`` (None if it has none)."""
    files = sorted((SOURCES_ROOT / city_name / "transit").glob("*.geojson"))
    return files[-1] if files else None


def build_transit(city: City) -> Transit:
    """The transit of ``city`` from its source file (empty if it has none)."""
    path = source_file(city.name)
    return empty_transit() if path is None else read_transit(path, city.crs_metric)


def save_transit(transit: Transit, folder: Path) -> None:
    """Write both files into ``folder``, each atomically and read back (`write_geoparquet`)."""
    write_geoparquet(transit.lines, Path(folder) / LINES_FILE)
    write_geoparquet(transit.stops, Path(folder) / STOPS_FILE)


def load_transit(city: City) -> Transit:
    """The transit stored in the city's bundle (empty if the bundle has none yet)."""
    return _load(str(city.folder))


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> Transit:
    lines_path, stops_path = Path(folder) / LINES_FILE, Path(folder) / STOPS_FILE
    if not lines_path.is_file() or not stops_path.is_file():
        return empty_transit()
    return Transit(gpd.read_parquet(lines_path), gpd.read_parquet(stops_path))


def summary(transit: Transit) -> str:
    """``"12 lines (192.7 km), 97 stops"`` or what is missing."""
    if transit.lines.empty:
        return "no transit source for this city (no lines, no stops)"
    km = float(transit.lines["length_km"].sum())
    return f"{len(transit.lines)} lines ({km:,.1f} km), {len(transit.stops)} stops"


def _bundle_part(city: City, out: Path) -> str:
    transit = build_transit(city)
    save_transit(transit, out)
    if transit.source:  # the map's list of sources names it
        row = {"layer": "transit", "source": transit.source, "licence": "ODbL 1.0",
               "synthetic": False}  # fmt: skip
        record_source(out, row, transit.attribution)
    return summary(transit)


# Built beside every bundle (`data.build.parts`; registered in pyproject.toml).
BUNDLE_PART = BundlePart("transit", 0, _bundle_part, "python -m data.transit.network {city}")


def main(argv: list[str] | None = None) -> int:
    """``python -m data.transit.network [city]``: rebuild the city's transit files."""
    args = sys.argv[1:] if argv is None else argv
    city = load_city(args[0] if args else "casablanca")
    try:
        print(f"{city.name}: {_bundle_part(city, city.folder)}")
    except SourceDataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

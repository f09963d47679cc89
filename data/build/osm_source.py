"""Raw city layers from an OpenStreetMap extract (``.osm.pbf``, read with pyrosm).

Returns metric layers ready for `data.build.bundle.finish_bundle`: drivable road centrelines with
their class, name, lanes and speed; building footprints with a height (from OSM ``height`` or
``building:levels``, else estimated from the building type and flagged as such); districts
(OSM admin boundaries when the extract has them, else the extract's extent as one district);
surveyed street lamps (``highway=street_lamp``) when mapped.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.city.constants import (
    DEFAULT_LEVELS,
    LEVELS_BY_OSM_BUILDING,
    METRES_PER_LEVEL,
    OSM_HIGHWAY_CLASS,
    ROAD_CLASSES,
)
from data.errors import SourceDataError

OSM_LICENCE = "ODbL (© OpenStreetMap contributors)"
DISTRICT_ADMIN_LEVELS = ("10", "9", "8")  # finest first: quarters, then boroughs, then towns
EXTENT_BUFFER_M = 100.0  # margin around the roads when the extract has no boundaries
MPH_TO_KMH = 1.609344


@dataclass(frozen=True)
class RawCity:
    """Layers read from one OSM extract, metric except ``districts`` (EPSG:4326)."""

    road_lines: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    lamps: gpd.GeoDataFrame | None
    crs_metric: str
    center: list[float]
    sources: list[dict]


def read_osm(path: Path) -> RawCity:
    """Read an ``.osm.pbf`` extract; raise `SourceDataError` naming the file if unusable."""
    path = Path(path)
    if not path.is_file():
        raise SourceDataError(f"OSM extract not found: {path}")
    if not path.name.endswith(".pbf"):
        raise SourceDataError(f"{path} is not an OSM PBF extract (expected a .osm.pbf file)")
    from pyrosm import OSM

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = OSM(str(path))
            network = osm.get_network(network_type="driving")
            buildings = osm.get_buildings()
            boundaries = osm.get_boundaries()
            lamps = osm.get_pois(custom_filter={"highway": ["street_lamp"]})
    except Exception as err:  # pyrosm raises many types on a corrupt file
        raise SourceDataError(f"{path} could not be read as an OSM PBF extract: {err}") from err
    if network is None or len(network) == 0:
        raise SourceDataError(f"{path} has no drivable roads (highway=*) to build a city from")

    road_lines = _road_lines(network)
    crs_metric = road_lines.estimate_utm_crs().to_string()
    road_lines = road_lines.to_crs(crs_metric)
    footprints = _buildings(buildings, crs_metric)
    districts, district_source = _districts(boundaries, road_lines, path.stem.split(".")[0])
    surveyed = _lamps(lamps, crs_metric)
    center = road_lines.to_crs(4326).union_all().centroid
    sources = [
        {"layer": "roads", "source": f"OpenStreetMap extract {path.name}", "synthetic": False},
        {"layer": "buildings", "source": f"OpenStreetMap extract {path.name}", "synthetic": False},
        {"layer": "districts", "source": district_source, "synthetic": boundaries is None},
        {
            "layer": "lamps",
            "source": f"OpenStreetMap highway=street_lamp in {path.name}"
            if surveyed is not None
            else "placed along the roads at documented spacing by road class",
            "synthetic": surveyed is None,
        },
    ]
    for source in sources:
        source["licence"] = "Madina Twin" if source["synthetic"] else OSM_LICENCE
    return RawCity(
        road_lines=road_lines,
        buildings=footprints,
        districts=districts,
        lamps=surveyed,
        crs_metric=crs_metric,
        center=[round(center.x, 5), round(center.y, 5)],
        sources=sources,
    )


def _number(values: pd.Series) -> pd.Series:
    """First number in each tag value ("12", "12.5 m", "50 mph"), NaN when there is none."""
    text = values.astype("string").fillna("")
    return pd.to_numeric(text.str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce").astype(float)


def _road_lines(network: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    network = network[network["highway"].isin(OSM_HIGHWAY_CLASS)].explode(ignore_index=True)
    road_class = network["highway"].map(OSM_HIGHWAY_CLASS)
    defaults = road_class.map(ROAD_CLASSES)
    maxspeed = _number(network.get("maxspeed", pd.Series(index=network.index, dtype=object)))
    in_mph = (
        network.get("maxspeed", pd.Series(dtype=object))
        .astype("string")
        .str.contains("mph", na=False)
    )
    maxspeed = maxspeed.where(
        ~in_mph.reindex(network.index, fill_value=False), maxspeed * MPH_TO_KMH
    )
    width = _number(network.get("width", pd.Series(index=network.index, dtype=object)))
    lanes = _number(network.get("lanes", pd.Series(index=network.index, dtype=object)))
    return gpd.GeoDataFrame(
        {
            "road_class": road_class,
            "name": network.get("name", pd.Series(index=network.index, dtype=object))
            .fillna("")
            .astype(str),
            "lanes": lanes.astype(float).round().astype("Int64"),
            "maxspeed_kmh": maxspeed.astype(float),
            "width_m": width.fillna(defaults.map(lambda c: c.width_m)).astype(float),
            "synthetic": False,
        },
        geometry=network.geometry.values,
        crs=network.crs,
    )


def _buildings(buildings: gpd.GeoDataFrame | None, crs_metric: str) -> gpd.GeoDataFrame:
    columns = ["building_type", "levels", "height_m", "height_estimated", "synthetic"]
    if buildings is None or len(buildings) == 0:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs=crs_metric)
    polygons = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    polygons = polygons.explode(ignore_index=True).to_crs(crs_metric)
    polygons = polygons[polygons.geometry.is_valid & (polygons.geometry.area > 1.0)]
    kind = polygons["building"].fillna("yes").astype(str)
    empty = pd.Series(index=polygons.index, dtype=object)
    height = _number(polygons.get("height", empty))
    levels = _number(polygons.get("building:levels", empty))
    typical = kind.map(LEVELS_BY_OSM_BUILDING).fillna(DEFAULT_LEVELS)
    estimated = height.isna() & levels.isna()
    levels = levels.fillna((height / METRES_PER_LEVEL).round()).fillna(typical).clip(lower=1)
    height = height.fillna(levels * METRES_PER_LEVEL)
    return gpd.GeoDataFrame(
        {
            "building_type": kind.to_numpy(),
            "levels": levels.astype(int).to_numpy(),
            "height_m": height.astype(float).to_numpy(),
            "height_estimated": estimated.to_numpy(),
            "synthetic": False,
        },
        geometry=polygons.geometry.values,
        crs=crs_metric,
    )


def _districts(
    boundaries: gpd.GeoDataFrame | None, road_lines: gpd.GeoDataFrame, city: str
) -> tuple[gpd.GeoDataFrame, str]:
    """Finest admin boundaries of the extract, else its extent (roads' hull) as one district."""
    if boundaries is not None and "admin_level" in boundaries:
        for level in DISTRICT_ADMIN_LEVELS:
            chosen = boundaries[
                (boundaries["admin_level"].astype(str) == level)
                & boundaries.geom_type.isin(["Polygon", "MultiPolygon"])
            ]
            if len(chosen) >= 1:
                names = chosen["name"].fillna("").astype(str).to_numpy()
                return _district_frame(chosen.geometry.values, names, chosen.crs, False), (
                    f"OpenStreetMap admin_level={level} boundaries"
                )
    hull = shapely.concave_hull(road_lines.union_all(), ratio=0.3).buffer(EXTENT_BUFFER_M)
    extent = gpd.GeoSeries([hull], crs=road_lines.crs).to_crs(4326)
    source = "extent of the extract's roads (the extract has no admin boundaries)"
    return _district_frame(extent.values, np.array([city.title()]), extent.crs, True), source


def _district_frame(geoms, names, crs, synthetic: bool) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame({"name": names}, geometry=list(geoms), crs=crs).to_crs(4326)
    area = frame.to_crs(frame.estimate_utm_crs()).area / 1e6
    frame.insert(0, "district_id", [f"D{i + 1:02d}" for i in range(len(frame))])
    frame["name_ar"] = ""
    frame["population"] = 0  # unknown: OSM extracts carry no census
    frame["households"] = 0
    frame["area_km2"] = area.round(3).to_numpy()
    frame["synthetic"] = synthetic
    frame["source"] = "OpenStreetMap" if not synthetic else "extent of the OSM extract"
    return frame


def _lamps(lamps: gpd.GeoDataFrame | None, crs_metric: str) -> gpd.GeoDataFrame | None:
    if lamps is None or len(lamps) == 0:
        return None
    points = lamps[lamps.geom_type == "Point"].to_crs(crs_metric)
    tags = pd.Series([""] * len(points), index=points.index, dtype=str)
    for key in ("light:method", "lamp_type", "light_source"):
        if key in points:
            tags = tags + " " + points[key].fillna("").astype(str)
    tags = tags.str.lower()
    technology = np.select(
        [tags.str.contains("led"), tags.str.contains("sodium|high_pressure")],
        ["LED", "HPS"],
        default="",
    )
    empty = pd.Series(index=points.index, dtype=object)
    return gpd.GeoDataFrame(
        {
            "osm_id": points["id"].to_numpy(),
            "technology": technology,  # "" when not tagged: drawn from the shares later
            "mounting_height_m": _number(points.get("height", empty)).to_numpy(),
        },
        geometry=points.geometry.values,
        crs=crs_metric,
    )

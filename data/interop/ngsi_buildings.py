"""Buildings as NGSI-LD Building entities (Smart Data Models), out of and into the city.

The twin's building types map onto the model's OpenStreetMap categories; floors and the
height (a twin attribute the model lacks) travel too. Imports are checked whole, naming the
file, the entity and the field. No network here.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
import shapely

from data.interop.ngsi_ld import kind_and_id, make_entity, plain, read_each, urn

KIND = "Building"
CONTEXT = "https://smart-data-models.github.io/dataModel.Building/context.jsonld"
CATEGORY = {  # the twin's building type -> the model's category (OpenStreetMap building tags)
    "apartment": "apartments",
    "moroccan_house": "house",
    "villa": "detached",
    "slum": "hut",
    "traditional_house": "terrace",
    "tower": "residential",
}
TYPE_OF = {category: kind for kind, category in CATEGORY.items()}
MAX_FLOORS = 200
MAX_HEIGHT_M = 1_000.0


def building_entities(
    buildings: gpd.GeoDataFrame, city_title: str, country: str = "MA", form: str = "normalized"
) -> list[dict]:
    """Buildings (`City.buildings`) as Building entities, footprints as GeoJSON Polygons."""
    entities = []
    for row in buildings.itertuples(index=False):
        polygon = shapely.geometry.mapping(shapely.set_precision(row.geometry, 1e-7))
        attrs = {
            "category": [CATEGORY.get(row.building_type, "residential")],
            "address": {
                "addressLocality": city_title,
                "addressCountry": country,
                "district": row.district_id,
            },  # fmt: skip
            "location": {"type": polygon["type"], "coordinates": _lists(polygon["coordinates"])},
            "floorsAboveGround": int(row.levels),
            "height": round(float(row.height_m), 2),
            "description": row.building_type,
        }
        entities.append(make_entity(urn(KIND, row.building_id), KIND, attrs, form, [CONTEXT],
                                    {"height": "MTR"}))  # fmt: skip
    return entities


def _lists(value):
    return [_lists(v) for v in value] if isinstance(value, list | tuple) else value


def read_buildings(entities: list[dict], source: str, bounds: tuple) -> gpd.GeoDataFrame:
    """Buildings from Building entities, every one checked; `NgsiError` lists every problem.

    Columns: building_id, building_type, levels, height_m (NaN if not given), geometry.
    """
    rows = read_each(entities, source, lambda entity: _building(entity, bounds), "building_id")
    frame = pd.DataFrame(
        rows, columns=["building_id", "building_type", "levels", "height_m", "geometry"]
    )
    frame["levels"] = frame["levels"].astype("Int32")
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def _building(entity: dict, bounds: tuple) -> tuple[dict | None, list[str]]:
    building_id, errors = kind_and_id(entity, KIND)
    if building_id is None:
        return None, errors
    category = plain(entity, "category")
    if (
        not isinstance(category, list)
        or not category
        or not all(isinstance(c, str) for c in category)
    ):
        errors.append(f"category: {str(category)[:40]!r} is not a list of categories")
        category = None
    address = plain(entity, "address")
    if not isinstance(address, dict):
        errors.append("address: missing, or not an object (the model requires it)")
    floors = plain(entity, "floorsAboveGround")
    if floors is not None and (isinstance(floors, bool) or not isinstance(floors, int)
                               or not 0 <= floors <= MAX_FLOORS):  # fmt: skip
        errors.append(
            f"floorsAboveGround: {str(floors)[:20]!r} is not a whole number 0-{MAX_FLOORS}"
        )
    height = plain(entity, "height")
    if height is not None and not (_number(height) and 0 < height <= MAX_HEIGHT_M):
        errors.append(
            f"height: {str(height)[:20]!r} is not a height in metres (0-{MAX_HEIGHT_M:g})"
        )
    geometry = _footprint(plain(entity, "location"), bounds, errors)
    if errors:
        return None, errors
    kind = TYPE_OF.get(category[0], "other")
    height_m = float("nan") if height is None else float(height)
    return {"building_id": building_id, "building_type": kind, "levels": floors,
            "height_m": height_m, "geometry": geometry}, []  # fmt: skip


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _footprint(value, bounds: tuple, errors: list[str]):
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        errors.append("location: not a GeoJSON Polygon or MultiPolygon footprint")
        return None
    try:
        geometry = shapely.geometry.shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException):
        errors.append("location: the footprint's coordinates are malformed")
        return None
    coords = shapely.get_coordinates(geometry)
    if not len(coords) or not (abs(coords) < 1e6).all() or not geometry.is_valid:
        errors.append("location: the footprint is empty, invalid or not in degrees")
        return None
    west, south, east, north = geometry.bounds
    m = 0.05
    if (
        west < bounds[0] - m
        or east > bounds[2] + m
        or south < bounds[1] - m
        or north > bounds[3] + m
    ):
        errors.append(f"location: the footprint ({west:g}, {south:g}) is outside the city")
        return None
    return geometry

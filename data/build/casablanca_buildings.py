"""Casablanca's buildings on its real streets: real footprints, else generated in the blocks.

Real (``data/sources/casablanca/buildings/``, see its SOURCE.md): 5,957 footprints traced from
imagery with heights measured from their shadows (Kontur / Geoalert, 2021; Sidi Belyout, Anfa,
Maârif), kept exactly, and 2,862 OpenStreetMap buildings of Sidi Maârouf (2025) with their
use, heights estimated from it. Elsewhere, lots are laid out inside the blocks the real streets
enclose (`street_blocks`), clear of every street's carriageway and pavement, and typed from
the arrondissement's census dwelling shares as the procedural city is (flagged synthetic,
heights estimated). Within the Kontur patch every building is real; elsewhere no generated
footprint touches a real one.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.build.casablanca_source import (
    SETBACK_M,
    block_size_m,
    census_types,
    generated_levels,
    off_the_streets,
)
from data.city.constants import (
    DEFAULT_LEVELS,
    LEVELS_BY_OSM_BUILDING,
    METRES_PER_LEVEL,
    ROAD_CLASSES,
)
from data.errors import SourceDataError

SOURCE = Path(__file__).resolve().parents[1] / "sources" / "casablanca" / "buildings"
KONTUR_FILE = SOURCE / "kontur_geoalert_central_2021.parquet"
OSM_FILE = SOURCE / "osm_sidi_maarouf_2025.parquet"
# The Kontur benchmark patch (SOURCE.md): every building inside it is traced.
KONTUR_PATCH = shapely.box(-7.649, 33.583, -7.624, 33.606)
TOWER_FROM_M = 30.0  # a residential building of 10 levels or more is drawn as a tower
# OSM building=* -> the twin's residential types; any other value is kept as it is (office...).
OSM_TYPES = {"house": "moroccan_house", "terrace": "moroccan_house", "detached": "villa",
             "apartments": "apartment", "residential": "apartment"}  # fmt: skip
# Blocks: the faces of the real street graph between 300 m2 (a traffic island) and 1 km2 (a
# park, the port, an airfield: not a built block).
BLOCK_AREA_M2 = (300.0, 1_000_000.0)
LOT_GAP_M = 4.0  # between neighbouring generated footprints (as the procedural city)
LOT_SHARE_OF_BLOCK = 0.35  # a lot's edge against the district's procedural block edge
GENERIC_OSM_TYPES = ("yes", "roof", "construction")  # building=* saying nothing of its use
MIN_CUT_SHARE = 0.5  # a lot cut by the block's edge stays if half of it is inside
CLEARANCE_M = 1.0
# A traced footprint under 4 m2 (66 of Kontur's 5,958 parts, some of zero area) is a tracing
# artefact, not a building (a kiosk is larger): left out.
MIN_FOOTPRINT_M2 = 4.0  # a generated footprint keeps this far from a real one


def real_buildings(crs_metric: str) -> gpd.GeoDataFrame:
    """Both real sources as the bundle's building rows (metric), Kontur heights kept exactly."""
    try:
        kontur = gpd.read_parquet(KONTUR_FILE).explode(ignore_index=True)
        osm = gpd.read_parquet(OSM_FILE).explode(ignore_index=True)
    except (OSError, ValueError) as err:
        raise SourceDataError(f"{SOURCE}: real building footprints unreadable ({err})") from err
    height = kontur["building_height"].astype(float)
    residential = kontur["is_residential"].astype(bool)
    traced = pd.DataFrame(
        {
            "building_type": np.where(
                residential, np.where(height >= TOWER_FROM_M, "tower", "apartment"), "office"
            ),
            "levels": np.maximum(1, np.round(height / METRES_PER_LEVEL)).astype(np.int32),
            "height_m": height,
            "height_estimated": False,
        }
    )
    tag = osm["building"].fillna("yes").astype(str)
    levels = tag.map(LEVELS_BY_OSM_BUILDING).fillna(DEFAULT_LEVELS).astype(np.int32)
    mapped = pd.DataFrame(
        {
            "building_type": tag.map(OSM_TYPES).fillna(tag),
            "levels": levels,
            "height_m": levels * METRES_PER_LEVEL,
            "height_estimated": True,
        }
    )
    frame = gpd.GeoDataFrame(
        pd.concat([traced, mapped], ignore_index=True),
        geometry=np.concatenate([kontur.geometry.values, osm.geometry.values]),
        crs=4326,
    )
    frame["synthetic"] = False
    frame = frame.to_crs(crs_metric)
    return frame[frame.area >= MIN_FOOTPRINT_M2].reset_index(drop=True)


def street_blocks(lines: gpd.GeoDataFrame) -> np.ndarray:
    """The polygons the street ``lines`` (metric) enclose, within `BLOCK_AREA_M2`."""
    merged = shapely.unary_union(lines.geometry.values)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(merged)))
    area = shapely.area(faces)
    return faces[(area >= BLOCK_AREA_M2[0]) & (area <= BLOCK_AREA_M2[1])]


def _lots(block, lot_m: float) -> np.ndarray:
    """Footprints on a grid of lots laid on the block's own axes, each inside ``block``."""
    ring = np.asarray(shapely.get_coordinates(shapely.oriented_envelope(block)))[:4]
    if len(ring) < 4:
        return np.empty(0, dtype=object)
    origin, u, v = ring[0], ring[1] - ring[0], ring[3] - ring[0]
    nu = max(1, int(np.linalg.norm(u) // lot_m))
    nv = max(1, int(np.linalg.norm(v) // lot_m))
    du, dv = u / nu, v / nv
    i, j = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    start = origin + i.reshape(-1, 1) * du + j.reshape(-1, 1) * dv
    corners = np.stack([start, start + du, start + du + dv, start + dv], axis=1)
    lots = shapely.buffer(shapely.polygons(corners), -LOT_GAP_M / 2, join_style="mitre")
    lots = lots[~shapely.is_empty(lots)]
    inside = shapely.within(lots, block)
    # a lot the block's edge cuts keeps its part inside, if that is most of it
    cut = shapely.intersection(lots[~inside], block)
    cut = np.array([max(shapely.get_parts(c), key=shapely.area) if not c.is_empty else c
                    for c in cut], dtype=object)  # fmt: skip
    kept = cut[shapely.area(cut) >= MIN_CUT_SHARE * shapely.area(lots[~inside])]
    return np.concatenate([lots[inside], kept[shapely.get_type_id(kept) == 3]])


def _district_at(points: np.ndarray, metric: gpd.GeoDataFrame) -> np.ndarray:
    """The district of each point, nearest if in none.

    Where districts overlap, the smallest: Méchouar is an enclave that the neighbouring
    arrondissements' polygons also cover.
    """
    where = gpd.GeoDataFrame(geometry=points, crs=metric.crs)
    by_size = metric.assign(_area=metric.area).sort_values("_area")[["district_id", "geometry"]]
    joined = gpd.sjoin_nearest(where, by_size.reset_index(drop=True), how="left")
    joined = joined.sort_values("index_right", kind="stable")  # smallest district first
    first = joined[~joined.index.duplicated(keep="first")]["district_id"]
    return first.reindex(np.arange(len(points))).to_numpy()


def block_buildings(
    districts: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, *, seed: int
) -> gpd.GeoDataFrame:
    """Generated footprints in the real street blocks, typed from the census (metric)."""
    metric = districts.to_crs(lines.crs)
    blocks = street_blocks(lines)
    # off a local street's carriageway and pavement; lots along wider streets are dropped after
    street_half = ROAD_CLASSES["residential"].width_m / 2 + SETBACK_M
    inner = shapely.buffer(blocks, -street_half, join_style="mitre")
    district = _district_at(shapely.point_on_surface(blocks), metric)
    info = metric.set_index("district_id")
    density = info["population"] / info["area_km2"].clip(lower=0.01)
    rng = np.random.default_rng(seed + 2)
    frames = []
    for district_id, members in pd.Series(np.arange(len(blocks))).groupby(district).groups.items():
        lot_m = LOT_SHARE_OF_BLOCK * block_size_m(float(density[district_id]))
        lots = [_lots(inner[k], lot_m) for k in members if not shapely.is_empty(inner[k])]
        footprints = np.concatenate([lot for lot in lots if len(lot)] or [np.empty(0, object)])
        kind = census_types(info.loc[district_id], len(footprints), rng)
        frames.append(gpd.GeoDataFrame({"building_type": kind, "district_id": district_id},
                                       geometry=footprints, crs=lines.crs))  # fmt: skip
    buildings = pd.concat(frames, ignore_index=True)
    return generated_levels(buildings, rng)


def buildings_on_real_streets(
    districts: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, *, seed: int
) -> gpd.GeoDataFrame:
    """Real footprints, then generated ones clear of every street and every real building."""
    real = real_buildings(lines.crs.to_string())
    generated = off_the_streets(block_buildings(districts, lines, seed=seed), lines)
    patch = gpd.GeoSeries([KONTUR_PATCH], crs=4326).to_crs(lines.crs).iloc[0]
    taken = shapely.buffer(real.geometry.values, CLEARANCE_M)
    hit, _ = shapely.STRtree(taken).query(generated.geometry.values, predicate="intersects")
    keep = ~shapely.intersects(generated.geometry.values, patch)
    keep[np.unique(hit)] = False
    generated = generated[keep]
    metric = districts.to_crs(lines.crs)
    real["district_id"] = _district_at(shapely.point_on_surface(real.geometry.values), metric)
    # an OSM building tagged only "yes" (or a roof, a site) takes a type from its district's
    # census, as a generated one does; its footprint stays the real one
    generic = np.flatnonzero(real["building_type"].isin(GENERIC_OSM_TYPES).to_numpy())
    rng = np.random.default_rng(seed + 3)
    info, column = metric.set_index("district_id"), real.columns.get_loc("building_type")
    for district_id, at in pd.Series(generic).groupby(real["district_id"].to_numpy()[generic]):
        real.iloc[at.to_numpy(), column] = census_types(info.loc[district_id], len(at), rng)
    return gpd.GeoDataFrame(pd.concat([real, generated], ignore_index=True), crs=lines.crs)

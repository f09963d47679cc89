"""The public-lighting inventory: light points placed along roads, grouped into cabinets/feeders.

Vectorised over all roads at once (numpy/shapely); metric CRS in, metric CRS out; no I/O.
"""

from __future__ import annotations

import geopandas as gpd
import h3.api.numpy_int as h3
import numpy as np
import pandas as pd
import shapely

from data.city.constants import (
    CABINET_H3_RES,
    FEEDER_H3_RES,
    INSTALL_YEARS,
    LAMP_OFFSET_FROM_KERB_M,
    ROAD_CLASSES,
    TECHNOLOGY_SHARES,
)


def place_lamps(roads: gpd.GeoDataFrame, *, prefix: str, seed: int) -> gpd.GeoDataFrame:
    """Place light points along ``roads`` at the spacing of each road class.

    Lamps sit every ``lamp_spacing_m`` metres, half a spacing in from each end, on the kerb
    (``width_m / 2 + 0.5`` m from the centreline); wide classes are lit from both sides,
    staggered by half a spacing. One technology per road (streets are retrofitted whole).

    Parameters
    ----------
    roads : GeoDataFrame
        Road segments in a metric CRS with road_id, road_class, width_m, district_id.
    prefix : str
        Lamp id prefix (``CAS`` gives ``CAS-L000001``).
    seed : int
        Seed of the technology and install-year draws.

    Returns
    -------
    GeoDataFrame
        One row per lamp (synthetic=True), in the CRS of ``roads``.
    """
    rng = np.random.default_rng(seed)
    classes = roads["road_class"].map(ROAD_CLASSES)
    spacing = classes.map(lambda c: c.lamp_spacing_m).to_numpy(float)
    both = classes.map(lambda c: c.lamps_both_sides).to_numpy(bool)
    length = roads.geometry.length.to_numpy()
    per_side = np.floor(length / spacing + 0.5).astype(int)

    sides = [(np.arange(len(roads)), per_side, 1.0, 0.5)]
    sides.append((np.flatnonzero(both), per_side[both], -1.0, 1.0))
    road_idx, distance, side = [], [], []
    for rows, counts, sign, phase in sides:
        owner = np.repeat(rows, counts)
        k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        d = (k + phase) * spacing[owner]
        road_idx.append(owner)
        distance.append(np.minimum(d, length[owner] - 0.01))
        side.append(np.full(len(owner), sign))
    road_idx = np.concatenate(road_idx)
    distance = np.concatenate(distance)
    side = np.concatenate(side)
    order = np.lexsort((distance, side, road_idx))
    road_idx, distance, side = road_idx[order], distance[order], side[order]

    lines = roads.geometry.values[road_idx]
    on_line = shapely.get_coordinates(shapely.line_interpolate_point(lines, distance))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(lines, distance + 0.5))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(lines, distance - 0.5))
    tangent = ahead - behind
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True).clip(1e-9)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    offset = roads["width_m"].to_numpy(float)[road_idx] / 2 + LAMP_OFFSET_FROM_KERB_M
    xy = on_line + normal * (offset * side)[:, None]

    technology = _draw_road_technology(roads, rng)[road_idx]
    return _lamp_frame(roads, road_idx, shapely.points(xy), technology, rng, prefix=prefix)


def survey_lamps(
    surveyed: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *, prefix: str, seed: int
) -> gpd.GeoDataFrame:
    """Complete surveyed light points (e.g. OSM ``highway=street_lamp``) into the inventory.

    Each lamp belongs to its nearest road; a technology or mounting height tagged in the
    survey is kept, the rest is filled like `place_lamps` does (road class, shares, seed).
    ``surveyed`` has columns technology ("" if unknown) and mounting_height_m (NaN if
    unknown), in the metric CRS of ``roads``.
    """
    rng = np.random.default_rng(seed)
    tree = shapely.STRtree(roads.geometry.values)
    road_idx = tree.query_nearest(surveyed.geometry.values, all_matches=False)[1]
    technology = surveyed["technology"].to_numpy(dtype=object)
    drawn = _draw_road_technology(roads, rng)[road_idx]
    technology = np.where(np.isin(technology, list(TECHNOLOGY_SHARES)), technology, drawn)
    lamps = _lamp_frame(
        roads, road_idx, surveyed.geometry.values, technology, rng, prefix=prefix, synthetic=False
    )
    tagged = surveyed["mounting_height_m"].to_numpy(float)
    lamps["mounting_height_m"] = np.where(np.isnan(tagged), lamps["mounting_height_m"], tagged)
    return lamps


def _draw_road_technology(roads: gpd.GeoDataFrame, rng: np.random.Generator) -> np.ndarray:
    """One technology per road (streets are retrofitted whole), drawn by the stock's shares."""
    techs = np.array(list(TECHNOLOGY_SHARES))
    return rng.choice(techs, size=len(roads), p=list(TECHNOLOGY_SHARES.values()))


def _lamp_frame(
    roads: gpd.GeoDataFrame,
    road_idx: np.ndarray,
    geometry: np.ndarray,
    technology: np.ndarray,
    rng: np.random.Generator,
    *,
    prefix: str,
    synthetic: bool = True,
) -> gpd.GeoDataFrame:
    """Inventory rows for lamps on ``roads[road_idx]``: wattage, pole and year by class."""
    technology = np.asarray(technology, dtype=object).astype(str)
    road_classes = roads["road_class"].map(ROAD_CLASSES).to_numpy()[road_idx]
    hps_w = np.array([c.lamp_power_hps_w for c in road_classes], dtype=np.int32)
    led_w = np.array([c.lamp_power_led_w for c in road_classes], dtype=np.int32)
    year = np.zeros(len(road_idx), dtype=np.int32)
    for tech, (first, last) in INSTALL_YEARS.items():
        rows = technology == tech
        year[rows] = rng.integers(first, last + 1, size=rows.sum())
    return gpd.GeoDataFrame(
        {
            "lamp_id": [f"{prefix}-L{i + 1:06d}" for i in range(len(road_idx))],
            "road_id": roads["road_id"].to_numpy()[road_idx],
            "district_id": roads["district_id"].to_numpy()[road_idx],
            "technology": technology,
            "power_w": np.where(technology == "LED", led_w, hps_w).astype(np.int32),
            "mounting_height_m": np.array([c.mounting_height_m for c in road_classes], dtype=float),
            "install_year": year,
            "synthetic": synthetic,
        },
        geometry=geometry,
        crs=roads.crs,
    )


def assign_cabinets(
    lamps: gpd.GeoDataFrame, *, prefix: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Group lamps into control cabinets (H3 cell within a district) and feeders (coarser cell).

    Parameters
    ----------
    lamps : GeoDataFrame
        Lamps in any CRS with district_id.
    prefix : str
        Id prefix of cabinets (``CAS-C00001``) and feeders (``CAS-F001``).

    Returns
    -------
    lamps, cabinets : GeoDataFrame
        Lamps with cabinet_id and feeder_id added; cabinets at the lamp nearest their cell's
        centre, with n_lamps, in the CRS of ``lamps``.
    """
    wgs = lamps.geometry.to_crs(4326)
    lat, lon = wgs.y.to_numpy(), wgs.x.to_numpy()
    cells = np.fromiter(
        (h3.latlng_to_cell(a, b, CABINET_H3_RES) for a, b in zip(lat, lon, strict=True)),
        dtype=np.uint64,
        count=len(lat),
    )
    parents = np.asarray([h3.cell_to_parent(int(c), FEEDER_H3_RES) for c in np.unique(cells)])
    parent_of = dict(zip(np.unique(cells).tolist(), parents.tolist(), strict=True))

    key = pd.DataFrame({"district": lamps["district_id"].to_numpy(), "cell": cells})
    groups = key.drop_duplicates().sort_values(["district", "cell"]).reset_index(drop=True)
    groups["cabinet_id"] = [f"{prefix}-C{i + 1:05d}" for i in range(len(groups))]
    feeders = sorted(set(parent_of.values()))
    feeder_id = {cell: f"{prefix}-F{i + 1:03d}" for i, cell in enumerate(feeders)}
    groups["feeder_id"] = groups["cell"].map(lambda c: feeder_id[parent_of[c]])

    joined = key.merge(groups, on=["district", "cell"], how="left")
    lamps = lamps.copy()
    lamps["cabinet_id"] = joined["cabinet_id"].to_numpy()
    lamps["feeder_id"] = joined["feeder_id"].to_numpy()

    # Cabinet position: the lamp nearest the centre of its cell (so it stands on a street).
    centres = np.array([h3.cell_to_latlng(int(c)) for c in groups["cell"]])
    centre_of = dict(zip(groups["cabinet_id"], map(tuple, centres), strict=True))
    c_lat = np.array([centre_of[c][0] for c in lamps["cabinet_id"]])
    c_lon = np.array([centre_of[c][1] for c in lamps["cabinet_id"]])
    lamps_dist = (lat - c_lat) ** 2 + ((lon - c_lon) * np.cos(np.radians(lat))) ** 2
    nearest = (
        pd.DataFrame(
            {"cabinet_id": lamps["cabinet_id"], "d": lamps_dist, "i": np.arange(len(lamps))}
        )
        .sort_values(["cabinet_id", "d"])
        .drop_duplicates("cabinet_id")
        .set_index("cabinet_id")["i"]
    )
    counts = lamps["cabinet_id"].value_counts()
    cabinets = gpd.GeoDataFrame(
        {
            "cabinet_id": groups["cabinet_id"],
            "feeder_id": groups["feeder_id"],
            "district_id": groups["district"],
            "n_lamps": groups["cabinet_id"].map(counts).astype(np.int32).to_numpy(),
            "synthetic": True,
        },
        geometry=lamps.geometry.to_numpy()[nearest.loc[groups["cabinet_id"]].to_numpy()],
        crs=lamps.crs,
    )
    return lamps, cabinets

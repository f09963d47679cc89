"""Imported buildings onto a city bundle: the footprints the twin extrudes and counts.

Known buildings are updated (type, floors, height, footprint); new ones are added with their
district found and their height taken from the file or estimated from the floors (3 m each,
flagged as estimated). Written with `data.build.bundle.replace_layers`: all or nothing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from data.build.bundle import replace_layers
from data.city import LAYER_COLUMNS, City
from data.interop.ngsi_ld import refuse

STOREY_M = 3.0  # a floor's height when only the floors are known


def merged_buildings(city: City, imported: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """``city``'s buildings with ``imported`` (`data.interop.ngsi_buildings.read_buildings`)."""
    buildings = city.buildings.set_index("building_id")
    imported = imported.set_index("building_id").to_crs(city.buildings.crs)
    known = imported.index.isin(buildings.index)
    new = imported[~known]
    refuse([f"{source}: building {b}: a new building needs floorsAboveGround or height"
            for b in new.index[new["levels"].isna() & new["height_m"].isna()]])  # fmt: skip
    updates = imported[known]
    buildings.loc[updates.index, "building_type"] = updates["building_type"].to_numpy()
    buildings.loc[updates.index, "geometry"] = updates.geometry.to_numpy()
    buildings.loc[updates.index, "synthetic"] = False
    levels = updates["levels"].dropna()
    buildings.loc[levels.index, "levels"] = levels.astype(int).to_numpy()
    heights = updates["height_m"].dropna()
    buildings.loc[heights.index, "height_m"] = heights.to_numpy()
    buildings.loc[heights.index, "height_estimated"] = False
    if len(new):
        buildings = pd.concat([buildings, _new_buildings(city, new)])
    frame = buildings.reset_index()
    frame["levels"] = frame["levels"].astype("int32")
    return gpd.GeoDataFrame(frame[[*LAYER_COLUMNS["buildings"], "geometry"]],
                            geometry="geometry", crs=city.buildings.crs)  # fmt: skip


def _new_buildings(city: City, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric = city.crs_metric
    inside = new.geometry.to_crs(metric).representative_point()
    points = gpd.GeoDataFrame(geometry=inside.to_numpy(), crs=metric)
    districts = city.districts[["district_id", "geometry"]].to_crs(metric)
    joined = gpd.sjoin_nearest(points, districts, how="left")
    district = joined[~joined.index.duplicated()]["district_id"].to_numpy()
    estimated = new["height_m"].isna().to_numpy()
    levels = new["levels"].astype(float).to_numpy()
    heights = np.where(estimated, levels * STOREY_M, new["height_m"].to_numpy(float))
    levels = np.where(np.isnan(levels), np.maximum(1, np.round(heights / STOREY_M)), levels)
    frame = pd.DataFrame(
        {
            "building_type": new["building_type"].to_numpy(),
            "levels": levels.astype(int),
            "height_m": heights,
            "height_estimated": estimated,
            "district_id": district,
            "synthetic": False,
        },
        index=new.index,
    )
    return gpd.GeoDataFrame(frame, geometry=new.geometry.to_numpy(), crs=city.buildings.crs)


def update_buildings(city: City, imported: gpd.GeoDataFrame, source: str) -> dict[str, int]:
    """Apply ``imported`` to ``city``'s bundle folder; counts of buildings updated and added."""
    buildings = merged_buildings(city, imported, source)
    replace_layers(city, {"buildings": buildings})
    known = int(imported["building_id"].isin(city.buildings["building_id"]).sum())
    return {"updated": known, "added": len(imported) - known}

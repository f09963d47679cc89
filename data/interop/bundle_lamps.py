"""Imported lighting onto a city bundle: the lamps and cabinets the twin draws and simulates.

Light points: known ones are updated (position, power, height, cabinet); new ones are added
with their district and nearest road found and their technology, power, height and cabinet
required. Cabinets: known ones are moved (new cabinets come with the bundle builder). Groups
(circuits): their light points are wired to the group's cabinet. The bundle's lamps, cabinets
(their lamp counts) and meta counts are each written to a temporary file first and renamed into
place only when all three are ready. Never touches the other layers.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from data.build.bundle import replace_layers
from data.city import LAYER_COLUMNS, City
from data.interop.ngsi_ld import refuse

NEW_NEEDS = ("technology", "power_w", "mounting_height_m", "cabinet_id")


def merged_lamps(
    city: City, lights: gpd.GeoDataFrame, source: str, cabinets: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """``city``'s lamps with ``lights`` (`data.interop.ngsi_ld.read_streetlights`) applied.

    ``cabinets``: the cabinets to wire to (default the city's).
    """
    lamps = city.lamps.set_index("lamp_id")
    cabinets = (city.cabinets if cabinets is None else cabinets).set_index("cabinet_id")
    problems = []
    for light in lights.itertuples(index=False):
        where = f"{source}: light point {light.lamp_id}"
        if light.cabinet_id is not None and light.cabinet_id not in cabinets.index:
            problems.append(f"{where}: refStreetlightControlCabinet: the city has no cabinet "
                            f"{light.cabinet_id!r}")  # fmt: skip
        if light.lamp_id not in lamps.index:
            missing = [n for n in NEW_NEEDS if pd.isna(getattr(light, n))]
            if missing:
                problems.append(f"{where}: a new light point needs {', '.join(missing)} "
                                "(lampTechnology, powerRating, lanternHeight, "
                                "refStreetlightControlCabinet)")  # fmt: skip
    refuse(problems)
    lights = lights.set_index("lamp_id").to_crs(city.lamps.crs)
    known = lights.index.isin(lamps.index)
    updates = lights[known]
    for column in ("power_w", "mounting_height_m", "cabinet_id", "technology"):
        given = updates[column].dropna()
        lamps.loc[given.index, column] = given.to_numpy()
    lamps.loc[updates.index, "geometry"] = updates.geometry.to_numpy()
    lamps.loc[updates.index, "synthetic"] = False  # from the city's own records now
    added = lights[~known]
    if len(added):
        lamps = pd.concat([lamps, _new_lamps(city, added, cabinets)])
    lamps["feeder_id"] = cabinets["feeder_id"].reindex(lamps["cabinet_id"]).to_numpy()
    frame = lamps.reset_index()
    frame["power_w"] = frame["power_w"].astype("int32")
    frame["install_year"] = frame["install_year"].astype("int32")
    columns = [*LAYER_COLUMNS["lamps"], "geometry"]
    return gpd.GeoDataFrame(frame[columns], geometry="geometry", crs=city.lamps.crs)


def _new_lamps(city: City, added: gpd.GeoDataFrame, cabinets: pd.DataFrame) -> gpd.GeoDataFrame:
    metric = city.crs_metric
    points = gpd.GeoDataFrame(geometry=added.geometry.to_crs(metric).to_numpy(), crs=metric)
    roads = city.roads[["road_id", "geometry"]].to_crs(metric)
    districts = city.districts[["district_id", "geometry"]].to_crs(metric)
    road = gpd.sjoin_nearest(points, roads, how="left")
    district = gpd.sjoin_nearest(points, districts, how="left")
    road = road[~road.index.duplicated()]["road_id"].to_numpy()
    district = district[~district.index.duplicated()]["district_id"].to_numpy()
    frame = pd.DataFrame(
        {
            "road_id": road,
            "district_id": district,
            "technology": added["technology"].to_numpy(),
            "power_w": added["power_w"].astype(int).to_numpy(),
            "mounting_height_m": added["mounting_height_m"].astype(float).to_numpy(),
            "cabinet_id": added["cabinet_id"].to_numpy(),
            "install_year": np.full(len(added), dt.date.today().year),  # recorded this year
            "synthetic": False,
        },
        index=added.index,
    )
    return gpd.GeoDataFrame(frame, geometry=added.geometry.to_numpy(), crs=city.lamps.crs)


def moved_cabinets(city: City, imported: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """``city``'s cabinets with the known ones of ``imported`` (`read_cabinets`) moved."""
    cabinets = city.cabinets.set_index("cabinet_id")
    unknown = sorted(set(imported["cabinet_id"]) - set(cabinets.index))
    refuse([f"{source}: cabinet {c}: not in the city (new cabinets come with the bundle "
            "builder, python -m data.build)" for c in unknown])  # fmt: skip
    moved = imported.set_index("cabinet_id").to_crs(city.cabinets.crs)
    cabinets.loc[moved.index, "geometry"] = moved.geometry.to_numpy()
    cabinets.loc[moved.index, "synthetic"] = False
    return gpd.GeoDataFrame(cabinets.reset_index(), geometry="geometry", crs=city.cabinets.crs)


def rewired_lamps(
    lamps: gpd.GeoDataFrame, cabinets: gpd.GeoDataFrame, groups: gpd.GeoDataFrame, source: str
) -> gpd.GeoDataFrame:
    """``lamps`` with each group's light points on the group's cabinet (and its feeder)."""
    known_lamps, by_cabinet = set(lamps["lamp_id"]), cabinets.set_index("cabinet_id")
    problems = []
    for group in groups.itertuples(index=False):
        where = f"{source}: group {group.group_id}"
        if group.cabinet_id not in by_cabinet.index:
            problems.append(f"{where}: refStreetlightControlCabinet: the city has no cabinet "
                            f"{group.cabinet_id!r}")  # fmt: skip
        missing = [x for x in group.lamp_ids if x not in known_lamps]
        if missing:
            more = " …" if len(missing) > 5 else ""
            problems.append(f"{where}: refStreetlight: the city has no light point "
                            f"{', '.join(missing[:5])}{more}")  # fmt: skip
    refuse(problems)
    wiring = {lamp: g.cabinet_id for g in groups.itertuples(index=False) for lamp in g.lamp_ids}
    lamps = lamps.copy()
    chosen = lamps["lamp_id"].map(wiring)
    lamps["cabinet_id"] = chosen.fillna(lamps["cabinet_id"])
    lamps["feeder_id"] = by_cabinet["feeder_id"].reindex(lamps["cabinet_id"]).to_numpy()
    return lamps


def update_bundle(
    city: City,
    source: str,
    *,
    lights: gpd.GeoDataFrame | None = None,
    cabinets: gpd.GeoDataFrame | None = None,
    groups: gpd.GeoDataFrame | None = None,
) -> dict[str, int]:
    """Apply imported cabinets, then light points, then groups, to ``city``'s bundle folder.

    Returns counts: lamps updated and added, cabinets moved, lamps rewired. All or nothing:
    problems raise `NgsiError` before anything is written, and the three files are renamed
    into place only once all are written.
    """
    done = {"updated": 0, "added": 0, "moved": 0, "rewired": 0}
    all_cabinets = city.cabinets
    if cabinets is not None:
        all_cabinets = moved_cabinets(city, cabinets, source)
        done["moved"] = len(cabinets)
    lamps = city.lamps
    if lights is not None:
        lamps = merged_lamps(city, lights, source, all_cabinets)
        known = int(lights["lamp_id"].isin(city.lamps["lamp_id"]).sum())
        done.update(updated=known, added=len(lights) - known)
    if groups is not None:
        before = lamps["cabinet_id"].to_numpy()
        lamps = rewired_lamps(lamps, all_cabinets, groups, source)
        done["rewired"] = int((lamps["cabinet_id"].to_numpy() != before).sum())
    _write(city, lamps, all_cabinets)
    return done


def _write(city: City, lamps: gpd.GeoDataFrame, cabinets: gpd.GeoDataFrame) -> None:
    cabinets = cabinets.copy()
    counts = lamps["cabinet_id"].value_counts()
    cabinets["n_lamps"] = counts.reindex(cabinets["cabinet_id"]).fillna(0).astype(int).to_numpy()
    replace_layers(city, {"lamps": lamps, "cabinets": cabinets})

"""StreetlightControlCabinet and StreetlightGroup entities read into the twin's lighting circuits.

A cabinet is read with its position and working mode; a group is a cabinet's circuit: the
light points (``refStreetlight``) it switches, so importing groups re-wires lamps to cabinets.
Every entity is checked whole (`data.interop.ngsi_ld.read_each`). No network here.
"""

from __future__ import annotations

import geopandas as gpd

from data.interop.ngsi_ld import located, plain, points_frame, read_each, ref_id, refuse

WORKING_MODES = ("automatic", "manual", "semiautomatic")
MAX_MEMBERS = 5_000  # light points on one circuit: far above any real cabinet's


def read_cabinets(entities: list[dict], source: str, bounds: tuple) -> gpd.GeoDataFrame:
    """Cabinets: cabinet_id, working_mode, geometry (EPSG:4326); `NgsiError` lists problems."""
    rows = read_each(entities, source, lambda entity: _cabinet(entity, bounds), "cabinet_id")
    return points_frame(rows, ["cabinet_id", "working_mode"])


def read_groups(entities: list[dict], source: str, bounds: tuple) -> gpd.GeoDataFrame:
    """Circuits: group_id, cabinet_id, lamp_ids (list), geometry; `NgsiError` lists problems.

    A light point may belong to one group only.
    """
    rows = read_each(entities, source, lambda entity: _group(entity, bounds), "group_id")
    owner: dict[str, str] = {}
    problems = []
    for row in rows:
        for lamp in row["lamp_ids"]:
            if lamp in owner:
                problems.append(f"{source}: group {row['group_id']}: refStreetlight: {lamp} is "
                                f"already in group {owner[lamp]}")  # fmt: skip
            owner[lamp] = row["group_id"]
    refuse(problems)
    return points_frame(rows, ["group_id", "cabinet_id", "lamp_ids"])


def _cabinet(entity: dict, bounds: tuple) -> tuple[dict | None, list[str]]:
    cabinet_id, where, errors = located(entity, "StreetlightControlCabinet", bounds)
    if cabinet_id is None:
        return None, errors
    mode = plain(entity, "workingMode")
    if mode not in WORKING_MODES:
        errors.append(f"workingMode: {str(mode)[:30]!r} is not one of {', '.join(WORKING_MODES)}")
    if errors or where is None:
        return None, errors
    return {"cabinet_id": cabinet_id, "working_mode": mode, "lon": where[0], "lat": where[1]}, []


def _group(entity: dict, bounds: tuple) -> tuple[dict | None, list[str]]:
    group_id, where, errors = located(entity, "StreetlightGroup", bounds)
    if group_id is None:
        return None, errors
    cabinet = plain(entity, "refStreetlightControlCabinet")
    if cabinet is None:  # the models' examples' older name
        cabinet = plain(entity, "refStreetlightCabinetController")
    cabinet_id = ref_id(cabinet, "StreetlightControlCabinet")
    if cabinet_id is None:
        errors.append(
            "refStreetlightControlCabinet: not urn:ngsi-ld:StreetlightControlCabinet:<id>"
        )
    members = plain(entity, "refStreetlight")
    lamps: list[str] = []
    if not isinstance(members, list) or not 1 <= len(members) <= MAX_MEMBERS:
        errors.append(f"refStreetlight: not a list of 1 to {MAX_MEMBERS:,} light points")
    else:
        for k, member in enumerate(members):
            lamp_id = ref_id(member, "Streetlight")
            if lamp_id is None:
                errors.append(f"refStreetlight[{k}]: not urn:ngsi-ld:Streetlight:<id>")
                break
            lamps.append(lamp_id)
        if len(set(lamps)) != len(lamps):
            errors.append("refStreetlight: a light point is listed twice")
    if errors or where is None:
        return None, errors
    return {"group_id": group_id, "cabinet_id": cabinet_id, "lamp_ids": lamps,
            "lon": where[0], "lat": where[1]}, []  # fmt: skip

"""FIWARE NGSI-LD entities of the Smart Data Models (Streetlighting) to and from the city's lamps.

Reads entity files in the normalized or key-values form, checks every entity whole and names
the file, the entity and the field of any problem; an import is written atomically (a rejected
file changes nothing). Exports the lamps and cabinets as valid entities. No network here.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from data.errors import NgsiError
from data.interop.entity_files import load_entities, write_geoparquet

CONTEXT = "https://smart-data-models.github.io/dataModel.Streetlighting/context.jsonld"
FORMS = ("normalized", "keyValues")
MAX_REPORTED = 20  # problems spelled out in the message
STATUS = ("ok", "defectiveLamp", "brokenLantern", "columnIssue")
TECHNOLOGIES = ("HPS", "LED", "MH")  # the twin's lamp technologies (City.lamps)
POWER_STATE = ("on", "off", "low", "bootingUp")
LOCAL_ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"
BOUNDS_MARGIN_DEG = 0.05  # a light point may stand this far outside the city's lamps


def refuse(problems: list[str], prefix: str = "", error: type = NgsiError) -> None:
    """Raise ``error`` listing the ``problems`` (the first `MAX_REPORTED`), if there are any."""
    if not problems:
        return
    shown = "\n  ".join(problems[:MAX_REPORTED])
    extra = len(problems) - MAX_REPORTED
    more = f"\n  ... and {extra} more" if extra > 0 else ""
    message = f"{prefix}{len(problems)} problem(s); nothing was imported:\n  {shown}{more}"
    raise error(message, problems)


def urn(kind: str, local_id: str) -> str:
    """The entity id of ``local_id`` as the Smart Data Models spell it."""
    return f"urn:ngsi-ld:{kind}:{local_id}"


# --- export ------------------------------------------------------------------------------


def streetlight_entities(lamps: gpd.GeoDataFrame, form: str = "normalized") -> list[dict]:
    """The lamps (`City.lamps`) as Streetlight entities, ``normalized`` or ``keyValues``."""
    _check_form(form)
    entities = []
    for row in lamps.itertuples(index=False):
        attrs = {
            "location": _point(row.geometry),
            "status": "ok",
            "powerRating": int(row.power_w),
            "lanternHeight": float(row.mounting_height_m),
            "refStreetlightControlCabinet": (
                "Relationship",
                urn("StreetlightControlCabinet", row.cabinet_id),
            ),
            "description": f"{row.technology} {int(row.power_w)} W",
        }
        entities.append(make_entity(urn("Streetlight", row.lamp_id), "Streetlight", attrs, form))
    return entities


def cabinet_entities(cabinets: gpd.GeoDataFrame, form: str = "normalized") -> list[dict]:
    """The lighting cabinets (`City.cabinets`) as StreetlightControlCabinet entities.

    Each cabinet's lamps form one StreetlightGroup, which the cabinet references.
    """
    _check_form(form)
    entities = []
    for row in cabinets.itertuples(index=False):
        attrs = {
            "location": _point(row.geometry),
            "workingMode": "automatic",
            "refStreetlightGroup": ("Relationship", [urn("StreetlightGroup", row.cabinet_id)]),
            "description": f"feeder {row.feeder_id}, {int(row.n_lamps)} lamps",
        }
        kind = "StreetlightControlCabinet"
        entities.append(make_entity(urn(kind, row.cabinet_id), kind, attrs, form))
    return entities


def group_entities(
    lamps: gpd.GeoDataFrame, cabinets: gpd.GeoDataFrame, form: str = "normalized"
) -> list[dict]:
    """Each cabinet's light points as a StreetlightGroup: switched together, at the cabinet."""
    _check_form(form)
    members = lamps.groupby("cabinet_id")["lamp_id"].agg(list)
    entities = []
    for row in cabinets.itertuples(index=False):
        lights = members.get(row.cabinet_id, [])
        attrs = {
            "location": _point(row.geometry),
            "refStreetlightControlCabinet": (
                "Relationship",
                urn("StreetlightControlCabinet", row.cabinet_id),
            ),
            "switchingMode": ["night-ON", "day-OFF"],
            "description": f"{len(lights)} light points on feeder {row.feeder_id}",
        }
        if lights:
            attrs["refStreetlight"] = ("Relationship", [urn("Streetlight", x) for x in lights])
        kind = "StreetlightGroup"
        entities.append(make_entity(urn(kind, row.cabinet_id), kind, attrs, form))
    return entities


def make_entity(
    entity_id: str,
    kind: str,
    attrs: dict,
    form: str,
    context: list[str] | None = None,
    units: dict[str, str] | None = None,
) -> dict:
    """An entity in ``form`` from ``attrs``: name -> value, or (Relationship, target id).

    ``location`` becomes a GeoProperty, the rest Properties; ``units`` gives UN/CEFACT
    ``unitCode``s (normalized form only).
    """
    _check_form(form)
    entity: dict = {"id": entity_id, "type": kind}
    for name, value in attrs.items():
        relation = isinstance(value, tuple) and value[0] == "Relationship"
        value = value[1] if relation else value
        if form == "keyValues":
            entity[name] = value
        elif relation:
            entity[name] = {"type": "Relationship", "object": value}
        else:
            nature = "GeoProperty" if name == "location" else "Property"
            entity[name] = {"type": nature, "value": value}
            if units and name in units:
                entity[name]["unitCode"] = units[name]
    entity["@context"] = context or [CONTEXT]
    return entity


def read_each(entities: list[dict], source: str, read, key: str) -> list[dict]:
    """Rows read by ``read(entity) -> (row or None, errors)``, every entity checked.

    Problems name ``source``, the entity's index and id; a repeated ``key`` is one. Raises
    `NgsiError` listing them all, so nothing is taken from a file with one bad entity.
    """
    rows, problems, seen = [], [], {}
    for k, entity in enumerate(entities):
        where = f"{source}: entity [{k}]"
        if isinstance(entity.get("id"), str):
            where += f" {entity['id'][:80]}"
        row, errors = read(entity)
        if row and row[key] in seen:
            errors.append(f"id: duplicate of entity [{seen[row[key]]}]")
        if errors:
            problems += [f"{where}: {e}" for e in errors]
            continue
        seen[row[key]] = k
        rows.append(row)
    refuse(problems)
    return rows


def _point(geometry) -> dict:
    return {"type": "Point", "coordinates": [round(geometry.x, 7), round(geometry.y, 7)]}


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise NgsiError(f"unknown NGSI-LD form {form!r}; known: {', '.join(FORMS)}")


# --- import ------------------------------------------------------------------------------


def plain(entity: dict, name: str):
    """An attribute's value in either form (None if absent).

    A Property's ``value``, a Relationship's ``object``, or the key-values value; a JSON-LD
    typed date becomes its text.
    """
    value = entity.get(name)
    nature = value.get("type") if isinstance(value, dict) else None
    if nature in ("Property", "GeoProperty", "Relationship"):
        value = value.get("object") if nature == "Relationship" else value.get("value")
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    return value


def read_streetlights(entities: list[dict], source: str, bounds: tuple) -> gpd.GeoDataFrame:
    """Light points from Streetlight entities, every one checked; `NgsiError` lists them all.

    ``bounds``: (west, south, east, north) of the city's light points; a point outside it
    (by more than `BOUNDS_MARGIN_DEG`) is refused, and said to be swapped if (lat, lon) fits.
    Columns: lamp_id, status, power_w (or NA), mounting_height_m (or NaN), cabinet_id (or
    None), technology (or None), geometry (EPSG:4326).
    """
    rows = read_each(entities, source, lambda entity: _streetlight(entity, bounds), "lamp_id")
    lights = points_frame(rows, ["lamp_id", "status", "power_w", "mounting_height_m",
                                 "cabinet_id", "technology"])  # fmt: skip
    lights["power_w"] = lights["power_w"].astype("Int32")
    lights["mounting_height_m"] = lights["mounting_height_m"].astype(float)
    return lights


def points_frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    """Read entities' ``columns`` with their ``lon``/``lat`` as Points (EPSG:4326)."""
    frame = pd.DataFrame(rows, columns=[*columns, "lon", "lat"])
    geometry = shapely.points(frame.pop("lon").to_numpy(float), frame.pop("lat").to_numpy(float))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def ref_id(value, kind: str) -> str | None:
    """The local id in ``value`` if it is ``urn:ngsi-ld:<kind>:<id>``, else None."""
    match = _id_pattern(kind).match(value) if isinstance(value, str) else None
    return match[1] if match else None


def kind_and_id(entity: dict, kind: str) -> tuple[str | None, list[str]]:
    """An entity's local id if its type is ``kind`` and its id that type's URN; else why not."""
    if entity.get("type") != kind:
        return None, [f"type: {str(entity.get('type'))[:40]!r}, not {kind!r}"]
    local = ref_id(entity.get("id"), kind)
    if local is None:
        return None, [f"id: not urn:ngsi-ld:{kind}:<id> (letters, digits, . _ : -)"]
    return local, []


def located(entity: dict, kind: str, bounds: tuple) -> tuple[str | None, tuple | None, list[str]]:
    """An entity's local id (`kind_and_id`) and its Point in the city (`point_of`), and why not.

    Without a good type and id, nothing else of the entity is read.
    """
    local, errors = kind_and_id(entity, kind)
    if local is None:
        return None, None, errors
    return local, point_of(plain(entity, "location"), bounds, errors), errors


@functools.cache
def _id_pattern(kind: str) -> re.Pattern:
    return re.compile(rf"^urn:ngsi-ld:{re.escape(kind)}:({LOCAL_ID})$")


def _streetlight(entity: dict, bounds: tuple) -> tuple[dict | None, list[str]]:
    lamp_id, lon_lat, errors = located(entity, "Streetlight", bounds)
    if lamp_id is None:
        return None, errors
    status = plain(entity, "status")
    if status not in STATUS:
        errors.append(f"status: {_shown(status)} is not one of {', '.join(STATUS)}")
    power = _number(entity, "powerRating", 0, 2_000, errors, unit="W")
    if power is not None:  # the twin keeps whole watts
        if round(power) == 0:
            errors.append(f"powerRating: {power:g} W rounds to 0 W; a light draws 1 W or more")
        power = round(power) or None
    height = _number(entity, "lanternHeight", 0, 40, errors, unit="m")
    if height is None and "laternHeight" in entity:  # the models' older spelling
        height = _number(entity, "laternHeight", 0, 40, errors, unit="m")
    cabinet = plain(entity, "refStreetlightControlCabinet")
    cabinet_id = None if cabinet is None else ref_id(cabinet, "StreetlightControlCabinet")
    if cabinet is not None and cabinet_id is None:
        errors.append(
            "refStreetlightControlCabinet: not urn:ngsi-ld:StreetlightControlCabinet:<id>"
        )
    technology = _technology(entity, errors)
    if errors or lon_lat is None:
        return None, errors
    return {"lamp_id": lamp_id, "status": status, "power_w": power, "mounting_height_m": height,
            "cabinet_id": cabinet_id, "technology": technology, "lon": lon_lat[0],
            "lat": lon_lat[1]}, []  # fmt: skip


def _technology(entity: dict, errors: list[str]) -> str | None:
    """The lamp technology, or None.

    ``lampTechnology`` (the StreetlightModel's attribute, given inline), else the first word of
    the ``description`` this twin writes ("LED 70 W").
    """
    given = plain(entity, "lampTechnology")
    if given is not None:
        if given not in TECHNOLOGIES:
            errors.append(
                f"lampTechnology: {_shown(given)} is not one of {', '.join(TECHNOLOGIES)}"
            )
        return given
    description = plain(entity, "description")
    word = description.split(" ", 1)[0] if isinstance(description, str) else None
    return word if word in TECHNOLOGIES else None


def point_of(value, bounds: tuple, errors: list[str]) -> tuple[float, float] | None:
    """(lon, lat) of a GeoJSON Point inside ``bounds``, else None with the problem in ``errors``."""
    if not isinstance(value, dict) or value.get("type") != "Point":
        errors.append("location: not a GeoJSON Point")
        return None
    coords = value.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
        or not all(math.isfinite(c) for c in coords)
    ):
        errors.append(f"location: coordinates {_shown(coords)} are not [longitude, latitude]")
        return None
    lon, lat = float(coords[0]), float(coords[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors.append(f"location: ({lon:g}, {lat:g}) is not a longitude and latitude")
        return None
    margin = BOUNDS_MARGIN_DEG
    west, south, east, north = (
        bounds[0] - margin,
        bounds[1] - margin,
        bounds[2] + margin,
        bounds[3] + margin,
    )
    if not (west <= lon <= east and south <= lat <= north):
        swapped = west <= lat <= east and south <= lon <= north
        hint = "; latitude and longitude look swapped" if swapped else ""
        errors.append(f"location: ({lon:g}, {lat:g}) is outside the city{hint}")
        return None
    return lon, lat


def _number(entity: dict, name: str, low: float, high: float, errors: list[str], *, unit: str):
    value = plain(entity, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(f"{name}: {_shown(value)} is not a number")
        return None
    if not low < value <= high:
        errors.append(f"{name}: {value:g} {unit} is outside {low:g}-{high:g} {unit}")
        return None
    return value


def _shown(value) -> str:
    return repr(value)[:40]


def import_streetlights(path: str | Path, bounds: tuple, store: str | Path) -> gpd.GeoDataFrame:
    """Read, check and store the Streetlight entities of ``path`` as GeoParquet at ``store``.

    All or nothing: any problem raises `NgsiError` (naming file, entity, field) and ``store``
    keeps what it held.
    """
    lights = read_streetlights(load_entities(path), str(path), bounds)
    write_geoparquet(lights, store)
    return lights

"""Details of one map feature, looked up in the `City` by id, with units, for the side panel.

Pure lookups: the browser only says which feature was clicked; values come from the bundle.
"""

from __future__ import annotations

import math

import numpy as np

from data.city import City
from data.errors import LayerSpecError
from data.lighting.lamp_day import LAMP_STATES, LampDay
from layers.catalog import LAYERS  # the catalogue's entries own their details


def _details() -> tuple[dict, dict]:
    fields = {e.id: (e.details.id_column, list(e.details.fields)) for e in LAYERS if e.details}
    of = {e.id: e.details_of for e in LAYERS if e.details_of}
    return fields, of


# layer -> (id column, [(column, label, unit)]), and the layers whose features are details of
# another's (a circuit span belongs to its cabinet, a fault marker is a lamp): from the catalogue.
DETAIL_FIELDS, DETAILS_OF = _details()


def details_layer(layer_id: str) -> str:
    """The layer whose details a click on ``layer_id`` shows."""
    return DETAILS_OF.get(layer_id, layer_id)


def feature_details(city: City, layer_id: str, feature_id: str) -> list[tuple[str, str]]:
    """(label, formatted value with unit) rows describing one feature.

    Raises
    ------
    LayerSpecError
        If the layer has no details or no feature has ``feature_id``.
    """
    layer_id = details_layer(layer_id)
    if layer_id not in DETAIL_FIELDS:
        raise LayerSpecError(f"no details for layer {layer_id!r}")
    id_column, fields = DETAIL_FIELDS[layer_id]
    frame = city.layer(layer_id)
    matches = frame.index[frame[id_column] == feature_id]
    if len(matches) == 0:
        raise LayerSpecError(f"layer {layer_id!r} has no feature with {id_column} {feature_id!r}")
    row = frame.loc[matches[0]]
    rows = [
        (label, _with_name(city, column, _format(row[column], unit)))
        for column, label, unit in fields
        if column in row
    ]
    if layer_id == "districts":
        rows.insert(6, ("Density", _format(row["population"] / row["area_km2"], "inh./km²")))
    return rows


def _with_name(city: City, column: str, text: str) -> str:
    """Append the human name to a road or district id (``R000123`` -> ``Rue 12 (R000123)``)."""
    lookups = {"road_id": (city.roads, "road_id"), "district_id": (city.districts, "district_id")}
    if column not in lookups or not text:
        return text
    frame, key = lookups[column]
    names = frame.loc[frame[key] == text, "name"]
    return f"{names.iloc[0]} ({text})" if len(names) and names.iloc[0] else text


def _format(value: object, unit: str) -> str:
    if value is None or value is np.nan or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        number = float(value)
        text = f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.1f}"
    elif isinstance(value, int | np.integer):
        text = f"{int(value):,}" if unit else str(int(value))
    else:
        text = str(value)
    return f"{text} {unit}".strip()


LAMP_STATE_TEXT = {
    "ok": "working as metered",
    "out": "OUT while dark",
    "day-burner": "LIT IN DAYLIGHT (day-burner)",
}


def lamp_day_rows(city: City, day: LampDay, lamp_id: str) -> list[tuple[str, str]]:
    """The lamp card's rows from the telemetry ``day``: age, state, energy, fault hours."""
    row = day.of(lamp_id)
    year = int(day.day[:4])
    installed = int(city.lamps["install_year"].iloc[row])
    return [
        ("Age", _format(year - installed, "years")),
        (f"State on {day.day}", LAMP_STATE_TEXT[LAMP_STATES[int(day.state[row])]]),
        ("Energy that day", f"{float(day.energy_kwh[row]):.2f} kWh"),
        ("Dark but off", _format(float(day.hours_out[row]), "h")),
        ("Lit in daylight", _format(float(day.hours_lit_by_day[row]), "h")),
    ]


def packed_field_details(manifest: dict, blob: bytes, feature_id: str) -> list[tuple[str, str]]:
    """Rows of one feature read from a packed layer's own fields (layers with no bundle file).

    Field names carry their unit as a suffix (``_m``, ``_ls``, ``_pct``...), shown as such.
    """
    from layers.codec import decode_field

    fields = manifest.get("fields", {})
    id_field = manifest.get("idField", "")
    if id_field not in fields:
        raise LayerSpecError(f"layer {manifest.get('id')!r} has no id field to look up")
    ids = decode_field(fields[id_field], blob)
    try:
        row = ids.index(feature_id)
    except ValueError:
        raise LayerSpecError(
            f"layer {manifest.get('id')!r} has no feature with {id_field} {feature_id!r}"
        ) from None
    rows = []
    for name, descriptor in fields.items():
        value = decode_field(descriptor, blob)[row]
        label, unit = _label_unit(name)
        text = f"{value:,.4g}" if isinstance(value, float) else str(value)
        rows.append((label, f"{text} {unit}".strip()))
    return rows


_UNIT_SUFFIXES = {
    "_mm": "mm", "_m": "m", "_km": "km", "_ls": "L/s", "_ms": "m/s", "_m3h": "m³/h",
    "_m3_day": "m³/day", "_m3h_km": "m³/h/km", "_pct": "%", "_kw": "kW", "_kva": "kVA",
}  # fmt: skip


def _label_unit(name: str) -> tuple[str, str]:
    for suffix in sorted(_UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)].replace("_", " ").capitalize(), _UNIT_SUFFIXES[suffix]
    return name.replace("_", " ").capitalize(), ""

"""Observations as NGSI-LD entities (TrafficFlowObserved, WaterObserved), to and from telemetry.

An entity ``urn:ngsi-ld:<Type>:<sensor id>`` is one of the twin's sensors:
``TrafficFlowObserved:<road_id>``, a road's counter, whose ``intensity`` (vehicles in the
observed period) and ``averageVehicleSpeed`` (km/h) are its ``vehicles`` and ``speed_kmh``
readings; ``WaterObserved:DMA-<cell>``, a district meter, whose ``flow`` (m3/h, unitCode MQH)
is its ``flow_m3h``. Readings enter the store through `data.telemetry.ingest.ReadingStore`, checked
whole and written atomically. No network here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
from pathlib import Path

import pandas as pd
import shapely

from data.city import City
from data.city.clock import local_time
from data.interop.ngsi_ld import LOCAL_ID, NgsiError, make_entity, plain, refuse, urn
from data.telemetry.ingest import ReadingStore
from data.telemetry.sensors import VARIABLES, Sensors
from data.telemetry.synthetic import DEFAULT_STEP

KIND = "TrafficFlowObserved"
TRAFFIC_CONTEXT = "https://smart-data-models.github.io/dataModel.Transportation/context.jsonld"
WATER_CONTEXT = "https://smart-data-models.github.io/dataModel.Environment/context.jsonld"
# entity type -> (sensor fleet, attribute -> the twin's variable, the attributes that are counts)
OBSERVED = {
    "TrafficFlowObserved": ("road", {"intensity": "vehicles", "averageVehicleSpeed": "speed_kmh"},
                            {"intensity"}),
    "WaterObserved": ("water", {"flow": "flow_m3h"}, set()),
}  # fmt: skip
UNIT_CODES = {"flow": "MQH", "averageVehicleSpeed": "KMH"}  # UN/CEFACT: m3/h, km/h
VARIABLE_OF = {a: v for _, attrs, _ in OBSERVED.values() for a, v in attrs.items()}
STEP = pd.Timedelta(DEFAULT_STEP)  # the telemetry's step: a period's count is spread over its steps
MAX_STEPS = 96 * 7  # a week of steps: longer periods are not counter readings
ENTITY_ID = re.compile(rf"^urn:ngsi-ld:({'|'.join(OBSERVED)}):({LOCAL_ID})$")


def traffic_flow_entities(
    city: City, baseline: pd.DataFrame, start: dt.datetime, form: str = "normalized"
) -> list[dict]:
    """One hour of a traffic day as TrafficFlowObserved entities, one per road with traffic.

    ``baseline``: road_id, hour (local), flow_veh_h, speed_kmh; ``start``: the hour's UTC start
    (its local hour picks the rows).
    """
    if start.tzinfo is None:
        raise NgsiError("start must be a UTC time")
    local = local_time(city, pd.Timestamp(start).tz_convert(None))
    rows = baseline[(baseline["hour"] == local.hour) & (baseline["flow_veh_h"] > 0)]
    roads = city.roads.set_index("road_id").geometry
    period = f"{_iso(start)}/{_iso(start + dt.timedelta(hours=1))}"
    entities = []
    for row in rows.itertuples(index=False):
        line = roads.get(row.road_id)
        attrs = {
            "dateObserved": period,
            "intensity": round(float(row.flow_veh_h), 1),
            "averageVehicleSpeed": round(float(row.speed_kmh), 1),
            "refRoadSegment": ("Relationship", urn("RoadSegment", row.road_id)),
        }
        if line is not None:
            coords = [[round(x, 6), round(y, 6)] for x, y in shapely.get_coordinates(line)]
            attrs["location"] = {"type": "LineString", "coordinates": coords}
        entities.append(make_entity(urn(KIND, row.road_id), KIND, attrs, form,
                                    [TRAFFIC_CONTEXT], UNIT_CODES))  # fmt: skip
    return entities


def observations(entities: list[dict], source: str) -> pd.DataFrame:
    """(entity_id, attribute, observed_at, value) of TrafficFlowObserved or WaterObserved entities.

    Each is read at its ``dateObserved`` (an instant, or the start of a ``start/end`` period):
    the table `data.interop.broker.Broker.temporal` returns too. Problems name the entity.
    """
    rows, problems = [], []
    for k, entity in enumerate(entities):
        where = f"{source}: entity [{k}] {str(entity.get('id'))[:80]}"
        kind = entity.get("type")
        if not isinstance(kind, str) or kind not in OBSERVED:
            problems.append(f"{where}: type: {str(kind)[:40]!r}, not one of {', '.join(OBSERVED)}")
            continue
        _, attributes, counts = OBSERVED[kind]
        when = _observed_at(plain(entity, "dateObserved"))
        if when is None:
            problems.append(f"{where}: dateObserved: {str(plain(entity, 'dateObserved'))[:60]!r} "
                            "is not a UTC time or a start/end period of up to a week")  # fmt: skip
            continue
        start, steps = when
        found = False
        for attribute in attributes:
            value = plain(entity, attribute)
            if value is None:
                continue
            found = True
            if attribute in counts and _number(value) and value >= 0:  # spread the count
                value = value / steps
            for k in range(steps):
                rows.append((entity["id"], attribute, start + k * STEP, value))
        if not found:
            problems.append(f"{where}: none of {', '.join(attributes)}")
    refuse(problems)
    table = pd.DataFrame(rows, columns=["entity_id", "attribute", "observed_at", "value"])
    table["observed_at"] = pd.to_datetime(table["observed_at"], utc=True)
    return table


def readings_of(table: pd.DataFrame, sensors: Sensors, source: str) -> pd.DataFrame:
    """The readings (timestamp, variable, value, sensor_id) of an observations table.

    Every row is checked: the entity must be a sensor the city has, of the type's fleet (a
    road's counter, a district meter), the value a number within the variable's valid range.
    `NgsiError` lists every problem.
    """
    fleets = sensors.table.groupby("kind")["sensor_id"].agg(set)
    rows, problems = [], []
    for k, (entity_id, attribute, moment, value) in enumerate(table.itertuples(index=False)):
        where = f"{source}: observation [{k}] {str(entity_id)[:80]} {attribute}"
        match = ENTITY_ID.match(str(entity_id))
        if match is None:
            problems.append(f"{where}: not urn:ngsi-ld:<{' or '.join(OBSERVED)}>:<sensor id>")
            continue
        kind, sensor = match[1], match[2]
        fleet, attributes, _ = OBSERVED[kind]
        if sensor not in fleets.get(fleet, set()):
            what = "road" if fleet == "road" else "district meter"
            problems.append(f"{where}: the city has no {what} {sensor!r}")
            continue
        variable = attributes.get(attribute)
        if variable is None:
            problems.append(f"{where}: attribute {attribute!r} is not one the twin reads")
            continue
        spec = VARIABLES[variable]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            problems.append(f"{where}: {str(value)[:30]!r} is not a number")
            continue
        if not spec.valid_min <= value <= spec.valid_max:
            problems.append(f"{where}: {value:g} is outside {spec.valid_min:g}-{spec.valid_max:g} "
                            f"{spec.units}")  # fmt: skip
            continue
        rows.append((moment, variable, float(value), sensor))
    refuse(problems)
    readings = pd.DataFrame(rows, columns=["timestamp", "variable", "value", "sensor_id"])
    readings["timestamp"] = pd.to_datetime(readings["timestamp"], utc=True)
    return readings


def latest_observation_entities(
    readings: pd.DataFrame, sensors: Sensors, form: str = "normalized"
) -> list[dict]:
    """Each road counter's and district meter's latest readings as an observation entity.

    ``readings``: timestamp (UTC), variable, value, sensor_id (`Readings.to_frame`). An entity
    is observed over the telemetry step that starts at its latest timestamp.
    """
    where = sensors.table.set_index("sensor_id")
    entities = []
    for kind, (fleet, attributes, _) in OBSERVED.items():
        names = {variable: attribute for attribute, variable in attributes.items()}
        mine = readings[readings["variable"].isin(names) & readings["sensor_id"].isin(
            where.index[where["kind"] == fleet])]  # fmt: skip
        mine = mine.dropna(subset=["value"])  # no vehicle, no speed: nothing to say
        if mine.empty:
            continue
        by = ["sensor_id", "variable"]
        latest = mine.loc[mine.groupby(by, observed=True)["timestamp"].idxmax()]
        for sensor, rows in latest.groupby("sensor_id", observed=True):
            start = pd.Timestamp(rows["timestamp"].max()).tz_convert("UTC")
            attrs: dict = {
                "dateObserved": f"{_iso(start)}/{_iso(start + STEP)}",
                "location": {"type": "Point", "coordinates": [
                    round(float(where.at[sensor, "lon"]), 7),
                    round(float(where.at[sensor, "lat"]), 7)]},
            }  # fmt: skip
            for row in rows.itertuples(index=False):
                attrs[names[row.variable]] = round(float(row.value), 3)
            context = TRAFFIC_CONTEXT if kind == KIND else WATER_CONTEXT
            entities.append(make_entity(urn(kind, sensor), kind, attrs, form, [context],
                                        UNIT_CODES))  # fmt: skip
    return entities


def ingest_observations(table: pd.DataFrame, store: ReadingStore, source: str) -> int:
    """Check an observations table and add its readings to ``store``; all or nothing.

    Returns the number of readings stored.
    """
    readings = readings_of(table, store.sensors, source)
    if readings.empty:
        raise NgsiError(f"{source}: no observation to store")
    with tempfile.TemporaryDirectory(prefix="madina-ngsi-") as tmp:
        path = Path(tmp) / "observations.csv"
        readings.assign(timestamp=readings["timestamp"].map(lambda t: t.isoformat())).to_csv(
            path, index=False
        )
        return store.ingest(path)


def _observed_at(value) -> tuple[pd.Timestamp, int] | None:
    """(UTC start, number of telemetry steps) of an instant or a ``start/end`` period."""
    if not isinstance(value, str) or len(value) > 80:
        return None
    parts = value.split("/")
    try:
        moments = [pd.Timestamp(p) for p in parts]
    except ValueError:
        return None
    if len(parts) > 2 or any(pd.isna(m) or m.tzinfo is None for m in moments):
        return None
    start = moments[0].tz_convert("UTC")
    if len(moments) == 1:
        return start, 1
    steps = round((moments[1] - moments[0]) / STEP)
    return (start, steps) if 1 <= steps <= MAX_STEPS else None


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

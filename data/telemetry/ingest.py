"""Readings from files a utility would export (CSV or Parquet), validated whole before use.

A file is a long table: ``timestamp``, ``variable``, ``value``, optionally ``unit``, and either
``sensor_id`` or ``lon``/``lat`` (a reading by position goes to the nearest sensor of the
variable's fleet within `MAX_SNAP_M`). Every problem is reported with its row number (1 is the
first row after the header) and the file is rejected whole: a store only ever receives files
that passed (`ReadingStore.ingest`), written atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from data.errors import IngestError
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import VARIABLES, Sensors

MAX_SNAP_M = 50.0  # a reading by position must lie this close to a sensor of its fleet
SUFFIXES = (".csv", ".parquet")
METRES_PER_DEGREE = 111_320.0


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise IngestError(path, [(0, f"file not found: {path}")])
    if path.suffix.lower() not in SUFFIXES:
        raise IngestError(path, [(0, f"unsupported file type {path.suffix!r}; use CSV or Parquet")])
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        return pd.read_parquet(path)
    except Exception as err:  # parsers raise many types on a corrupt file
        raise IngestError(path, [(0, f"not a readable {path.suffix[1:]} file: {err}")]) from err


def read_readings(path: Path, sensors: Sensors) -> Readings:
    """Parse and validate a readings file; raise `IngestError` listing every bad row."""
    path = Path(path)
    table = _read_table(path)
    problems: list[tuple[int, str]] = []
    by_position = "sensor_id" not in table and {"lon", "lat"} <= set(table.columns)
    required = ["timestamp", "variable", "value"] + ([] if by_position else ["sensor_id"])
    missing = [c for c in required if c not in table]
    if missing:
        raise IngestError(path, [(0, f"missing column(s) {', '.join(missing)}")])
    rows = np.arange(1, len(table) + 1)

    def flag(mask: np.ndarray, message) -> None:
        for row, text in zip(rows[mask], message(mask), strict=True):
            problems.append((int(row), text))

    raw_time = table["timestamp"]
    time = pd.to_datetime(raw_time, errors="coerce", utc=True, format="ISO8601")
    flag(time.isna().to_numpy(), lambda m: [f"bad timestamp {v!r}" for v in raw_time[m]])

    variable = table["variable"].astype(str)
    code = pd.Index(VARIABLE_NAMES).get_indexer(variable)
    flag(code < 0, lambda m: [f"unknown variable {v!r}" for v in variable[m]])

    raw_value = table["value"]
    value = pd.to_numeric(raw_value, errors="coerce").to_numpy(float)
    flag(np.isnan(value), lambda m: [f"value {v!r} is not a number" for v in raw_value[m]])

    known = code >= 0
    spec = [VARIABLES[VARIABLE_NAMES[c]] if c >= 0 else None for c in code]
    if "unit" in table:
        unit = table["unit"].astype(str).to_numpy()
        expected = np.array([s.units if s else "" for s in spec], dtype=object)
        flag(
            known & (unit != expected),
            lambda m: [
                f"unit {u!r}, expected {e!r}" for u, e in zip(unit[m], expected[m], strict=True)
            ],
        )
    low = np.array([s.valid_min if s else -np.inf for s in spec])
    high = np.array([s.valid_max if s else np.inf for s in spec])
    flag(
        known & ~np.isnan(value) & ((value < low) | (value > high)),
        lambda m: [
            f"{VARIABLE_NAMES[c]} {v:g} outside {lo:g}..{hi:g}"
            for c, v, lo, hi in zip(code[m], value[m], low[m], high[m], strict=True)
        ],
    )

    kinds = np.array([s.kind if s else "" for s in spec], dtype=object)
    if by_position:
        sensor = _nearest_sensor(table, kinds, sensors, flag)
    else:
        ids = table["sensor_id"].astype(str)
        sensor = sensors.codes.get_indexer(ids)
        flag(sensor < 0, lambda m: [f"unknown sensor {v!r}" for v in ids[m]])
        fleet = sensors.table["kind"].to_numpy()[np.maximum(sensor, 0)]
        flag(
            (sensor >= 0) & known & (fleet != kinds),
            lambda m: [
                f"sensor {i!r} is a {f} sensor and does not measure {VARIABLE_NAMES[c]}"
                for i, f, c in zip(ids[m], fleet[m], code[m], strict=True)
            ],
        )
    if problems:
        raise IngestError(path, sorted(problems))
    return Readings(
        sensor=sensor.astype(np.int32),
        time=time.dt.tz_convert(None).to_numpy().astype("datetime64[ns]"),
        variable=code.astype(np.int8),
        value=value.astype(np.float32),
    )


def _nearest_sensor(table, kinds, sensors: Sensors, flag) -> np.ndarray:
    """Registry row of the nearest sensor of each reading's fleet (-1 if none near enough)."""
    lon = pd.to_numeric(table["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(table["lat"], errors="coerce").to_numpy(float)
    bad = np.isnan(lon) | np.isnan(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    flag(bad, lambda m: ["lon/lat missing or out of range" for _ in range(m.sum())])
    sensor = np.full(len(table), -1)
    scale = np.cos(np.radians(np.nanmean(sensors.table["lat"])))
    for kind in np.unique(kinds[kinds != ""]):
        rows = sensors.of_kind(kind)
        fleet = sensors.table.iloc[rows]
        tree = shapely.STRtree(shapely.points(fleet["lon"] * scale, fleet["lat"]))
        mine = np.flatnonzero((kinds == kind) & ~bad)
        points = shapely.points(lon[mine] * scale, lat[mine])
        (reading, nearest), distance = tree.query_nearest(points, return_distance=True)
        ok = distance * METRES_PER_DEGREE <= MAX_SNAP_M
        sensor[mine[reading[ok]]] = rows[nearest[ok]]
        far = np.zeros(len(table), bool)
        far[mine[reading[~ok]]] = True
        flag(far, lambda m, k=kind: [f"no {k} sensor within {MAX_SNAP_M:g} m"] * int(m.sum()))
    return sensor


class ReadingStore:
    """Accepted readings, one Parquet part per accepted file, under ``folder``.

    Parts are written to a temporary file and renamed into place, so a crash or a rejected
    file never leaves a partial part behind and earlier parts are never touched.
    """

    def __init__(self, folder: Path, sensors: Sensors):
        self.folder, self.sensors = Path(folder), sensors
        self.folder.mkdir(parents=True, exist_ok=True)

    def parts(self) -> list[Path]:
        """The accepted parts, oldest first."""
        return sorted(self.folder.glob("part-*.parquet"))

    def ingest(self, path: Path) -> int:
        """Validate ``path`` whole, then store it; returns the number of readings stored."""
        readings = read_readings(path, self.sensors)
        frame = readings.to_frame(self.sensors)
        target = self.folder / f"part-{len(self.parts()) + 1:06d}.parquet"
        handle, staging = tempfile.mkstemp(dir=self.folder, prefix=".incoming-", suffix=".parquet")
        os.close(handle)
        try:
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), staging)
            os.replace(staging, target)
        finally:
            if os.path.exists(staging):
                os.remove(staging)
        return len(readings)

    def readings(self) -> Readings:
        """Everything stored so far, as one batch."""
        parts = [read_readings(p, self.sensors) for p in self.parts()]
        if not parts:
            return Readings(
                *(np.empty(0, t) for t in (np.int32, "datetime64[ns]", np.int8, np.float32))
            )
        return Readings.concat(parts)

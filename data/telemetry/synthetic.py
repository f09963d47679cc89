"""Realistic, seeded telemetry for a city's sensors over any period (a week, a year).

Readings come in chunks of at most `CHUNK_READINGS` so a year of 200,000 sensors streams in
bounded memory. A chunk depends only on (seed, period, chunk bounds): chunks can be made on
different machines (Dask workers) and still repeat exactly.

Each fleet's readings are drawn by its own generator (`data.telemetry.fleet.Fleet.synthetic`,
in its domain), whose constants say where they come from; "assumption" marks an estimate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.city.constants import SEED
from data.telemetry.fleets import FLEET_OF, KINDS
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import sensors_for

CHUNK_READINGS = 4_000_000  # readings per chunk (about 70 MB of columns)
DEFAULT_STEP = "15min"


@dataclass(frozen=True)
class Period:
    """Reading times: ``start`` (inclusive) to ``end`` (exclusive) every ``step``."""

    start: pd.Timestamp
    end: pd.Timestamp
    step: pd.Timedelta

    @staticmethod
    def of(start, end, step=DEFAULT_STEP) -> Period:
        """Validated period; timestamps with a time zone are converted to naive UTC."""
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        start = start.tz_convert(None) if start.tzinfo else start
        end = end.tz_convert(None) if end.tzinfo else end
        step = pd.Timedelta(step)
        if end <= start:
            raise ValueError(f"period end {end} must be after its start {start}")
        if step <= pd.Timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        return Period(start, end, step)

    @property
    def times(self) -> np.ndarray:
        """Reading times (datetime64[ns], UTC)."""
        return pd.date_range(self.start, self.end, freq=self.step, inclusive="left").to_numpy()

    @property
    def hours(self) -> float:
        """Length of the period in hours."""
        return (self.end - self.start) / pd.Timedelta(hours=1)


def generate(
    city: str,
    period: Period,
    *,
    kinds: tuple[str, ...] = KINDS,
    seed: int = SEED,
    sensors: np.ndarray | None = None,
) -> Iterator[Readings]:
    """Yield the readings of ``city``'s sensors over ``period`` in bounded chunks.

    ``sensors`` (registry rows) limits the fleet, e.g. to one district's lamps.
    """
    for task in chunk_tasks(city, period, kinds=kinds, seed=seed, sensors=sensors):
        yield make_chunk(*task)


def chunk_tasks(city, period, *, kinds=KINDS, seed=SEED, sensors=None) -> list[tuple]:
    """The chunks of a generation as picklable tasks: ``make_chunk(*task)`` makes one."""
    registry = sensors_for(city)
    times = period.times
    tasks = []
    for kind in kinds:
        rows = registry.of_kind(kind)
        if sensors is not None:
            rows = np.intersect1d(rows, sensors)
        if len(rows) == 0:
            continue
        n_vars = len(FLEET_OF[kind].variables)
        per_chunk = max(1, CHUNK_READINGS // (len(rows) * n_vars))
        for first in range(0, len(times), per_chunk):
            tasks.append(
                (city, period, kind, rows, first, min(first + per_chunk, len(times)), seed)
            )
    return tasks


def make_chunk(city, period, kind, rows, first, last, seed) -> Readings:
    """Readings of fleet ``kind`` (registry ``rows``) at ``period.times[first:last]``."""
    times = period.times[first:last]
    fleet = FLEET_OF[kind]
    positions = np.searchsorted(sensors_for(city).of_kind(kind), rows)  # rows of the fleet's
    values = fleet.synthetic(city, period, positions, times, first, seed)  # {variable: (T, N)}
    n_t, n_s = len(times), len(rows)
    parts = []
    for name, matrix in values.items():
        parts.append(
            Readings(
                sensor=np.tile(rows.astype(np.int32), n_t),
                time=np.repeat(times, n_s),
                variable=np.full(n_t * n_s, VARIABLE_NAMES.index(name), np.int8),
                value=matrix.astype(np.float32).ravel(),
            )
        )
    return Readings.concat(parts)

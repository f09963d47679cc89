"""The city's sensors and what they measure: the registry telemetry is checked against.

The fleets of `data.telemetry.fleets`, all derived from the city bundle: today the lamps'
meters (`data.lighting.meters`), the road counters (`data.traffic.counters`) and the water
district meters (`data.water.meters`).

Every sensor carries its H3 cell at `BASE_RES`; coarser cells come by roll-up
(`data.telemetry.cube`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.city import load_city
from data.city.grid import cells_of
from data.telemetry.fleet import Variable
from data.telemetry.fleets import FLEETS, KINDS, VARIABLES

__all__ = ["KINDS", "VARIABLES", "Sensors", "Variable", "point_sensors", "sensors_for"]

REPEAT_SAMPLE = 100_000  # positions sampled to tell fixed meters from moving probes
# Above this share of distinct positions in a random sample, skip dedup: sampling 100,000
# rows from D distinct positions yields ~90% distinct only once D exceeds ~500,000, and then
# dedup (pandas hashing, ~0.3 us/row) saves little over indexing every row (~0.3 us/row).
MOSTLY_DISTINCT = 0.9


@dataclass(frozen=True)
class Sensors:
    """The sensor registry of one city, one row per sensor (positions in degrees)."""

    city: str
    table: pd.DataFrame = field(repr=False)  # sensor_id, kind, lon, lat, cell (uint64, BASE_RES)

    def __len__(self) -> int:
        return len(self.table)

    @functools.cached_property
    def codes(self) -> pd.Index:
        """Position of each sensor id in the table (for id -> row lookups)."""
        return pd.Index(self.table["sensor_id"])

    def of_kind(self, kind: str) -> np.ndarray:
        """Row numbers of the sensors of one fleet."""
        return np.flatnonzero(self.table["kind"].to_numpy() == kind)


def point_sensors(city: str, kind: str, lon, lat) -> tuple[Sensors, np.ndarray]:
    """A registry of the distinct positions in coordinate columns, and each row's sensor.

    For readings located by position rather than by a registered sensor id (e.g. a survey
    or vehicle probes): each distinct (lon, lat) becomes one sensor, so a fixed meter
    reporting a million times is indexed to its H3 cell once. When a sample shows that
    positions hardly repeat (probes), every row is its own sensor: finding the distinct ones
    would cost more than indexing them all. Ids are row numbers of the registry.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    pairs = np.stack([lon, lat], axis=1).view(np.complex128).ravel()
    rng = np.random.default_rng(0)
    picks = rng.choice(len(pairs), min(len(pairs), REPEAT_SAMPLE), replace=False)
    sample = pairs[picks]  # random, not strided: readings are often ordered by time then meter
    if len(sample) and len(pd.unique(sample)) > len(sample) * MOSTLY_DISTINCT:
        rows, unique = np.arange(len(pairs)), pairs
    else:
        rows, unique = pd.factorize(pairs)
    table = pd.DataFrame({"sensor_id": np.arange(len(unique)), "lon": unique.real})
    table["lat"] = unique.imag
    table["kind"] = pd.Categorical.from_codes(np.zeros(len(unique), np.int8), [kind])
    table["cell"] = cells_of(table["lon"].to_numpy(), table["lat"].to_numpy())
    return Sensors(city=city, table=table), rows.astype(np.int32)


@functools.lru_cache(maxsize=4)
def sensors_for(city_name: str) -> Sensors:
    """The registry of ``city_name``'s sensors, fleet after fleet (cached per process)."""
    city = load_city(city_name)
    frames = [fleet.sensors(city).assign(kind=fleet.kind) for fleet in FLEETS]
    table = pd.concat(frames, ignore_index=True)[["sensor_id", "kind", "lon", "lat"]]
    table["cell"] = cells_of(table["lon"].to_numpy(), table["lat"].to_numpy())
    return Sensors(city=city_name, table=table)

"""The city's sensors and what they measure: the registry telemetry is checked against.

Three fleets, all derived from the city bundle:

- ``lamp``: one smart meter per light point (id = lamp_id), reporting power and on/off state;
- ``road``: one counter per road segment (id = road_id), reporting vehicles and mean speed;
- ``water``: one district meter per water district-metered area (DMA, id ``DMA-<h3 cell>``, one
  per H3 resolution-7 cell holding lamps, i.e. built-up), reporting inflow and pressure.

Every sensor carries its H3 cell at `BASE_RES`; coarser cells come by roll-up
(`data.telemetry.cube`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import h3
import numpy as np
import pandas as pd

from data.city import City, load_city
from data.city.grid import cells_of

DMA_RES = 7  # a DMA per resolution-7 cell (~5 km2), the size of a typical urban DMA
REPEAT_SAMPLE = 100_000  # positions sampled to tell fixed meters from moving probes
# Above this share of distinct positions in a random sample, skip dedup: sampling 100,000
# rows from D distinct positions yields ~90% distinct only once D exceeds ~500,000, and then
# dedup (pandas hashing, ~0.3 us/row) saves little over indexing every row (~0.3 us/row).
MOSTLY_DISTINCT = 0.9


@dataclass(frozen=True)
class Variable:
    """One measured quantity: which fleet reports it, its unit and how it aggregates."""

    kind: str
    units: str
    long_name: str
    aggregation: str  # "mean" (rolled up weighted by counts) or "sum"
    valid_min: float
    valid_max: float


VARIABLES: dict[str, Variable] = {
    "power_w": Variable("lamp", "W", "electric power drawn by the light point", "mean", 0, 1000),
    "lamp_on": Variable("lamp", "1", "share of light points switched on", "mean", 0, 1),
    "vehicles": Variable("road", "vehicles", "vehicles counted", "sum", 0, 5000),
    "speed_kmh": Variable("road", "km h-1", "mean vehicle speed", "mean", 0, 200),
    "flow_m3h": Variable("water", "m3 h-1", "water inflow into the metered area", "mean", 0, 20000),
    "pressure_bar": Variable("water", "bar", "water pressure at the area inlet", "mean", 0, 16),
}
KINDS = ("lamp", "road", "water")


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


def dma_cells(city: City) -> np.ndarray:
    """Resolution-7 cells that hold light points: one water DMA each, sorted."""
    lamp_cells = cells_of(
        city.lamps.geometry.x.to_numpy(), city.lamps.geometry.y.to_numpy(), DMA_RES
    )
    return np.unique(lamp_cells)


@functools.lru_cache(maxsize=4)
def sensors_for(city_name: str) -> Sensors:
    """The registry of ``city_name``'s sensors (cached per process)."""
    city = load_city(city_name)
    lamps = city.lamps
    mid = city.roads.to_crs(city.crs_metric).geometry.interpolate(0.5, normalized=True)
    mid = mid.to_crs(4326)
    dmas = dma_cells(city)
    dma_centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in dmas]).reshape(-1, 2)
    frames = [
        pd.DataFrame(
            {
                "sensor_id": lamps["lamp_id"].to_numpy(),
                "kind": "lamp",
                "lon": lamps.geometry.x.to_numpy(),
                "lat": lamps.geometry.y.to_numpy(),
            }
        ),
        pd.DataFrame(
            {
                "sensor_id": city.roads["road_id"].to_numpy(),
                "kind": "road",
                "lon": mid.x.to_numpy(),
                "lat": mid.y.to_numpy(),
            }
        ),
        pd.DataFrame(
            {
                "sensor_id": [f"DMA-{h3.int_to_str(int(c))}" for c in dmas],
                "kind": "water",
                "lon": dma_centres[:, 1],
                "lat": dma_centres[:, 0],
            }
        ),
    ]
    table = pd.concat(frames, ignore_index=True)
    table["cell"] = cells_of(table["lon"].to_numpy(), table["lat"].to_numpy())
    return Sensors(city=city_name, table=table)

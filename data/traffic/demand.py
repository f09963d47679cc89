"""Daily car demand between zones: a gravity origin-destination matrix with a daily profile.

Zones are the H3 resolution-7 cells (~5 km²) that hold buildings (a town too small for
`MIN_ZONES` of them gets resolution 8 or 9 cells). Each zone's
- **production** (homes) is its census population: a district's people spread over its
  buildings by floor area (footprint x levels), or `FLOOR_M2_PER_PERSON` without a census;
- **attraction** (jobs, shops, schools) is floor area weighted by use, `JOB_WEIGHT`: towers
  are offices, apartment blocks carry shops and services on their lower floors, houses a
  little home-based work (assumption; the bundle has no land-use layer). The attraction is
  scaled to the city's population, so the two sides balance.

Trips: `CAR_TRIPS_PER_PERSON` vehicle trips per inhabitant per weekday, spread over the day by
the telemetry's weekday traffic profile (`data.traffic.physics.traffic_profile`: peaks at 08:30
and 18:30). Home-based trips go home -> work in the morning (`OUTBOUND_SHARE`) and back in the
evening; midday trips go both ways. Between zones i and j, trips are proportional to
P_i x A_j x exp(-`DISTANCE_DECAY_PER_KM` x d_ij) (a production-constrained gravity model,
d: straight distance between zone centres). Trips inside one zone use local streets and
are left out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import data.city
from data.city.grid import cells_of
from data.traffic.physics import traffic_profile

ZONE_RES = 7
MIN_ZONES = 10
# Districts without a census figure (OSM-built towns): one inhabitant per 35 m² of floor
# (assumption: European and Moroccan urban averages are 30-45 m² of dwelling per person).
FLOOR_M2_PER_PERSON = 35.0
# Assumption: Casablanca's household travel survey (PDU 2004, SDAU) gives ~2 trips per person
# per day, ~15% by private car at 1.3 occupants and ~6% by taxi: ~0.3 vehicle trips per person.
# Set to 0.24 by calibration: part of that traffic stays on the tertiary streets the engine does
# not carry, and with 0.3 the arterial skeleton gridlocks by 10:00 and never clears (measured);
# 0.24 gives a mean arterial speed of ~25 km/h over the day, 33-38 km/h link means at the peaks.
CAR_TRIPS_PER_PERSON = 0.24
JOB_WEIGHT = {
    "tower": 1.0, "apartment": 0.2, "villa": 0.05, "moroccan_house": 0.05,
    "traditional_house": 0.1, "slum": 0.02,
}  # fmt: skip
DISTANCE_DECAY_PER_KM = 0.12  # assumption: mean car trip ~8 km in a 25 km-wide city
# Share of each local hour's trips leaving home (the rest go home), by hour 0-23.
OUTBOUND_SHARE = np.array([
    0.3, 0.3, 0.3, 0.4, 0.6, 0.8, 0.85, 0.85, 0.8, 0.7, 0.6, 0.5,
    0.5, 0.45, 0.4, 0.35, 0.25, 0.2, 0.2, 0.25, 0.3, 0.3, 0.3, 0.3,
])  # fmt: skip


@dataclass(frozen=True)
class Demand:
    """Zones and hourly trip matrices.

    ``zones``: zone (H3 cell, uint64), lon, lat, population, jobs (scaled to population),
    res (the zones' H3 resolution).
    ``trips``: (24, Z, Z) vehicle trips leaving in each local hour between zones (float).
    """

    city: str
    zones: pd.DataFrame = field(repr=False)
    trips: np.ndarray = field(repr=False)

    @property
    def total(self) -> float:
        """Vehicle trips per day."""
        return float(self.trips.sum())


def demand(city: data.city.City) -> Demand:
    """The city's weekday demand (cached per bundle)."""
    return _cached(city.name, str(city.folder))


@functools.lru_cache(maxsize=4)
def _cached(name: str, bundle_dir: str) -> Demand:
    default = Path(bundle_dir) == data.city.bundle_dir(name)
    city = data.city.load_city(name, bundle_dir=None if default else Path(bundle_dir))
    zones = _zones(city)
    return Demand(city.name, zones, _trips(zones))


def _zones(city: data.city.City) -> pd.DataFrame:
    b = city.buildings
    metric = b.geometry.to_crs(city.crs_metric)
    floor = metric.area.to_numpy() * b["levels"].fillna(1).clip(lower=1).to_numpy()
    per_district = pd.Series(floor).groupby(b["district_id"].to_numpy()).transform("sum")
    pop = city.districts.set_index("district_id")["population"]
    census = pop.reindex(b["district_id"]).fillna(0).to_numpy()
    people = np.where(
        census > 0, floor / per_district.to_numpy() * census, floor / FLOOR_M2_PER_PERSON
    )
    jobs = floor * b["building_type"].map(JOB_WEIGHT).fillna(0.05).to_numpy()
    centroid = metric.centroid.to_crs(4326)
    for res in (ZONE_RES, ZONE_RES + 1, ZONE_RES + 2):
        cell = cells_of(centroid.x.to_numpy(), centroid.y.to_numpy(), res)
        if len(np.unique(cell)) >= MIN_ZONES:
            break
    frame = pd.DataFrame(
        {"zone": cell, "lon": centroid.x.to_numpy(), "lat": centroid.y.to_numpy(),
         "population": people, "jobs": jobs}
    )  # fmt: skip
    zones = frame.groupby("zone").agg(
        lon=("lon", "mean"), lat=("lat", "mean"), population=("population", "sum"),
        jobs=("jobs", "sum"),
    ).reset_index()  # fmt: skip
    zones["jobs"] *= zones["population"].sum() / zones["jobs"].sum()
    zones["res"] = res
    return zones


def _trips(zones: pd.DataFrame) -> np.ndarray:
    lat0 = np.radians(zones["lat"].mean())
    x = zones["lon"].to_numpy() * 111.32 * np.cos(lat0)
    y = zones["lat"].to_numpy() * 110.57
    dist_km = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    weight = zones["jobs"].to_numpy()[None, :] * np.exp(-DISTANCE_DECAY_PER_KM * dist_km)
    np.fill_diagonal(weight, 0)  # intra-zonal trips stay on local streets
    row = weight.sum(axis=1, keepdims=True)  # 0 for a zone alone in its city: no trips
    home_work = np.divide(weight, row, out=np.zeros_like(weight), where=row > 0)
    home_work *= zones["population"].to_numpy()[:, None]
    if home_work.sum() > 0:
        home_work /= home_work.sum()  # share of the day's trips between each pair, outbound
    profile = traffic_profile(np.arange(24) + 0.5, np.zeros(24, bool))
    per_hour = profile / profile.sum() * CAR_TRIPS_PER_PERSON * zones["population"].sum()
    out = OUTBOUND_SHARE[:, None, None]
    return per_hour[:, None, None] * (out * home_work + (1 - out) * home_work.T[None])

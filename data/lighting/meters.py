"""The lamps' smart meters: one per light point (id = lamp_id), reporting power and on/off state.

Simulated readings follow the lamps' physics (`data.lighting.physics`): lit from dusk to
dawn at their drawn power, with outages and day-burners as a city's fleet has them.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from data.city import City, load_city
from data.lighting.physics import dark, drawn_power_w
from data.telemetry.fleet import Fleet, Variable, active, fault_events, rng

POWER_NOISE = 0.02  # meter reading noise, relative
# Faults. Share of lamps out at any moment (assumption: performance contracts target 97-99%
# availability, so 2% out), mean time to repair 72 h. Day-burners (stuck on by day): 0.5%,
# found later because nobody reports them at night: mean 120 h.
OUTAGE_SHARE, OUTAGE_MEAN_H = 0.02, 72.0
STUCK_ON_SHARE, STUCK_ON_MEAN_H = 0.005, 120.0


def lamp_meters(city: City) -> pd.DataFrame:
    """One meter per light point, where the lamp stands."""
    lamps = city.lamps
    return pd.DataFrame(
        {
            "sensor_id": lamps["lamp_id"].to_numpy(),
            "lon": lamps.geometry.x.to_numpy(),
            "lat": lamps.geometry.y.to_numpy(),
        }
    )


@functools.lru_cache(maxsize=8)
def _faults(city: str, seed: int, period):
    lamps = load_city(city).lamps
    n = len(lamps)
    out = fault_events(n, period, OUTAGE_SHARE, OUTAGE_MEAN_H, seed, 1)
    stuck = fault_events(n, period, STUCK_ON_SHARE, STUCK_ON_MEAN_H, seed, 2)
    where = pd.DataFrame({"lat": lamps.geometry.y.to_numpy(), "lon": lamps.geometry.x.to_numpy()})
    lat, lon = where.mean()
    return n, drawn_power_w(lamps), out, stuck, (lat, lon)


def lamp_readings(city, period, positions, times, first, seed) -> dict[str, np.ndarray]:
    """Power and on/off of the meters at ``positions``: lit while dark, unless out or stuck on."""
    n, power, out_events, stuck_events, (lat, lon) = _faults(city, seed, period)
    lit = dark(lat, lon, times)[:, None]
    out = active(out_events, times, positions, n)
    stuck = active(stuck_events, times, positions, n)
    on = (lit & ~out) | (stuck & ~out)
    noise = 1 + POWER_NOISE * rng(seed, 3, first, len(positions)).standard_normal(on.shape)
    return {"power_w": on * power[positions] * noise, "lamp_on": on.astype(np.float32)}


LAMP_METERS = Fleet(
    kind="lamp",
    title="Light point meters",
    variables={
        "power_w": Variable(
            "lamp", "W", "electric power drawn by the light point", "mean", 0, 1000
        ),
        "lamp_on": Variable("lamp", "1", "share of light points switched on", "mean", 0, 1),
    },
    sensors=lamp_meters,
    synthetic=lamp_readings,
)

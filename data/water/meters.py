"""The water district meters: one per district-metered area (DMA), reporting inflow and pressure.

A DMA is an H3 resolution-7 cell holding light points, i.e. built-up (id ``DMA-<h3 cell>``),
its meter at the cell's centre. Simulated readings follow the water's physics
(`data.water.physics`): the served population's demand by hour, plus leaks that grow with
the pressure.
"""

from __future__ import annotations

import functools

import h3
import numpy as np
import pandas as pd

from data.city import City, load_city
from data.city.clock import local_hours
from data.city.grid import cells_of
from data.telemetry.fleet import Fleet, Variable, rng
from data.water.physics import (
    CONSUMPTION_L_PER_DAY,
    DAY_HOURS,
    LEAKAGE_EXPONENT,
    NETWORK_YIELD,
    inlet_pressure_bar,
    water_demand_profile,
)

DMA_RES = 7  # a DMA per resolution-7 cell (~5 km2), the size of a typical urban DMA
LEAKAGE_SPREAD = 0.35  # lognormal spread of the loss share between DMAs (assumption)
FLOW_NOISE = 0.02


def dma_cells(city: City) -> np.ndarray:
    """Resolution-7 cells that hold light points: one water DMA each, sorted."""
    lamp_cells = cells_of(
        city.lamps.geometry.x.to_numpy(), city.lamps.geometry.y.to_numpy(), DMA_RES
    )
    return np.unique(lamp_cells)


def water_meters(city: City) -> pd.DataFrame:
    """One meter per DMA, at its cell's centre."""
    dmas = dma_cells(city)
    centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in dmas]).reshape(-1, 2)
    return pd.DataFrame(
        {
            "sensor_id": [f"DMA-{h3.int_to_str(int(c))}" for c in dmas],
            "lon": centres[:, 1],
            "lat": centres[:, 0],
        }
    )


@functools.lru_cache(maxsize=4)
def _districts(city: str, seed: int):
    """Population served and mean leak flow of each DMA (lamps share the built-up area)."""
    c = load_city(city)
    lamp_dma = cells_of(c.lamps.geometry.x.to_numpy(), c.lamps.geometry.y.to_numpy(), DMA_RES)
    dmas = dma_cells(c)
    share = np.bincount(np.searchsorted(dmas, lamp_dma), minlength=len(dmas)) / len(lamp_dma)
    population = share * c.districts["population"].sum()
    demand_m3h = population * CONSUMPTION_L_PER_DAY / 1000 / 24
    loss_share = (1 - NETWORK_YIELD) * np.exp(
        LEAKAGE_SPREAD * rng(seed, 6).standard_normal(len(dmas)) - LEAKAGE_SPREAD**2 / 2
    )
    loss_share = np.clip(loss_share, 0.05, 0.6)
    leak_m3h = demand_m3h * loss_share / (1 - loss_share)
    return demand_m3h, leak_m3h


def water_readings(city, period, positions, times, first, seed) -> dict[str, np.ndarray]:
    """Inflow and inlet pressure of the DMAs at ``positions``: demand by hour plus leaks."""
    demand, leak = _districts(city, seed)
    hour, _ = local_hours(city, times)
    profile = water_demand_profile(hour)[:, None]
    use = demand[positions] * profile
    pressure = inlet_pressure_bar(profile)
    mean_pressure = inlet_pressure_bar(water_demand_profile(DAY_HOURS)).mean()
    leaking = leak[positions] * (pressure / mean_pressure) ** LEAKAGE_EXPONENT
    draw = rng(seed, 7, first, len(positions))
    flow = (use + leaking) * (1 + FLOW_NOISE * draw.standard_normal(use.shape))
    pressure = pressure * (1 + 0.01 * draw.standard_normal(use.shape))
    return {"flow_m3h": flow, "pressure_bar": pressure}


WATER_METERS = Fleet(
    kind="water",
    title="Water district meters",
    variables={
        "flow_m3h": Variable(
            "water", "m3 h-1", "water inflow into the metered area", "mean", 0, 20000
        ),
        "pressure_bar": Variable("water", "bar", "water pressure at the area inlet", "mean", 0, 16),
    },
    sensors=water_meters,
    synthetic=water_readings,
)

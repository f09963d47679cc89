"""What a sensor fleet is: the quantities it measures, where its sensors are, how it is simulated.

A fleet lives in its domain's folder (`data.lighting.meters`, `data.traffic.counters`,
`data.water.meters`) and is registered in `data.telemetry.fleets`. This module is the leaf
they share: no fleet, no registry, only the interface and the random draws a generator uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from data.city import City


@dataclass(frozen=True)
class Variable:
    """One measured quantity: which fleet reports it, its unit and how it aggregates."""

    kind: str
    units: str
    long_name: str
    aggregation: str  # "mean" (rolled up weighted by counts) or "sum"
    valid_min: float
    valid_max: float


# (city, period (`data.telemetry.synthetic.Period`), positions in the fleet, times, first time
# step, seed) -> {variable: (T, N) array}
Generator = Callable[[str, Any, np.ndarray, np.ndarray, int, int], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Fleet:
    """One kind of sensor of a city: what it reports, where each one stands, simulated readings.

    ``sensors(city)``: one row per sensor (``sensor_id``, ``lon``, ``lat`` in degrees), the
    registry's order. ``synthetic``: seeded readings of the sensors at ``positions`` (rows of
    that frame); a chunk must depend only on its arguments (Dask workers make them apart).
    """

    kind: str
    title: str
    variables: dict[str, Variable]
    sensors: Callable[[City], pd.DataFrame]
    synthetic: Generator

    def __post_init__(self) -> None:
        strays = [name for name, v in self.variables.items() if v.kind != self.kind]
        if strays:
            raise ValueError(f"fleet {self.kind!r} holds variables of another fleet: {strays}")


def rng(seed: int, *key: int) -> np.random.Generator:
    """The generator of one draw: the same (seed, key) gives the same numbers anywhere."""
    return np.random.default_rng([seed, *key])


def fault_events(n: int, period, share: float, mean_h: float, seed: int, tag: int):
    """Fault intervals (sensor position, start, end) whose steady share of sensors is ``share``."""
    draw = rng(seed, tag)
    span_h = period.hours + mean_h  # faults that began before the period still run into it
    count = draw.poisson(n * share * span_h / mean_h)
    who = draw.integers(0, n, count)
    start = (
        period.start
        - pd.Timedelta(hours=mean_h)
        + pd.to_timedelta(draw.uniform(0, span_h, count), unit="h")
    )
    end = start + pd.to_timedelta(draw.exponential(mean_h, count), unit="h")
    return who, start.to_numpy(), end.to_numpy()


def active(events, times: np.ndarray, positions: np.ndarray, n_all: int) -> np.ndarray:
    """(T, N) mask of sensors (at ``positions`` among ``n_all``) with an event running.

    Only the chunk's own sensors get a column, so memory is T x N whatever the fleet size
    (a year of 200 lamps must not allocate a year of all 140,000).
    """
    who, start, end = events
    column = np.full(n_all, -1)
    column[positions] = np.arange(len(positions))
    first = np.searchsorted(times, start)  # first reading at or after the start
    last = np.searchsorted(times, end)  # first reading at or after the end
    mine = (last > first) & (column[who] >= 0)
    steps = np.zeros((len(times) + 1, len(positions)), np.int32)
    np.add.at(steps, (first[mine], column[who[mine]]), 1)
    np.add.at(steps, (last[mine], column[who[mine]]), -1)
    return np.cumsum(steps[:-1], axis=0) > 0

"""A batch of telemetry readings in columnar form (numpy), and its long-table view.

Readings are kept as parallel columns (sensor row, time, variable code, value) so that
millions of them cost a few bytes each and aggregate without Python loops. The long table
(sensor_id, timestamp, variable, unit, value) is what files exchange.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.telemetry.sensors import VARIABLES, Sensors

VARIABLE_NAMES = tuple(VARIABLES)


@dataclass(frozen=True)
class Readings:
    """Parallel columns: one reading per position.

    sensor : int32, row of the sensor in the registry
    time : datetime64[ns] (UTC)
    variable : int8, index into `VARIABLE_NAMES`
    value : float32 (NaN: no value, e.g. a speed with no vehicle counted)
    """

    sensor: np.ndarray
    time: np.ndarray
    variable: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.value)

    @staticmethod
    def concat(parts: list[Readings]) -> Readings:
        """One batch holding ``parts`` in order."""
        return Readings(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Readings.__annotations__)
        )

    def to_frame(self, sensors: Sensors) -> pd.DataFrame:
        """The long table files exchange: sensor_id, timestamp, variable, unit, value."""
        names = pd.Categorical.from_codes(self.variable, categories=list(VARIABLE_NAMES))
        units = pd.Categorical.from_codes(
            self.variable, categories=[VARIABLES[v].units for v in VARIABLE_NAMES]
        )  # every variable has its own unit, so the units are distinct categories
        ids = pd.Categorical.from_codes(self.sensor, categories=sensors.table["sensor_id"])
        return pd.DataFrame(
            {
                "sensor_id": ids,
                "timestamp": pd.to_datetime(self.time, utc=True),
                "variable": names,
                "unit": units,
                "value": self.value,
            }
        )

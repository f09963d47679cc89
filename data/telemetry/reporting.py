"""Which sensors reported: distinct sensors behind each variable per time bucket and H3 cell.

A cube's ``_count`` says how many readings are behind a value; small-count suppression needs
how many distinct sensors gave them (`data.telemetry.privacy`): a meter that was silent in an hour
does not hide anyone in that hour's value. The tally keeps one flag per (bucket, variable, sensor)
while readings stream in, beside `data.telemetry.cube.CubeBuilder`, and counts the flags per cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from data.city.grid import BASE_RES
from data.telemetry.cube import Slots
from data.telemetry.readings import Readings
from data.telemetry.sensors import Sensors


class ReportingTally:
    """Distinct sensors that gave a value of each variable in each time bucket.

    Parameters
    ----------
    sensors : Sensors
        The registry the readings' ``sensor`` rows point into.
    start, end
        The period (UTC), end excluded.
    freq : str
        Time bucket, a pandas frequency ("1h").
    variables : sequence of str, optional
        Variables tallied (default: all known).
    """

    def __init__(self, sensors: Sensors, start, end, *, freq: str = "1h", variables=None):
        self.slots = Slots(start, end, freq, variables)
        self.variables, self.buckets = self.slots.variables, self.slots.buckets
        # one flag per distinct sensor id (a registry row repeated counts once)
        self.sensor_of_row = pd.factorize(sensors.table["sensor_id"])[0]
        n_sensors = int(self.sensor_of_row.max()) + 1 if len(sensors) else 0
        first_row = np.unique(self.sensor_of_row, return_index=True)[1]
        cells = sensors.table["cell"].to_numpy(np.uint64)[first_row]
        self.cells, self.cell_of_sensor = np.unique(cells, return_inverse=True)
        self.seen = np.zeros((len(self.buckets), len(self.variables), n_sensors), bool)

    def add(self, batch: Readings) -> ReportingTally:
        """Flag the sensors of one batch's readings (NaN values are no report)."""
        bucket, slot, keep = self.slots.of(batch)
        self.seen[bucket[keep], slot[keep], self.sensor_of_row[batch.sensor[keep]]] = True
        return self

    def dataset(self) -> xr.Dataset:
        """Per variable, (time, cell) distinct sensors at `BASE_RES` that reported (int64)."""
        n_cells = len(self.cells)
        data = {}
        for i, name in enumerate(self.variables):
            counts = np.zeros((len(self.buckets), n_cells), np.int64)
            for t in range(len(self.buckets)):
                counts[t] = np.bincount(self.cell_of_sensor[self.seen[t, i]], minlength=n_cells)
            data[name] = (
                ("time", "cell"),
                counts,
                {"units": "1", "long_name": f"distinct sensors that reported {name}"},
            )
        return xr.Dataset(
            data,
            coords={"time": self.buckets.to_numpy(), "cell": self.cells},
            attrs={"h3_resolution": BASE_RES, "time_bucket": self.slots.freq},
        )

"""H3 x time datacubes: readings aggregated into an ``xarray.Dataset`` with dims (time, cell).

Each variable comes with ``<name>_count``, the number of readings behind each value, so that
coarser cubes (parent H3 cells by ``cell_to_parent``, longer time buckets) are exact: sums add
up, means are re-weighted by their counts. Values are NaN where no reading fell.

The local engine (`CubeBuilder`) is numpy: readings map to (variable, bucket, cell) slots by
integer arithmetic and land with one ``np.bincount`` per batch, so a batch of millions of
readings costs a few array passes and memory stays that of the cube plus one batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from data.city.grid import BASE_RES, parent_cells, parent_groups
from data.errors import CubeError
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import VARIABLES, Sensors

CUBE_RESOLUTIONS = (7, 8, 9, 10)


class Slots:
    """Where readings go: their time bucket and their variable's position, for one period.

    Parameters
    ----------
    start, end
        The period (UTC), end excluded.
    freq : str
        Time bucket, a pandas frequency ("15min", "1h", "1D").
    variables : sequence of str, optional
        Variables kept (default: all known), in this order.
    """

    def __init__(self, start, end, freq: str, variables=None) -> None:
        self.variables = tuple(variables or VARIABLE_NAMES)
        unknown = [v for v in self.variables if v not in VARIABLES]
        if unknown:
            raise CubeError(f"unknown variable(s) {unknown}; known: {', '.join(VARIABLES)}")
        try:
            self.step = pd.Timedelta(freq).value
        except ValueError as err:
            raise CubeError(f"bad time bucket {freq!r}: use a fixed step like 15min, 1h") from err
        self.freq = str(freq)
        self.start = pd.Timestamp(start).to_datetime64().astype("datetime64[ns]")
        self.buckets = pd.date_range(
            pd.Timestamp(start), pd.Timestamp(end), freq=freq, inclusive="left"
        )
        if len(self.buckets) == 0:
            raise CubeError(f"no {freq} bucket between {start} and {end}")
        # variable code -> position among ``variables`` (-1: not kept)
        self.var_slot = np.full(len(VARIABLE_NAMES), -1, np.int64)
        for i, name in enumerate(self.variables):
            self.var_slot[VARIABLE_NAMES.index(name)] = i

    def of(self, batch: Readings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each reading's bucket and variable slot, and whether it is kept.

        Kept: in the period, of a kept variable, not NaN.
        """
        bucket = (batch.time.astype("datetime64[ns]") - self.start).astype(np.int64) // self.step
        slot = self.var_slot[batch.variable]
        keep = (bucket >= 0) & (bucket < len(self.buckets)) & (slot >= 0) & ~np.isnan(batch.value)
        return bucket, slot, keep


class CubeBuilder:
    """Accumulates reading batches into sums and counts per (variable, time bucket, cell).

    Parameters
    ----------
    sensors : Sensors
        The registry the readings' sensor rows refer to.
    start, end : timestamp
        Time span of the cube (UTC); readings outside it are counted in ``dropped``.
    freq : str
        Time bucket, a pandas frequency ("15min", "1h", "1D").
    res : int
        H3 resolution of the cube's cells (7-10).
    variables : sequence of str, optional
        Variables kept (default: all known).
    """

    def __init__(self, sensors: Sensors, start, end, *, freq="15min", res=9, variables=None):
        if res not in CUBE_RESOLUTIONS:
            raise CubeError(f"resolution {res} is outside the supported {CUBE_RESOLUTIONS}")
        self.res = res
        self.slots = Slots(start, end, freq, variables)
        self.variables, self.buckets = self.slots.variables, self.slots.buckets
        cells = sensors.table["cell"].to_numpy(np.uint64)
        if res != BASE_RES:
            cells = parent_cells(cells, res)
        self.cells, self.sensor_cell = np.unique(cells, return_inverse=True)
        # bucket-major layout: a time-ordered batch touches one contiguous stretch
        shape = (len(self.buckets), len(self.variables), len(self.cells))
        self.sums = np.zeros(shape)
        self.counts = np.zeros(shape, np.int64)
        self.readings = 0
        self.dropped = 0

    def add(self, batch: Readings) -> CubeBuilder:
        """Fold one batch of readings into the cube (NaN values are skipped)."""
        bucket, slot, keep = self.slots.of(batch)
        kept = int(keep.sum())
        self.readings += kept
        self.dropped += len(batch) - kept
        if kept == 0:
            return self
        n_v, n_c = len(self.variables), len(self.cells)
        key = (bucket[keep] * n_v + slot[keep]) * n_c + self.sensor_cell[batch.sensor[keep]]
        low = int(key.min())
        span = int(key.max()) - low + 1
        key -= low
        flat_sums, flat_counts = self.sums.reshape(-1), self.counts.reshape(-1)
        flat_sums[low : low + span] += np.bincount(key, weights=batch.value[keep], minlength=span)
        flat_counts[low : low + span] += np.bincount(key, minlength=span)
        return self

    def merge(self, other: CubeBuilder) -> CubeBuilder:
        """Add another builder's partial sums (same layout), e.g. from a Dask worker."""
        self.sums += other.sums
        self.counts += other.counts
        self.readings += other.readings
        self.dropped += other.dropped
        return self

    def dataset(self) -> xr.Dataset:
        """The cube as a CF-style dataset: one variable and one ``_count`` per metric."""
        sums, counts = self.sums.transpose(1, 0, 2), self.counts.transpose(1, 0, 2)
        return _dataset(
            sums, counts, self.variables, self.buckets, self.cells, self.res, self.slots.freq
        )


def _dataset(sums, counts, variables, times, cells, res, time_bucket) -> xr.Dataset:
    data_vars = {}
    for i, name in enumerate(variables):
        var = VARIABLES[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            values = sums[i] / counts[i] if var.aggregation == "mean" else sums[i].copy()
        values = np.where(counts[i] > 0, values, np.nan)
        method = "mean" if var.aggregation == "mean" else "sum"
        data_vars[name] = (
            ("time", "cell"),
            values,
            {
                "units": var.units,
                "long_name": var.long_name,
                "cell_methods": f"time: {method} area: {method}",
                "aggregation": var.aggregation,
            },
        )
        data_vars[f"{name}_count"] = (
            ("time", "cell"),
            counts[i].astype(np.int64),
            {"units": "1", "long_name": f"number of readings behind {name}"},
        )
    return xr.Dataset(
        data_vars,
        coords={
            "time": (
                "time",
                pd.DatetimeIndex(times).to_numpy(),
                {"long_name": "bucket start (UTC)"},
            ),
            "cell": (
                "cell",
                np.asarray(cells, np.uint64),
                {"long_name": "H3 cell index (64-bit integer)"},
            ),
        },
        attrs={
            "title": "Madina Twin telemetry datacube",
            "h3_resolution": int(res),
            "time_bucket": time_bucket,
            "Conventions": "CF-1.10",
        },
    )


def _sums(cube: xr.Dataset, name: str) -> np.ndarray:
    """Per-cell sums behind a variable (mean x count for means), zero where empty."""
    values = cube[name].to_numpy()
    if cube[name].attrs["aggregation"] == "mean":
        values = values * cube[f"{name}_count"].to_numpy()
    return np.nan_to_num(values)


def _regroup(
    cube: xr.Dataset, axis: str, groups: np.ndarray, labels, res: int, time_bucket: str
) -> xr.Dataset:
    """Sum every variable's sums and counts over ``groups`` along ``axis``; rebuild means."""
    order = np.argsort(groups, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0])
    dim = 0 if axis == "time" else 1
    names = [n for n in cube.data_vars if not n.endswith("_count")]
    sums, counts = [], []
    for name in names:
        for source, out in ((_sums(cube, name), sums), (cube[f"{name}_count"].to_numpy(), counts)):
            ordered = np.take(source, order, axis=dim)
            out.append(np.add.reduceat(ordered, starts, axis=dim))
    times = labels if axis == "time" else cube["time"].to_numpy()
    cells = labels if axis == "cell" else cube["cell"].to_numpy()
    return _dataset(np.array(sums), np.array(counts), names, times, cells, res, time_bucket)


def roll_up(cube: xr.Dataset, res: int) -> xr.Dataset:
    """The cube at a coarser H3 resolution: each cell's values go to its ``cell_to_parent``."""
    current = int(cube.attrs["h3_resolution"])
    if res not in CUBE_RESOLUTIONS or res > current:
        raise CubeError(f"cannot roll a resolution-{current} cube up to resolution {res}")
    if res == current:
        return cube
    labels, groups = parent_groups(cube["cell"].to_numpy(), res)
    return _regroup(cube, "cell", groups, labels, res, cube.attrs.get("time_bucket", ""))


def resample(cube: xr.Dataset, freq: str) -> xr.Dataset:
    """The cube in longer time buckets (e.g. "1h", "1D"), exactly, from its sums and counts."""
    times = pd.DatetimeIndex(cube["time"].to_numpy())
    try:
        floor = times.floor(freq)
    except ValueError as err:
        raise CubeError(f"bad time bucket {freq!r}: {err}") from err
    labels, groups = np.unique(floor.to_numpy(), return_inverse=True)
    return _regroup(cube, "time", groups, labels, int(cube.attrs["h3_resolution"]), freq)


def aggregate(readings, sensors: Sensors, start, end, **options) -> xr.Dataset:
    """Aggregate readings (a `Readings` or an iterable of them) into a cube, locally."""
    builder = CubeBuilder(sensors, start, end, **options)
    for batch in [readings] if isinstance(readings, Readings) else readings:
        builder.add(batch)
    return builder.dataset()


def save_cube(cube: xr.Dataset, path: Path) -> Path:
    """Write ``cube`` to NetCDF-4 atomically (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.partial")
    # zlib level 1: cubes are mostly empty (NaN) cells and repeated counts, ~5-10x smaller
    encoding = {name: {"zlib": True, "complevel": 1} for name in cube.data_vars}
    cube.to_netcdf(staging, engine="netcdf4", format="NETCDF4", encoding=encoding)
    staging.replace(path)
    return path


def load_cube(path: Path) -> xr.Dataset:
    """Read a cube written by `save_cube`; raise `CubeError` naming the file if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CubeError(f"cube file not found: {path}")
    try:
        cube = xr.load_dataset(path, engine="netcdf4")
    except (OSError, ValueError) as err:
        raise CubeError(f"{path} is not a readable NetCDF cube: {err}") from err
    if "h3_resolution" not in cube.attrs or "cell" not in cube.coords:
        raise CubeError(f"{path} is NetCDF but not a Madina Twin cube (no H3 cell axis)")
    return cube

"""Readings/s into an H3 x 15-min cube: our engine vs a naive per-row apply, and on Dask.

Run: python benchmarks/cube_throughput.py [--readings 10000000] [--naive 1000000]
                                          [--dask 1e6,1e7,5e7] [--workers 2]

1. Local engine, readings located by lon/lat (the hard case: every reading needs its cell).
   The data are the city's generated lamp power readings, given as (lon, lat, time, value)
   columns. Our engine: distinct positions -> H3 cells in one vectorised call
   (`data.telemetry.sensors.point_sensors`), then `data.telemetry.cube.CubeBuilder` (bincount into
   time x cell).
   The same with every reading at its own position (GPS-like jitter): no position repeats.
   Baseline: pandas ``apply`` of ``h3.latlng_to_cell`` per row, then a group-by, on the first
   ``--naive`` rows of the same data (its rate is per reading, so the ratio holds). Peak memory
   is traced (tracemalloc: numpy and Python allocations) in a separate repeat of each run.
2. Dask ``LocalCluster`` (``--workers`` processes, one thread each) vs the local engine on the
   same jobs, at each size of ``--dask``: generated telemetry of every fleet, made and folded
   where it runs (readings/s include generating them), cube at resolution 9.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc

import h3
import numpy as np
import pandas as pd

from data.city import DEFAULT_CITY
from data.telemetry.cube import CubeBuilder
from data.telemetry.cube_dask import aggregate_on_dask
from data.telemetry.readings import VARIABLE_NAMES, Readings
from data.telemetry.sensors import KINDS, VARIABLES, point_sensors, sensors_for
from data.telemetry.synthetic import Period, chunk_tasks, generate, make_chunk

START = pd.Timestamp("2026-11-23 12:00")
STEP = pd.Timedelta("15min")
POWER = VARIABLE_NAMES.index("power_w")
JITTER_DEG = 2e-5  # ~2 m: every reading at a slightly different position


def lamp_points(city: str, n: int) -> pd.DataFrame:
    """``n`` generated lamp power readings as a long table located by lon/lat."""
    sensors = sensors_for(city)
    steps = math.ceil(n / len(sensors.of_kind("lamp")))
    period = Period.of(START, START + steps * STEP)
    batches = [
        b for b in generate(city, period, kinds=("lamp",)) if b.variable[0] == POWER
    ]  # a batch holds one variable
    readings = Readings.concat(batches)
    table = sensors.table
    return pd.DataFrame(
        {
            "lon": table["lon"].to_numpy()[readings.sensor[:n]],
            "lat": table["lat"].to_numpy()[readings.sensor[:n]],
            "time": readings.time[:n],
            "value": readings.value[:n],
        }
    )


def engine(city: str, frame: pd.DataFrame):
    """Our engine: vectorised indexing of distinct positions, then bincount into the cube."""
    registry, rows = point_sensors(city, "lamp", frame["lon"].to_numpy(), frame["lat"].to_numpy())
    end = frame["time"].max() + STEP
    builder = CubeBuilder(registry, START, end, res=10, freq=STEP, variables=("power_w",))
    variable = np.full(len(frame), POWER, np.int8)
    builder.add(Readings(rows, frame["time"].to_numpy(), variable, frame["value"].to_numpy()))
    return builder.dataset()


def naive(frame: pd.DataFrame) -> pd.DataFrame:
    """The baseline: one ``h3.latlng_to_cell`` call per row via ``DataFrame.apply``."""
    frame = frame.copy()
    frame["cell"] = frame.apply(lambda r: h3.latlng_to_cell(r["lat"], r["lon"], 10), axis=1)
    frame["bucket"] = frame["time"].dt.floor(STEP)
    return frame.groupby(["bucket", "cell"])["value"].agg(["sum", "count"])


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def peak_rss_kb() -> int:
    """This process's peak resident memory (VmHWM; ru_maxrss survives fork+exec, this not)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))


def traced_peak_mb(fn, *args) -> float:
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def local_section(city: str, n: int, n_naive: int) -> None:
    print(f"== local engine, {n:,} lamp power readings located by lon/lat, H3 res 10 x 15 min ==")
    frame = lamp_points(city, n)
    print(
        f"data: {frame[['lon', 'lat']].drop_duplicates().shape[0]:,} distinct positions, "
        f"{frame['time'].nunique()} time steps, {frame.memory_usage().sum() / 1e6:,.0f} MB"
    )
    cube, seconds = timed(engine, city, frame)
    peak = traced_peak_mb(engine, city, frame)
    rate = n / seconds
    print(
        f"engine (fixed meters):  {seconds:6.2f} s  {rate / 1e6:6.2f}M readings/s  "
        f"peak traced {peak:,.0f} MB  -> {cube.sizes['time']} x {cube.sizes['cell']:,} cube"
    )
    rng = np.random.default_rng(0)
    jittered = frame.assign(
        lon=frame["lon"] + rng.normal(0, JITTER_DEG, n),
        lat=frame["lat"] + rng.normal(0, JITTER_DEG, n),
    )
    _, seconds_j = timed(engine, city, jittered)
    peak_j = traced_peak_mb(engine, city, jittered)
    print(
        f"engine (all distinct):  {seconds_j:6.2f} s  {n / seconds_j / 1e6:6.2f}M readings/s  "
        f"peak traced {peak_j:,.0f} MB"
    )
    sample = frame.iloc[:n_naive]
    reference, seconds_n = timed(naive, sample)
    rate_n = n_naive / seconds_n
    print(
        f"naive apply ({n_naive:,} rows): {seconds_n:6.2f} s  {rate_n / 1e6:6.3f}M readings/s  "
        f"(10M at this rate: {1e7 / rate_n:,.0f} s)"
    )
    print(f"ratio engine/naive: {rate / rate_n:,.1f}x fixed meters, "
          f"{n / seconds_j / rate_n:,.1f}x all distinct")  # fmt: skip
    check = engine(city, sample).to_dataframe()[["power_w", "power_w_count"]].dropna()
    times, cells = check.index.get_level_values(0), check.index.get_level_values(1)
    check.index = pd.MultiIndex.from_arrays([times, [h3.int_to_str(int(c)) for c in cells]])
    check, reference = check.sort_index(), reference.sort_index()
    same = (
        check.index.equals(reference.index)
        and (check["power_w_count"].to_numpy() == reference["count"].to_numpy()).all()
        and np.allclose(  # power_w is a mean per cell and bucket: compare its sums
            check["power_w"] * check["power_w_count"], reference["sum"], rtol=1e-5
        )
    )
    print(f"engine cube == naive group-by on the sample: {same}")


def jobs_for(city: str, n: int):
    per_step = sum(
        len(sensors_for(city).of_kind(k)) * sum(1 for v in VARIABLES.values() if v.kind == k)
        for k in KINDS
    )
    steps = max(1, round(n / per_step))
    period = Period.of(START, START + steps * STEP)
    return period, [(make_chunk, task) for task in chunk_tasks(city, period)]


def dask_section(city: str, sizes: list[int], workers: int) -> None:
    from distributed import Client, LocalCluster

    print(f"\n== Dask LocalCluster ({workers} workers x 1 thread) vs local engine, all fleets, "
          "generation included, H3 res 9 x 15 min ==")  # fmt: skip
    started = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
    client = Client(cluster)
    client.run(sensors_for, city)  # load the registry on every worker once, as a service would
    print(f"cluster start + registry load: {time.perf_counter() - started:.1f} s")
    print(f"{'readings':>12} {'local s':>8} {'local M/s':>9} {'dask s':>8} {'dask M/s':>9} "
          f"{'dask/local':>10} {'local peak MB':>13} {'worker peak RSS MB':>18}")  # fmt: skip
    try:
        for n in sizes:
            period, jobs = jobs_for(city, n)
            options = {"res": 9, "freq": STEP}

            def local(jobs=jobs, period=period, options=options):
                builder = CubeBuilder(sensors_for(city), period.start, period.end, **options)
                for fn, args in jobs:
                    builder.add(fn(*args))
                return builder

            builder, local_s = timed(local)
            total = builder.readings + builder.dropped
            local_peak = traced_peak_mb(local)
            cube, dask_s = timed(
                aggregate_on_dask, client, city, jobs, period.start, period.end, **options
            )
            worker_rss = client.run(peak_rss_kb)
            same = np.array_equal(cube["power_w_count"], builder.dataset()["power_w_count"])
            print(
                f"{total:>12,} {local_s:8.2f} {total / local_s / 1e6:9.2f} {dask_s:8.2f} "
                f"{total / dask_s / 1e6:9.2f} {local_s / dask_s:10.2f} {local_peak:13,.0f} "
                f"{max(worker_rss.values()) / 1e3:18,.0f}  same cube: {same}"
            )
    finally:
        client.close()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default=DEFAULT_CITY)
    parser.add_argument("--readings", type=float, default=1e7)
    parser.add_argument("--naive", type=float, default=1e6)
    parser.add_argument("--dask", default="1e6,1e7,5e7")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sensors_for(args.city)  # registry build (~4 s) is not part of any measurement
    local_section(args.city, int(args.readings), int(args.naive))
    if args.dask:
        dask_section(args.city, [int(float(s)) for s in args.dask.split(",")], args.workers)
    rss = peak_rss_kb() / 1e3
    print(f"\npeak RSS of this process over the whole benchmark: {rss:,.0f} MB")


if __name__ == "__main__":
    main()

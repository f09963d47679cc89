"""Aggregate a city's telemetry into an H3 x time datacube (NetCDF), with a progress bar.

    python -m data.telemetry.aggregate --city casablanca --from 2026-11-16 --to 2026-11-23 --res 9

Readings are the city's generated telemetry (seeded), or files exported by a utility
(``--input`` CSV/Parquet, validated whole). ``--scheduler tcp://host:8786`` (or the
``MADINA_DASK_SCHEDULER`` environment variable) runs the aggregation on a Dask cluster;
``--local-cluster N`` starts one with N workers on this machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from data.city import DEFAULT_CITY
from data.city.constants import SEED
from data.errors import MadinaError
from data.settings import setting
from data.telemetry.cube import CUBE_RESOLUTIONS, CubeBuilder, save_cube
from data.telemetry.ingest import read_readings
from data.telemetry.sensors import KINDS, sensors_for
from data.telemetry.synthetic import Period, chunk_tasks, make_chunk


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data.telemetry.aggregate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--city", default=DEFAULT_CITY)
    parser.add_argument(
        "--from", dest="start", required=True, help="first day (UTC), e.g. 2026-11-16"
    )
    parser.add_argument("--to", dest="end", required=True, help="end (exclusive), e.g. 2026-11-23")
    parser.add_argument(
        "--res", type=int, default=9, help=f"H3 resolution, one of {CUBE_RESOLUTIONS}"
    )
    parser.add_argument(
        "--freq", default="15min", help="time bucket (pandas frequency), default 15min"
    )
    parser.add_argument("--step", default="15min", help="reading interval of generated telemetry")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help="fleets to generate: lamp,road,water"
    )
    parser.add_argument(
        "--input", type=Path, nargs="*", help="CSV/Parquet readings instead of generated ones"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--scheduler", default=setting("MADINA_DASK_SCHEDULER"))
    parser.add_argument("--local-cluster", type=int, default=0, metavar="N")
    parser.add_argument(
        "--out", type=Path, help="NetCDF file (default cubes/<city>_<from>_<to>_r<res>.nc)"
    )
    return parser


def run(args: argparse.Namespace) -> Path:
    """Build and save the cube described by ``args``; returns the written path."""
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise MadinaError(f"unknown fleet(s) {unknown}; known: {', '.join(KINDS)}")
    period = Period.of(args.start, args.end, args.step)
    sensors = sensors_for(args.city)
    options = {"freq": args.freq, "res": args.res}
    CubeBuilder(sensors, period.start, period.end, **options)  # fail fast on bad options
    if args.input:
        jobs = [(read_readings, (path, sensors)) for path in args.input]
    else:
        tasks = chunk_tasks(args.city, period, kinds=kinds, seed=args.seed)
        jobs = [(make_chunk, task) for task in tasks]
    started = time.perf_counter()
    if args.scheduler or args.local_cluster:
        cube = _on_dask(args, jobs, period, options)
    else:
        builder = CubeBuilder(sensors, period.start, period.end, **options)
        with tqdm(total=len(jobs), unit="batch", desc="aggregating", file=sys.stderr) as bar:
            for fn, fn_args in jobs:
                builder.add(fn(*fn_args))
                bar.set_postfix_str(f"{builder.readings / 1e6:,.1f}M readings")
                bar.update()
        cube = builder.dataset()
    seconds = time.perf_counter() - started
    out = args.out or Path("cubes") / f"{args.city}_{args.start}_{args.end}_r{args.res}.nc"
    save_cube(cube, out)
    total = int(sum(cube[f"{v}_count"].sum() for v in cube.data_vars if not v.endswith("_count")))
    print(
        f"{total:,} readings -> {cube.sizes['time']} x {cube.sizes['cell']:,} cube "
        f"in {seconds:.1f} s ({total / max(seconds, 1e-9) / 1e6:.1f}M readings/s); wrote {out}"
    )
    return out


def _on_dask(args, jobs, period, options):
    from distributed import Client, LocalCluster

    from data.telemetry.cube_dask import aggregate_on_dask

    if args.scheduler:
        client, cluster = Client(args.scheduler), None
    else:
        cluster = LocalCluster(n_workers=args.local_cluster, threads_per_worker=1, processes=True)
        client = Client(cluster)
    try:
        with tqdm(
            unit="share", desc=f"aggregating on {client.scheduler.address}", file=sys.stderr
        ) as bar:
            return aggregate_on_dask(
                client, args.city, jobs, period.start, period.end, progress=_bar(bar), **options
            )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _bar(bar):
    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input)."""
    args = _parser().parse_args(argv)
    try:
        run(args)
    except (MadinaError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

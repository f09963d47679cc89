"""The cube aggregation on a Dask cluster (``dask.distributed``) for when one machine is too few.

Same kernel as the local engine (`data.telemetry.cube.CubeBuilder`): each worker folds a share of
the reading batches into partial sums and counts; the client adds the partials up. Generated
telemetry is made on the workers themselves (chunks are seeded by their bounds), so no raw
reading crosses the network; stored readings are read by the workers from the shared store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from data.telemetry.cube import CubeBuilder
from data.telemetry.sensors import sensors_for

WORK_SHARES_PER_WORKER = 2  # a few shares per worker balance the load without much overhead


def _fold(city: str, start, end, options: dict, jobs: Sequence[tuple[Callable, tuple]]):
    """On a worker: fold the batches ``fn(*args)`` of ``jobs`` into one partial cube."""
    builder = CubeBuilder(sensors_for(city), start, end, **options)
    for fn, args in jobs:
        builder.add(fn(*args))
    return builder.sums, builder.counts, builder.readings, builder.dropped


def aggregate_on_dask(
    client,
    city: str,
    jobs: Sequence[tuple[Callable, tuple]],
    start,
    end,
    *,
    progress: Callable[[int, int], None] | None = None,
    **options,
) -> xr.Dataset:
    """Aggregate the batches made by ``jobs`` (``(fn, args)`` pairs) on ``client``'s cluster.

    ``progress(done, total)`` is called as each share of the work finishes.
    """
    from distributed import as_completed

    builder = CubeBuilder(sensors_for(city), start, end, **options)
    workers = max(1, len(client.scheduler_info()["workers"]))
    n_shares = min(len(jobs), workers * WORK_SHARES_PER_WORKER) or 1
    shares = [list(jobs[i::n_shares]) for i in range(n_shares)]
    futures = [
        client.submit(_fold, city, start, end, options, share, pure=False) for share in shares
    ]
    partials = {}
    for future in as_completed(futures):
        partials[futures.index(future)] = future.result()
        if progress:
            progress(len(partials), len(futures))
    for i in range(len(futures)):  # add up in a fixed order: results repeat run to run
        sums, counts, readings, dropped = partials[i]
        builder.sums += sums
        builder.counts += np.asarray(counts, np.int64)
        builder.readings += readings
        builder.dropped += dropped
    return builder.dataset()

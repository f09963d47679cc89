"""The H3 grid the twin aggregates on: cells of coordinates, their parents, and the roll-up.

Every coarser view (cubes, playback hexagons, network results) groups cells by `parent_groups`,
so all of them agree on which cell a finer one belongs to. Pure functions on columns; no I/O.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from h3ronpy import change_resolution
from h3ronpy.vector import coordinates_to_cells

BASE_RES = 10  # finest cube resolution (~0.015 km2 cells); 7-9 are rolled up from it
THREADED_POINTS = 1_000_000  # above this, index in one thread per core (h3ronpy frees the GIL)


def cells_of(lon: np.ndarray, lat: np.ndarray, res: int = BASE_RES) -> np.ndarray:
    """H3 cells (uint64) of whole coordinate columns at once (h3ronpy, vectorised in Rust).

    Long columns are split across one thread per core: h3ronpy releases the GIL.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    threads = min(os.cpu_count() or 1, len(lon) // THREADED_POINTS)
    if threads < 2:
        return np.asarray(coordinates_to_cells(lat, lon, res), dtype=np.uint64)
    bounds = np.linspace(0, len(lon), threads + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        parts = pool.map(
            lambda a, b: np.asarray(coordinates_to_cells(lat[a:b], lon[a:b], res), np.uint64),
            bounds[:-1],
            bounds[1:],
        )
        return np.concatenate(list(parts))


def parent_cells(cells: np.ndarray, res: int) -> np.ndarray:
    """Parents (uint64) of a column of cells at a coarser resolution (`cell_to_parent`)."""
    return np.asarray(change_resolution(np.asarray(cells, np.uint64), res), dtype=np.uint64)


def parent_groups(cells: np.ndarray, res: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct parents of ``cells`` at ``res`` (sorted) and each cell's position among them."""
    return np.unique(parent_cells(cells, res), return_inverse=True)


def roll_up_columns(
    cells: np.ndarray, values: np.ndarray, res: int, *, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, cell) ``values`` summed into their parents at ``res``.

    Returns the parents, the (time, parent) sums and each parent's count: how many child
    cells it holds, or the sum of their ``weights`` (e.g. light points per cell).
    """
    parents, group = parent_groups(cells, res)
    sums = np.zeros((values.shape[0], len(parents)))
    np.add.at(sums.T, group, values.T)
    counts = np.bincount(group, weights=weights, minlength=len(parents))
    return parents, sums, counts

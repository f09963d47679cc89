"""Small-count suppression of public H3 aggregates: no map cell speaks for fewer than k meters.

Must never publish a cell, at any resolution, whose value comes from fewer than ``k`` distinct
sensors, nor views whose differences would isolate such a group.

The rule is hierarchical so that the four public views (resolutions 7-10, all visible to the
same user) cannot be differenced into a small group:

- a resolution-7 cell with 0 < contributors < k is withheld, whole;
- a shown cell is split into its children only if every child has 0 or >= k contributors,
  otherwise it stays whole (its children are merged into it); recursively down to resolution 10;
- the view at resolution r is the cut of this tree at depth r: leaves coarser than r as
  themselves, cells of resolution r as themselves.

So every shown cell has >= k contributors, view r+1 refines view r, and the difference of any
two views is a union of shown cells. Values of merged cells come from sums and reading counts,
exactly as `data.telemetry.cube.roll_up` computes them.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from data.city.grid import BASE_RES, parent_cells
from data.errors import PrivacyError
from data.telemetry.cube import CUBE_RESOLUTIONS, _dataset, _regroup, _sums
from data.telemetry.sensors import KINDS, VARIABLES, Sensors

MIN_CONTRIBUTORS = 10
"""Default k: fewest distinct sensors (meters) behind any public cell.

The issue's default. Thresholds of this order (5-10 units) are what statistical disclosure
control commonly applies to published tables so that no single unit's value can be read off;
it is a stated assumption of the project, not a legal figure: check the rule of the data's
owner (in Morocco, law 09-08 and the CNDP) before publishing real household meters.
"""

WITHHELD = np.uint64(0)  # display cell of a withheld meter (0 is never a valid H3 index)


@dataclass(frozen=True, eq=False)  # arrays: compare their fields, not the records
class Contributors:
    """Distinct sensors of one fleet per `BASE_RES` cell.

    Attributes
    ----------
    kind : str
        The fleet ("lamp", "road", "water"); its variables are the ones this protects.
    cells : numpy.ndarray
        Sorted distinct H3 cells (uint64, resolution `BASE_RES`) holding at least one sensor.
    counts : numpy.ndarray
        Number of distinct sensors in each of ``cells`` (int64, >= 1).
    """

    kind: str
    cells: np.ndarray
    counts: np.ndarray

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PrivacyError(f"unknown sensor fleet {self.kind!r}; known: {', '.join(KINDS)}")
        if len(self.cells) != len(self.counts):
            raise PrivacyError(
                f"contributors: {len(self.cells)} cells but {len(self.counts)} counts"
            )

    @property
    def total(self) -> int:
        """Number of sensors of the fleet."""
        return int(self.counts.sum())


def contributors(sensors: Sensors, kind: str) -> Contributors:
    """Distinct sensors of fleet ``kind`` per `BASE_RES` cell of the registry ``sensors``.

    Parameters
    ----------
    sensors : Sensors
        A sensor registry, e.g. ``sensors_for("casablanca")``.
    kind : str
        The fleet: "lamp", "road" or "water" (see `data.telemetry.sensors.VARIABLES`).

    Returns
    -------
    Contributors
        Cells with at least one sensor and how many distinct sensor ids each holds.
    """
    if kind not in KINDS:
        raise PrivacyError(f"unknown sensor fleet {kind!r}; known: {', '.join(KINDS)}")
    fleet = sensors.table.iloc[sensors.of_kind(kind)].drop_duplicates("sensor_id")
    cells, counts = np.unique(fleet["cell"].to_numpy(np.uint64), return_counts=True)
    return Contributors(kind=kind, cells=cells, counts=counts.astype(np.int64))


def check_k(k) -> int:
    """``k`` as an int if it is an integer >= 1; `PrivacyError` naming ``k`` otherwise."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise PrivacyError(
            f"k (fewest contributors per public cell) must be an integer >= 1, got {k!r}"
        )
    return int(k)


def _check_res(res) -> int:
    if res not in CUBE_RESOLUTIONS:
        raise PrivacyError(f"display resolution {res!r} is outside {CUBE_RESOLUTIONS}")
    return int(res)


def display_cells(contributors: Contributors, res: int, *, k: int = MIN_CONTRIBUTORS) -> pd.Series:
    """Where each `BASE_RES` cell's meters show in the public view at resolution ``res``.

    Parameters
    ----------
    contributors : Contributors
        Distinct sensors per `BASE_RES` cell (`contributors`).
    res : int
        Resolution of the view (7-10).
    k : int
        Fewest contributors a shown cell may have (>= 1).

    Returns
    -------
    pandas.Series
        Indexed by ``contributors.cells``: the display cell (uint64, resolution 7 to ``res``)
        holding each cell's meters, or `WITHHELD` (0) if they are in no public view.
    """
    k, res = check_k(k), _check_res(res)
    return _display_views(contributors, k)[res]


def _display_views(contributors: Contributors, k: int) -> dict[int, pd.Series]:
    """`display_cells` at every view resolution, from one tree."""
    levels = range(CUBE_RESOLUTIONS[0], BASE_RES + 1)
    frame = pd.DataFrame({r: parent_cells(contributors.cells, r) for r in levels[:-1]})
    frame[BASE_RES] = np.asarray(contributors.cells, np.uint64)
    n = pd.Series(np.asarray(contributors.counts, np.int64), index=frame.index)
    # depth: the finest level each meter's ancestors are split down to (7 .. BASE_RES)
    top = levels[0]
    shown = n.groupby(frame[top]).transform("sum").to_numpy() >= k
    depth = np.full(len(frame), top)
    open_ = shown.copy()  # still descending: every ancestor so far was split
    for r in levels[:-1]:
        child_n = n.groupby([frame[r], frame[r + 1]]).transform("sum")
        smallest_child = child_n.groupby(frame[r]).transform("min").to_numpy()
        open_ &= smallest_child >= k  # children with 0 meters are absent, so never block
        depth[open_] = r + 1
    index = pd.Index(frame[BASE_RES].to_numpy(), name="cell")
    views = {}
    for res in CUBE_RESOLUTIONS:
        cut = np.minimum(depth, res)
        out = np.full(len(frame), WITHHELD, np.uint64)
        for r in levels:
            at = shown & (cut == r)
            out[at] = frame[r].to_numpy()[at]
        views[res] = pd.Series(out, index=index, name="display_cell")
    return views


def suppressed_cube(
    cube: xr.Dataset, contributors: Contributors, res: int, *, k: int = MIN_CONTRIBUTORS
) -> xr.Dataset:
    """The public view at resolution ``res`` of a `BASE_RES` cube's variables of one fleet.

    Parameters
    ----------
    cube : xarray.Dataset
        A resolution-`BASE_RES` cube (`data.telemetry.cube`), dims (time, cell).
    contributors : Contributors
        Distinct sensors per `BASE_RES` cell of the fleet whose variables are published.
    res : int
        Resolution of the view (7-10).
    k : int
        Fewest contributors a shown cell may have (>= 1).

    Returns
    -------
    xarray.Dataset
        The fleet's variables with their ``_count`` companions, one cell per display cell of
        `display_cells` (resolutions 7 to ``res`` mixed), values re-aggregated from sums and
        reading counts; a ``contributors`` coordinate along ``cell``; attrs
        ``min_contributors`` = k and ``suppressed`` = 1. Withheld meters are in no cell.
    """
    k, res = check_k(k), _check_res(res)
    if int(cube.attrs.get("h3_resolution", -1)) != BASE_RES:
        raise PrivacyError(
            f"suppression starts from a resolution-{BASE_RES} cube, "
            f"got resolution {cube.attrs.get('h3_resolution')}"
        )
    names = [n for n in cube.data_vars if n in VARIABLES and VARIABLES[n].kind == contributors.kind]
    if not names:
        raise PrivacyError(f"the cube has no variable of the {contributors.kind!r} fleet")
    cube = cube[[v for n in names for v in (n, f"{n}_count")]]
    mapping = display_cells(contributors, res, k=k)
    display = mapping.reindex(cube["cell"].to_numpy(), fill_value=WITHHELD).to_numpy(np.uint64)
    kept = display != WITHHELD  # cells without a meter of the fleet hold none of its readings
    labels, groups = np.unique(display[kept], return_inverse=True)
    time_bucket = cube.attrs.get("time_bucket", "")
    if kept.any():
        public = _regroup(cube.isel(cell=kept), "cell", groups, labels, res, time_bucket)
    else:
        empty = np.zeros((len(names), cube.sizes["time"], 0))
        public = _dataset(
            empty, empty.astype(np.int64), names, cube["time"].to_numpy(), labels, res, time_bucket
        )
    per_display = pd.Series(contributors.counts, index=mapping.to_numpy()).groupby(level=0).sum()
    public = public.assign_coords(
        contributors=(
            "cell",
            per_display.reindex(labels, fill_value=0).to_numpy(np.int64),
            {"units": "1", "long_name": f"distinct {contributors.kind} sensors in the cell"},
        )
    )
    public.attrs.update(
        {
            **{a: cube.attrs[a] for a in ("local_day",) if a in cube.attrs},
            "suppressed": 1,
            "min_contributors": k,
            "suppression": (
                f"cells with fewer than {k} distinct {contributors.kind} sensors are merged "
                f"into their parent cell or withheld; cells are of H3 resolutions "
                f"{CUBE_RESOLUTIONS[0]}-{res}"
            ),
        }
    )
    return public


def suppressed_by_bucket(
    cube: xr.Dataset, reporting: xr.Dataset, kind: str, *, k: int = MIN_CONTRIBUTORS
) -> dict[int, xr.Dataset]:
    """The public views where each value's contributors are the sensors that reported it.

    `suppressed_cube` counts a fleet's registered meters; a meter silent in an hour hides no one
    in that hour's value, so here every (variable, time bucket) gets its own tree from the
    sensors that gave a value of that variable in that bucket (`data.telemetry.reporting`).
    Each bucket's views nest, so no difference of two of them isolates fewer than ``k`` reporting
    sensors.

    Parameters
    ----------
    cube : xarray.Dataset
        A resolution-`BASE_RES` cube (`data.telemetry.cube`), dims (time, cell).
    reporting : xarray.Dataset
        Per variable, (time, cell) distinct sensors that reported, at `BASE_RES`
        (`data.telemetry.reporting.ReportingTally`), on the cube's times.
    kind : str
        The fleet whose variables are published.
    k : int
        Fewest reporting sensors behind a shown value (>= 1).

    Returns
    -------
    dict of int to xarray.Dataset
        Per view resolution (7-10), as `suppressed_cube`, on the union of the buckets' display
        cells: a value is NaN (and its count 0) in the buckets where its cell is not shown.
        ``<name>_sensors`` holds the reporting sensors behind each value; attrs say
        ``suppression_basis`` = "reporting".
    """
    k = check_k(k)
    if int(cube.attrs.get("h3_resolution", -1)) != BASE_RES:
        raise PrivacyError(
            f"suppression starts from a resolution-{BASE_RES} cube, "
            f"got resolution {cube.attrs.get('h3_resolution')}"
        )
    names = [n for n in cube.data_vars if n in VARIABLES and VARIABLES[n].kind == kind]
    missing = [n for n in names if n not in reporting]
    if not names or missing:
        raise PrivacyError(
            f"no reporting tally for {missing or kind!r}: suppression by bucket needs one per "
            "variable of the fleet"
        )
    if not np.array_equal(reporting["time"].to_numpy(), cube["time"].to_numpy()):
        raise PrivacyError("the reporting tally and the cube cover different time buckets")
    cells = cube["cell"].to_numpy().astype(np.uint64)
    reported = reporting[names].reindex(cell=cells, fill_value=0)
    times, bucket = cube["time"].to_numpy(), cube.attrs.get("time_bucket", "")
    parts: dict[int, list[xr.Dataset]] = {res: [] for res in CUBE_RESOLUTIONS}
    for name in names:
        sensors = reported[name].to_numpy()
        # per view resolution, (time, cell): the display cell of each cube cell in each bucket
        display = {res: np.full(sensors.shape, WITHHELD, np.uint64) for res in CUBE_RESOLUTIONS}
        for t in range(len(times)):
            has = sensors[t] > 0
            tally = Contributors(kind=kind, cells=cells[has], counts=sensors[t][has])
            for res, view in _display_views(tally, k).items():
                display[res][t, has] = view.to_numpy()
        sums, counts = _sums(cube, name), cube[f"{name}_count"].to_numpy()
        for res, labels_of in display.items():
            parts[res].append(_by_bucket_view(name, sums, counts, sensors, labels_of, times, res,
                                              bucket))  # fmt: skip
    suppression = (
        f"in every time bucket, cells where fewer than {k} distinct {kind} sensors reported "
        f"are merged into their parent cell or withheld; cells are of H3 resolutions "
        f"{CUBE_RESOLUTIONS[0]}-{{res}}"
    )
    views = {}
    for res, datasets in parts.items():
        public = xr.merge(datasets, join="outer", fill_value=0, combine_attrs="override")
        for name in names:  # a cell not shown in a bucket: no value there (its counts are 0)
            attrs = public[name].attrs
            public[name] = public[name].where(public[f"{name}_count"] > 0)
            public[name].attrs = attrs
        public.attrs.update(
            {
                **{a: cube.attrs[a] for a in ("local_day",) if a in cube.attrs},
                "suppressed": 1,
                "min_contributors": k,
                "suppression_basis": "reporting",
                "suppression": suppression.format(res=res),
            }
        )
        views[res] = public
    return views


def _by_bucket_view(name, sums, counts, sensors, labels_of, times, res, bucket) -> xr.Dataset:
    """One variable's view: sums, counts and reporting sensors added up per display cell."""
    shown = labels_of != WITHHELD
    labels, where = np.unique(labels_of[shown], return_inverse=True)
    slot = np.nonzero(shown)[0] * len(labels) + where  # (bucket, display cell), flattened
    size = len(times) * len(labels)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=values[shown], minlength=size).reshape(len(times), -1)

    view = _dataset(
        total(sums)[None], total(counts).astype(np.int64)[None], [name], times, labels, res,
        bucket,
    )  # fmt: skip
    return view.assign(
        {
            f"{name}_sensors": (
                ("time", "cell"),
                total(sensors).astype(np.int64),
                {"units": "1", "long_name": f"distinct sensors that reported {name}"},
            )
        }
    )

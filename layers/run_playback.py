"""A stored run on the map: one (time, cell) variable as playable hexagons, or its difference.

The difference against a reference run is coloured on a diverging scale centred on zero (blue:
less than the reference, red: more), so "no change" reads as neutral whatever the variable.

A utility network run's cells add up the customers and loads of the buildings in them; the
public sees those at one resolution (8) only, and only cells of at least k buildings, so no
cell and no difference of two views speaks for a handful of households.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import xarray as xr

from data.city import load_city
from data.city.clock import time_zone, to_local
from data.city.grid import cells_of
from data.errors import LayerSpecError
from data.store.scenarios import ScenarioStore, open_store
from data.telemetry.privacy import check_k
from layers.codec import PackedLayer
from layers.hexagons import CellFrames, Display, pack_cell_frames, quantile_classes
from layers.network_playback import rolled_up
from simulation.compare import CompareError, difference
from simulation.kinds import KINDS

RESOLUTIONS = (8, 9)
PUBLIC_RESOLUTION = 8
# Diverging, colour-blind safe (ColorBrewer RdBu, 7 classes): blue below zero, red above.
DIVERGING = (
    (33, 102, 172),
    (103, 169, 207),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (239, 138, 98),
    (178, 24, 43),
)


def diverging_classes(values: np.ndarray, unit: str) -> tuple[list[float], list[dict]]:
    """Class upper bounds symmetric about zero and their legend rows (middle: no change).

    The scale spans the 99th percentile of the absolute changes, so one extreme cell does not
    wash out the rest; beyond it cells take the end colours.
    """
    finite = np.abs(values[np.isfinite(values)])
    changed = finite[finite > 0]
    bound = float(np.quantile(changed, 0.99)) if changed.size else 1.0
    small = bound / 100  # below 1% of the scale: no change
    uppers = [-2 * bound / 3, -bound / 3, -small, small, bound / 3, 2 * bound / 3, np.inf]
    edges = [-np.inf, *uppers]
    legend = []
    for k, color in enumerate(DIVERGING):
        lo, hi = edges[k], edges[k + 1]
        if k == 3:
            label = f"no change (within ±{_fmt(small)} {unit})"
        elif np.isinf(lo):
            label = f"less than {_fmt(hi)} {unit}"
        elif np.isinf(hi):
            label = f"more than +{_fmt(lo)} {unit}"
        else:
            label = f"{_fmt(lo, signed=True)} to {_fmt(hi, signed=True)} {unit}"
        legend.append({"label": label, "color": [*color, 255]})
    return [float(u) if np.isfinite(u) else 3.4e38 for u in uppers], legend


def _fmt(value: float, *, signed: bool = False) -> str:
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"+{text}" if signed and value > 0 else text


def packed_run_playback(
    city: str,
    results: xr.Dataset,
    variable: str,
    *,
    title: str,
    reference: xr.Dataset | None = None,
    min_buildings: int = 0,
) -> PackedLayer:
    """Hexagon frames of ``variable`` of a stored run (res 8 and 9), or its difference.

    ``results`` and ``reference`` are `data.store.scenarios` result Datasets; with a reference,
    the frames are ``results - reference`` on a diverging scale. ``min_buildings`` >= 1: the
    public's view, `PUBLIC_RESOLUTION` only and only cells of that many buildings or more.
    """
    if reference is None:
        values = results[variable]
    else:
        values = difference(results, reference, variable)
    mean = results[variable].attrs.get("cell_aggregation") == "mean"
    values = values.assign_attrs(h3_resolution=int(results.attrs.get("h3_resolution", 9)))
    touched = (np.abs(values.fillna(0)) > 0).any("time")
    if not mean and bool(touched.any()):  # keep the cells the run touches
        values = values.sel(cell=touched)
    frames = {r: rolled_up(values, r, mean=mean) for r in RESOLUTIONS}
    if min_buildings:
        public = frames[PUBLIC_RESOLUTION]
        keep = np.isin(public.cells, public_cells(city, min_buildings))
        frames = {
            PUBLIC_RESOLUTION: CellFrames(
                public.cells[keep], public.values[:, keep], public.counts[:, keep]
            )
        }
    unit = results[variable].attrs.get("units", "")
    times = to_local(city, values["time"].to_numpy())
    daily = len(times) > 1 and (times[1] - times[0]) >= pd.Timedelta(days=1)
    packed = pack_cell_frames(
        frames,
        variable=variable,
        display=Display(title, unit),
        labels=[t.strftime("%a %d %b %Y" if daily else "%a %d %b %Y %H:%M") for t in times],
        starts=values["time"].to_numpy(),
        time_zone=time_zone(city),
        count_label="H3 cells",
        extra={
            "kind": "library",
            "difference": reference is not None,
            **({"minBuildings": min_buildings} if min_buildings else {}),
        },
    )
    if reference is not None:
        for res, entry in packed.manifest["resolutions"].items():
            raw = frames[int(res)].values.astype(np.float32)
            entry["breaks"], entry["legend"] = diverging_classes(raw, unit)
    return packed


@functools.lru_cache(maxsize=4)
def public_cells(city: str, k: int) -> np.ndarray:
    """The `PUBLIC_RESOLUTION` cells holding at least ``k`` buildings (by their centroids)."""
    buildings = load_city(city).buildings
    centres = buildings.geometry.representative_point()
    cells, counts = np.unique(
        cells_of(centres.x.to_numpy(), centres.y.to_numpy(), PUBLIC_RESOLUTION),
        return_counts=True,
    )
    return cells[counts >= check_k(k)]


@functools.lru_cache(maxsize=8)
def packed_stored_run(
    db: str,
    scenario_id: str,
    variable: str,
    against: str | None = None,
    scale_with: str | None = None,
    k: int = 0,
) -> PackedLayer:
    """`packed_run_playback` of a finished run of the database ``db`` (cached: runs are final).

    ``against``: the difference to that run instead. ``scale_with``: another run whose values
    share the colour classes (the two maps of a split view read on one scale). ``k`` >= 1: the
    public's view of a utility network run (`public_cells`); 0: every cell.

    Raises `ScenarioStoreError` (no such run, or unfinished), `CompareError` (runs that do not
    compare) or `LayerSpecError` naming an unknown variable.
    """
    if scale_with is not None:
        mine = packed_stored_run(db, scenario_id, variable, k=k)
        other = packed_stored_run(db, scale_with, variable, k=k)
        _check_same_kind(open_store(db), scenario_id, scale_with, "a split view")
        return _on_shared_scale(mine, other)
    store = open_store(db)
    record = store.get(scenario_id)
    results = store.results(scenario_id)
    cell_vars = [n for n, v in results.data_vars.items() if v.dims == ("time", "cell")]
    if variable not in cell_vars:
        raise LayerSpecError(
            f"unknown variable {variable!r} of scenario {scenario_id}; "
            f"known: {', '.join(cell_vars)}"
        )
    long_name = results[variable].attrs.get("long_name", variable)
    kind = KINDS.get(record.kind)
    min_buildings = k if kind is not None and kind.sums_buildings else 0
    if against is None:
        return packed_run_playback(
            record.city,
            results,
            variable,
            title=f"{record.name}: {long_name}",
            min_buildings=min_buildings,
        )
    reference = _check_same_kind(store, scenario_id, against, "a difference map")
    title = f"Change in {long_name}: {record.name} − {reference.name}"
    return packed_run_playback(
        record.city,
        results,
        variable,
        title=title,
        reference=store.results(against),
        min_buildings=min_buildings,
    )


def _check_same_kind(store: ScenarioStore, scenario_id: str, other_id: str, what: str):
    record, other = store.get(scenario_id), store.get(other_id)
    if record.kind != other.kind:
        raise CompareError(
            f"scenario {scenario_id} is {record.kind} and {other_id} is {other.kind}; "
            f"{what} compares runs of one kind"
        )
    return other


def _on_shared_scale(mine: PackedLayer, other: PackedLayer) -> PackedLayer:
    """``mine`` with colour classes over both runs' values, resolution by resolution."""
    manifest = {**mine.manifest, "resolutions": dict(mine.manifest["resolutions"])}
    for res, entry in mine.manifest["resolutions"].items():
        theirs = other.manifest["resolutions"].get(res)
        values = [_values(mine, entry)]
        if theirs is not None:
            values.append(_values(other, theirs))
        breaks, legend = quantile_classes(np.concatenate(values), mine.manifest["unit"])
        manifest["resolutions"][res] = {**entry, "breaks": breaks, "legend": legend}
    return PackedLayer(manifest=manifest, blob=mine.blob)


def _values(packed: PackedLayer, entry: dict) -> np.ndarray:
    d = entry["values"]
    return np.frombuffer(packed.blob, np.float32, d["count"], d["offset"])

"""Telemetry on the map: one cube variable as deck.gl H3 hexagons, every hour and resolution.

The browser gets the whole day at once (values and reading counts per hour and cell, for each
resolution 7-10, as float32/uint32 columns) plus a colour scale per resolution, so moving the
time slider or zooming switches frames client-side, without a server round trip. With ``k``,
the public views are small-count suppressed (`data.telemetry.privacy`): cells of mixed resolutions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import h3
import numpy as np
import pydeck as pdk
import xarray as xr

from data.city.clock import in_zone, time_zone
from data.city.grid import BASE_RES
from data.errors import LayerSpecError
from data.telemetry.cube import CUBE_RESOLUTIONS
from data.telemetry.day_cube import day_cubes, day_reporting
from data.telemetry.privacy import check_k, suppressed_by_bucket
from data.telemetry.sensors import VARIABLES
from layers.codec import BlobWriter, PackedLayer
from layers.spec import deck_json

LAYER_ID = "hexagons"
N_CLASSES = 6
ZERO_COLOR = (190, 190, 190)  # "none": a class of its own when zeros would swallow one
# Sequential, colour-blind safe (viridis, 6 classes), dark = low, yellow = high.
PALETTE = (
    (68, 1, 84),
    (65, 68, 135),
    (42, 120, 142),
    (34, 168, 132),
    (122, 209, 81),
    (253, 231, 37),
)  # drawn at alpha 190 (assets/twin_hexagons.js) so streets show through


@dataclass(frozen=True)
class Display:
    """How a cube variable reads on the map: title, unit label, scale from cube units."""

    title: str
    unit: str
    scale: float = 1.0


DISPLAY: dict[str, Display] = {
    "power_w": Display("Mean power per light point", "W"),
    "lamp_on": Display("Light points switched on", "%", 100.0),
    "vehicles": Display("Vehicles counted per hour (all road segments in the cell)", "veh/h"),
    "speed_kmh": Display("Mean vehicle speed", "km/h"),
    "flow_m3h": Display("Mean inflow of the metered area", "m³/h"),
    "pressure_bar": Display("Mean inlet pressure of the metered area", "bar"),
}


def lookup_display(table: dict[str, Display], variable: str, what: str) -> Display:
    """``table[variable]``; `LayerSpecError` naming the ``what`` variable and the known ones."""
    try:
        return table[variable]
    except KeyError:
        known = ", ".join(table)
        raise LayerSpecError(f"unknown {what} variable {variable!r}; known: {known}") from None


def display_of(variable: str) -> Display:
    """The map display of a cube variable; `LayerSpecError` naming it if unknown."""
    return lookup_display(DISPLAY, variable, "cube")


def variable_options() -> list[dict]:
    """Dropdown options: every cube variable, labelled with its unit."""
    return [{"label": f"{d.title} ({d.unit})", "value": name} for name, d in DISPLAY.items()]


def quantile_classes(values: np.ndarray, unit: str) -> tuple[list[float], list[dict]]:
    """Quantile class breaks (upper bounds) over all finite values, and their legend rows.

    Non-negative values that are 0 often enough to fill a class (an outage's customers off
    outside its hours) get a grey class of their own, and the quantiles are taken over the
    others: else "0 – 622" would be one class and no cell would change colour.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return [], []
    zeros = finite == 0
    if finite.min() >= 0 and zeros.mean() >= 1 / N_CLASSES and not zeros.all():
        uppers, legend = quantile_classes(finite[~zeros], unit)
        zero = {"label": f"0 {unit}".strip(), "color": [*ZERO_COLOR, 255]}
        return [0.0, *uppers], [zero, *legend]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, N_CLASSES + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    uppers = edges[1:].tolist()
    # spread fewer classes (tied quantiles) over the whole palette, low to high
    step = (len(PALETTE) - 1) / max(1, len(uppers) - 1)
    colors = [PALETTE[round(i * step)] for i in range(len(uppers))]
    legend = [
        {
            "label": f"{_fmt(lo)} – {_fmt(hi)} {unit}" if lo != hi else f"{_fmt(hi)} {unit}",
            "color": [*color, 255],
        }
        for lo, hi, color in zip(edges[:-1], edges[1:], colors, strict=True)
    ]
    return uppers, legend


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def hexagon_deck() -> dict:
    """The deck.gl props of the hexagon layer (data and colours come from the browser)."""
    return deck_json(
        pdk.Layer(
            "H3HexagonLayer",
            id=LAYER_ID,
            pickable=True,
            extruded=False,
            stroked=True,
            filled=True,
            get_line_color=[255, 255, 255, 90],
            line_width_min_pixels=0.5,
            coverage=0.94,
            auto_highlight=True,
            highlight_color=[255, 255, 255, 160],
        )
    )


@dataclass(frozen=True)
class CellFrames:
    """One resolution's frames: ``values`` and ``counts`` are (frame, cell), cells uint64."""

    cells: np.ndarray
    values: np.ndarray
    counts: np.ndarray


def epochs_ms(times) -> list[int]:
    """UTC datetime64 times as integer milliseconds since 1970 (JavaScript's Date values)."""
    values = np.asarray(times, dtype="datetime64[ms]").astype(np.int64)
    return [int(v) for v in values]


def pack_cell_frames(
    frames: dict[int, CellFrames],
    *,
    variable: str,
    display: Display,
    labels: list[str],
    starts: np.ndarray,
    time_zone: str,
    count_label: str = "readings",
    writer: BlobWriter | None = None,
    extra: dict | None = None,
) -> PackedLayer:
    """Manifest + blob of per-frame cell values at several resolutions (res -> frames).

    ``labels`` name the frames in local time; ``starts`` are their UTC start times
    (datetime64), sent as ``epochs`` (ms) for the twin's time control.

    Every resolution gets its own quantile colour classes over all its frames, so a frame
    reads against the whole day (or year). ``extra`` entries join the manifest as they are
    (their arrays already in ``writer``).
    """
    writer = writer or BlobWriter()
    manifest: dict = {
        "id": LAYER_ID,
        "variable": variable,
        "title": display.title,
        "unit": display.unit,
        "countLabel": count_label,
        "times": labels,
        "epochs": epochs_ms(starts),
        "timeZone": time_zone,
        "deck": hexagon_deck(),
        "resolutions": {},
        **(extra or {}),
    }
    for res in sorted(frames):
        f = frames[res]
        values = np.ascontiguousarray(f.values * display.scale, dtype=np.float32)
        uppers, legend = quantile_classes(values, display.unit)
        manifest["resolutions"][str(res)] = {
            "cells": [h3.int_to_str(int(c)) for c in f.cells],
            "values": writer.add(values),
            "counts": writer.add(np.ascontiguousarray(f.counts, dtype=np.uint32)),
            "breaks": uppers,
            "legend": legend,
        }
    blob = writer.getvalue()
    manifest["byteLength"] = len(blob)
    return PackedLayer(manifest=manifest, blob=blob)


def pack_hexagons(cubes: dict[int, xr.Dataset], variable: str, zone: str) -> PackedLayer:
    """Manifest + blob of ``variable`` over every resolution of ``cubes`` (res -> cube).

    Suppressed cubes (`data.telemetry.privacy.suppressed_cube`) are recorded in the manifest as
    ``minContributors`` (their k). Their cells may be of several resolutions: the layer keeps
    ``highPrecision: "auto"``, under which H3HexagonLayer scans the data and draws mixed
    resolutions cell by cell (checked in the deck.gl 9.3 bundled with pydeck).
    """
    display = display_of(variable)
    any_cube = next(iter(cubes.values()))
    times = in_zone(any_cube["time"].to_numpy(), zone)
    frames = {}
    for res, cube in cubes.items():
        counts = cube[f"{variable}_count"].to_numpy()
        reported = counts.sum(axis=0) > 0  # cells this fleet reports in, at any hour
        frames[res] = CellFrames(
            cells=cube["cell"].to_numpy()[reported],
            values=cube[variable].to_numpy()[:, reported],
            counts=counts[:, reported],
        )
    return pack_cell_frames(
        frames,
        variable=variable,
        display=display,
        labels=[t.strftime("%a %d %b %Y %H:%M") for t in times],
        starts=any_cube["time"].to_numpy(),
        time_zone=zone,
        extra={
            "cellMethod": any_cube[variable].attrs.get("cell_methods", ""),
            **_suppression(cubes.values()),
        },
    )


def _suppression(cubes) -> dict:
    """``{"minContributors": k}`` if every cube is suppressed with one k, ``{}`` if none is."""
    ks = {cube.attrs.get("min_contributors") for cube in cubes}
    if ks == {None}:
        return {}
    if len(ks) != 1:
        raise LayerSpecError(
            f"cubes mix suppression levels (min_contributors {sorted(ks, key=str)})"
        )
    return {"minContributors": int(ks.pop())}


def packed_hexagons(city: str, day: str, variable: str, *, k: int = 0) -> PackedLayer:
    """The hexagon layer of ``variable`` on ``day`` in ``city`` (cached per process).

    Parameters
    ----------
    city, day, variable : str
        City name, local day (YYYY-MM-DD) and cube variable (`DISPLAY`).
    k : int
        0 (default): the cubes as aggregated. k >= 1: every resolution shows the public,
        small-count suppressed view (`data.telemetry.privacy.suppressed_by_bucket`): no value comes
        from fewer than ``k`` distinct sensors that reported it in that hour; the manifest
        records ``minContributors``.
    """
    display_of(variable)  # refuse before aggregating a whole day
    if k != 0:
        k = check_k(k)
    return _packed_hexagons(city, day, variable, int(k))


@functools.lru_cache(maxsize=16)
def _packed_hexagons(city: str, day: str, variable: str, k: int) -> PackedLayer:
    cubes = day_cubes(city, day)
    if k:
        finest = cubes[BASE_RES][[variable, f"{variable}_count"]]
        kind = VARIABLES[variable].kind
        cubes = suppressed_by_bucket(finest, day_reporting(city, day), kind, k=k)
    return pack_hexagons({r: cubes[r] for r in CUBE_RESOLUTIONS}, variable, time_zone(city))

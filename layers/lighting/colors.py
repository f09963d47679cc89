"""Ways to colour the light points: technology, wattage, the day's state and energy, dimming.

Each mode is one uint8 RGBA column the browser swaps into the lamp layer (no rebuild, no
re-upload of positions); dimming is coloured in the browser from a scenario's levels per frame.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.city import City, load_city
from data.errors import LayerSpecError
from data.lighting.lamp_day import LAMP_STATES, LampDay, lamp_day
from layers.codec import BlobWriter, PackedLayer
from layers.hexagons import PALETTE
from layers.lighting.lamps import TECHNOLOGY_COLORS, TECHNOLOGY_NAMES, UNKNOWN_COLOR
from layers.spec import legend_from, rgba

# Rated wattage classes (upper bounds, W) on a warm sequential ramp: brighter = hungrier.
WATTAGE_CLASSES = (
    (50, (255, 245, 200)),
    (80, (254, 217, 118)),
    (120, (253, 141, 60)),
    (200, (227, 26, 28)),
    (10_000, (128, 0, 38)),
)
# Faults stand out against working lamps drawn dim.
STATE_COLORS = {"ok": (70, 110, 140), "out": (255, 40, 40), "day-burner": (255, 0, 255)}
STATE_LABELS = {
    "ok": "Working as metered",
    "out": "Out while dark (failed lamp, fuse or cable)",
    "day-burner": "Lit in daylight (stuck photocell)",
}
# Dimming level ramp, drawn by assets/twin.js: (lowest level of the class, colour).
DIMMING_CLASSES = (
    (0.995, (255, 250, 220)),
    (0.75, (255, 214, 102)),
    (0.5, (230, 150, 40)),
    (0.2, (170, 80, 20)),
    (0.0, (90, 40, 20)),
)
OFF_COLOR = (45, 45, 55)
# Colour modes from the bundle (any role); the others come from the lamps' meters (RAW).
PUBLIC_LAMP_MODES = ("technology", "wattage")
# The day's energy per lamp, class upper bounds (kWh): a 70 W sodium lamp draws ~1 kWh on a
# November night, a 250 W one ~3.5 kWh.
ENERGY_BREAKS_KWH = (0.05, 0.75, 1.25, 2.0, 3.0, float("inf"))


@dataclass(frozen=True)
class ColorMode:
    """One way of colouring the lamps: an (n, 4) uint8 column and its legend."""

    title: str
    legend_title: str
    legend: list[dict]
    colors: np.ndarray


def _legend(table: dict[str, tuple[int, ...]], labels: dict[str, str]) -> list[dict]:
    return [{"label": labels.get(e.label, e.label), "color": [*e.color[:3], 255]}
            for e in legend_from(table)]  # fmt: skip


def wattage_colors(power_w: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Colours and legend of rated wattage classes."""
    uppers = np.array([upper for upper, _ in WATTAGE_CLASSES])
    palette = np.array([[*color, 255] for _, color in WATTAGE_CLASSES], np.uint8)
    colors = palette[np.searchsorted(uppers, np.asarray(power_w), side="left")]
    lowers = [0, *(upper + 1 for upper, _ in WATTAGE_CLASSES[:-1])]
    legend = [
        {"label": f"{lo}-{hi} W" if hi < 10_000 else f"over {lo - 1} W", "color": [*c, 255]}
        for lo, (hi, c) in zip(lowers, WATTAGE_CLASSES, strict=True)
    ]
    return colors, legend


def energy_colors(energy_kwh: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Colours and legend of the day's energy per lamp, in fixed classes (viridis, low = dark).

    Fixed, round breaks rather than quantiles: a lamp's energy clusters on its wattage, so
    quantile classes would split one wattage into look-alike classes.
    """
    uppers = np.array(ENERGY_BREAKS_KWH)
    palette = np.array([[*c, 255] for c in PALETTE], np.uint8)
    colors = palette[np.minimum(np.searchsorted(uppers, energy_kwh, side="left"), 5)]
    lowers = (0.0, *ENERGY_BREAKS_KWH[:-1])
    legend = [
        {"label": label, "color": [*c, 255]}
        for label, c in zip(
            [
                "none (out all night)",
                *(f"{lo:g}-{hi:g} kWh" for lo, hi in zip(lowers[1:-1], uppers[1:-1], strict=True)),
                f"over {lowers[-1]:g} kWh",
            ],
            PALETTE,
            strict=True,
        )
    ]
    return colors, legend


def color_modes(city: City, day: LampDay) -> dict[str, ColorMode]:
    """Every colour mode of ``city``'s lamps on the telemetry ``day`` (first: the default)."""
    lamps = city.lamps
    wattage, wattage_legend = wattage_colors(lamps["power_w"].to_numpy())
    energy, energy_legend = energy_colors(np.asarray(day.energy_kwh, float))
    states = np.asarray(LAMP_STATES, dtype=object)[day.state]
    counts = pd.Series(states).value_counts()
    state_legend = [
        {**row, "label": f"{row['label']}: {counts.get(key, 0):,}"}
        for key, row in zip(STATE_COLORS, _legend(STATE_COLORS, STATE_LABELS), strict=True)
    ]
    return {
        "technology": ColorMode(
            "Technology",
            "Light points by technology",
            _legend(TECHNOLOGY_COLORS, TECHNOLOGY_NAMES),
            rgba(lamps["technology"].to_numpy(), TECHNOLOGY_COLORS, UNKNOWN_COLOR),
        ),
        "wattage": ColorMode(
            "Rated wattage", "Light points by rated wattage", wattage_legend, wattage
        ),  # fmt: skip
        "state": ColorMode(
            f"State on {day.day}",
            f"Light points on {day.day}, from their meters",
            state_legend,
            rgba(states, STATE_COLORS, UNKNOWN_COLOR),
        ),  # fmt: skip
        "energy": ColorMode(
            f"Energy on {day.day}",
            f"Energy drawn on {day.day} (kWh per light point)",
            energy_legend,
            energy,
        ),  # fmt: skip
    }


def dimming_legend() -> list[dict]:
    """Legend of the dimming ramp the browser draws (a scenario's level at the frame)."""
    rows, upper = [], 100
    for lowest, color in DIMMING_CLASSES:
        low = round(lowest * 100)
        label = "100%" if low >= 99 else f"{low}-{upper}%"
        rows.append({"label": label, "color": [*color, 255]})
        upper = low
    return [*rows, {"label": "off (daylight)", "color": [*OFF_COLOR, 255]}]


def pack_color_modes(
    modes: dict[str, ColorMode], *, vertex_counts: np.ndarray | None = None, extra=None
) -> PackedLayer:
    """Manifest (titles, legends, column descriptors) + blob of the colour columns.

    ``vertex_counts``: for path layers, each row's colour repeated over its vertices.
    ``extra`` joins the manifest as it is.
    """
    writer = BlobWriter()

    def column(colors: np.ndarray) -> dict:
        if vertex_counts is not None:
            colors = np.repeat(colors, vertex_counts, axis=0)
        return {**writer.add(np.ascontiguousarray(colors, np.uint8)), "size": 4}

    manifest = {
        "modes": {
            name: {
                "title": mode.title,
                "legendTitle": mode.legend_title,
                "legend": mode.legend,
                "color": column(mode.colors),
            }
            for name, mode in modes.items()
        },
        **(extra or {}),
    }
    blob = writer.getvalue()
    manifest["byteLength"] = len(blob)
    return PackedLayer(manifest=manifest, blob=blob)


@functools.lru_cache(maxsize=8)
def packed_lamp_colors(city: str, day: str, only: tuple[str, ...] | None = None) -> PackedLayer:
    """The lamp colour modes of ``city`` on ``day`` (cached per process).

    ``only``: just these modes (e.g. the bundle's, without the meters' state and energy).
    """
    modes = color_modes(load_city(city), lamp_day(city, day))
    if only is not None:
        unknown = sorted(set(only) - set(modes))
        if unknown:
            raise LayerSpecError(f"unknown lamp colour modes {unknown}; known: {', '.join(modes)}")
        modes = {name: modes[name] for name in only}
    return pack_color_modes(modes, extra={"dimming": dimming_mode()})


def dimming_mode() -> dict:
    """The "dimming" colour mode, painted in the browser from a playing scenario's levels."""
    return {
        "title": "Dimming (scenario playback)",
        "legendTitle": "Light points by dimming level at the played frame",
        "legend": dimming_legend(),
        "classes": [[lowest, [*color, 255]] for lowest, color in DIMMING_CLASSES],
        "off": [*OFF_COLOR, 255],
    }

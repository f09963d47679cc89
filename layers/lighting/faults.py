"""Faulty light points of the telemetry day, drawn large and bright above every other lamp.

Faults come from `data.lighting.lamp_day` (detected in the meter readings); this module only draws
them.
"""

from __future__ import annotations

import numpy as np
import pydeck as pdk

from data.city import City
from data.lighting.lamp_day import LAMP_STATES, OK, lamp_day
from layers.geometry import point_positions
from layers.lighting.colors import STATE_COLORS, STATE_LABELS
from layers.spec import LayerSpec, LegendEntry, rgba

LAYER_ID = "lamp-faults"


def fault_layer(city: City, day: str) -> LayerSpec:
    """Lamps out while dark or lit by day on ``day``: rings of at least 5 px at any zoom."""
    today = lamp_day(city.name, day)
    faulty = np.flatnonzero(today.state != OK)
    lamps = city.lamps.iloc[faulty]
    states = np.asarray(LAMP_STATES, dtype=object)[today.state[faulty]]
    deck_layer = pdk.Layer(
        "ScatterplotLayer",
        id=LAYER_ID,
        pickable=True,
        radius_units="'meters'",
        get_radius=6,
        radius_min_pixels=5,
        radius_max_pixels=16,
        stroked=True,
        line_width_min_pixels=1.5,
        get_line_color=[255, 255, 255, 230],
        auto_highlight=True,
        highlight_color=[255, 255, 255, 255],
    )
    return LayerSpec(
        id=LAYER_ID,
        title=f"Lamp faults on {day}",
        deck_layer=deck_layer,
        length=len(lamps),
        attributes={
            "getPosition": point_positions(lamps),
            "getFillColor": rgba(states, STATE_COLORS, (128, 128, 128)),
        },
        fields={
            "lamp_id": lamps["lamp_id"].to_numpy(),
            "fault": np.array([STATE_LABELS[s] for s in states], dtype=object),
            "hours_out": today.hours_out[faulty],
            "hours_lit_by_day": today.hours_lit_by_day[faulty],
            "cabinet_id": lamps["cabinet_id"].to_numpy(),
        },
        tooltip="Lamp {lamp_id}: {fault}\n{hours_out} h dark but off · {hours_lit_by_day} h lit "
        f"in daylight on {day}\ncabinet {{cabinet_id}}",
        id_field="lamp_id",
        legend_title=f"Lamp faults on {day} ({len(lamps):,}, from the meters)",
        legend=tuple(
            LegendEntry(f"{STATE_LABELS[s]}: {(states == s).sum():,}", STATE_COLORS[s])
            for s in ("out", "day-burner")
        ),
    )

"""Building layer: footprints extruded to their height, shaded by height.

Builds a deck.gl SolidPolygonLayer spec from `City.buildings`; never touches Dash.
"""

from __future__ import annotations

import numpy as np
import pydeck as pdk

from data.city import City
from layers.geometry import polygon_rings
from layers.spec import Details, LayerSpec, LegendEntry

LAYER_ID = "buildings"
# Height classes (upper bound in metres, colour): low houses warm sand, towers slate blue.
HEIGHT_CLASSES: tuple[tuple[float, str, tuple[int, int, int]], ...] = (
    (7.0, "up to 7 m (1–2 floors)", (236, 226, 204)),
    (13.0, "7–13 m (3–4 floors)", (222, 205, 178)),
    (25.0, "13–25 m (5–8 floors)", (196, 186, 176)),
    (float("inf"), "over 25 m (towers)", (150, 164, 186)),
)
MATERIAL = {"ambient": 0.45, "diffuse": 0.6, "shininess": 24, "specularColor": [50, 50, 50]}


def height_colors(height_m: np.ndarray) -> np.ndarray:
    """(n, 4) uint8 colours of the height classes of ``height_m`` (metres)."""
    bounds = np.array([upper for upper, _, _ in HEIGHT_CLASSES])
    palette = np.array([(*color, 255) for _, _, color in HEIGHT_CLASSES], dtype=np.uint8)
    return palette[np.searchsorted(bounds, np.asarray(height_m, dtype=float), side="left")]


def building_layer(city: City) -> LayerSpec:
    """Buildings as an extruded SolidPolygonLayer (elevation = ``height_m``, metres)."""
    buildings = city.buildings
    vertices, starts = polygon_rings(buildings)
    deck_layer = pdk.Layer(
        "SolidPolygonLayer",
        id=LAYER_ID,
        pickable=True,
        extruded=True,
        wireframe=False,
        material=MATERIAL,
        auto_highlight=True,
        highlight_color=[255, 230, 140, 220],
        _normalize=False,
        _winding_order="'CCW'",
    )
    height = buildings["height_m"].to_numpy(dtype=float)
    return LayerSpec(
        id=LAYER_ID,
        title="Buildings",
        deck_layer=deck_layer,
        length=len(buildings),
        start_indices=starts,
        attributes={
            "getPolygon": vertices,
            "getElevation": height,
            "getFillColor": height_colors(height),
        },
        fields={
            "building_id": buildings["building_id"],
            "building_type": buildings["building_type"].str.replace("_", " "),
            "height_m": height.round(1),
            "levels": buildings["levels"],
            "district_id": buildings["district_id"],
            "height_source": buildings["height_estimated"].map(
                {True: "height estimated from type", False: "height from OSM tags"}
            ),
            "provenance": buildings["synthetic"].map(
                {True: "synthetic footprint", False: "OpenStreetMap footprint"}
            ),
        },
        tooltip="Building ({building_type})\n{height_m} m · {levels} floors\n"
        "{height_source}; {provenance}",
        id_field="building_id",
        legend_title="Buildings by height",
        legend=tuple(LegendEntry(label, color) for _, label, color in HEIGHT_CLASSES),
    )


# What the details card of a clicked feature shows: (column, label, unit) rows.
BUILDINGS_DETAILS = Details(
    "building_id",
    (
        ("building_id", "Building", ""),
        ("building_type", "Type", ""),
        ("height_m", "Height", "m"),
        ("levels", "Floors", ""),
        ("height_estimated", "Height estimated", ""),
        ("district_id", "District", ""),
        ("synthetic", "Synthetic footprint", ""),
    ),
)

"""District layer: the city's districts as the twin's base land, one tint each.

Builds a deck.gl SolidPolygonLayer spec from `City.districts`; never touches Dash.
"""

from __future__ import annotations

import numpy as np
import pydeck as pdk

from data.city import City
from layers.geometry import polygon_rings
from layers.spec import Details, LayerSpec, LegendEntry

LAYER_ID = "districts"
# Muted land tints; neighbours differ so borders read without drawing outlines.
LAND_TINTS = np.array(
    [(226, 222, 210), (216, 214, 200), (230, 226, 216), (210, 212, 198), (222, 216, 204)],
    dtype=np.uint8,
)


def district_layer(city: City) -> LayerSpec:
    """Districts as flat filled polygons (the land under the city)."""
    districts = city.districts
    vertices, starts = polygon_rings(districts)
    tints = LAND_TINTS[np.arange(len(districts)) % len(LAND_TINTS)]
    colors = np.column_stack([tints, np.full(len(districts), 255, dtype=np.uint8)])
    deck_layer = pdk.Layer(
        "SolidPolygonLayer",
        id=LAYER_ID,
        pickable=True,
        extruded=False,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 60],
        _normalize=False,
        _winding_order="'CCW'",
    )
    density = districts["population"] / districts["area_km2"].where(districts["area_km2"] > 0)
    return LayerSpec(
        id=LAYER_ID,
        title="Districts",
        deck_layer=deck_layer,
        length=len(districts),
        start_indices=starts,
        attributes={"getPolygon": vertices, "getFillColor": colors},
        fields={
            "district_id": districts["district_id"],
            "name": districts["name"],
            "population": districts["population"],
            "area_km2": districts["area_km2"].astype(float).round(2),
            "density_per_km2": density.fillna(0).round(0),
            "source": districts["source"],
        },
        tooltip="{name}\n{population} inhabitants · {area_km2} km²\n({source})",
        id_field="district_id",
        legend_title="Land",
        legend=(LegendEntry("District (land)", tuple(int(c) for c in LAND_TINTS[0])),),
    )


# What the details card of a clicked feature shows: (column, label, unit) rows.
DISTRICTS_DETAILS = Details(
    "district_id",
    (
        ("district_id", "District", ""),
        ("name", "Name", ""),
        ("name_ar", "Arabic name", ""),
        ("population", "Population", "inhabitants"),
        ("households", "Households", ""),
        ("area_km2", "Area", "km²"),
        ("source", "Source", ""),
    ),
)

"""Public-lighting layer: every light point, coloured by lamp technology.

Builds a deck.gl ScatterplotLayer spec from `City.lamps`; never touches Dash or the browser.
"""

from __future__ import annotations

import pydeck as pdk

from data.city import City
from layers.geometry import point_positions
from layers.spec import Details, LayerSpec, legend_from, rgba

LAYER_ID = "lamps"
# Colours echo the light each technology gives: sodium amber, LED cool white, metal halide.
TECHNOLOGY_COLORS: dict[str, tuple[int, ...]] = {
    "HPS": (255, 158, 27),
    "LED": (80, 200, 255),
    "MH": (198, 120, 255),
}
UNKNOWN_COLOR = (160, 160, 160)
TECHNOLOGY_NAMES = {"HPS": "High-pressure sodium", "LED": "LED", "MH": "Metal halide"}


def lamp_layer(city: City) -> LayerSpec:
    """Light points as a ScatterplotLayer (radius in metres, min 1 px so the city shows)."""
    lamps = city.lamps
    road_names = lamps["road_id"].map(city.roads.set_index("road_id")["name"]).fillna("")
    synthetic = lamps["synthetic"].map({True: "synthetic, estimated", False: "surveyed"})
    deck_layer = pdk.Layer(
        "ScatterplotLayer",
        id=LAYER_ID,
        pickable=True,
        radius_units="'meters'",
        get_radius=2.5,
        radius_min_pixels=1.0,
        radius_max_pixels=12,
        stroked=False,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 255],
    )
    present = lamps["technology"]
    return LayerSpec(
        id=LAYER_ID,
        title="Light points",
        deck_layer=deck_layer,
        length=len(lamps),
        attributes={
            "getPosition": point_positions(lamps),
            "getFillColor": rgba(lamps["technology"].to_numpy(), TECHNOLOGY_COLORS, UNKNOWN_COLOR),
        },
        fields={
            "lamp_id": lamps["lamp_id"],
            "technology": lamps["technology"].map(TECHNOLOGY_NAMES).fillna(lamps["technology"]),
            "power_w": lamps["power_w"],
            "mounting_height_m": lamps["mounting_height_m"],
            "road": road_names,
            "district_id": lamps["district_id"],
            "cabinet_id": lamps["cabinet_id"],
            "feeder_id": lamps["feeder_id"],
            "install_year": lamps["install_year"],
            "provenance": synthetic,
        },
        tooltip="Lamp {lamp_id}\n{technology} · {power_w} W · {mounting_height_m} m pole\n"
        "{road}\n{provenance}",
        id_field="lamp_id",
        legend_title="Light points by technology",
        legend=tuple(
            type(e)(f"{TECHNOLOGY_NAMES.get(e.label, e.label)}", e.color)
            for e in legend_from(TECHNOLOGY_COLORS, present)
        ),
    )


# What the details card of a clicked feature shows: (column, label, unit) rows.
LAMPS_DETAILS = Details(
    "lamp_id",
    (
        ("lamp_id", "Lamp", ""),
        ("technology", "Technology", ""),
        ("power_w", "Power", "W"),
        ("mounting_height_m", "Mounting height", "m"),
        ("road_id", "Road", ""),
        ("district_id", "District", ""),
        ("cabinet_id", "Control cabinet", ""),
        ("feeder_id", "Feeder", ""),
        ("install_year", "Installed", ""),
        ("synthetic", "Synthetic (estimated)", ""),
    ),
)

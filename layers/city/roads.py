"""Road layer: the street network as paths, coloured and sized by road class.

Builds a deck.gl PathLayer spec from `City.roads`; never touches Dash or the browser.
"""

from __future__ import annotations

from data.city import City
from layers.geometry import line_vertices
from layers.spec import Details, LayerSpec, legend_from, path_layer, rgba

LAYER_ID = "roads"
# Neutral greys and whites (a street map's hierarchy), so the lamps' colours stay readable;
# only motorways and trunks keep a colour.
CLASS_COLORS: dict[str, tuple[int, ...]] = {
    "motorway": (214, 86, 72),
    "trunk": (228, 132, 104),
    "primary": (255, 255, 255),
    "secondary": (244, 243, 238),
    "tertiary": (226, 225, 220),
    "residential": (198, 198, 196),
    "service": (178, 178, 176),
}
OTHER_COLOR = (178, 178, 176)


def _named(roads) -> list[str]:
    """``Boulevard Mohamed Zerktouni``, ``Route N1 (N1)`` with its ref, ``(unnamed)``."""
    names = roads["name"].fillna("").astype(str).to_numpy()
    refs = roads["ref"].fillna("").astype(str).to_numpy()
    return [
        (f"{n} ({r})" if n and r else n or (r and f"({r})") or "(unnamed)")
        for n, r in zip(names, refs, strict=True)
    ]


def road_layer(city: City) -> LayerSpec:
    """Roads as a PathLayer; width is the carriageway width in metres (min 1 px)."""
    roads = city.roads
    vertices, starts = line_vertices(roads)
    deck_layer = path_layer(LAYER_ID, min_pixels=1)
    lanes = roads["lanes"].astype("Float64").fillna(float("nan")).astype(float)
    return LayerSpec(
        id=LAYER_ID,
        title="Roads",
        deck_layer=deck_layer,
        length=len(roads),
        start_indices=starts,
        attributes={
            "getPath": vertices,
            "getColor": rgba(roads["road_class"].to_numpy(), CLASS_COLORS, OTHER_COLOR),
            "getWidth": roads["width_m"].to_numpy(dtype=float),
        },
        fields={
            "road_id": roads["road_id"],
            "name": _named(roads),
            "road_class": roads["road_class"],
            "lanes": lanes,
            "maxspeed_kmh": roads["maxspeed_kmh"].astype(float),
            "length_m": roads["length_m"].astype(float),
            "district_id": roads["district_id"],
            "provenance": roads["synthetic"].map(
                {True: "synthetic, estimated", False: "OpenStreetMap"}
            ),
        },
        tooltip="{name}\n{road_class} · {lanes} lanes · {maxspeed_kmh} km/h\n{provenance}",
        id_field="road_id",
        legend_title="Roads by class",
        legend=legend_from(CLASS_COLORS, roads["road_class"]),
    )


# What the details card of a clicked feature shows: (column, label, unit) rows.
ROADS_DETAILS = Details(
    "road_id",
    (
        ("road_id", "Road", ""),
        ("name", "Name", ""),
        ("road_class", "Class", ""),
        ("lanes", "Lanes", ""),
        ("maxspeed_kmh", "Speed limit", "km/h"),
        ("width_m", "Width", "m"),
        ("length_m", "Length", "m"),
        ("district_id", "District", ""),
        ("ref", "Reference", ""),
        ("osm_id", "OpenStreetMap way", ""),
        ("oneway", "One-way", ""),
        ("level", "Level (bridge 1, tunnel -1)", ""),
        ("lanes_estimated", "Lanes estimated from the class", ""),
        ("maxspeed_estimated", "Speed limit estimated from the class", ""),
        ("synthetic", "Synthetic (estimated)", ""),
    ),
)

"""Public-transport layers: the tram and busway lines in their colours, and their stops.

Builds deck.gl specs from the bundle's transit (`data.transit.network`); never touches Dash.
"""

from __future__ import annotations

import numpy as np
import pydeck as pdk

from data.city import City
from data.transit.network import load_transit
from layers.geometry import line_vertices, point_positions
from layers.spec import LayerSpec, LegendEntry, path_layer

LINES_LAYER_ID = "transit-lines"
STOPS_LAYER_ID = "transit-stops"
# A tram track pair with its platform strip is ~7-8 m wide; drawn at 10 m, never under 3 px,
# so a line reads over the street it runs on.
LINE_WIDTH_M = 10.0
STOP_RADIUS_M = 14.0
STOP_FILL = (255, 255, 255, 255)
STOP_OUTLINE = {"tram": (40, 40, 48, 255), "busway": (31, 119, 180, 255)}
NONE_COLOR = (160, 160, 160, 255)


def _hex_rgba(colors) -> np.ndarray:
    """(n, 4) uint8 of ``#RRGGBB`` strings."""
    values = [str(c).lstrip("#") for c in colors]
    rgb = [[int(c[k : k + 2], 16) for k in (0, 2, 4)] for c in values]
    out = np.full((len(values), 4), 255, dtype=np.uint8)
    if values:
        out[:, :3] = np.asarray(rgb, dtype=np.uint8)
    return out


def transit_line_layer(city: City) -> LayerSpec:
    """Tram and busway lines as a PathLayer in each line's colour (one path per direction)."""
    lines = load_transit(city).lines
    vertices, starts = line_vertices(lines)
    colors = _hex_rgba(lines["color"])
    legend = []
    if lines.empty:
        legend.append(LegendEntry("no tram or busway in this city's sources", NONE_COLOR))
    for ref, group in lines.groupby("ref", sort=True):
        first = group.iloc[0]
        estimated = " (colour chosen by the twin)" if bool(first["color_estimated"]) else ""
        color = tuple(int(v) for v in _hex_rgba([first["color"]])[0])
        legend.append(LegendEntry(f"{ref} {first['mode']}{estimated}", color))
    return LayerSpec(
        id=LINES_LAYER_ID,
        title="Tram and busway lines",
        deck_layer=path_layer(LINES_LAYER_ID, min_pixels=3),
        length=len(lines),
        start_indices=starts,
        attributes={
            "getPath": vertices,
            "getColor": colors,
            "getWidth": np.full(len(lines), LINE_WIDTH_M, dtype=np.float32),
        },
        fields={
            "line_id": lines["line_id"],
            "ref": lines["ref"],
            "name": lines["name"],
            "mode": lines["mode"],
            "origin": lines["origin"],
            "destination": lines["destination"],
            "length_km": lines["length_km"].astype(float),
            "operator": lines["operator"],
        },
        tooltip="{ref} · {name}\n{mode} · {length_km} km · {operator}\nOpenStreetMap",
        id_field="line_id",
        legend_title="Tram and busway lines",
        legend=tuple(legend),
    )


def transit_stop_layer(city: City) -> LayerSpec:
    """Stops as white discs outlined by mode, with their name and the lines they serve."""
    stops = load_transit(city).stops
    deck_layer = pdk.Layer(
        "ScatterplotLayer",
        id=STOPS_LAYER_ID,
        pickable=True,
        radius_units="'meters'",
        get_radius=STOP_RADIUS_M,
        radius_min_pixels=3,
        radius_max_pixels=10,
        stroked=True,
        filled=True,
        line_width_units="'pixels'",
        get_line_width=2,
        auto_highlight=True,
        highlight_color=[255, 220, 0, 255],
    )
    outline = np.asarray(
        [STOP_OUTLINE.get(m, STOP_OUTLINE["tram"]) for m in stops["mode"]], dtype=np.uint8
    ).reshape(-1, 4)
    return LayerSpec(
        id=STOPS_LAYER_ID,
        title="Tram and busway stops",
        deck_layer=deck_layer,
        length=len(stops),
        attributes={
            "getPosition": point_positions(stops),
            "getFillColor": np.tile(np.asarray(STOP_FILL, np.uint8), (len(stops), 1)),
            "getLineColor": outline,
        },
        fields={
            "stop_id": stops["stop_id"],
            "name": stops["name"],
            "mode": stops["mode"],
            "lines": stops["lines"].replace("", "—"),
        },
        tooltip="{name}\n{mode} stop · lines {lines}\nOpenStreetMap",
        id_field="stop_id",
        legend_title="Tram and busway stops",
        legend=tuple(LegendEntry(f"{m} stop", STOP_OUTLINE[m]) for m in ("tram", "busway")),
    )

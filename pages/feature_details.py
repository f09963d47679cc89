"""The details panel: what the clicked feature is, looked up server-side in the city bundle.

A lamp's card adds what its meter said on the telemetry day (RAW only), with its power profile.
"""

from __future__ import annotations

import flask
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from access.auth import current_role
from access.guard import require
from access.layer_access import layer_permission
from access.roles import RAW, allows
from data.city import load_city
from data.errors import MadinaError
from data.lighting.lamp_day import lamp_day
from layers.catalog import LAYER_BUILDERS, packed_layer
from layers.details import (
    DETAIL_FIELDS,
    details_layer,
    feature_details,
    lamp_day_rows,
    packed_field_details,
)
from pages.i18n import translator


def _feature_title(layer_id: str) -> str:
    titles = {"water-pipes": "Pipe", "water-nodes": "Junction", "water-dmas": "",
              "power-lines": "MV line", "power-stations": "Station"}  # fmt: skip
    return titles.get(layer_id, layer_id.rstrip("s").title())


def no_selection(t=str) -> html.P:
    """The panel before anything is clicked."""
    return html.P(t("Click a lamp, road, building or district on the map."), className="hint")


@callback(
    Output("feature-details", "children"),
    Input("selected-feature", "data"),
    State("twin-lang", "data"),
)
def show_details(selection: dict | None, lang: str | None = None) -> html.Div | html.P:
    """Details of the clicked feature, looked up server-side in the city bundle.

    Labels (and yes / no / unknown) in the page's language. A lamp's card adds what its meter
    said on the telemetry day, with its power profile.
    """
    t = translator(lang)
    if not selection:
        return no_selection(t)
    clicked = str(selection.get("layer", ""))
    layer_id = details_layer(clicked)
    feature_id = str(selection.get("id", ""))
    for layer in {clicked, layer_id} & set(LAYER_BUILDERS):
        require(layer_permission(layer), f"details of the {layer} layer")
    city = load_city(flask.current_app.config["MADINA_CITY"])
    try:
        if layer_id in DETAIL_FIELDS or layer_id not in LAYER_BUILDERS:
            rows = feature_details(city, layer_id, feature_id)
        else:  # network layers: what their tooltips hold, in full
            day = flask.current_app.config["MADINA_TELEMETRY_DAY"]
            packed = packed_layer(city.name, layer_id, day)
            rows = packed_field_details(packed.manifest, packed.blob, feature_id)
        metered = layer_id == "lamps" and allows(current_role(), RAW)  # a meter's raw day
        if metered:
            today = lamp_day(city.name, flask.current_app.config["MADINA_TELEMETRY_DAY"])
            rows += lamp_day_rows(city, today, feature_id)
    except MadinaError as err:
        return html.P(str(err), className="error")
    card = [
        html.H4(f"{t(_feature_title(layer_id))} {feature_id}"),
        html.Table(
            html.Tbody([html.Tr([html.Th(t(label)), html.Td(t(value))]) for label, value in rows]),
            className="details-table",
        ),
    ]
    if metered:
        card.append(
            dcc.Graph(
                figure=lamp_profile_figure(today, feature_id),
                config={"displayModeBar": False},
                style={"height": "180px"},
                id="lamp-profile",
            )
        )
    return html.Div(card, id="details-card", **{"data-layer": layer_id, "data-feature": feature_id})


def lamp_profile_figure(today, lamp_id: str) -> go.Figure:
    """The lamp's metered power through the day (W per quarter-hour, local time)."""
    power = today.power_w[today.of(lamp_id)]
    fig = go.Figure(
        go.Scatter(
            x=today.times,
            y=power.tolist(),
            mode="lines",
            line={"shape": "hv", "color": "#ffb000"},
            hovertemplate="%{x|%H:%M}: %{y:.0f} W<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"Metered power on {today.day} (W, local time)", "font": {"size": 12}},
        margin={"l": 40, "r": 10, "t": 30, "b": 25},
        template="plotly_dark",
        xaxis={"tickformat": "%H:%M"},
        yaxis={"rangemode": "tozero"},
    )
    return fig

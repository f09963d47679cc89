"""The traffic layer's controls: colour mode and hour (the time bar plays it); the run it shows.

The page opens on the ordinary weekday's playback; a traffic what-if (networks panel) swaps
in its own. The frames are switched in the browser (assets/traffic.js).
"""

from __future__ import annotations

import urllib.parse

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html

from access.roles import VIEW
from layers.traffic.flow import MODES, SHOWN_HOUR, packed_traffic_playback
from simulation.traffic.scenarios import TrafficScenario

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {"tr-": VIEW, "traffic-view": VIEW}  # the baseline traffic day


def traffic_view(city: str, scenario: TrafficScenario, label: str = "") -> dict:
    """{url, manifest} of a run's playback (``label`` names the what-if; none: today)."""
    packed = packed_traffic_playback(city, scenario)
    url = f"/api/traffic/{city}/playback.bin"
    if scenario != TrafficScenario(day=scenario.day):
        url += "?" + urllib.parse.urlencode({"scenario": scenario.to_json()})
    return {"url": url, "manifest": {**packed.manifest, "scenario": label}}


def baseline_traffic_view(city: str) -> dict:
    """The ordinary weekday's playback."""
    return traffic_view(city, TrafficScenario())


def traffic_controls(view: dict, t=str) -> html.Div:
    """Colour mode and hour slider of the traffic layer (labels in the language of ``t``)."""
    modes = view["manifest"]["modes"]
    return html.Div(
        [
            html.Label(t("Colour traffic by"), htmlFor="tr-mode"),
            dcc.RadioItems(
                options=[{"label": t(modes[m]["title"]), "value": m} for m in MODES],
                value="congestion",
                id="tr-mode",
            ),
            html.Label(t("Traffic hour (local time)"), htmlFor="tr-frame"),
            dcc.Slider(
                0,
                view["manifest"]["frames"] - 1,
                1,
                value=SHOWN_HOUR,
                marks={h: f"{h:02d}h" for h in range(0, 24, 6)},
                id="tr-frame",
                updatemode="drag",
            ),
            html.Div(id="tr-status", className="hint"),
            dcc.Store(id="traffic-view", data=view),
        ],
        className="traffic-controls",
    )


dash.clientside_callback(
    ClientsideFunction(namespace="madina_traffic", function_name="show"),
    Output("tr-status", "children"),
    Input("traffic-view", "data"),
    Input("tr-mode", "value"),
    Input("tr-frame", "value"),
    Input("layer-toggles", "value"),
    Input("time-playing", "data"),
)

dash.clientside_callback(
    ClientsideFunction(namespace="madina_traffic", function_name="follow"),
    Output("tr-frame", "value", allow_duplicate=True),
    Input("ns-frame", "value"),
    State("ns-kind", "value"),
    prevent_initial_call=True,
)

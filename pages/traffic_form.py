"""The traffic what-if form of the networks panel and its run.

Roads are picked by id (clicking a road on the map adds it); the form turns them into a
`TrafficScenario` (junctions for a new road or an emergency trip are the picked roads' ends).
The run fills the panel's KPI table, chart and hexagons and swaps the traffic layer's
playback for the what-if's.
"""

from __future__ import annotations

import urllib.parse

import dash
import flask
import numpy as np
from dash import Input, Output, State, callback, dcc, html

import data.city
from access.roles import RUN
from data.errors import MadinaError
from data.traffic.network import GREEN_SHARE, TrafficNetwork, traffic_network
from layers.network_playback import TRAFFIC_VARIABLES, packed_network_playback, scenario_json
from pages.form_fields import append_id, number_field
from pages.network_results import chart, kpi_table, series_of, traffic_kpi_rows
from pages.traffic_controls import traffic_view
from simulation.traffic.scenarios import TrafficScenario
from simulation.traffic.uxsim_engine import run_traffic

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {"tf-": RUN}  # the traffic what-if form


MEASURES = {
    "works": "Road works / closure",
    "new_road": "A new road between two roads",
    "signals": "Signal timing on a corridor",
    "bus_lane": "Bus lane on a corridor",
    "emergency": "Emergency vehicle: from one road to another",
    "demand": "Demand growth only",
}

# The form's fields and the components that hold them, in one order.
FORM_FIELDS = ("measure", "roads", "lanes", "from", "to", "growth", "green", "new_lanes",
               "new_speed", "em_hour")  # fmt: skip
FORM_STATES = [State(f"tf-{name.replace('_', '-')}", "value") for name in FORM_FIELDS]


def traffic_form() -> html.Div:
    """Fields of the traffic what-if (shown when its kind is chosen)."""
    return html.Div(
        [
            html.Label("Measure", htmlFor="tf-measure"),
            dcc.Dropdown(
                options=[{"label": v, "value": k} for k, v in MEASURES.items()],
                value="works",
                clearable=False,
                id="tf-measure",
            ),
            html.Label("Arterials (their ids, comma-separated)", htmlFor="tf-roads"),
            dcc.Input(
                id="tf-roads",
                type="text",
                debounce=True,
                className="studio-text",
                placeholder="click an arterial on the Traffic layer for its id",
            ),
            html.Div(
                [
                    number_field("Lanes left open per direction", "tf-lanes", 0, 0, 4),
                    number_field("From (local hour)", "tf-from", 7, 0, 24, 0.5),
                    number_field("To (local hour)", "tf-to", 12, 0, 24, 0.5),
                    number_field("Demand growth (%)", "tf-growth", 0, -90, 200),
                    number_field("Corridor's share of green", "tf-green", 0.65, 0.2, 0.8, 0.05),
                    number_field("New road: lanes per direction", "tf-new-lanes", 2, 1, 4),
                    number_field("New road: speed (km/h)", "tf-new-speed", 50, 10, 130, 5),
                    number_field("Emergency leaves at (hour)", "tf-em-hour", 8.5, 0, 23.5, 0.5),
                ],
                className="studio-numbers",
            ),
        ],
        id="ns-traffic-form",
        style={"display": "none"},
    )


def _roads(text: str | None) -> tuple[str, ...]:
    return tuple(r.strip() for r in (text or "").split(",") if r.strip())


def _ends(net: TrafficNetwork, road: str, field: str) -> tuple[int, int]:
    try:
        return net.road_ends(road)
    except KeyError:
        raise MadinaError(
            f"{field}: road {road!r} is not on the simulated arterial network; pick a road of "
            "the Traffic layer"
        ) from None


def _two_roads(roads: tuple[str, ...], field: str) -> tuple[str, str]:
    if len(roads) != 2:
        raise MadinaError(f"{field} needs exactly two roads (from, to), got {len(roads)}")
    return roads[0], roads[1]


def _nearest_ends(net: TrafficNetwork, a: str, b: str) -> tuple[int, int]:
    """The closest pair of end junctions of two roads' segments."""
    xy = net.nodes.set_index("node_id")[["x", "y"]]
    pairs = [(p, q) for p in _ends(net, a, "new road") for q in _ends(net, b, "new road")]
    dist = [float(np.hypot(*(xy.loc[p] - xy.loc[q]))) for p, q in pairs]
    return pairs[int(np.argmin(dist))]


def traffic_scenario(net: TrafficNetwork, form: dict, day: str) -> TrafficScenario:
    """The scenario the form describes (validated when it runs; errors name the field)."""
    for name in ("growth", "lanes", "from", "to", "green", "new_lanes", "new_speed", "em_hour"):
        if form[name] is None:
            raise MadinaError(f"{name.replace('_', ' ')}: enter a number")
    measure, roads = form["measure"], _roads(form["roads"])
    base = {"day": day, "demand_growth_pct": float(form["growth"])}
    if measure != "demand" and not roads:
        raise MadinaError(f"{MEASURES[measure]}: pick at least one road (click the map)")
    if measure == "works":
        return TrafficScenario(
            closed_roads=roads, lanes_open=int(form["lanes"]),
            closure_from_h=float(form["from"]), closure_to_h=float(form["to"]), **base,
        )  # fmt: skip
    if measure == "new_road":
        a, b = _two_roads(roads, "a new road")
        return TrafficScenario(
            new_link=_nearest_ends(net, a, b), new_link_lanes=int(form["new_lanes"]),
            new_link_speed_kmh=float(form["new_speed"]), **base,
        )  # fmt: skip
    if measure in ("signals", "bus_lane"):
        green = float(form["green"]) if measure == "signals" else GREEN_SHARE
        return TrafficScenario(
            corridor_roads=roads, corridor_green_share=green, bus_lane=measure == "bus_lane",
            **base,
        )  # fmt: skip
    if measure == "emergency":
        a, b = _two_roads(roads, "the emergency trip")
        start, end = _ends(net, a, "emergency")[0], _ends(net, b, "emergency")[1]
        return TrafficScenario(
            emergency_route=(start, end), emergency_hour=float(form["em_hour"]), **base
        )
    return TrafficScenario(**base)


@callback(
    Output("hex-manifest", "data", allow_duplicate=True),
    Output("ns-series", "data", allow_duplicate=True),
    Output("ns-kpis", "children", allow_duplicate=True),
    Output("ns-chart", "figure", allow_duplicate=True),
    Output("ns-frame", "max", allow_duplicate=True),
    Output("ns-frame", "value", allow_duplicate=True),
    Output("ns-error", "children", allow_duplicate=True),
    Output("traffic-view", "data"),
    Output("layer-toggles", "value", allow_duplicate=True),
    Input("tf-run", "n_clicks"),
    Input("ns-variable", "value"),
    State("ns-kind", "value"),
    State("ns-day", "children"),
    State("layer-toggles", "value"),
    *FORM_STATES,
    prevent_initial_call=True,
    running=[
        (Output("tf-run", "disabled"), True, False),
        (Output("ns-error", "children"), "Running the traffic day (UXsim, ~10-30 s)…", ""),
    ],
)
def run_traffic_what_if(clicks, variable, kind, day, layers, *form_values) -> tuple:
    """Run the traffic form's what-if: KPIs, chart, hexagons and the traffic playback."""
    no = dash.no_update
    if not clicks or kind != "traffic" or variable not in TRAFFIC_VARIABLES:
        return (no,) * 9  # another kind's run, or the kind just changed (variable follows)
    city = flask.current_app.config["MADINA_CITY"]
    try:
        net = traffic_network(data.city.load_city(city))
        scenario = traffic_scenario(net, dict(zip(FORM_FIELDS, form_values, strict=True)), day)
        result = run_traffic(city, scenario)
        today = run_traffic(city, TrafficScenario(day=day))
        packed = packed_network_playback(city, scenario, variable)
        view = traffic_view(city, scenario, MEASURES[form_values[0]].lower())
    except MadinaError as err:
        return (*(no,) * 6, f"Not run: {err}", no, no)
    query = urllib.parse.urlencode({"scenario": scenario_json(scenario)})
    manifest = {**packed.manifest, "blobUrl": f"/api/networks/{city}/{variable}.bin?{query}"}
    series = series_of(result.cube, variable, list(packed.manifest["times"]))
    shown = list(layers or [])
    if "traffic" not in shown:
        shown.append("traffic")
    return (
        manifest, series, kpi_table(traffic_kpi_rows(result, today)), chart(series),
        len(series["values"]) - 1, 8, "", view, shown,
    )  # fmt: skip


@callback(
    Output("tf-roads", "value"),
    Input("selected-feature", "data"),
    State("tf-roads", "value"),
    State("ns-kind", "value"),
    prevent_initial_call=True,
)
def pick_road(selection: dict | None, roads: str | None, kind: str | None) -> str:
    """A clicked arterial joins the traffic form's roads (while the traffic form is open)."""
    if kind != "traffic" or not selection or selection.get("layer") not in ("traffic", "roads"):
        return dash.no_update
    return append_id(roads, str(selection.get("id") or ""))

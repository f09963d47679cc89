"""The networks what-if panel: any kind with a studio form (water, electricity, traffic).

Layout and thin callbacks only: scenarios run in `simulation` (EPANET through WNTR, the
electricity network's trees), their time-lapse hexagons come from `layers.network_playback`.
"""

from __future__ import annotations

import urllib.parse

import dash
import flask
from dash import Input, Output, State, callback, dcc, html

from access.roles import RUN
from data.city import load_city
from data.errors import MadinaError
from data.traffic.network import traffic_network
from layers.network_playback import (
    NETWORK_DISPLAY,
    WATER_VARIABLES,
    kind_variables,
    network_result,
    packed_network_playback,
    scenario_json,
)
from pages.network_results import chart, kpi_table, series_of
from pages.studio_forms import field_id, form_fields, form_states, kind_form, picked, values_of
from pages.traffic_form import FORM_FIELDS as TRAFFIC_FORM_FIELDS
from pages.traffic_form import FORM_STATES as TRAFFIC_FORM_STATES
from pages.traffic_form import traffic_form, traffic_scenario
from simulation.kinds import NETWORK_KINDS

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {"ns-": RUN}  # the networks what-if studio


# The kinds the studio offers: those with a studio form, in the registry's order.
STUDIO_KINDS = [kind for kind in NETWORK_KINDS.values() if kind.studio is not None]
KINDS = {kind.name: kind.studio.title for kind in STUDIO_KINDS}
FORM_STATES = form_states(STUDIO_KINDS)
# Fields a click on the map fills (and those such a click empties), with the lists it extends.
PICKING = [f for f in form_fields(STUDIO_KINDS) if f.picks is not None]
PICKED = [f for f in form_fields(STUDIO_KINDS)
          if f.picks is not None or any(f.id in p.clears for p in PICKING)]  # fmt: skip
APPENDED = [f for f in PICKING if f.widget == "ids"]


def _city() -> str:
    return flask.current_app.config["MADINA_CITY"]


def network_panel(city_name: str, day: str) -> html.Details:
    """The collapsible "Networks what-if" section of the sidebar."""
    return html.Details(
        [
            html.Summary("Networks what-if"),
            dcc.RadioItems(
                options=[{"label": v, "value": k} for k, v in KINDS.items()],
                value="pipe_break",
                id="ns-kind",
            ),
            *(
                kind_form(kind, city_name, shown=kind.name == "pipe_break")
                for kind in STUDIO_KINDS
                if kind.studio.read is not None
            ),
            traffic_form(),
            html.Label("Show on the map", htmlFor="ns-variable"),
            dcc.RadioItems(
                id="ns-variable", options=_variable_options("pipe_break"), value=WATER_VARIABLES[0]
            ),  # fmt: skip
            html.Button("Run what-if", id="ns-run", n_clicks=0, className="studio-run"),
            html.Button(  # traffic runs in its own callback (pages.traffic_form)
                "Run traffic what-if",
                id="tf-run",
                n_clicks=0,
                className="studio-run",
                style={"display": "none"},
            ),  # fmt: skip
            html.Button("Save to library", id="ns-save", n_clicks=0, className="studio-save"),
            html.Div(id="ns-error", className="error", role="alert"),
            html.Div(id="ns-kpis"),
            html.Div(
                [
                    dcc.Slider(0, 23, 1, value=0, id="ns-frame", marks=None, updatemode="drag"),
                ],
                className="studio-playback",
            ),
            html.Div(id="ns-frame-text", className="hint"),
            dcc.Graph(id="ns-chart", config={"displayModeBar": False}, style={"height": "200px"}),
            dcc.Store(id="ns-series"),
            html.Span(day, id="ns-day", hidden=True),
        ],
        className="studio",
        id="network-studio",
    )


def _variable_options(kind: str) -> list[dict]:
    names = kind_variables(kind)
    return [
        {"label": f"{NETWORK_DISPLAY[v].title} ({NETWORK_DISPLAY[v].unit})", "value": v}
        for v in names
    ]


@callback(
    *(Output(f"ns-{kind.name}-form", "style") for kind in STUDIO_KINDS),
    Output("ns-run", "style"),
    Output("tf-run", "style"),
    Output("ns-variable", "options"),
    Output("ns-variable", "value"),
    Input("ns-kind", "value"),
)
def show_form(kind: str) -> tuple:
    """The form of the chosen what-if and its map variables."""
    shown, hidden = {}, {"display": "none"}
    options = _variable_options(kind)
    own_page = NETWORK_KINDS[kind].studio.read is None  # the traffic form runs itself
    return (
        *(shown if k.name == kind else hidden for k in STUDIO_KINDS),
        hidden if own_page else shown,
        shown if own_page else hidden,
        options,
        options[0]["value"],
    )


def scenario_from_form(kind: str, form: dict, day: str):
    """The scenario the form describes (validated when it runs, errors name the field)."""
    if kind not in KINDS:
        raise MadinaError(f"unknown what-if kind {kind!r}; known: {', '.join(KINDS)}")
    return NETWORK_KINDS[kind].studio.scenario(form, day)


@callback(
    Output("hex-manifest", "data", allow_duplicate=True),
    Output("ns-series", "data"),
    Output("ns-kpis", "children"),
    Output("ns-chart", "figure"),
    Output("ns-frame", "max"),
    Output("ns-frame", "value"),
    Output("ns-error", "children"),
    Input("ns-run", "n_clicks"),
    Input("ns-variable", "value"),
    State("ns-kind", "value"),
    State("ns-day", "children"),
    *FORM_STATES,
    prevent_initial_call=True,
    running=[
        (Output("ns-run", "disabled"), True, False),
        (Output("ns-error", "children"), "Running the what-if: solving the network…", ""),
    ],
)
def run_what_if(clicks, variable, kind, day, *form_values) -> tuple:
    """Run the form's what-if; its KPIs, city chart and time-lapse hexagons."""
    studio = NETWORK_KINDS[kind].studio if kind in KINDS else None
    if not clicks or studio is None or studio.read is None:  # traffic: pages.traffic_form
        return (dash.no_update,) * 7
    city = _city()
    try:
        form = values_of(NETWORK_KINDS[kind], STUDIO_KINDS, form_values)
        scenario = scenario_from_form(kind, form, day)
        if variable not in kind_variables(kind):
            return (dash.no_update,) * 7  # the kind just changed; its variable follows
        packed = packed_network_playback(city, scenario, variable)
        result = network_result(city, scenario)
    except MadinaError as err:
        return (*(dash.no_update,) * 6, f"Not run: {err}")
    query = urllib.parse.urlencode({"scenario": scenario_json(scenario)})
    manifest = {**packed.manifest, "blobUrl": f"/api/networks/{city}/{variable}.bin?{query}"}
    rows = studio.rows(city, result) if studio.rows else []
    series = series_of(result.cube, variable, list(packed.manifest["times"]))
    last = len(series["values"]) - 1
    return manifest, series, kpi_table(rows), chart(series), last, 0, ""


@callback(
    Output("sc-draft", "data", allow_duplicate=True),
    Output("ns-error", "children", allow_duplicate=True),
    Input("ns-save", "n_clicks"),
    State("ns-kind", "value"),
    State("ns-day", "children"),
    *FORM_STATES,
    *TRAFFIC_FORM_STATES,
    prevent_initial_call=True,
)
def save_what_if(clicks, kind, day, *values) -> tuple:
    """The form's what-if as a draft for the scenario library (validated when it is saved)."""
    utility, traffic = values[: len(FORM_STATES)], values[len(FORM_STATES) :]
    try:
        if kind in KINDS and NETWORK_KINDS[kind].studio.read is None:  # the traffic form
            net = traffic_network(load_city(_city()))
            form = dict(zip(TRAFFIC_FORM_FIELDS, traffic, strict=True))
            scenario = traffic_scenario(net, form, day)
        else:
            form = values_of(NETWORK_KINDS[kind], STUDIO_KINDS, utility)
            scenario = scenario_from_form(kind, form, day)
        params = NETWORK_KINDS[kind].to_dict(scenario)
    except (MadinaError, KeyError) as err:
        return dash.no_update, f"Not saved: {err}"
    name = f"{KINDS.get(kind, kind)}, {day}"
    return {"kind": kind, "name": name, "params": params, "request": clicks}, ""


@callback(
    Output("ns-frame-text", "children"),
    Output("ns-chart", "figure", allow_duplicate=True),
    Input("ns-frame", "value"),
    State("ns-series", "data"),
    prevent_initial_call=True,
)
def show_frame(frame: int | None, series: dict | None) -> tuple:
    """The frame's time and city figure, and the chart's cursor on it."""
    if not series or frame is None:
        return "", dash.no_update
    k = max(0, min(len(series["values"]) - 1, int(frame)))
    text = (
        f"{series['labels'][k]}: {series['title'].lower()} "
        f"{series['values'][k]:,.1f} {series['unit']} ({series['how']})"
    )
    return text, chart(series, k)


@callback(
    *(Output(field_id(f), "value") for f in PICKED),
    Input("selected-feature", "data"),
    *(State(field_id(f), "value") for f in APPENDED),
    prevent_initial_call=True,
)
def pick_from_map(selection: dict | None, *lists) -> tuple:
    """A clicked feature fills the fields that take it.

    A pipe joins the burst list; a clicked station becomes the element that trips.
    """
    no = dash.no_update
    if not selection or not selection.get("id"):
        return (no,) * len(PICKED)
    current = {f.id: value for f, value in zip(APPENDED, lists, strict=True)}
    new = picked(PICKING, str(selection.get("layer")), selection, current)
    return tuple(new.get(f.id, no) for f in PICKED)

"""The utility-networks what-if panel: a pipe break, pressure management or a power outage.

Layout and thin callbacks only: scenarios run in `simulation` (EPANET through WNTR, the
electricity network's trees), their time-lapse hexagons come from `layers.network_playback`.
"""

from __future__ import annotations

import urllib.parse

import dash
import flask
from dash import Input, Output, State, callback, dcc, html

from data.city import load_city
from data.errors import MadinaError
from data.power.network import load_power_network
from data.traffic.network import traffic_network
from data.water.model import CRITICAL_PRESSURE_M
from data.water.network import load_water_network
from layers.network_playback import (
    NETWORK_DISPLAY,
    WATER_VARIABLES,
    kind_variables,
    network_result,
    packed_network_playback,
    scenario_json,
)
from pages.form_fields import append_id, number_field
from pages.network_results import chart, kpi_table, outage_kpi_rows, series_of, water_kpi_rows
from pages.traffic_form import FORM_FIELDS as TRAFFIC_FORM_FIELDS
from pages.traffic_form import FORM_STATES as TRAFFIC_FORM_STATES
from pages.traffic_form import traffic_form, traffic_scenario
from simulation.kinds import KINDS as SCENARIO_KINDS
from simulation.power.outage import OutageScenario
from simulation.water.scenarios import PipeBreakScenario, PressureScenario

KINDS = {
    "pipe_break": "Pipe break (water)",
    "pressure": "Pressure management (water)",
    "outage": "Feeder / transformer outage (electricity)",
    "traffic": "Traffic: works, demand, new road, corridor, emergency",
}
# The utility forms' fields and the components that hold them, in one order.
FORM_FIELDS = ("pipes", "random_breaks", "seed", "start", "isolation_h", "repair_h", "dmas",
               "critical_pressure_m", "modulated", "element_id", "transformer", "out_start",
               "duration_h", "switching_min", "backfeed")  # fmt: skip
FORM_STATES = [
    State(id_, "value")
    for id_ in ("ns-pipes", "ns-random", "ns-seed", "ns-start", "ns-isolation", "ns-repair",
                "ns-dmas", "ns-critical", "ns-modulated", "ns-element", "ns-transformer",
                "ns-out-start", "ns-duration", "ns-switching", "ns-backfeed")
]  # fmt: skip


def _city() -> str:
    return flask.current_app.config["MADINA_CITY"]


def network_panel(city_name: str, day: str) -> html.Details:
    """The collapsible "Networks what-if" section of the sidebar."""
    water = load_water_network(city_name)
    power = load_power_network(load_city(city_name))
    dmas = water.dmas.sort_values("population", ascending=False)
    feeders = sorted(power.transformers["feeder_id"].unique())
    elements = [
        *({"label": f"Substation {s} · {n}", "value": s}
          for s, n in zip(power.substations["substation_id"], power.substations["name"],
                          strict=True)),
        *({"label": f"Feeder {f}", "value": f} for f in feeders),
    ]  # fmt: skip
    return html.Details(
        [
            html.Summary("Networks what-if"),
            dcc.RadioItems(
                options=[{"label": v, "value": k} for k, v in KINDS.items()],
                value="pipe_break",
                id="ns-kind",
            ),
            html.Div(
                [
                    html.Label("Pipes that burst (ids, comma-separated)", htmlFor="ns-pipes"),
                    dcc.Input(
                        id="ns-pipes",
                        type="text",
                        debounce=True,
                        className="studio-text",
                        placeholder="e.g. CAS-R012345 (click a water pipe for its id)",
                    ),
                    html.Div(
                        [
                            number_field("or random pipes", "ns-random", 0, 0, 20),
                            number_field("Seed", "ns-seed", 1, 0, 10_000),
                            number_field("Burst at (local hour)", "ns-start", 6, 0, 23),
                            number_field("Valves closed after (h)", "ns-isolation", 2, 0, 12),
                            number_field("Repair takes (h)", "ns-repair", 6, 1, 23),
                        ],
                        className="studio-numbers",
                    ),
                ],
                id="ns-break-form",
            ),
            html.Div(
                [
                    html.Label("DMAs (all if none chosen)", htmlFor="ns-dmas"),
                    dcc.Dropdown(
                        options=[
                            {"label": f"{d} · {p:,} people", "value": d}
                            for d, p in zip(dmas["dma_id"], dmas["population"], strict=True)
                        ],
                        multi=True,
                        placeholder=f"All {len(dmas)} DMAs",
                        id="ns-dmas",
                    ),
                    number_field(
                        f"Pressure at the DMA's highest point (m; today {CRITICAL_PRESSURE_M:g})",
                        "ns-critical",
                        20,
                        15,
                        60,
                    ),  # fmt: skip
                    dcc.Checklist(
                        options=[
                            {"label": "modulate the PRV outlets with demand", "value": "modulated"}
                        ],  # fmt: skip
                        value=["modulated"],
                        id="ns-modulated",
                    ),
                ],
                id="ns-pressure-form",
                style={"display": "none"},
            ),
            html.Div(
                [
                    html.Label("Element that trips", htmlFor="ns-element"),
                    dcc.Dropdown(
                        options=elements,
                        value=feeders[0] if feeders else None,
                        id="ns-element",
                        clearable=False,
                    ),
                    dcc.Input(
                        id="ns-transformer",
                        type="text",
                        debounce=True,
                        className="studio-text",
                        placeholder="or a transformer id (click a transformer on the map)",
                    ),  # fmt: skip
                    html.Div(
                        [
                            number_field("Trips at (local hour)", "ns-out-start", 18, 0, 23),
                            number_field("Restored after (h)", "ns-duration", 4, 0.25, 72, 0.25),
                            number_field("Tie switching (min)", "ns-switching", 45, 0, 600, 5),
                        ],
                        className="studio-numbers",
                    ),
                    dcc.Checklist(
                        options=[
                            {
                                "label": "back-feed from neighbouring feeders over ties",
                                "value": "backfeed",
                            }
                        ],  # fmt: skip
                        value=["backfeed"],
                        id="ns-backfeed",
                    ),
                ],
                id="ns-outage-form",
                style={"display": "none"},
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
    Output("ns-break-form", "style"),
    Output("ns-pressure-form", "style"),
    Output("ns-outage-form", "style"),
    Output("ns-traffic-form", "style"),
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
    return (
        shown if kind == "pipe_break" else hidden,
        shown if kind == "pressure" else hidden,
        shown if kind == "outage" else hidden,
        shown if kind == "traffic" else hidden,
        hidden if kind == "traffic" else shown,
        shown if kind == "traffic" else hidden,
        options,
        options[0]["value"],
    )


def scenario_from_form(kind: str, form: dict, day: str):
    """The scenario the form describes (validated when it runs, errors name the field)."""

    def whole(name: str) -> int:
        value = form[name]
        if value is None:
            raise MadinaError(f"{name}: enter a number")
        return int(value)

    if kind == "pipe_break":
        pipes = tuple(p.strip() for p in (form["pipes"] or "").split(",") if p.strip())
        return PipeBreakScenario(
            pipes=pipes,
            random_breaks=0 if pipes else whole("random_breaks"),
            seed=whole("seed"),
            start=whole("start"),
            isolation_h=whole("isolation_h"),
            repair_h=whole("repair_h"),
            day=day,
        )
    if kind == "pressure":
        if form["critical_pressure_m"] is None:
            raise MadinaError("critical_pressure_m: enter a number")
        return PressureScenario(
            dmas=tuple(form["dmas"] or ()),
            critical_pressure_m=float(form["critical_pressure_m"]),
            modulated="modulated" in (form["modulated"] or []),
            day=day,
        )
    if kind == "outage":
        for name in ("duration_h", "switching_min"):
            if form[name] is None:
                raise MadinaError(f"{name}: enter a number")
        return OutageScenario(
            element_id=(form["transformer"] or "").strip() or form["element_id"] or "",
            day=day,
            start=whole("out_start"),
            duration_h=float(form["duration_h"]),
            switching_min=float(form["switching_min"]),
            backfeed="backfeed" in (form["backfeed"] or []),
        )
    raise MadinaError(f"unknown what-if kind {kind!r}; known: {', '.join(KINDS)}")


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
    if not clicks or kind == "traffic":  # traffic runs in pages.traffic_form
        return (dash.no_update,) * 7
    city = _city()
    try:
        scenario = scenario_from_form(kind, dict(zip(FORM_FIELDS, form_values, strict=True)), day)
        if variable not in kind_variables(kind):
            return (dash.no_update,) * 7  # the kind just changed; its variable follows
        packed = packed_network_playback(city, scenario, variable)
        result = network_result(city, scenario)
    except MadinaError as err:
        return (*(dash.no_update,) * 6, f"Not run: {err}")
    query = urllib.parse.urlencode({"scenario": scenario_json(scenario)})
    manifest = {**packed.manifest, "blobUrl": f"/api/networks/{city}/{variable}.bin?{query}"}
    rows = outage_kpi_rows(result) if kind == "outage" else water_kpi_rows(city, result)
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
    utility, traffic = values[: len(FORM_FIELDS)], values[len(FORM_FIELDS) :]
    try:
        if kind == "traffic":
            net = traffic_network(load_city(_city()))
            form = dict(zip(TRAFFIC_FORM_FIELDS, traffic, strict=True))
            scenario = traffic_scenario(net, form, day)
        else:
            scenario = scenario_from_form(kind, dict(zip(FORM_FIELDS, utility, strict=True)), day)
        params = SCENARIO_KINDS[kind].to_dict(scenario)
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
    Output("ns-pipes", "value"),
    Output("ns-transformer", "value"),
    Output("ns-element", "value"),
    Input("selected-feature", "data"),
    State("ns-pipes", "value"),
    prevent_initial_call=True,
)
def pick_from_map(selection: dict | None, pipes: str | None) -> tuple:
    """A clicked pipe joins the burst list; a clicked station becomes the element that trips."""
    no = dash.no_update
    if not selection or not selection.get("id"):
        return no, no, no
    layer, feature = selection.get("layer"), str(selection["id"])
    if layer == "water-pipes":
        return append_id(pipes, feature), no, no
    if layer == "power-stations":
        kind = (selection.get("fields") or {}).get("kind", "")
        if kind == "substation":
            return no, "", feature
        return no, feature, no
    return no, no, no

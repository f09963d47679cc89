"""The lighting what-if panel of the twin page: a plan, its KPIs, and its time-lapse on the map.

Layout and thin callbacks only: scenarios come from `simulation`, the hexagons from `layers`.
"""

from __future__ import annotations

import datetime as dt

import dash
import flask
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, dcc, html

from access.roles import RUN
from data.city import load_city
from data.errors import MadinaError
from layers.lighting.playback import (
    PLAYBACK_DISPLAY,
    packed_playback,
    scenario_frames,
    scenario_result,
)
from pages.charts import cursor_shape
from simulation.lighting.model import RETROFIT_ORDERS, LightingScenario, ScenarioError, compare
from simulation.lighting.plans import (
    PRESETS,
    format_schedule,
    parse_schedule,
    playback_query,
    scenario_to_dict,
)

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {"ls-": RUN}  # the lighting what-if studio


# KPI rows: (key, label, unit, divisor, digits)
KPI_ROWS = (
    ("energy_kwh", "Energy", "GWh/yr", 1e6, 1),
    ("cost_mad", "Energy cost", "M MAD/yr", 1e6, 1),
    ("co2_t", "CO2", "kt/yr", 1e3, 1),
    ("peak_kw", "Peak load", "MW", 1e3, 1),
    ("maintenance_mad", "Maintenance", "M MAD/yr", 1e6, 1),
    ("lamps_retrofitted", "Lamps retrofitted", "", 1, 0),
    ("investment_mad", "Investment", "M MAD", 1e6, 1),
    ("underlit_lamp_hours", "Lamp-hours below the road's level", "M", 1e6, 2),
)
# The plan's form: field names and the components that hold them, in one order.
FORM_FIELDS = ("led_share_pct", "retrofit_order", "districts", "dimming", "switching",
               "motion_road_classes", "tariff_mad_kwh", "peak_tariff_mad_kwh", "co2_kg_kwh",
               "led_unit_cost_mad")  # fmt: skip
FORM_STATES = [
    State(id_, "value")
    for id_ in ("ls-led-share", "ls-order", "ls-districts", "ls-dimming", "ls-switching",
                "ls-motion", "ls-tariff", "ls-peak-tariff", "ls-co2", "ls-led-cost")
]  # fmt: skip
ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "residential")


def _year() -> int:
    return int(flask.current_app.config["MADINA_TELEMETRY_DAY"][:4])


def _number(label: str, id_: str, value: float, unit: str, step: float) -> html.Div:
    return html.Div(
        [
            html.Label(f"{label} ({unit})", htmlFor=id_),
            dcc.Input(id=id_, type="number", value=value, min=0, step=step, debounce=True),
        ],
        className="studio-number",
    )


def studio_panel(city_name: str, day: str) -> html.Details:
    """The collapsible "Lighting what-if" section of the sidebar."""
    city = load_city(city_name)
    base = PRESETS["baseline"]
    districts = city.districts.sort_values("name")
    year = int(day[:4])
    return html.Details(
        [
            html.Summary("Lighting what-if"),
            html.Label("Start from", htmlFor="ls-preset"),
            dcc.Dropdown(
                options=[{"label": s.name, "value": key} for key, s in PRESETS.items()],
                value="led-estonian",
                clearable=False,
                id="ls-preset",
            ),
            html.Label("LED retrofit (% of the non-LED lamps in scope)", htmlFor="ls-led-share"),
            dcc.Slider(
                0,
                100,
                5,
                value=100,
                marks={v: f"{v}%" for v in (0, 50, 100)},
                id="ls-led-share",
                tooltip={"placement": "bottom"},
            ),
            dcc.RadioItems(
                options=[{"label": f"{o} first", "value": o} for o in RETROFIT_ORDERS],
                value=base.retrofit_order,
                id="ls-order",
                inline=True,
            ),
            dcc.Dropdown(
                options=[
                    {"label": name, "value": d}
                    for d, name in zip(districts["district_id"], districts["name"], strict=True)
                ],
                multi=True,
                placeholder="Districts (all)",
                id="ls-districts",
            ),
            html.Label("Dimming of LED lamps (local hours, level)", htmlFor="ls-dimming"),
            dcc.Input(id="ls-dimming", type="text", debounce=True, className="studio-text"),
            dcc.RadioItems(
                options=[
                    {"label": "ambient light (sunset/sunrise)", "value": "ambient"},
                    {"label": "clock 18:00-07:00", "value": "clock"},
                ],
                value=base.switching,
                id="ls-switching",
            ),
            dcc.Dropdown(
                options=[{"label": c, "value": c} for c in ROAD_CLASSES],
                multi=True,
                placeholder="Motion-adaptive on road classes (none)",
                id="ls-motion",
            ),
            html.Div(
                [
                    _number("Tariff", "ls-tariff", base.tariff_mad_kwh, "MAD/kWh", 0.01),
                    _number(
                        "Peak tariff 17-22 h",
                        "ls-peak-tariff",
                        base.peak_tariff_mad_kwh,
                        "MAD/kWh",
                        0.01,
                    ),
                    _number("Grid CO2", "ls-co2", base.co2_kg_kwh, "kg/kWh", 0.01),
                    _number("LED unit cost", "ls-led-cost", base.led_unit_cost_mad, "MAD", 50),
                ],
                className="studio-numbers",
            ),
            html.Label("Play back", htmlFor="ls-mode"),
            dcc.RadioItems(
                options=[
                    {"label": "a day, by hour", "value": "day"},
                    {"label": f"{year}, by week", "value": "year"},
                ],
                value="day",
                id="ls-mode",
                inline=True,
            ),
            dcc.DatePickerSingle(
                id="ls-day",
                date=day,
                min_date_allowed=f"{year}-01-02",
                max_date_allowed=f"{year}-12-31",
                display_format="YYYY-MM-DD",
            ),
            dcc.RadioItems(
                options=[
                    {"label": f"{d.title} ({d.unit})", "value": v}
                    for v, d in PLAYBACK_DISPLAY.items()
                ],
                value="energy_kwh",
                id="ls-variable",
            ),
            html.Button("Run scenario", id="ls-run", n_clicks=0, className="studio-run"),
            html.Button("Save to library", id="ls-save", n_clicks=0, className="studio-save"),
            html.Div(id="ls-error", className="error", role="alert"),
            html.Div(id="ls-kpis"),
            html.Div(
                [
                    dcc.Slider(0, 23, 1, value=0, id="ls-frame", marks=None, updatemode="drag"),
                ],
                className="studio-playback",
            ),
            html.Div(id="ls-frame-kpis", className="hint"),
            dcc.Graph(id="ls-chart", config={"displayModeBar": False}, style={"height": "220px"}),
            dcc.Store(id="ls-series"),
        ],
        className="studio",
        id="lighting-studio",
    )


@callback(
    Output("ls-led-share", "value"),
    Output("ls-order", "value"),
    Output("ls-districts", "value"),
    Output("ls-dimming", "value"),
    Output("ls-switching", "value"),
    Output("ls-motion", "value"),
    Input("ls-preset", "value"),
)
def fill_form(preset: str) -> tuple:
    """The form's fields from a ready-made plan."""
    s = PRESETS.get(preset, PRESETS["baseline"])
    return (
        s.led_share_pct,
        s.retrofit_order,
        list(s.districts),
        format_schedule(s.dimming),
        s.switching,
        list(s.motion_road_classes),
    )


def scenario_from_form(preset: str, values: dict) -> LightingScenario:
    """The scenario the form describes; `ScenarioError` naming the first bad field."""
    for name in ("tariff_mad_kwh", "peak_tariff_mad_kwh", "co2_kg_kwh", "led_unit_cost_mad"):
        if values[name] is None:
            raise ScenarioError(f"{name}: enter a number")
    base = PRESETS.get(preset, PRESETS["baseline"])
    edited = any(
        values[k] != v for k, v in scenario_to_dict(base).items() if k in values and k != "dimming"
    )
    dimming = parse_schedule(values.pop("dimming") or "")
    name = base.name if not edited and dimming == base.dimming else f"{base.name} (edited)"
    return LightingScenario(
        name=name,
        dimming=dimming,
        led_share_pct=float(values["led_share_pct"]),
        retrofit_order=values["retrofit_order"],
        districts=tuple(values["districts"] or ()),
        switching=values["switching"],
        motion_road_classes=tuple(values["motion_road_classes"] or ()),
        motion_idle_level=base.motion_idle_level,
        tariff_mad_kwh=float(values["tariff_mad_kwh"]),
        peak_tariff_mad_kwh=float(values["peak_tariff_mad_kwh"]),
        co2_kg_kwh=float(values["co2_kg_kwh"]),
        led_unit_cost_mad=float(values["led_unit_cost_mad"]),
    )


def kpi_table(kpis: dict, base: dict, savings: dict) -> html.Table:
    """Baseline vs scenario, one row per KPI, with units; savings and payback below."""

    def cell(value: float, div: float, digits: int) -> str:
        return f"{value / div:,.{digits}f}"

    rows = [
        html.Tr(
            [
                html.Th(f"{label} ({unit})" if unit else label),
                html.Td(cell(base[key], div, digits)),
                html.Td(cell(kpis[key], div, digits)),
            ],
            **{"data-kpi": key},
        )
        for key, label, unit, div, digits in KPI_ROWS
    ]
    payback = savings["payback_years"]
    summary = (
        f"Saves {savings['energy_saving_pct']:.1f}% of the energy, "
        f"{savings['cost_saved_mad'] / 1e6:,.1f} M MAD and {savings['co2_saved_t'] / 1e3:,.1f} kt "
        f"CO2 a year; simple payback "
        + (f"{payback:.1f} years." if payback != float("inf") else "never (nothing saved).")
    )
    return html.Div(
        [
            html.Table(
                [
                    html.Thead(html.Tr([html.Th(""), html.Th("Today"), html.Th("Scenario")])),
                    html.Tbody(rows),
                ],
                className="details-table kpi-table",
            ),
            html.P(summary, id="ls-summary"),
        ]
    )


def load_figure(series: dict) -> go.Figure:
    """Baseline and scenario load per frame, with the playback cursor (shape 0)."""
    x = list(range(len(series["labels"])))
    fig = go.Figure(
        [
            go.Scatter(
                x=x,
                y=series[key],
                name=name,
                text=series["labels"],
                line={"color": color},
                hovertemplate="%{text}<br>%{y:,.0f} kW",
            )
            for key, name, color in (
                ("baseline_load_kw", "Today", "#ff9e1b"),
                ("load_kw", "Scenario", "#50c8ff"),
            )
        ]
    )
    fig.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        yaxis_title="mean load (kW)",
        xaxis_title="hour" if series["mode"] == "day" else "week",
        legend={"orientation": "h", "y": 1.12},
        template="plotly_dark",
        shapes=[cursor_shape()],
    )
    return fig


@callback(
    Output("hex-manifest", "data", allow_duplicate=True),
    Output("ls-series", "data"),
    Output("ls-kpis", "children"),
    Output("ls-chart", "figure"),
    Output("ls-frame", "max"),
    Output("ls-frame", "value"),
    Output("ls-error", "children"),
    Input("ls-run", "n_clicks"),
    Input("ls-variable", "value"),
    Input("ls-mode", "value"),
    Input("ls-day", "date"),
    State("ls-preset", "value"),
    *FORM_STATES,
    prevent_initial_call=True,
    running=[
        (Output("ls-run", "disabled"), True, False),
        (Output("ls-error", "children"), "Simulating a year of every light point…", ""),
    ],
)
def run_scenario(_clicks, variable, mode, day, preset, *form) -> tuple:
    """Simulate the form's plan over the year; its KPIs, load chart and time-lapse frames."""
    if not _clicks:
        return (dash.no_update,) * 7
    city = flask.current_app.config["MADINA_CITY"]
    year = _year()
    day = (day or "")[:10] if mode == "day" else None
    try:
        scenario = scenario_from_form(preset, dict(zip(FORM_FIELDS, form, strict=True)))
        if day is not None:
            dt.date.fromisoformat(day)
        packed = packed_playback(city, scenario, year, mode, day, variable)
        frames = scenario_frames(city, scenario, year, mode, day)
    except (MadinaError, ValueError) as err:
        return (*(dash.no_update,) * 6, f"Not run: {err}")
    result = scenario_result(city, scenario, year)
    baseline = scenario_result(city, PRESETS["baseline"], year)
    series = {
        "mode": mode,
        "labels": [str(v) for v in frames["label"].to_numpy()],
        **{
            key: [round(float(v), 1) for v in frames[key].to_numpy()]
            for key in (
                "load_kw",
                "baseline_load_kw",
                "energy_total_kwh",
                "cost_total_mad",
                "baseline_energy_total_kwh",
            )
        },
    }
    manifest = {
        **packed.manifest,
        "blobUrl": f"/api/lighting/{city}/{variable}.bin?{playback_query(scenario, mode, day)}",
    }
    table = kpi_table(result.kpis, baseline.kpis, compare(result, baseline))
    last = len(series["labels"]) - 1
    return manifest, series, table, load_figure(series), last, 0, ""


@callback(
    Output("sc-draft", "data", allow_duplicate=True),
    Output("ls-error", "children", allow_duplicate=True),
    Input("ls-save", "n_clicks"),
    State("ls-preset", "value"),
    *FORM_STATES,
    prevent_initial_call=True,
)
def save_plan(clicks, preset, *form) -> tuple:
    """The form's plan, over the twin's year, as a draft for the scenario library."""
    try:
        scenario = scenario_from_form(preset, dict(zip(FORM_FIELDS, form, strict=True)))
    except (MadinaError, ValueError) as err:
        return dash.no_update, f"Not saved: {err}"
    params = {**scenario_to_dict(scenario), "year": _year()}
    return {"kind": "lighting", "name": scenario.name, "params": params, "request": clicks}, ""


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="playbackFrame"),
    Output("ls-frame-kpis", "children"),
    Output("ls-chart", "figure", allow_duplicate=True),
    Input("ls-frame", "value"),
    State("ls-series", "data"),
    State("ls-chart", "figure"),
    prevent_initial_call=True,
)

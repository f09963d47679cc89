"""The twin page: the 3D city map, layer toggles, legends, details panel and data sources.

Layout and thin callbacks only; data comes from `data`, specs from `layers`.
"""

from __future__ import annotations

import json

import dash
import flask
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, dcc, html
from flask_wtf.csrf import generate_csrf

from access.auth import current_role, current_username
from access.guard import require
from access.roles import RAW, RUN, STAFF_LAYERS, Role, allows
from data.city import load_city
from data.errors import MadinaError
from data.lamp_day import lamp_day
from layers.catalog import LAYER_BUILDERS, packed_layer
from layers.details import (
    DETAIL_FIELDS,
    details_layer,
    feature_details,
    lamp_day_rows,
    packed_field_details,
)
from layers.hexagons import DISPLAY, packed_hexagons, variable_options
from layers.lamp_colors import packed_lamp_colors
from layers.water import packed_pipe_colors
from pages.alerts import alerts_panel
from pages.i18n import LANGUAGES, Language, pick_language, translator
from pages.lighting_studio import studio_panel
from pages.network_studio import network_panel
from pages.permissions import PUBLIC_LAMP_MODES, layer_permission
from pages.scenario_library import library_panel
from pages.scenario_publish import publish_ticked  # noqa: F401 (registers its callback)
from pages.share import parse_shared_view
from pages.traffic_controls import baseline_traffic_view, traffic_controls

dash.register_page(__name__, path="/", title="Madina Twin", name="Twin")


def _city_name() -> str:
    return flask.current_app.config["MADINA_CITY"]


def twin_bundle(city_name: str, day: str, role: Role = Role.PLANNER) -> dict:
    """What the browser needs to draw the city: view, layers, lamp colour modes of ``day``.

    Only what ``role`` may see: its layers, and the lamps' metered modes only with RAW.
    """
    city = load_city(city_name)
    view = city.meta.get("view", {})
    layers = [name for name in LAYER_BUILDERS if allows(role, layer_permission(name))]
    metered = allows(role, RAW)
    lamp_colors = "colors" if metered else "public-colors"
    bundle = {
        "city": city_name,
        "view": {
            "center": list(city.center),
            "zoom": view.get("zoom", 12),
            "pitch": view.get("pitch", 50),
            "bearing": view.get("bearing", 0),
        },
        "blobUrl": f"/api/layers/{city_name}/{{layer}}.bin",
        "layers": [packed_layer(city_name, layer_id, day).manifest for layer_id in layers],
        "lampColors": {
            "url": f"/api/lamps/{city_name}/{lamp_colors}.bin",
            "manifest": packed_lamp_colors(
                city_name, day, None if metered else PUBLIC_LAMP_MODES
            ).manifest,
        },
        "pipeColors": None,
        "traffic": baseline_traffic_view(city_name),
    }
    if "water-pipes" in layers:
        bundle["pipeColors"] = {
            "layer": "water-pipes",
            "accessor": "getColor",
            "url": f"/api/water/{city_name}/pipe-colors.bin",
            "manifest": packed_pipe_colors(city_name).manifest,
        }
    return bundle


def legend_block(manifest: dict, t=str) -> html.Div:
    """One legend: title plus a swatch per entry (in the language of ``t``)."""
    rows = [
        html.Li(
            [
                html.Span(
                    className="swatch",
                    style={"backgroundColor": "rgb({},{},{})".format(*entry["color"][:3])},
                ),
                t(entry["label"]),
            ]
        )
        for entry in manifest["legend"]
    ]
    return html.Div(
        [html.H4(t(manifest["legendTitle"])), html.Ul(rows)],
        className="legend",
        id=f"legend-{manifest['id']}",
    )


# The time bar's words (assets/timebar.js draws it), passed translated in data-labels.
TIME_BAR_LABELS = (
    "step",
    "Play",
    "Pause",
    "loop",
    "Previous frame",
    "Next frame",
    "Play / pause",
    "Speed: simulated time per second",
    "Time",
    "an hour in",
    "Nothing to play: show telemetry hexagons, the traffic or a what-if.",
)


def _telemetry_controls(day: str, t=str) -> html.Div:
    """Variable, H3 resolution and hour of the telemetry hexagons on the map."""
    resolutions = [{"label": t("auto (zoom)"), "value": "auto"}] + [
        {"label": str(r), "value": str(r)} for r in (7, 8, 9, 10)
    ]
    variables = [{**option, "label": t(option["label"])} for option in variable_options()]
    return html.Div(
        [
            html.H3(t("Telemetry (H3)")),
            html.Label(t("Variable"), htmlFor="hex-variable"),
            dcc.Dropdown(
                options=[{"label": t("None"), "value": ""}, *variables],
                value="",
                clearable=False,
                id="hex-variable",
            ),
            html.Label(t("H3 resolution"), htmlFor="hex-res"),
            dcc.RadioItems(options=resolutions, value="auto", id="hex-res", inline=True),
            html.Label(f"{t('Hour (Casablanca time) of')} {day}", htmlFor="hex-time"),
            dcc.Slider(
                0,
                23,
                1,
                value=20,
                marks={h: f"{h:02d}h" for h in range(0, 24, 4)},
                id="hex-time",
                updatemode="drag",
            ),
            html.Div(id="hex-status", className="hint"),
        ],
        className="telemetry",
    )


def _lamp_color_control(colors: dict, role: Role, t=str) -> html.Div:
    """How the light points are coloured (modes from `layers.lamp_colors`).

    The dimming mode paints a lighting what-if's playback, so it comes with the studio (RUN).
    """
    modes = dict(colors["modes"])
    if allows(role, RUN):
        modes["dimming"] = colors["dimming"]
    return html.Div(
        [
            html.Label(t("Colour light points by"), htmlFor="lamp-color"),
            dcc.Dropdown(
                options=[{"label": t(m["title"]), "value": key} for key, m in modes.items()],
                value="technology",
                clearable=False,
                id="lamp-color",
            ),
            html.Div(id="lamp-color-status", className="hint"),
        ]
    )


def _pipe_color_control(colors: dict | None) -> html.Div:
    """How the water pipes are coloured (modes from `layers.water`).

    Without the pipes (``colors`` None) the control is there but hidden: the legends read it.
    """
    modes = (colors or {}).get("modes", {})
    return html.Div(
        [
            html.Label("Colour water pipes by", htmlFor="pipe-color"),
            dcc.Dropdown(
                options=[{"label": m["title"], "value": key} for key, m in modes.items()],
                value=next(iter(modes), None),
                clearable=False,
                id="pipe-color",
            ),
        ],
        hidden=colors is None,
    )


def _sources(city_meta: dict, t=str) -> html.Div:
    items = [
        html.Li(
            [
                html.B(source.get("layer", "")),
                f": {source.get('source', '')}",
                html.Span(f" ({t('synthetic, estimated')})", className="synthetic")
                if source.get("synthetic")
                else "",
                html.Span(f" — {source['licence']}", className="licence")
                if source.get("licence")
                else "",
            ]
        )
        for source in city_meta.get("sources", [])
    ]
    return html.Details([html.Summary(t("Data sources")), html.Ul(items)], className="sources")


def layout(**query: str) -> html.Div:
    """Page layout for the configured city (built per request; data loading is cached).

    ``query``: a shared link's view (`pages.share`): layers, camera, scenario, time;
    ``lang`` (en, fr, ar; default: the browser's); ``present=1``: the presentation view (the
    map alone, with legends and the run's figures over it: what a video export films).
    """
    language = pick_language(query.pop("lang", None))
    present = query.pop("present", None) == "1"
    t = translator(language.code)
    city_name = _city_name()
    city = load_city(city_name)
    day = flask.current_app.config["MADINA_TELEMETRY_DAY"]
    role = current_role()
    bundle = twin_bundle(city_name, day, role)
    counts = city.meta.get("counts", {})
    options = [{"label": t(m["title"]), "value": m["id"]} for m in bundle["layers"]]
    visible = [m["id"] for m in bundle["layers"] if m["visible"]]
    shared = parse_shared_view(query, [m["id"] for m in bundle["layers"]])
    if shared.layers is not None:
        visible = list(shared.layers)
    if shared.view:
        bundle = {**bundle, "view": {**bundle["view"], **shared.view}}
    summary = " · ".join(
        f"{counts.get(key, 0):,} {t(label)}"
        for key, label in (
            ("lamps", "light points"),
            ("buildings", "buildings"),
            ("roads", "road segments"),
        )
    )
    return html.Div(
        [
            html.Header(
                [
                    html.H1(city.meta.get("title", city_name.title())),
                    html.Span(t("Madina Twin · 3D city twin"), className="brand"),
                    html.Span(summary, className="summary", id="city-summary"),
                    _languages(language),
                    _account(role, t),
                    html.Button(t("Save view (PNG)"), id="png-button", n_clicks=0),
                    html.Button(t("Share this view"), id="share-button", n_clicks=0),
                    dcc.Input(
                        id="share-url",
                        type="text",
                        readOnly=True,
                        className="share-url",
                        placeholder=t("link to this view"),
                        debounce=True,
                    ),
                ],
                className="twin-header",
            ),
            html.Aside(
                [
                    *(
                        [alerts_panel(city_name, day)]
                        if allows(role, STAFF_LAYERS)  # with the lamp faults layer
                        else []
                    ),
                    html.H3(t("Layers")),
                    dcc.Checklist(
                        options=options, value=visible, id="layer-toggles", className="toggles"
                    ),
                    _lamp_color_control(bundle["lampColors"]["manifest"], role, t),
                    _pipe_color_control((bundle["pipeColors"] or {}).get("manifest")),
                    traffic_controls(bundle["traffic"], t),
                    _telemetry_controls(day, t),
                    *(
                        [studio_panel(city_name, day), network_panel(city_name, day)]
                        if allows(role, RUN)
                        else []
                    ),
                    library_panel(shared, role, t),
                    html.Div(id="legends"),
                    _sources(city.meta, t),
                    html.P(
                        t(
                            "Drag to pan, right-drag or Ctrl+drag to rotate and tilt, scroll to "
                            "zoom. Hover for a tooltip, click for details."
                        ),
                        className="hint",
                    ),
                ],
                className="twin-sidebar",
            ),
            html.Main(
                [
                    html.Div(id="twin-map", className="twin-map"),
                    *([_present_overlay(city.meta.get("title", city_name.title()))] * present),
                    html.Div(id="twin-status", className="twin-status", children=t("Loading…")),
                    # the twin's one time control, built by assets/timebar.js
                    html.Div(
                        id="time-bar",
                        className="time-bar",
                        role="group",
                        **{"data-labels": json.dumps({key: t(key) for key in TIME_BAR_LABELS})},
                    ),
                    dcc.Store(id="time-playing", data=False),
                    dcc.Store(id="share-time", data=shared.time_ms),
                    html.Div(
                        f"This link: {'; '.join(shared.problems)}" if shared.problems else "",
                        id="share-status",
                        className="share-status",
                        role="alert",
                    ),
                    html.Div(
                        " · ".join(city.meta.get("attribution", [])),
                        className="twin-attribution",
                        id="twin-attribution",
                    ),
                ],
                className="twin-main",
            ),
            html.Aside(
                [
                    html.H3(t("Details")),
                    html.Div(id="feature-details", children=_no_selection(t)),
                ],
                className="twin-details",
            ),
            dcc.Store(id="twin-bundle", data=bundle),
            dcc.Store(id="selected-feature"),
            dcc.Store(id="hex-manifest"),
            dcc.Store(id="hex-view", data={"res": None}),
            dcc.Store(id="twin-lang", data=language.code),
        ],
        className="twin-page presenting" if present else "twin-page",
        lang=language.code,
        dir=language.direction,
        **{"data-role": role.value, "data-lang": language.code},
    )


def _present_overlay(title: str) -> html.Div:
    """The presentation view's caption: the city, the run's figures, the legend.

    assets/present.js mirrors the figures and legend from the (hidden) sidebar.
    """
    return html.Div(
        [
            html.Div(f"{title} · Madina Twin", className="present-title"),
            html.Div(className="present-figures"),
            html.Div(className="present-legends"),
        ],
        id="present-overlay",
        className="present-overlay",
    )


def _languages(current: Language) -> html.Nav:
    """Links to this page in each language (the other parts of the view are kept by Share)."""
    return html.Nav(
        [
            html.A(lang.name, href=f"?lang={code}", lang=code, className="current")
            if code == current.code
            else html.A(lang.name, href=f"?lang={code}", lang=code)
            for code, lang in LANGUAGES.items()
        ],
        className="languages",
        id="lang-links",
    )


def _account(role: Role, t=str) -> html.Div:
    """Who is looking: the public's way in to log in, or the user and a log-out button."""
    if role is Role.PUBLIC:
        return html.Div(
            [
                html.Span(t("Public view"), className="role"),
                html.A(t("Staff log in"), href="/login"),
            ],
            className="account",
            id="account",
        )
    return html.Div(
        [
            html.Span(f"{current_username()} · {role.value}", className="role"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                    html.Button(t("Log out"), type="submit", id="logout-button"),
                ],
                action="/logout",
                method="POST",
            ),
        ],
        className="account",
        id="account",
    )


def _feature_title(layer_id: str) -> str:
    titles = {"water-pipes": "Pipe", "water-nodes": "Junction", "water-dmas": "",
              "power-lines": "MV line", "power-stations": "Station"}  # fmt: skip
    return titles.get(layer_id, layer_id.rstrip("s").title())


def _no_selection(t=str) -> html.P:
    return html.P(t("Click a lamp, road, building or district on the map."), className="hint")


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="render"),
    Output("twin-status", "children"),
    Input("twin-bundle", "data"),
    Input("layer-toggles", "value"),
)


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="lampColors"),
    Output("lamp-color-status", "children"),
    Input("lamp-color", "value"),
    Input("twin-bundle", "data"),
)


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="layerColors"),
    Output("pipe-color", "title"),
    Input("pipe-color", "value"),
    Input("twin-bundle", "data"),
)


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="hexagons"),
    Output("hex-status", "children"),
    Input("hex-manifest", "data"),
    Input("hex-res", "value"),
    Input("hex-time", "value"),
)

# One callback per time-lapse slider, so a role's page without that panel still closes.
for _slider in ("ls-frame", "ns-frame", "sc-frame"):
    dash.clientside_callback(
        ClientsideFunction(namespace="madina", function_name="hexagonFrame"),
        Output("hex-status", "children", allow_duplicate=True),
        Input(_slider, "value"),
        State("hex-manifest", "data"),
        State("hex-res", "value"),
        prevent_initial_call=True,
    )


@callback(
    Output("hex-manifest", "data"),
    Output("hex-status", "children", allow_duplicate=True),
    Input("hex-variable", "value"),
    State("hex-manifest", "data"),
    prevent_initial_call=True,
    running=[(Output("hex-status", "children"), "Aggregating the day's readings…", "")],
)
def load_hexagons(variable: str | None, shown: dict | None = None) -> tuple[dict | None, str]:
    """The manifest of the chosen variable's hexagons (the columns come from /api/hexagons).

    "None" clears telemetry hexagons; a scenario's time-lapse stays until another is chosen.
    """
    if not variable:
        scenario_shown = bool(shown) and shown.get("kind") == "scenario"
        return (dash.no_update if scenario_shown else None), ""
    if variable not in DISPLAY:
        return dash.no_update, f"Unknown variable {variable!r}."
    config = flask.current_app.config
    # the public sees cells of at least k meters; a planner (RAW) sees every cell
    k = 0 if allows(current_role(), RAW) else config["MADINA_MIN_CONTRIBUTORS"]
    manifest = packed_hexagons(config["MADINA_CITY"], config["MADINA_TELEMETRY_DAY"], variable, k=k)
    blob_url = f"/api/hexagons/{config['MADINA_CITY']}/{variable}.bin" + (f"?k={k}" if k else "")
    shown = any(r["cells"] for r in manifest.manifest["resolutions"].values())
    note = "" if shown else f"Withheld: no cell of this variable has {k} meters or more."
    return {**manifest.manifest, "blobUrl": blob_url}, note


@callback(
    Output("legends", "children"),
    Input("layer-toggles", "value"),
    Input("twin-bundle", "data"),
    Input("hex-view", "data"),
    Input("lamp-color", "value"),
    Input("pipe-color", "value"),
    Input("tr-mode", "value"),
    State("hex-manifest", "data"),
    State("twin-lang", "data"),
)
def show_legends(
    shown: list[str] | None,
    bundle: dict | None,
    hex_view: dict | None,
    lamp_color: str | None = None,
    pipe_color: str | None = None,
    traffic_mode: str | None = None,
    hexagons: dict | None = None,
    lang: str | None = None,
) -> list[html.Div]:
    """A legend for every visible layer, top layer first, in the page's language.

    Lamps in their colour mode; telemetry or a scenario's hexagons at the shown resolution.
    """
    if not bundle:
        return []
    t = translator(lang)
    shown = set(shown or [])
    colors = bundle["lampColors"]["manifest"]
    mode = {**colors["modes"], "dimming": colors["dimming"]}.get(lamp_color or "technology")
    pipes = ((bundle["pipeColors"] or {}).get("manifest") or {}).get("modes", {})
    pipes = pipes.get(pipe_color or "", {})
    traffic = bundle["traffic"]["manifest"]["modes"].get(traffic_mode or "congestion", {})
    modes = {
        "lamps": mode or {},
        "water-pipes": pipes,
        "traffic": {"legendTitle": f"{t('Traffic')}: {t(traffic['title']).lower()}", **traffic}
        if traffic
        else {},
    }
    blocks = [
        legend_block({**m, **modes.get(m["id"], {})}, t)
        for m in reversed(bundle["layers"])
        if m["id"] in shown
    ]
    res = str((hex_view or {}).get("res") or "")
    if hexagons and res in hexagons["resolutions"]:
        legend = {
            "id": "hexagons",
            "legendTitle": f"{t(hexagons['title'])} ({hexagons['unit']}), "
            f"{t('H3 resolution')} {res}"
            + (f" — {hexagons['scenario']}" if hexagons.get("scenario") else "")
            + (
                f" — {t('cells of fewer than')} {hexagons['minContributors']} "
                f"{t('meters merged into their parent')}"
                if hexagons.get("minContributors")
                else ""
            ),
            "legend": hexagons["resolutions"][res]["legend"],
        }
        blocks.insert(0, legend_block(legend, t))
    return blocks


@callback(Output("feature-details", "children"), Input("selected-feature", "data"))
def show_details(selection: dict | None) -> html.Div | html.P:
    """Details of the clicked feature, looked up server-side in the city bundle.

    A lamp's card adds what its meter said on the telemetry day, with its power profile.
    """
    if not selection:
        return _no_selection()
    clicked = str(selection.get("layer", ""))
    layer_id = details_layer(clicked)
    feature_id = str(selection.get("id", ""))
    for layer in {clicked, layer_id} & set(LAYER_BUILDERS):
        require(layer_permission(layer), f"details of the {layer} layer")
    city = load_city(_city_name())
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
        html.H4(f"{_feature_title(layer_id)} {feature_id}"),
        html.Table(
            html.Tbody([html.Tr([html.Th(label), html.Td(value)]) for label, value in rows]),
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


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="shareLink"),
    Output("share-url", "value"),
    Input("share-button", "n_clicks"),
    State("layer-toggles", "value"),
    State("sc-map", "value"),
    State("sc-variable", "value"),
    prevent_initial_call=True,
)

dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="seekShared"),
    Output("share-status", "title"),
    Input("share-time", "data"),
)

dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="savePng"),
    Output("png-button", "title"),
    Input("png-button", "n_clicks"),
    prevent_initial_call=True,
)

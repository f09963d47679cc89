"""The twin page: the 3D city map, layer toggles, legends, details panel and data sources.

Layout and thin callbacks only; data comes from `data`, specs from `layers`. The legends,
the telemetry controls and the details panel have modules of their own.
"""

from __future__ import annotations

import json

import dash
import flask
from dash import ClientsideFunction, Input, Output, State, dcc, html
from flask_wtf.csrf import generate_csrf

from access.auth import current_role, current_username
from access.layer_access import layer_permission
from access.roles import RAW, RUN, STAFF_LAYERS, Role, allows
from data.city import load_city
from layers.catalog import (
    LAYER_BUILDERS,
    LAYER_ENTRIES,
    LAYERS,
    LayerEntry,
    packed_colors,
    packed_layer,
)
from pages.alerts import alerts_panel
from pages.feature_details import no_selection
from pages.i18n import LANGUAGES, Language, pick_language, translator
from pages.legends import show_legends  # noqa: F401 (registers its callback)
from pages.lighting_studio import studio_panel
from pages.network_studio import network_panel
from pages.scenario_compare import compare_selected  # noqa: F401 (registers its callback)
from pages.scenario_library import library_panel
from pages.scenario_map import show_run  # noqa: F401 (registers its callbacks)
from pages.scenario_publish import publish_ticked  # noqa: F401 (registers its callback)
from pages.share import parse_shared_view
from pages.telemetry_controls import telemetry_controls
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
    manifests = [packed_layer(city_name, layer_id, day).manifest for layer_id in layers]
    bundle = {
        "city": city_name,
        "view": {
            "center": list(city.center),
            "zoom": view.get("zoom", 12),
            "pitch": view.get("pitch", 50),
            "bearing": view.get("bearing", 0),
        },
        "blobUrl": f"/api/layers/{city_name}/{{layer}}.bin",
        "layers": [m for m in manifests if m["length"] or not LAYER_ENTRIES[m["id"]].optional],
        "colors": {
            entry.id: _color_spec(city_name, day, entry, metered)
            for entry in LAYERS
            if entry.colors is not None and entry.id in layers
        },
        "traffic": baseline_traffic_view(city_name),
    }
    return bundle


def _color_spec(city_name: str, day: str, entry: LayerEntry, metered: bool) -> dict:
    """Where the browser fetches a layer's colour modes, and their manifest (the modes' legends).

    Without RAW, the layer's open modes only (the lamps' bundle modes, not the meters').
    """
    colors = entry.colors
    assert colors is not None
    every = metered or colors.open_modes is None
    return {
        "layer": entry.id,
        "accessor": colors.accessor,
        "url": f"/api/colors/{city_name}/{entry.id}/{'all' if every else 'open'}.bin",
        "manifest": packed_colors(city_name, entry.id, day, metered=every).manifest,
    }


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


def _lamp_color_control(colors: dict, role: Role, t=str) -> html.Div:
    """How the light points are coloured (modes from `layers.lighting.colors`).

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
    """How the water pipes are coloured (modes from `layers.water.network`).

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
                    _lamp_color_control(bundle["colors"]["lamps"]["manifest"], role, t),
                    _pipe_color_control(bundle["colors"].get("water-pipes", {}).get("manifest")),
                    traffic_controls(bundle["traffic"], t),
                    telemetry_controls(day, t),
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
                    html.Div(id="feature-details", children=no_selection(t)),
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

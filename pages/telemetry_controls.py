"""The telemetry hexagons' controls: variable, H3 resolution and hour, and their callbacks.

The public gets cells of at least k meters (`data.telemetry.privacy`); a planner (RAW) every cell.
"""

from __future__ import annotations

import dash
import flask
from dash import ClientsideFunction, Input, Output, State, callback, dcc, html

from access.auth import current_role
from access.roles import RAW, VIEW, allows
from layers.hexagons import DISPLAY, packed_hexagons, variable_options
from pages.i18n import translator

# What each component of this panel needs (`pages.permissions` gathers the panels').
# Telemetry hexagons; small cells are merged unless the role holds RAW.
COMPONENTS = {"hex-": VIEW}


def telemetry_controls(day: str, t=str) -> html.Div:
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
        State("twin-lang", "data"),
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
def load_hexagons(
    variable: str | None, shown: dict | None = None, lang: str | None = None
) -> tuple[dict | None, str]:
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
    withheld = translator(lang)("Withheld: no cell of this variable has {k} meters or more.")
    note = "" if shown else withheld.format(k=k)
    return {**manifest.manifest, "blobUrl": blob_url}, note

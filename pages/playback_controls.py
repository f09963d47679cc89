"""The ▶ Play / ⏸ Pause button and frame stepping shared by the what-if panels.

Clientside only: the browser's interval advances the frame slider; no server round trip.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State


def register_playback(prefix: str) -> None:
    """Wire ``{prefix}-play`` (button), ``{prefix}-tick`` (interval) and ``{prefix}-frame``."""
    dash.clientside_callback(
        ClientsideFunction(namespace="madina", function_name="togglePlay"),
        Output(f"{prefix}-tick", "disabled"),
        Output(f"{prefix}-play", "children"),
        Input(f"{prefix}-play", "n_clicks"),
        State(f"{prefix}-tick", "disabled"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction(namespace="madina", function_name="nextFrame"),
        Output(f"{prefix}-frame", "value", allow_duplicate=True),
        Input(f"{prefix}-tick", "n_intervals"),
        State(f"{prefix}-frame", "value"),
        State(f"{prefix}-frame", "max"),
        prevent_initial_call=True,
    )

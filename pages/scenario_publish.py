"""Publishing a stored run to the public view, with the decision taken on it.

Thin callbacks only: decision-makers and planners (PUBLISH) publish or withdraw the first
ticked run of the library; the public then finds it, and the decision, in its library.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, ctx, html

from access.auth import current_username
from access.guard import require
from access.roles import PUBLISH
from data.errors import MadinaError
from pages.scenario_library import scenario_store


@callback(
    Output("sc-publish-status", "children"),
    Output("sc-done", "data", allow_duplicate=True),
    Input("sc-publish", "n_clicks"),
    Input("sc-withdraw", "n_clicks"),
    State("sc-table", "selected_row_ids"),
    State("sc-decision", "value"),
    prevent_initial_call=True,
)
def publish_ticked(_publish, _withdraw, selected: list[str] | None, decision: str | None):
    """Publish (or withdraw) the first ticked run; the table and comparison refresh."""
    require(PUBLISH, "publishing a scenario")  # the guard refused others already; say it here too
    if not selected:
        return "Tick the run to publish first.", dash.no_update
    store = scenario_store()
    try:
        if ctx.triggered_id == "sc-withdraw":
            record = store.withdraw(selected[0])
            return f"“{record.name}” is no longer public.", record.id
        record = store.publish(selected[0], by=current_username() or "", decision=decision or "")
    except MadinaError as err:
        return html.Span(f"Not published: {err}", className="error"), dash.no_update
    return f"“{record.name}” is public, with your decision.", record.id

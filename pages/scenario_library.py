"""The scenario library panel: saved what-ifs, their background runs, the table of them.

Layout and thin callbacks only. Runs go through `simulation.runs` (the path the batch CLI takes)
into the scenario database; they run as Dash background callbacks, with progress and cancel.
The public sees the published runs only; every run id a request names is checked
(`access.guard.readable_run`). The comparison (`pages.scenario_compare`), a run on the map
(`pages.scenario_map`) and publishing (`pages.scenario_publish`) have modules of their own.
"""

from __future__ import annotations

import dash
import flask
from dash import Input, Output, State, callback, dash_table, dcc, html

from access.auth import current_role, current_username
from access.guard import readable_run
from access.roles import LIBRARY, PUBLISH, RUN, VIEW, Role, allows
from data.errors import MadinaError
from data.store.scenarios import ScenarioRecord, ScenarioStore, open_store
from pages.i18n import translator
from pages.share import SharedView
from pages.video_export import video_controls
from simulation.kinds import KINDS
from simulation.runs import execute, submit

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {
    "sc-": VIEW,  # the published runs, or every run with LIBRARY
    "sc-draft": RUN,
    "sc-name": RUN,
    "sc-status": RUN,
    "sc-progress": RUN,
    "sc-progress-text": RUN,
    "sc-publish": PUBLISH,
    "sc-withdraw": PUBLISH,
    "sc-decision": PUBLISH,
    "sc-publish-status": PUBLISH,
}


STATUS_TEXT = {
    "queued": "queued",
    "running": "running",
    "done": "done",
    "failed": "failed",
    "cancelled": "cancelled",
    "interrupted": "interrupted (its process stopped)",
}


def scenario_store() -> ScenarioStore:
    """The app's scenario database (the one `python -m simulation` writes with the same path)."""
    return open_store(dash.get_app().server.config["MADINA_SCENARIO_DB"])


def library_panel(
    shared: SharedView | None = None, role: Role = Role.PLANNER, t=str
) -> html.Details:
    """The collapsible "Scenario library" section of the sidebar, as ``role`` may use it.

    ``shared``: a link's view; its scenario is ticked and put on the map. The public gets the
    published runs, decision-makers every run and publishing, planners saving runs as well.
    """
    shared = shared or SharedView()
    staff = allows(role, LIBRARY)
    parts: list = [
        html.Summary(t("Scenario library" if staff else "Published scenarios")),
        html.P(
            "Save a plan from a what-if panel with “Save to library”: it runs in the "
            "background and is kept, with its results, after a restart. Batch runs from "
            "`python -m simulation run plan.yaml` appear here too."
            if allows(role, RUN)
            else t(
                "What-ifs the city has run and published, with the decision taken on each. "
                "Tick one to see its figures and put it on the map."
            )
            if not staff
            else "Every saved run. Tick runs to compare them; publish one with your decision.",
            className="hint",
        ),
    ]
    if allows(role, RUN):
        parts += [
            html.Div(
                [
                    html.Label("Name (optional)", htmlFor="sc-name"),
                    dcc.Input(id="sc-name", type="text", maxLength=200, className="studio-text"),
                ],
                className="studio-numbers",
            ),
            html.Div(
                [
                    html.Progress(id="sc-progress", value="0", max="100"),
                    html.Span(id="sc-progress-text", className="hint"),
                    html.Button("Cancel run", id="sc-cancel", n_clicks=0, disabled=True),
                ],
                className="studio-progress",
            ),
            html.Div(id="sc-status", role="status"),
            dcc.Store(id="sc-draft"),
        ]
    parts += [
        html.Button(t("↻ Refresh list"), id="sc-refresh", n_clicks=0),
        # dash_table never settles its column widths right to left (its resize handler
        # recurses until the stack overflows): the table stays left to right in Arabic too
        html.Div(
            dash_table.DataTable(
                id="sc-table",
                columns=[
                    {"name": t("Scenario"), "id": "name"},
                    {"name": t("Kind"), "id": "kind"},
                    {"name": t("Status"), "id": "status"},
                    *([{"name": "By", "id": "author"}] if staff else []),
                    {"name": t("Saved (UTC)"), "id": "created"},
                    {"name": t("Run (s)"), "id": "runtime_s"},
                    {"name": t("Published decision"), "id": "decision"},
                ],
                data=[],
                row_selectable="multi",
                selected_row_ids=shared.scenario_ids,
                page_size=8,
                style_table={"overflowX": "auto"},
                style_cell={"fontSize": "12px", "textAlign": "left", "whiteSpace": "normal"},
            ),
            dir="ltr",
        ),
    ]
    if allows(role, PUBLISH):
        parts.append(
            html.Div(
                [
                    html.Label("Decision on the first ticked run", htmlFor="sc-decision"),
                    dcc.Textarea(
                        id="sc-decision", maxLength=2000, className="studio-text",
                        placeholder="e.g. Approved for the 2027 budget: LED retrofit of Anfa first",
                    ),
                    html.Button("Publish", id="sc-publish", n_clicks=0),
                    html.Button("Withdraw", id="sc-withdraw", n_clicks=0),
                    html.Div(id="sc-publish-status", role="status"),
                ],
                className="studio-publish",
            )
        )  # fmt: skip
    parts += [
        html.Div(id="sc-compare"),
        html.Div(
            [
                html.Label(t("On the map"), htmlFor="sc-map"),
                dcc.Dropdown(
                    id="sc-map",
                    options=[],
                    value=shared.scenario,
                    placeholder=t("Tick a finished scenario to map it"),
                ),
                dcc.Dropdown(id="sc-variable", options=[], value=shared.variable, clearable=False),
                dcc.Checklist(
                    options=[
                        {
                            "label": " " + t("split view: the first ticked run on a second map"),
                            "value": "split",
                        }
                    ],
                    value=["split"] if shared.split else [],
                    id="sc-split",
                ),
                dcc.Slider(0, 1, 1, value=0, id="sc-frame", marks=None, updatemode="drag"),
                html.Div(id="sc-frame-text", className="hint"),
                html.Div(id="sc-map-status", role="status"),
                dcc.Graph(
                    id="sc-chart", config={"displayModeBar": False}, style={"height": "200px"}
                ),
                dcc.Store(id="sc-series"),
                *([video_controls(t)] if staff else []),
            ],
            id="sc-map-controls",
        ),
        dcc.Store(id="sc-job"),
        dcc.Store(id="sc-done"),
    ]
    return html.Details(
        parts, className="studio", id="scenario-library", open=bool(shared.scenario) or not staff
    )


def table_rows(records: list[ScenarioRecord], *, staff: bool = True, t=str) -> list[dict]:
    """DataTable rows of the records (row id = scenario id); who saved it only for ``staff``."""
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "kind": t(KINDS[r.kind].title) if r.kind in KINDS else r.kind,
            "status": t(STATUS_TEXT.get(r.status, r.status))
            + (f" {round(100 * r.progress)}%" if r.status == "running" else ""),
            "author": r.author,
            "created": r.created_at[:16].replace("T", " "),
            "runtime_s": None if r.runtime_s is None else round(r.runtime_s, 1),
            "decision": r.decision if r.published_at else "",
        }
        for r in records
    ]
    if not staff:  # the public sees what was decided, not who saved it
        for row in rows:
            del row["author"]
    return rows


@callback(
    Output("sc-job", "data"),
    Output("sc-status", "children"),
    Input("sc-draft", "data"),
    State("sc-name", "value"),
    prevent_initial_call=True,
)
def save_draft(draft: dict | None, name: str | None) -> tuple:
    """Validate a panel's plan and record it, queued, by the logged-in planner."""
    if not isinstance(draft, dict):
        return dash.no_update, dash.no_update
    city = flask.current_app.config["MADINA_CITY"]
    try:
        record = submit(
            scenario_store(),
            kind=draft.get("kind"),
            params=draft.get("params"),
            city=city,
            name=(name or "").strip() or str(draft.get("name") or draft.get("kind")),
            author=current_username() or "",
        )
    except MadinaError as err:
        return dash.no_update, html.Span(f"Not saved: {err}", className="error")
    return record.id, f"Saved “{record.name}” ({record.id}); running in the background…"


@callback(
    Output("sc-status", "children", allow_duplicate=True),
    Output("sc-done", "data"),
    Input("sc-job", "data"),
    background=True,
    running=[
        (Output("sc-cancel", "disabled"), False, True),
        (Output("sc-progress", "value"), "0", "100"),  # full when the run is over
    ],
    progress=[Output("sc-progress", "value"), Output("sc-progress-text", "children")],
    cancel=[Input("sc-cancel", "n_clicks")],
    prevent_initial_call=True,
)
def run_job(set_progress, scenario_id: str | None) -> tuple:
    """Run a queued scenario in a background worker, reporting its progress."""
    if not scenario_id:
        return dash.no_update, dash.no_update
    record = execute(
        scenario_store(),
        scenario_id,
        lambda fraction, message: set_progress((str(round(100 * fraction)), message)),
    )
    if record.status == "done":
        text = f"“{record.name}” done in {record.runtime_s:.1f} s."
    elif record.status == "failed":
        text = html.Span(f"“{record.name}” failed: {record.error}", className="error")
    else:
        text = f"“{record.name}” {record.status}."
    return text, record.id


@callback(
    Output("sc-status", "children", allow_duplicate=True),
    Output("sc-done", "data", allow_duplicate=True),
    Input("sc-cancel", "n_clicks"),
    State("sc-job", "data"),
    prevent_initial_call=True,
)
def cancel_job(_clicks, scenario_id: str | None) -> tuple:
    """Mark the run cancelled (the background worker is stopped by Dash)."""
    if not scenario_id:
        return dash.no_update, dash.no_update
    cancelled = scenario_store().cancel(scenario_id)
    return ("Run cancelled." if cancelled else "The run had already finished."), scenario_id


@callback(
    Output("sc-table", "data"),
    Input("sc-refresh", "n_clicks"),
    Input("sc-done", "data"),
    Input("sc-job", "data"),
    State("twin-lang", "data"),
)
def list_scenarios(_refresh, _done, _job, lang: str | None = None) -> list[dict]:
    """The city's saved scenarios, newest first (the published ones only without LIBRARY)."""
    city = flask.current_app.config["MADINA_CITY"]
    staff = allows(current_role(), LIBRARY)
    records = scenario_store().records(city=city, published=not staff)
    return table_rows(records, staff=staff, t=translator(lang))


def ticked_runs(selected: list[str] | None) -> list[ScenarioRecord]:
    """The ticked runs' records in the order they were ticked (at most 6; gone ones skipped)."""
    store = scenario_store()
    records = []
    for scenario_id in (selected or [])[:6]:
        try:
            records.append(readable_run(store, scenario_id))
        except MadinaError:
            continue  # deleted meanwhile
    return records

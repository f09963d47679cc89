"""The scenario library panel: saved what-ifs, their background runs, comparison and exports.

Layout and thin callbacks only. Runs go through `simulation.runs` (the path the batch CLI takes)
into the scenario database; they run as Dash background callbacks, with progress and cancel.
The public sees the published runs only; every run id a request names is checked here.
"""

from __future__ import annotations

import urllib.parse

import dash
import flask
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, dash_table, dcc, html

from access.auth import current_role, current_username
from access.guard import readable_run
from access.roles import EXPORT, LIBRARY, PUBLISH, RUN, Role, allows
from data.errors import MadinaError
from data.scenario_store import ScenarioRecord, ScenarioStore, open_store
from layers.run_playback import packed_stored_run
from pages.charts import cursor_shape
from pages.i18n import translator
from pages.share import SharedView
from pages.video_export import video_controls
from simulation.compare import kpi_table
from simulation.runs import execute, submit
from simulation.scenario_kinds import KINDS

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


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def comparison(records: list[ScenarioRecord], role: Role = Role.PLANNER, t=str) -> html.Div:
    """KPI rows x selected scenarios (units in the labels), deltas against the first.

    Then the published decisions, and the exports ``role`` may take.
    """
    if not records:
        return html.Div(t("Tick scenarios in the table to compare them."), className="hint")
    reference = records[0]
    head = [html.Th(t("KPI"))]
    for k, r in enumerate(records):
        mark = f" ({t('reference')})" if k == 0 and len(records) > 1 else ""
        head.append(html.Th(r.name + mark))
        if k:
            head.append(html.Th(t("Δ vs reference")))
    body = []
    for kpi, values in kpi_table(records):
        cells = [html.Th(f"{t(kpi.label)} ({kpi.unit})")]
        for k, value in enumerate(values):
            cells.append(html.Td(_number(value)))
            if k:
                cells.append(html.Td(_delta(value, values[0]), className="delta"))
        body.append(html.Tr(cells, **{"data-kpi": kpi.key}))
    decisions = [
        html.Li([html.B(f"{r.name}: "), r.decision or t("published without a note")])
        for r in records
        if r.published_at
    ]
    parts = [
        html.Table(
            [html.Thead(html.Tr(head)), html.Tbody(body)],
            className="details-table kpi-table",
            id="sc-kpi-table",
        )
    ]
    if decisions:
        parts += [html.H4(t("Decisions")), html.Ul(decisions, className="decisions")]
    if allows(role, LIBRARY):  # the brief; the run's data with EXPORT
        links = [
            html.Li(
                [
                    html.Span(f"{r.name}: "),
                    *_export_links(r, reference if r is not reference else None, role),
                ]
            )
            for r in records
            if r.status == "done"
        ]
        parts += [html.H4("Export"), html.Ul(links, className="exports")]
    return html.Div(parts)


def _delta(value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return "—"
    change = value - reference
    pct = f" ({100 * change / abs(reference):+.1f}%)" if reference else ""
    return f"{change:+,.0f}{pct}" if abs(change) >= 100 else f"{change:+,.2f}{pct}"


def _export_links(record: ScenarioRecord, reference: ScenarioRecord | None, role: Role) -> list:
    base = f"/api/scenarios/{record.id}"
    brief = f"{base}/brief.html"
    if reference is not None and reference.kind == record.kind and reference.status == "done":
        brief += "?" + urllib.parse.urlencode({"against": reference.id})
    data = [
        ("NetCDF", f"{base}/results.nc"),
        ("CSV", f"{base}/results.csv"),
        ("GeoJSON", f"{base}/cells.geojson"),
    ]
    items = [
        *(data if allows(role, EXPORT) else []),
        ("Brief" + (" vs reference" if "against" in brief else ""), brief),
    ]
    out: list = []
    for label, href in items:
        out.append(html.A(label, href=href, target="_blank"))
        out.append(" · ")
    return out[:-1]


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


@callback(
    Output("sc-compare", "children"),
    Input("sc-table", "selected_row_ids"),
    Input("sc-done", "data"),
    State("twin-lang", "data"),
)
def compare_selected(selected: list[str] | None, _done, lang: str | None = None) -> html.Div:
    """The comparison table of the ticked scenarios, in the order they were ticked."""
    return comparison(_ticked(selected), current_role(), translator(lang))


def _ticked(selected: list[str] | None) -> list[ScenarioRecord]:
    """The ticked runs' records in the order they were ticked (at most 6; gone ones skipped)."""
    store = scenario_store()
    records = []
    for scenario_id in (selected or [])[:6]:
        try:
            records.append(readable_run(store, scenario_id))
        except MadinaError:
            continue  # deleted meanwhile
    return records


def map_options(records: list[ScenarioRecord]) -> list[dict]:
    """What the map can show of the ticked runs: each run, and each against the first."""
    done = [r for r in records if r.status == "done"]
    options = [{"label": r.name, "value": r.id} for r in done]
    if done:
        reference = done[0]
        options += [
            {"label": f"Difference: {r.name} − {reference.name}", "value": f"{r.id}:{reference.id}"}
            for r in done[1:]
            if r.kind == reference.kind
        ]
    return options


@callback(
    Output("sc-map", "options"),
    Output("sc-map", "value"),
    Input("sc-table", "selected_row_ids"),
    Input("sc-done", "data"),
    State("sc-map", "value"),
)
def offer_maps(selected: list[str] | None, _done, current: str | None) -> tuple:
    """The map choices of the ticked runs (the current one kept while it is offered)."""
    options = map_options(_ticked(selected))
    values = [o["value"] for o in options]
    return options, current if current in values else None


@callback(
    Output("sc-variable", "options"),
    Output("sc-variable", "value"),
    Input("sc-map", "value"),
    State("sc-variable", "value"),
)
def offer_variables(choice: str | None, current: str | None) -> tuple:
    """The mapped run's (time, cell) variables, with their units; its kind's main one first."""
    if not choice:
        return [], None
    store = scenario_store()
    try:
        record = readable_run(store, choice.split(":")[0])
        results = store.results(record.id)
    except MadinaError:
        return [], None
    names = [n for n, v in results.data_vars.items() if v.dims == ("time", "cell")]
    options = [
        {"label": f"{results[n].attrs.get('long_name', n)} ({results[n].attrs.get('units', '')})",
         "value": n}
        for n in names
    ]  # fmt: skip
    main = KINDS[record.kind].map_variable if record.kind in KINDS else names[0]
    return options, current if current in names else main


def run_chart(series: dict) -> go.Figure:
    """City totals per frame of the mapped run (and its reference), with the cursor (shape 0)."""
    x = list(range(len(series["labels"])))
    traces = [
        go.Scatter(x=x, y=values, name=name, text=series["labels"],
                   hovertemplate="%{text}<br>%{y:,.1f} " + series["unit"])
        for name, values in series["lines"]
    ]  # fmt: skip
    fig = go.Figure(traces)
    fig.update_layout(
        margin={"l": 50, "r": 10, "t": 10, "b": 30},
        yaxis_title=series["unit"],
        xaxis_title="frame",
        legend={"orientation": "h", "y": 1.15},
        template="plotly_dark",
        shapes=[cursor_shape()],
    )
    return fig


@callback(
    Output("hex-manifest", "data", allow_duplicate=True),
    Output("sc-series", "data"),
    Output("sc-chart", "figure"),
    Output("sc-frame", "max"),
    Output("sc-frame", "value"),
    Output("sc-map-status", "children"),
    Input("sc-map", "value"),
    Input("sc-variable", "value"),
    Input("sc-split", "value"),
    State("sc-table", "selected_row_ids"),
    prevent_initial_call=True,
)
def show_run(choice: str | None, variable: str | None, split, selected) -> tuple:
    """Put the chosen run (or difference) on the map as hexagons the time bar plays.

    With the split view on, the first ticked run of the same kind fills a second map, both
    on one colour scale.
    """
    no = dash.no_update
    if not choice or not variable:
        return (no,) * 6
    scenario_id, _, against = choice.partition(":")
    store = scenario_store()
    db = str(store.path)
    try:
        for shown in filter(None, (scenario_id, against)):
            readable_run(store, shown)
        partner = _split_partner(store, scenario_id, selected) if split and not against else None
        if split and not against and partner is None:
            raise MadinaError("the split view needs a second ticked run of the same kind")
        packed = packed_stored_run(db, scenario_id, variable, against or None, partner)
        results = store.results(scenario_id)
        lines = [(store.get(scenario_id).name, results[f"{variable}_total"])]
        if against or partner:
            other = against or partner
            lines.append((store.get(other).name, store.results(other)[f"{variable}_total"]))
    except MadinaError as err:
        return (*(no,) * 5, html.Span(f"Not shown: {err}", className="error"))
    manifest = {**packed.manifest, "blobUrl": _map_url(scenario_id, variable, against=against)}
    if partner:
        manifest["blobUrl"] = _map_url(scenario_id, variable, scale_with=partner)
        right = packed_stored_run(db, partner, variable, None, scenario_id)
        manifest["split"] = {
            "id": partner,
            "left": store.get(scenario_id).name,
            "right": store.get(partner).name,
            "manifest": {
                **right.manifest,
                "blobUrl": _map_url(partner, variable, scale_with=scenario_id),
            },
        }
    series = {
        "labels": packed.manifest["times"],
        "unit": results[variable].attrs.get("units", ""),
        "title": results[f"{variable}_total"].attrs.get("long_name", variable),
        "lines": [(name, [round(float(v), 3) for v in total.to_numpy()]) for name, total in lines],
    }
    last = len(series["labels"]) - 1
    return manifest, series, run_chart(series), last, 0, ""


def _map_url(scenario_id: str, variable: str, **query: str) -> str:
    query = {k: v for k, v in query.items() if v}
    suffix = "?" + urllib.parse.urlencode(query) if query else ""
    return f"/api/scenarios/{scenario_id}/map/{variable}.bin{suffix}"


def _split_partner(store: ScenarioStore, scenario_id: str, selected) -> str | None:
    """The first ticked finished run of ``scenario_id``'s kind, other than itself."""
    kind = store.get(scenario_id).kind
    for other in selected or []:
        try:
            record = readable_run(store, other)
        except MadinaError:
            continue
        if other != scenario_id and record.kind == kind and record.status == "done":
            return other
    return None


dash.clientside_callback(
    ClientsideFunction(namespace="madina", function_name="chartCursor"),
    Output("sc-chart", "figure", allow_duplicate=True),
    Input("sc-frame", "value"),
    State("sc-chart", "figure"),
    prevent_initial_call=True,
)

dash.clientside_callback(
    """function (frame, series) {
        if (!series || frame === null || frame === undefined) return "";
        const k = Math.max(0, Math.min(series.labels.length - 1, frame));
        const parts = series.lines.map(([name, values]) =>
            `${name}: ${madinaTwin.formatNumber(values[k])} ${series.unit}`);
        return `${series.labels[k]} · ${series.title}: ${parts.join(" against ")}`;
    }""",
    Output("sc-frame-text", "children"),
    Input("sc-frame", "value"),
    Input("sc-series", "data"),
)

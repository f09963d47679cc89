"""Stored runs on the map: a run, or its difference, as hexagons the time bar plays.

With its chart of city totals per frame, and the split view (a second run on a second map,
on one colour scale). Thin callbacks only; the cells come from `layers.run_playback`.
"""

from __future__ import annotations

import urllib.parse

import dash
import plotly.graph_objects as go
from dash import ClientsideFunction, Input, Output, State, callback, html

from access.auth import current_role
from access.guard import readable_run
from access.roles import LIBRARY, allows
from data.errors import MadinaError
from data.store.scenarios import ScenarioRecord, ScenarioStore
from layers.run_playback import packed_stored_run
from pages.charts import cursor_shape
from pages.i18n import translator
from pages.scenario_library import scenario_store, ticked_runs
from simulation.kinds import KINDS


def map_options(records: list[ScenarioRecord], t=str) -> list[dict]:
    """What the map can show of the ticked runs: each run, and each against the first."""
    difference = t("Difference: {run} − {reference}")
    done = [r for r in records if r.status == "done"]
    options = [{"label": r.name, "value": r.id} for r in done]
    if done:
        reference = done[0]
        options += [
            {
                "label": difference.format(run=r.name, reference=reference.name),
                "value": f"{r.id}:{reference.id}",
            }
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
    State("twin-lang", "data"),
)
def offer_maps(selected: list[str] | None, _done, current: str | None, lang=None) -> tuple:
    """The map choices of the ticked runs (the current one kept while it is offered)."""
    options = map_options(ticked_runs(selected), translator(lang))
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
    # the public sees a network run's cells of at least k buildings only (layers.run_playback)
    least = dash.get_app().server.config["MADINA_MIN_CONTRIBUTORS"]
    k = 0 if allows(current_role(), LIBRARY) else least
    try:
        for shown in filter(None, (scenario_id, against)):
            readable_run(store, shown)
        partner = _split_partner(store, scenario_id, selected) if split and not against else None
        if split and not against and partner is None:
            raise MadinaError("the split view needs a second ticked run of the same kind")
        packed = packed_stored_run(db, scenario_id, variable, against or None, partner, k)
        results = store.results(scenario_id)
        lines = [(store.get(scenario_id).name, results[f"{variable}_total"])]
        if against or partner:
            other = against or partner
            lines.append((store.get(other).name, store.results(other)[f"{variable}_total"]))
    except MadinaError as err:
        return (*(no,) * 5, html.Span(f"Not shown: {err}", className="error"))
    manifest = {
        **packed.manifest,
        "blobUrl": _map_url(scenario_id, variable, against=against, k=k),
    }
    if partner:
        manifest["blobUrl"] = _map_url(scenario_id, variable, scale_with=partner, k=k)
        right = packed_stored_run(db, partner, variable, None, scenario_id, k)
        manifest["split"] = {
            "id": partner,
            "left": store.get(scenario_id).name,
            "right": store.get(partner).name,
            "manifest": {
                **right.manifest,
                "blobUrl": _map_url(partner, variable, scale_with=scenario_id, k=k),
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


def _map_url(scenario_id: str, variable: str, **query) -> str:
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

"""The comparison of the ticked runs: KPIs side by side, deltas, decisions and exports.

Thin callback only; the KPI rows come from `simulation.compare`. The public compares the
published runs; the exports offered follow the role.
"""

from __future__ import annotations

import urllib.parse

from dash import Input, Output, State, callback, html

from access.auth import current_role
from access.roles import EXPORT, LIBRARY, Role, allows
from data.store.scenarios import ScenarioRecord
from pages.i18n import translator
from pages.scenario_library import ticked_runs
from simulation.compare import kpi_table
from simulation.kind import Kpi


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
            cells.append(html.Td(kpi.text(value)))
            if k:
                cells.append(html.Td(_delta(kpi, value, values[0]), className="delta"))
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


def _delta(kpi: Kpi, value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return "—"
    change = value - reference
    pct = f" ({100 * change / abs(reference):+.1f}%)" if reference else ""
    return kpi.text(change, signed=True) + pct


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
    Output("sc-compare", "children"),
    Input("sc-table", "selected_row_ids"),
    Input("sc-done", "data"),
    State("twin-lang", "data"),
)
def compare_selected(selected: list[str] | None, _done, lang: str | None = None) -> html.Div:
    """The comparison table of the ticked scenarios, in the order they were ticked."""
    return comparison(ticked_runs(selected), current_role(), translator(lang))

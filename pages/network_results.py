"""What a network what-if shows beside the map: its KPI table against today and its city chart.

Formatting only (units in every label); the figures come from `simulation` results.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import html

from layers.network_playback import MEAN_VARIABLES, NETWORK_DISPLAY
from pages.charts import cursor_shape


def traffic_kpi_rows(result, today) -> list[tuple[str, str, str]]:
    """(label, today, scenario) rows of a traffic what-if (the simulated arterials)."""
    a, b = today.kpis, result.kpis

    def row(label: str, before: float, after: float, fmt: str = ",.0f") -> tuple[str, str, str]:
        change = f" ({100 * (after / before - 1):+.1f} %)" if before else ""
        return label, format(before, fmt), format(after, fmt) + change

    rows = [
        row("Vehicle trips completed", a.trips, b.trips),
        row("Trips not finished by 02:00", a.trips_unfinished, b.trips_unfinished),
        row("Vehicle-kilometres (veh·km/day)", a.vehicle_km, b.vehicle_km),
        row("Vehicle-hours travelled (veh·h/day)", a.vehicle_hours, b.vehicle_hours),
        row("Delay over free flow (veh·h/day)", a.delay_veh_h, b.delay_veh_h),
        row("Mean network speed (km/h)", a.mean_speed_kmh, b.mean_speed_kmh, ".1f"),
        row("Congestion (link-hours under half free speed)", a.congested_link_hours,
            b.congested_link_hours),
        row("Congested arterials in the worst hour (km)", a.peak_congested_km,
            b.peak_congested_km, ".1f"),
        row("CO2 from cars on the arterials (t/day)", a.co2_t, b.co2_t, ",.1f"),
    ]  # fmt: skip
    if result.emergency is not None:
        e = result.emergency
        rows.append(("Emergency trip, in traffic / with priority (min)",
                     f"{e.minutes_in_traffic:.1f}", f"{e.minutes_with_priority:.1f} "
                     f"({e.length_km:.1f} km)"))  # fmt: skip
    if result.bus_minutes is not None:
        mixed, lane = result.bus_minutes
        rows.append(("Bus along the corridor at 08:00 (min)", f"{mixed:.1f}", f"{lane:.1f}"))
    return rows


def kpi_table(rows: list[tuple[str, str, str]]) -> html.Table:
    """Today vs the what-if, one row per KPI."""
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(""), html.Th("Today"), html.Th("What-if")])),
            html.Tbody([html.Tr([html.Th(a), html.Td(b), html.Td(c)]) for a, b, c in rows]),
        ],
        className="details-table kpi-table",
        id="ns-kpi-table",
    )


def series_of(cube, variable: str, labels: list[str]) -> dict:
    """The city-wide figure of ``variable`` per frame (sum, or mean for pressures)."""
    values = cube[variable].fillna(0.0)
    total = values.mean("cell") if variable in MEAN_VARIABLES else values.sum("cell")
    display = NETWORK_DISPLAY[variable]
    return {
        "labels": labels,
        "values": [round(float(v), 2) for v in np.asarray(total)],
        "title": display.title,
        "unit": display.unit,
        "how": "city mean" if variable in MEAN_VARIABLES else "city total",
    }


def chart(series: dict, frame: int = 0) -> go.Figure:
    """The what-if's city figure per frame, with the playback cursor (shape 0)."""
    fig = go.Figure(
        go.Scatter(
            x=list(range(len(series["values"]))),
            y=series["values"],
            text=series["labels"],
            line={"color": "#50c8ff"},
            hovertemplate="%{text}<br>%{y:,.1f} " + series["unit"],
        )
    )
    fig.update_layout(
        margin={"l": 55, "r": 10, "t": 10, "b": 30},
        yaxis_title=f"{series['unit']} ({series['how']})",
        template="plotly_dark",
        shapes=[cursor_shape(frame)],
    )
    return fig

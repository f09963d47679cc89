"""The staff's alerts: the lamp faults the telemetry day's readings show, by district.

Layout only (no callbacks): counts come from `data.lighting.lamp_day`, detected from the readings.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from dash import html

from access.roles import STAFF_LAYERS
from data.city import City, load_city
from data.lighting.lamp_day import DAY_BURNER, OUT, LampDay, lamp_day

# What each component of this panel needs (`pages.permissions` gathers the panels').
COMPONENTS = {"alerts": STAFF_LAYERS}  # the lamp faults of the day, with their layer


def fault_summary(city: City, day: LampDay) -> pd.DataFrame:
    """Per district (most faults first): lamps out while dark, lit by day, the day's waste.

    Columns: district, out, day_burners, wasted_kwh (energy drawn in daylight by day-burners,
    from their rated wattage and hours lit).
    """
    lamps = city.lamps
    names = city.districts.set_index("district_id")["name"]
    burning = day.state == DAY_BURNER
    frame = pd.DataFrame(
        {
            "district": lamps["district_id"].map(names).fillna(lamps["district_id"]).to_numpy(),
            "out": (day.state == OUT).astype(int),
            "day_burners": burning.astype(int),
            "wasted_kwh": np.where(burning, day.hours_lit_by_day * lamps["power_w"] / 1000, 0.0),
        }
    )
    table = frame.groupby("district", as_index=False).sum()
    table = table[(table["out"] + table["day_burners"]) > 0]
    return table.sort_values(["out", "day_burners"], ascending=False, ignore_index=True)


@functools.lru_cache(maxsize=4)
def district_faults(city: str, day: str) -> pd.DataFrame:
    """`fault_summary` of ``city`` on ``day``, once per process (every staff page shows it)."""
    return fault_summary(load_city(city), lamp_day(city, day))


def alerts_panel(city: str, day: str, *, top: int = 5) -> html.Details:
    """The "Alerts" section: city totals, then the ``top`` districts with the most faults."""
    table = district_faults(city, day)
    out, burners = int(table["out"].sum()), int(table["day_burners"].sum())
    rows = [
        html.Tr(
            [
                html.Td(row.district),
                html.Td(f"{row.out:,}"),
                html.Td(f"{row.day_burners:,}"),
                html.Td(f"{row.wasted_kwh:,.0f}"),
            ]
        )
        for row in table.head(top).itertuples()
    ]
    return html.Details(
        [
            html.Summary(f"Alerts on {day}: {out + burners:,} lamp faults"),
            html.P(
                [
                    html.B(f"{out:,}"),
                    " light points out while dark (safety: fix first), ",
                    html.B(f"{burners:,}"),
                    f" lit in daylight ({table['wasted_kwh'].sum():,.0f} kWh wasted), "
                    "detected in the meters' readings. Tick “Lamp faults” in Layers to see them.",
                ],
                className="hint",
            ),
            html.Table(
                [
                    html.Thead(
                        html.Tr(
                            [html.Th(h) for h in ("District", "Out", "Lit by day", "Waste (kWh)")]
                        )
                    ),
                    html.Tbody(rows),
                ],
                className="details-table",
                id="alerts-table",
            ),
        ],
        className="studio alerts",
        id="alerts",
        open=True,
    )

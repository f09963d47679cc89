"""The electricity outage in the networks studio: its form and the KPI rows against today."""

from __future__ import annotations

from data.city import load_city
from data.city.clock import local_time
from data.power.network import load_power_network
from simulation.forms import Field, FormValues, Rows, Studio
from simulation.power.outage import OutageScenario


def _elements(city: str) -> list[dict]:
    """The substations, then the feeders (a transformer is typed or clicked)."""
    power = load_power_network(load_city(city))
    stations = power.substations
    return [
        *({"label": f"Substation {s} · {n}", "value": s}
          for s, n in zip(stations["substation_id"], stations["name"], strict=True)),
        *({"label": f"Feeder {f}", "value": f} for f in _feeders(city)),
    ]  # fmt: skip


def _feeders(city: str) -> list[str]:
    return sorted(load_power_network(load_city(city)).transformers["feeder_id"].unique())


def _first_feeder(city: str) -> str | None:
    feeders = _feeders(city)
    return feeders[0] if feeders else None


def _is_substation(layer: str, fields: dict) -> bool:
    return layer == "power-stations" and fields.get("kind") == "substation"


def _is_transformer(layer: str, fields: dict) -> bool:
    return layer == "power-stations" and fields.get("kind") != "substation"


def _read_outage(form: FormValues, day: str) -> OutageScenario:
    return OutageScenario(
        element_id=form.text("transformer") or form.get("element_id") or "",
        day=day,
        start=form.whole("out_start"),
        duration_h=form.number("duration_h"),
        switching_min=form.number("switching_min"),
        backfeed=form.ticked("backfeed"),
    )


def outage_rows(city: str, result) -> Rows:
    """(label, today, scenario) rows of an outage (times in the city's local time)."""
    k = result.kpis

    def when(value) -> str:
        if value is None:
            return "—"
        local = local_time(city, value)
        return f"{local:%d %b %H:%M}"

    return [
        ("Customers cut off", "0", f"{k.customers:,}"),
        ("Buildings cut off", "0", f"{k.buildings:,}"),
        ("Light points without power", "0", f"{k.lamps:,}"),
        ("Lighting cabinets / transformers", "0", f"{k.cabinets:,} / {k.transformers:,}"),
        ("Customer-minutes lost", "0", f"{k.customer_minutes_lost:,.0f}"),
        ("SAIDI contribution (min)", "0", f"{k.saidi_min:.2f}"),
        ("Energy not supplied (kWh)", "0", f"{k.energy_not_supplied_kwh:,.0f}"),
        ("Lamp-hours dark at night", "0", f"{k.lamp_hours_dark:,.0f}"),
        ("Customers back-fed over ties", "—", f"{k.customers_backfed:,}"),
        ("Back-fed at / all restored at", "—", f"{when(k.backfeed_at)} / {when(k.restored_at)}"),
    ]


OUTAGE_STUDIO = Studio(
    "Feeder / transformer outage (electricity)",
    (
        Field("element_id", "element", "Element that trips", "choice", _first_feeder,
              options=_elements, picks=_is_substation, clears=("transformer",)),
        Field("transformer", "transformer", "", "text",
              placeholder="or a transformer id (click a transformer on the map)",
              picks=_is_transformer),
        Field("out_start", "out-start", "Trips at (local hour)", "number", 18, 0, 23),
        Field("duration_h", "duration", "Restored after (h)", "number", 4, 0.25, 72, 0.25),
        Field("switching_min", "switching", "Tie switching (min)", "number", 45, 0, 600, 5),
        Field("backfeed", "backfeed", "back-feed from neighbouring feeders over ties", "check",
              True),
    ),
    _read_outage,
    outage_rows,
)  # fmt: skip

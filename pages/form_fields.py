"""Small form fields shared by the what-if panels."""

from __future__ import annotations

from dash import dcc, html


def number_field(label: str, id_: str, value: float, low: float, high: float, step: float = 1):
    """A labelled number input (bounds shown by the browser, checked again on the server)."""
    return html.Div(
        [
            html.Label(label, htmlFor=id_),
            dcc.Input(
                id=id_, type="number", value=value, min=low, max=high, step=step, debounce=True
            ),  # fmt: skip
        ],
        className="studio-number",
    )


def append_id(text: str | None, new_id: str) -> str:
    """A comma-separated id list with ``new_id`` added once."""
    chosen = [p.strip() for p in (text or "").split(",") if p.strip()]
    if new_id not in chosen:
        chosen.append(new_id)
    return ", ".join(chosen)

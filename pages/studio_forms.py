"""Any what-if kind's studio form, drawn from what the kind declares (`simulation.forms`).

Components are ``ns-<field id>``; a kind's fields sit in ``ns-<kind>-form``, shown while the
kind is chosen. Consecutive number fields share a row.
"""

from __future__ import annotations

from dash import State, dcc, html

from pages.form_fields import append_id, number_field
from simulation.forms import Field
from simulation.kind import ScenarioKind


def field_id(field: Field) -> str:
    """The component id of a field."""
    return f"ns-{field.id}"


def _of_city(value, city: str):
    return value(city) if callable(value) else value


def _widget(field: Field, city: str):
    id_ = field_id(field)
    default = _of_city(field.default, city)
    if field.widget == "number":
        return number_field(field.label, id_, default, field.low, field.high, field.step)
    label = [html.Label(field.label, htmlFor=id_)] if field.label else []
    placeholder = _of_city(field.placeholder, city)
    if field.widget in ("text", "ids"):
        box = dcc.Input(id=id_, type="text", debounce=True, className="studio-text",
                        placeholder=placeholder, value=default)  # fmt: skip
        return [*label, box]
    if field.widget in ("choice", "choices"):
        multi = field.widget == "choices"
        menu = dcc.Dropdown(options=field.options(city) if field.options else [], value=default,
                            multi=multi, clearable=multi, placeholder=placeholder or None,
                            id=id_)  # fmt: skip
        return [*label, menu]
    # check: one box, its value the field's key while ticked
    return [dcc.Checklist(options=[{"label": field.label, "value": field.key}],
                          value=[field.key] if default else [], id=id_)]  # fmt: skip


def kind_form(kind: ScenarioKind, city: str, shown: bool) -> html.Div:
    """The form of ``kind`` (a kind with a studio whose fields it declares)."""
    assert kind.studio is not None
    children: list = []
    numbers: list = []
    for field in kind.studio.fields:
        part = _widget(field, city)
        if field.widget == "number":
            numbers.append(part)
            continue
        if numbers:
            children.append(html.Div(numbers, className="studio-numbers"))
            numbers = []
        children.extend(part)
    if numbers:
        children.append(html.Div(numbers, className="studio-numbers"))
    return html.Div(
        children, id=f"ns-{kind.name}-form", style=None if shown else {"display": "none"}
    )


def form_fields(kinds) -> list[Field]:
    """Every declared field of ``kinds``, in order (their ids are unique across the studio)."""
    return [f for kind in kinds if kind.studio for f in kind.studio.fields]


def form_states(kinds) -> list[State]:
    """The callback states of every field of ``kinds`` (in `form_fields` order)."""
    return [State(field_id(f), "value") for f in form_fields(kinds)]


def values_of(kind: ScenarioKind, kinds, values) -> dict:
    """The values of ``kind``'s fields, by key, out of every field's (in `form_states` order)."""
    mine = {f.key for f in kind.studio.fields} if kind.studio else set()
    return {f.key: v for f, v in zip(form_fields(kinds), values, strict=True) if f.key in mine}


def picked(fields: list[Field], layer: str, feature: dict, current: dict) -> dict:
    """New values of ``fields`` once a feature of ``layer`` is clicked (by field id).

    ``current``: the ``ids`` fields' values, to append to. Fields left as they were are absent.
    """
    out: dict = {}
    for field in fields:
        if field.picks is None or not field.picks(layer, feature.get("fields") or {}):
            continue
        new_id = str(feature["id"])
        if field.widget == "ids":
            out[field.id] = append_id(current.get(field.id), new_id)
        else:
            out[field.id] = new_id
        for other in field.clears:
            out.setdefault(other, "")
    return out

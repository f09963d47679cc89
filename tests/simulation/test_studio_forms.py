"""The studio forms the kinds declare: each reads its defaults into a valid scenario, names an
empty field, and takes the features clicked on the map."""

import pytest

from data.errors import MadinaError
from pages.studio_forms import form_fields, picked
from simulation.forms import Field
from simulation.kinds import KINDS

STUDIOS = [k for k in KINDS.values() if k.studio is not None and k.studio.read is not None]


def _defaults(kind, city: str) -> dict:
    out = {}
    for field in kind.studio.fields:
        value = field.default(city) if callable(field.default) else field.default
        out[field.key] = [field.key] if field.widget == "check" and value else value
    return out


def test_field_ids_are_unique_across_the_studio():
    ids = [f.id for f in form_fields(KINDS.values())]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("kind", STUDIOS, ids=[k.name for k in STUDIOS])
def test_a_kinds_default_form_is_a_valid_scenario_that_round_trips(city_name, kind):
    form = _defaults(kind, city_name)
    if kind.name == "pipe_break":
        form["random_breaks"] = 2  # by default nothing is chosen to break
    scenario = kind.studio.scenario(form, "2026-11-23")
    assert isinstance(scenario, kind.scenario_types)
    kind.validate(city_name, scenario)
    assert kind.parse(kind.to_dict(scenario)) == scenario


@pytest.mark.parametrize("kind", STUDIOS, ids=[k.name for k in STUDIOS])
def test_an_empty_number_is_named(city_name, kind):
    numbers = [f for f in kind.studio.fields if f.widget == "number"]
    for field in numbers:
        form = {**_defaults(kind, city_name), field.key: None}
        if kind.name == "pipe_break" and field.key == "random_breaks":
            continue  # read only when no pipe is listed
        with pytest.raises(MadinaError, match=rf"^{field.key}: enter a number"):
            kind.studio.scenario(form, "2026-11-23")


def test_clicks_on_the_map_fill_the_fields_that_take_them():
    fields = form_fields(KINDS.values())
    pipe = {"layer": "water-pipes", "id": "P-2"}
    assert picked(fields, "water-pipes", pipe, {"pipes": "P-1"}) == {"pipes": "P-1, P-2"}
    station = {"id": "S-1", "fields": {"kind": "substation"}}
    assert picked(fields, "power-stations", station, {}) == {"element": "S-1", "transformer": ""}
    transformer = {"id": "T-9", "fields": {"kind": "transformer"}}
    assert picked(fields, "power-stations", transformer, {}) == {"transformer": "T-9"}
    assert picked(fields, "roads", {"id": "R-1"}, {}) == {}


def test_a_field_with_an_unknown_widget_is_refused():
    with pytest.raises(ValueError, match=r"field 'x': unknown widget 'slider'"):
        Field("x", "x", "X", "slider")

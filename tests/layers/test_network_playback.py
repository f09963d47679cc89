"""Network what-ifs on the map dispatch through the one ScenarioKind registry."""

import json

import pytest

from layers.network_playback import (
    MEAN_VARIABLES,
    NETWORK_DISPLAY,
    parse_scenario,
    scenario_json,
    variables_of,
)
from simulation.kinds import KINDS, NETWORK_KINDS, kind_of_scenario

SAMPLE_PARAMS = {
    "pipe_break": {"pipes": ["CAS-P000001"], "repair_h": 6},
    "pressure": {"dmas": ["DMA-1"], "critical_pressure_m": 18.0},
    "outage": {"element_id": "F-1", "start": 19},
    "traffic": {"demand_growth_pct": 10.0},
}


def test_the_network_kinds_are_the_kinds_with_a_map():
    assert set(NETWORK_KINDS) == set(SAMPLE_PARAMS)
    assert "lighting" in KINDS and "lighting" not in NETWORK_KINDS
    # the public sees these kinds' cells only where they hold k buildings
    assert {n for n, k in KINDS.items() if k.sums_buildings} == {"pipe_break", "pressure", "outage"}


@pytest.mark.parametrize("name", sorted(SAMPLE_PARAMS))
def test_a_scenario_round_trips_through_its_kind(name):
    kind = NETWORK_KINDS[name]
    scenario = kind.parse(dict(SAMPLE_PARAMS[name]))
    assert kind_of_scenario(scenario) is kind
    text = scenario_json(scenario)
    assert json.loads(text)["kind"] == name
    assert parse_scenario(text) == scenario
    assert variables_of(scenario) == tuple(v.key for v in kind.map_variables)
    assert kind.map_variable in NETWORK_DISPLAY  # the brief's and map's first variable reads


def test_every_map_variable_has_its_label_and_unit_and_means_are_map_variables():
    for kind in NETWORK_KINDS.values():
        for v in kind.map_variables:
            assert NETWORK_DISPLAY[v.key].title == v.label and NETWORK_DISPLAY[v.key].unit == v.unit
    assert set(MEAN_VARIABLES) == {"pressure_change_m", "pressure_m"}


def test_a_scenario_without_a_known_kind_is_refused_by_name():
    with pytest.raises(ValueError, match="kind = 'lighting'"):
        parse_scenario(json.dumps({"kind": "lighting"}))
    with pytest.raises(ValueError, match="kind = None"):
        parse_scenario("{}")
    with pytest.raises(ValueError, match="not the scenario of any kind"):
        kind_of_scenario(object())

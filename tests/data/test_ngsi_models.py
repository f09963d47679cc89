"""StreetlightGroup, Building and WaterObserved: valid exports, round trips, named refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.interop.ngsi_buildings import building_entities, read_buildings
from data.interop.ngsi_ld import NgsiError, group_entities
from data.interop.ngsi_observations import latest_observation_entities, observations, readings_of
from data.telemetry.readings import Readings
from data.telemetry.sensors import sensors_for
from data.telemetry.synthetic import Period, generate
from tests.data.test_ngsi_ld import errors_of, key_values, validators  # noqa: F401
from tests.data.test_ngsi_observations import flow_observed


def valid(entities: list[dict], validators, form: str) -> None:  # noqa: F811
    for entity in entities:
        if form == "normalized":
            assert not errors_of(validators["normalized"], entity), entity["id"]
            entity = key_values(entity)
        assert not errors_of(validators[entity["type"]], entity), entity["id"]


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_cabinet_groups_export_as_valid_streetlight_groups(city, validators, form):  # noqa: F811
    groups = group_entities(city.lamps, city.cabinets, form)
    assert len(groups) == len(city.cabinets)
    valid(groups[::50], validators, form)
    members = sum(len(key_values(g)["refStreetlight"]) for g in groups if "refStreetlight" in g)
    assert members == city.lamps["cabinet_id"].isin(city.cabinets["cabinet_id"]).sum()


@pytest.mark.parametrize("form", ["normalized", "keyValues"])
def test_buildings_export_valid_and_read_back(city, validators, form):  # noqa: F811
    buildings = city.buildings.iloc[::180]  # ~300 across the city, every type
    entities = building_entities(buildings, "Casablanca", form=form)
    valid(entities, validators, form)
    back = read_buildings(entities, "export", tuple(city.lamps.total_bounds))
    assert back["building_id"].tolist() == buildings["building_id"].tolist()
    assert back["building_type"].tolist() == buildings["building_type"].tolist()
    assert back["levels"].tolist() == buildings["levels"].tolist()
    assert np.allclose(back["height_m"], buildings["height_m"], atol=0.005)
    distance = shapely.hausdorff_distance(back.geometry.values, buildings.geometry.values)
    assert distance.max() < 1e-6  # degrees: the footprints' 7 decimals


def test_a_bad_building_is_named(city):
    good = building_entities(city.buildings.iloc[:1], "Casablanca", form="keyValues")[0]
    bow_tie = {"type": "Polygon", "coordinates": [[[-7.60, 33.60], [-7.59, 33.59], [-7.60, 33.59],
                                                   [-7.59, 33.60], [-7.60, 33.60]]]}  # fmt: skip
    cases = [
        ({"address": None}, "address: missing"),
        ({"category": "house"}, "category: 'house' is not a list"),
        ({"floorsAboveGround": "3"}, "floorsAboveGround: '3' is not a whole number"),
        ({"floorsAboveGround": 10_000}, "is not a whole number 0-200"),
        ({"height": -1}, "height: '-1' is not a height in metres"),
        ({"location": {"type": "Point", "coordinates": [-7.6, 33.6]}}, "not a GeoJSON Polygon"),
        ({"location": {"type": "Polygon", "coordinates": [[1, 2]]}}, "malformed"),
        ({"location": bow_tie}, "the footprint is empty, invalid or not in degrees"),
        ({"location": {"type": "Polygon", "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9],
                                                           [2.3, 48.8]]]}}, "outside the city"),
        ({"id": "B1"}, "id: not urn:ngsi-ld:Building:<id>"),
    ]  # fmt: skip
    for change, named in cases:
        entity = {k: v for k, v in {**good, **change}.items() if v is not None}
        with pytest.raises(NgsiError, match=named) as refused:
            read_buildings([entity], "b.jsonld", tuple(city.lamps.total_bounds))
        assert "b.jsonld: entity [0]" in str(refused.value)
    with pytest.raises(NgsiError, match=r"entity \[1\].*id: duplicate of entity \[0\]"):
        read_buildings([good, good], "b.jsonld", tuple(city.lamps.total_bounds))


def test_the_latest_readings_go_out_as_observations_and_come_back(city_name, validators):  # noqa: F811
    sensors = sensors_for(city_name)
    period = Period.of("2026-11-23T06:00", "2026-11-23T07:00")
    some = np.concatenate([sensors.of_kind("road")[:400], sensors.of_kind("water")])
    readings = Readings.concat(list(generate(city_name, period, kinds=("road", "water"),
                                             sensors=some)))  # fmt: skip
    frame = readings.to_frame(sensors)
    entities = latest_observation_entities(frame, sensors)
    kinds = pd.Series([e["type"] for e in entities]).value_counts()
    assert kinds["WaterObserved"] == (sensors.table["kind"] == "water").sum()
    assert 100 < kinds["TrafficFlowObserved"] <= 400  # the counters that saw a vehicle
    valid(entities[::40], validators, "normalized")
    water = next(e for e in entities if e["type"] == "WaterObserved")
    assert water["flow"]["unitCode"] == "MQH"
    assert water["dateObserved"]["value"] == "2026-11-23T06:45:00Z/2026-11-23T07:00:00Z"

    back = readings_of(observations(entities, "latest"), sensors, "latest")
    last = frame[frame["timestamp"] == frame["timestamp"].max()]
    for variable in ("flow_m3h", "vehicles"):
        sent = last[last["variable"] == variable].set_index("sensor_id")["value"].dropna()
        got = back[back["variable"] == variable].set_index("sensor_id")["value"]
        assert len(got) == len(sent) and np.allclose(got[sent.index], sent, atol=0.001), variable


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)  # fmt: skip
BOUNDS = (-7.76, 33.49, -7.45, 33.64)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(["id", "type", "category", "address", "location", "floorsAboveGround",
                              "height"]), value=JSON, normalized=st.booleans())  # fmt: skip
def test_fuzzed_buildings_are_read_or_refused_never_crash(city, field, value, normalized):
    entity = building_entities(city.buildings.iloc[:1], "Casablanca", form="keyValues")[0]
    entity[field] = {"type": "Property", "value": value} if normalized else value
    try:
        (building,) = read_buildings([entity], "fuzz", BOUNDS).itertuples()
    except NgsiError as err:
        assert "fuzz: entity [0]" in str(err)
        return
    assert building.geometry.is_valid and building.building_type


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(field=st.sampled_from(["id", "type", "dateObserved", "intensity", "averageVehicleSpeed",
                              "flow"]), value=JSON)  # fmt: skip
def test_fuzzed_observations_are_read_or_refused_never_crash(city, city_name, field, value):
    entity = {**flow_observed(city), field: value}
    try:
        readings = readings_of(observations([entity], "fuzz"), sensors_for(city_name), "fuzz")
    except NgsiError as err:
        assert "fuzz: " in str(err)
        return
    assert readings["value"].between(0, 5000).all() and not readings.empty
